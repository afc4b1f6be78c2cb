"""``bson/pymongo``: BSON (MongoDB's document format) via the ``bson`` package shipped with pymongo.

``bson.encode``/``bson.decode`` (C extension ``_cbson`` when built). BSON's top level must be a
document, which every msgbench payload is (a record). What BSON cannot carry, and how it is
reported:

- integers beyond int64: impossible in the common model too (int64 is the widest kind);
- map keys containing a NUL byte: ``UnsupportedSchema`` at encode time naming the key and its path
  (the value, not the schema, is what BSON cannot hold; the row is reported unsupported with why);
- keys starting with ``$`` or containing ``.`` encode and decode fine here; MongoDB *servers*
  restrict them in stored documents, so do not rely on them if the message ends up in a database;
- int64 values decode as ``bson.int64.Int64`` (an ``int`` subclass); ``from_native`` turns them
  back into plain ``int``;
- timestamps are carried as int64 microseconds (BSON's datetime has millisecond precision);
- float32 fields are carried as doubles.
"""

from __future__ import annotations

from typing import Any

from formats.api import ALL_TYPE_KINDS, Capabilities, Codec, SimplePrepared, UnsupportedSchema
from formats.native_convert import POLICIES, check_policy, make_from_native
from payloads.model import Record


def _nul_key(value: Any, path: str = "") -> tuple[str, str] | None:
    """``(path, key)`` of the first dict key holding a NUL character, for the error message."""
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(k, str) and "\x00" in k:
                return (path or "<root>"), k
            found = _nul_key(v, f"{path}.{k}" if path else str(k))
            if found:
                return found
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found = _nul_key(v, f"{path}[{i}]")
            if found:
                return found
    return None


class BsonCodec(Codec):
    name = "bson/pymongo"
    format = "bson"
    library = "pymongo"
    modules = ("bson",)
    pip_name = "pymongo"
    description = "BSON with bson.encode/decode from pymongo (C extension when available)"
    capabilities = Capabilities(
        binary=True,
        needs_schema=False,
        types=ALL_TYPE_KINDS,
        evolution_modes=POLICIES,
        deterministic=True,
        notes=(
            "map keys must not contain NUL; '$'-prefixed or dotted keys are legal BSON but restricted by MongoDB",
            "timestamps as int64 micros (BSON datetime is millisecond precision)",
            "float32 carried as double",
        ),
    )

    def backend(self) -> str:
        import bson

        return "C extension (_cbson)" if bson.has_c() else "pure Python"

    def slow_backend(self) -> bool:
        return self.backend() == "pure Python"

    def prepare(self, schema: Record, reader_schema: Record | None = None, policy: str | None = None) -> SimplePrepared:
        import bson

        self.check_schema(schema)
        if reader_schema is not None:
            self.check_schema(reader_schema)
        pol = check_policy(self.name, policy)
        options = bson.CodecOptions(document_class=dict)
        encode_doc = bson.encode
        decode_doc = bson.decode

        def encode(native: dict) -> bytes:
            try:
                return encode_doc(native, codec_options=options)
            except bson.InvalidDocument as e:
                where = _nul_key(native)
                if where is None:
                    raise
                raise UnsupportedSchema(f"{self.name}: the map key {where[1]!r} at {where[0]} contains a NUL "
                                        "character (U+0000): BSON keys are NUL-terminated C strings and cannot "
                                        f"hold one ({e})") from None

        def decode(data: bytes) -> dict:
            return decode_doc(data, codec_options=options)

        return SimplePrepared(encode=encode, decode=decode, from_native=make_from_native(reader_schema or schema, pol))
