"""``msgpack/ormsgpack``: MessagePack via ``ormsgpack`` (Rust, from the orjson family).

``encode`` is ``ormsgpack.packb(obj)`` and ``decode`` is ``ormsgpack.unpackb(data)``, both with no
options: ``str`` as MessagePack str, ``bytes`` as bin (the same choice as ``msgpack``'s
``use_bin_type=True``, so for one value both libraries write the same bytes), floats as float64
(float32 values survive exactly but cost 9 bytes), ints up to 64 bits. ormsgpack has no reusable
packer or unpacker object: the module functions are its fastest API. The library is compiled
(a Rust extension); there is no pure-Python fallback to warn about.

Native form: the common model's plain values; ``from_native`` re-checks types against the reader
schema (as for ``msgpack/msgpack``), so bytes that are valid MessagePack of the wrong shape are
rejected; reader policies ``tolerant``/``strict`` as for the other schemaless codecs.
"""

from __future__ import annotations

from formats.api import ALL_TYPE_KINDS, Capabilities, Codec, SimplePrepared
from formats.native_convert import POLICIES, check_policy, make_from_native
from payloads.model import Record


class OrmsgpackCodec(Codec):
    name = "msgpack/ormsgpack"
    format = "msgpack"
    library = "ormsgpack"
    modules = ("ormsgpack",)
    pip_name = "ormsgpack"
    description = "MessagePack with ormsgpack (Rust): packb / unpackb, bytes as bin"
    capabilities = Capabilities(
        binary=True,
        needs_schema=False,
        types=ALL_TYPE_KINDS,
        evolution_modes=POLICIES,
        deterministic=True,
        notes=("floats are always float64 (float32 fields take 9 bytes)",),
    )

    def backend(self) -> str:
        return "Rust extension"

    def prepare(self, schema: Record, reader_schema: Record | None = None, policy: str | None = None) -> SimplePrepared:
        import ormsgpack

        self.check_schema(schema)
        if reader_schema is not None:
            self.check_schema(reader_schema)
        pol = check_policy(self.name, policy)
        return SimplePrepared(encode=ormsgpack.packb, decode=ormsgpack.unpackb,
                              from_native=make_from_native(reader_schema or schema, pol))
