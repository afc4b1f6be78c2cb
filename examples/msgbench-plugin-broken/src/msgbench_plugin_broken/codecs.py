"""Three codecs that load fine but break the contract, each in one way.

They are built on JSON from the standard library so that everything *else* about them is right.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from formats.api import ALL_TYPE_KINDS, Capabilities, Codec, SimplePrepared
from payloads.model import ListType, MapType, Record, Type


def _b64_bytes(schema: Type, value: Any, decode: bool) -> Any:
    """Bytes <-> base64 text, following the schema (JSON has no bytes)."""
    if isinstance(schema, Record):
        return {f.name: (None if value.get(f.name) is None else _b64_bytes(f.type, value[f.name], decode))
                for f in schema.fields if f.name in value}
    if isinstance(schema, ListType):
        return [_b64_bytes(schema.items, v, decode) for v in value]
    if isinstance(schema, MapType):
        return {k: _b64_bytes(schema.values, v, decode) for k, v in value.items()}
    if getattr(schema, "kind", None) == "bytes":
        return base64.b64decode(value) if decode else base64.b64encode(value).decode("ascii")
    if getattr(schema, "kind", None) in ("float32", "float64") and decode:
        return float(value)
    return value


class _JsonBase(Codec):
    format = "broken"
    library = "msgbench-plugin-broken"
    capabilities = Capabilities(binary=False, needs_schema=False, types=ALL_TYPE_KINDS)

    def library_version(self) -> str:
        return "0.1.0"  # the distribution's version, also right when run from the source tree

    def backend(self) -> str:
        return "json (stdlib)"

    def _prepared(self, schema: Record) -> SimplePrepared:
        self.check_schema(schema)
        enc, dec = json.JSONEncoder(separators=(",", ":")), json.JSONDecoder()
        return SimplePrepared(
            encode=lambda native: enc.encode(native).encode(),
            decode=lambda data: dec.decode(data.decode()),
            to_native=lambda v: _b64_bytes(schema, v, decode=False),
            from_native=lambda n: _b64_bytes(schema, n, decode=True),
        )


class LossyCodec(_JsonBase):
    """Breaks ``round-trip``: the last field of the top-level record never comes back."""

    name = "broken/lossy"
    description = "drops the last field of the record on the way back (breaks round-trip)"

    def prepare(self, schema: Record, reader_schema: Record | None = None, policy: str | None = None) -> SimplePrepared:
        p = self._prepared(schema)
        last = schema.fields[-1].name
        full = p.from_native

        def from_native(native: Any) -> Any:
            value = full(native)
            value.pop(last, None)
            return value

        p.from_native = from_native
        return p


class LenientCodec(_JsonBase):
    """Breaks ``garbage``: malformed input decodes to ``None`` instead of raising."""

    name = "broken/lenient"
    description = "returns None for input it cannot parse (breaks garbage)"

    def prepare(self, schema: Record, reader_schema: Record | None = None, policy: str | None = None) -> SimplePrepared:
        p = self._prepared(schema)
        strict_decode, strict_from = p.decode, p.from_native

        def decode(data: bytes) -> Any:
            try:
                return strict_decode(data)
            except Exception:
                return None  # the bug: swallow the error

        def from_native(native: Any) -> Any:
            return None if not isinstance(native, dict) else strict_from(native)

        p.decode, p.from_native = decode, from_native
        return p


class PrepareFailsCodec(_JsonBase):
    """Breaks ``prepare``: raises a plain RuntimeError for every schema."""

    name = "broken/prepare"
    description = "raises RuntimeError in prepare (breaks prepare and unsupported)"
    capabilities = Capabilities(binary=False, needs_schema=False, types=ALL_TYPE_KINDS - {"map"})

    def prepare(self, schema: Record, reader_schema: Record | None = None, policy: str | None = None) -> SimplePrepared:
        raise RuntimeError("cannot prepare anything (deliberately broken)")
