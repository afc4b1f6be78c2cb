"""``msgpack/msgpack``: MessagePack via the ``msgpack`` package (C extension when available).

Encoding reuses one ``msgpack.Packer(use_bin_type=True, autoreset=True)``: ``packb`` builds a
Packer per call, and reusing one is the library's documented way to pack many objects (the
packer clears its buffer when a pack fails, so reuse is safe). Decoding is ``msgpack.unpackb(data,
raw=False)``; a streaming ``Unpacker`` is not a one-shot decoder. Floats are written as float64
(``use_single_float=False``), so float32 values survive exactly but cost 9 bytes.

Native form: the common model's plain values (dict/list/str/bytes/int/float); ``from_native``
re-checks types against the reader schema so that bytes which happen to be valid msgpack of the
wrong shape are rejected.
"""

from __future__ import annotations

from typing import Any

from formats.api import ALL_TYPE_KINDS, Capabilities, Codec, SimplePrepared
from formats.native_convert import POLICIES, check_policy, make_from_native
from payloads.model import Record


class MsgpackCodec(Codec):
    name = "msgpack/msgpack"
    format = "msgpack"
    library = "msgpack"
    modules = ("msgpack",)
    pip_name = "msgpack"
    description = "MessagePack with the msgpack package: a reused Packer, unpackb(raw=False)"
    capabilities = Capabilities(
        binary=True,
        needs_schema=False,
        types=ALL_TYPE_KINDS,
        evolution_modes=POLICIES,
        deterministic=True,
        notes=("floats are always float64 (float32 fields take 9 bytes)",),
    )

    def backend(self) -> str:
        import msgpack

        return "C extension" if msgpack.Packer.__module__ != "msgpack.fallback" else "pure Python (fallback)"

    def slow_backend(self) -> bool:
        return "fallback" in self.backend()

    def prepare(self, schema: Record, reader_schema: Record | None = None, policy: str | None = None) -> SimplePrepared:
        import msgpack

        self.check_schema(schema)
        if reader_schema is not None:
            self.check_schema(reader_schema)
        pol = check_policy(self.name, policy)
        packer = msgpack.Packer(use_bin_type=True, autoreset=True)
        pack = packer.pack
        unpackb = msgpack.unpackb

        def decode(data: bytes) -> Any:
            return unpackb(data, raw=False)

        return SimplePrepared(encode=pack, decode=decode, from_native=make_from_native(reader_schema or schema, pol))
