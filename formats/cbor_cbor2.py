"""``cbor/cbor2``: CBOR (RFC 8949) via ``cbor2``, whose C extension is used when it is built.

``cbor2.dumps``/``cbor2.loads`` with default options: the one-shot API (the class API needs a
file object per message and is slower for single messages). Floats are written as float64 (cbor2
shrinks floats only in canonical mode), maps in insertion order. ``loads`` decodes the first
data item and ignores any bytes after it (it has no option to reject them), so a message with
trailing garbage decodes without an error; the conformance kit notes this.

Native form: the common model's plain values; ``from_native`` re-checks them against the reader
schema.
"""

from __future__ import annotations

from formats.api import ALL_TYPE_KINDS, Capabilities, Codec, SimplePrepared
from formats.native_convert import POLICIES, check_policy, make_from_native
from payloads.model import Record


class Cbor2Codec(Codec):
    name = "cbor/cbor2"
    format = "cbor"
    library = "cbor2"
    modules = ("cbor2",)
    pip_name = "cbor2"
    description = "CBOR with cbor2.dumps/loads (C extension when available)"
    capabilities = Capabilities(
        binary=True,
        needs_schema=False,
        types=ALL_TYPE_KINDS,
        evolution_modes=POLICIES,
        deterministic=True,
        notes=(
            "floats are always float64 (non-canonical mode)",
            "cbor2.loads ignores bytes after the first data item (trailing garbage is not detected)",
        ),
    )

    def backend(self) -> str:
        import cbor2

        c = type(cbor2.dumps).__name__ == "builtin_function_or_method"
        return "C extension (_cbor2)" if c else "pure Python"

    def slow_backend(self) -> bool:
        return self.backend() == "pure Python"

    def prepare(self, schema: Record, reader_schema: Record | None = None, policy: str | None = None) -> SimplePrepared:
        import cbor2

        self.check_schema(schema)
        if reader_schema is not None:
            self.check_schema(reader_schema)
        pol = check_policy(self.name, policy)
        return SimplePrepared(
            encode=cbor2.dumps, decode=cbor2.loads, from_native=make_from_native(reader_schema or schema, pol)
        )
