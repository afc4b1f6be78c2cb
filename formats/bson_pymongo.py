"""``bson/pymongo``: BSON (MongoDB's document format) via the ``bson`` package shipped with pymongo.

``bson.encode``/``bson.decode`` (C extension ``_cbson`` when built). BSON's top level must be a
document, which every msgbench payload is (a record). What BSON cannot carry, and how it is
reported:

- integers beyond int64: impossible in the common model too (int64 is the widest kind);
- map keys containing a NUL byte: ``bson.InvalidDocument`` at encode time (per value, not per
  schema, so it is a failed row, not an unsupported schema);
- keys starting with ``$`` or containing ``.`` encode and decode fine here; MongoDB *servers*
  restrict them in stored documents, so do not rely on them if the message ends up in a database;
- int64 values decode as ``bson.int64.Int64`` (an ``int`` subclass); ``from_native`` turns them
  back into plain ``int``;
- timestamps are carried as int64 microseconds (BSON's datetime has millisecond precision);
- float32 fields are carried as doubles.
"""

from __future__ import annotations

from formats.api import ALL_TYPE_KINDS, Capabilities, Codec, SimplePrepared
from formats.native_convert import POLICIES, check_policy, make_from_native
from payloads.model import Record


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
            return encode_doc(native, codec_options=options)

        def decode(data: bytes) -> dict:
            return decode_doc(data, codec_options=options)

        return SimplePrepared(encode=encode, decode=decode, from_native=make_from_native(reader_schema or schema, pol))
