"""``avro/fastavro``: Avro binary (schemaless, i.e. no container file header) with fastavro.

The Avro schema is generated from the model at ``prepare`` time (:mod:`formats.avro_schema`) and
parsed once with ``fastavro.parse_schema``; the parsed schemas are reused for every call.

- encode: ``fastavro.schemaless_writer`` into a fresh ``io.BytesIO`` and ``getvalue()``. Reusing
  one buffer (``seek(0)``/``truncate()`` before each write) measured no faster within noise and
  shares state between calls (not re-entrant), so each call gets its own buffer.
- decode: ``fastavro.schemaless_reader(io.BytesIO(data), writer, reader)``; the reader schema is
  passed only for schema evolution (``prepare(v1, reader_schema=v2)``), so that Avro's schema
  resolution (defaults for added fields, dropped fields, aliases for renames, enum defaults,
  promotions int->long->float->double) applies. A message with bytes left over after the record
  is rejected: without this check garbage input often "decodes" to a value.
- native form: the common model's plain values (fastavro reads and writes dicts, str, bytes,
  ints, floats, None), so ``to_native``/``from_native`` are the identity, except that with a
  reader schema whose bytes fields have defaults, ``from_native`` turns the latin-1 strings
  fastavro fills in for those defaults back into bytes (a fastavro quirk). float32 values are
  already rounded by ``payloads.model.normalize``, so they round-trip exactly.
- timestamps are plain Avro ``long`` (microseconds), not ``timestamp-micros``: see
  :mod:`formats.avro_schema` for why.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from formats.api import ALL_TYPE_KINDS, Capabilities, Codec, SchemaText, SimplePrepared, UnsupportedSchema
from formats.avro_schema import avro_schema, schema_text
from payloads.model import ListType, MapType, Primitive, Record, Type

EVOLUTION_MODES = ("schema-resolution",)


class AvroDecodeError(ValueError):
    """The bytes are not one Avro datum of the writer's schema."""


def _identity(v: Any) -> Any:
    return v


def _bytes_default_fixer(t: Type) -> Callable[[Any], Any] | None:
    """fastavro (1.13) fills a bytes field missing from the writer's data with the reader's
    default *as written in the schema JSON* (a latin-1 string) instead of bytes. This returns a
    converter that turns such strings back into bytes, or None when ``t`` has no bytes field with
    a default (the usual case: ``from_native`` stays the identity)."""
    if isinstance(t, ListType):
        inner = _bytes_default_fixer(t.items)
        return None if inner is None else (lambda v: [inner(x) for x in v])
    if isinstance(t, MapType):
        inner = _bytes_default_fixer(t.values)
        return None if inner is None else (lambda v: {k: inner(x) for k, x in v.items()})
    if not isinstance(t, Record):
        return None
    direct = tuple(f.name for f in t.fields if f.has_default and isinstance(f.type, Primitive) and f.type.kind == "bytes")
    nested = tuple((f.name, c) for f in t.fields if (c := _bytes_default_fixer(f.type)) is not None)
    if not direct and not nested:
        return None

    def record(v: dict) -> dict:
        for name in direct:
            x = v.get(name)
            if type(x) is str:
                v[name] = x.encode("latin-1")
        for name, c in nested:
            x = v.get(name)
            if x is not None:
                v[name] = c(x)
        return v

    return record


class FastavroCodec(Codec):
    name = "avro/fastavro"
    format = "avro"
    library = "fastavro"
    modules = ("fastavro",)
    pip_name = "fastavro"
    description = "Avro binary with fastavro: schemaless_writer/reader, schema parsed once per payload"
    capabilities = Capabilities(
        binary=True,
        needs_schema=True,
        types=ALL_TYPE_KINDS,
        evolution_modes=EVOLUTION_MODES,
        deterministic=True,
        notes=(
            "schemaless datum encoding (no container header): the reader must know the writer's schema",
            "timestamps are Avro long (microseconds), not the timestamp-micros logical type, so "
            "decode yields ints, as the model does, for the whole int64 range",
        ),
    )

    def backend(self) -> str:
        import fastavro

        mod = getattr(fastavro.schemaless_writer, "__module__", "")
        rmod = getattr(fastavro.schemaless_reader, "__module__", "")
        if mod == "fastavro._write" and rmod == "fastavro._read":
            return "C extension"
        return "pure-python"

    def slow_backend(self) -> bool:
        return self.backend() != "C extension"

    def schema_text(self, schema: Record) -> SchemaText:
        return schema_text(schema)

    def prepare(self, schema: Record, reader_schema: Record | None = None, policy: str | None = None) -> SimplePrepared:
        import fastavro

        self.check_schema(schema)
        if policy is not None and policy not in EVOLUTION_MODES:
            raise UnsupportedSchema(
                f"{self.name}: reader policy {policy!r} does not apply; Avro readers use "
                f"{', '.join(EVOLUTION_MODES)} (pass policy=None)"
            )
        writer = fastavro.parse_schema(avro_schema(schema), named_schemas={})
        reader = None
        if reader_schema is not None:
            self.check_schema(reader_schema)
            reader = fastavro.parse_schema(avro_schema(reader_schema), named_schemas={})
        write = fastavro.schemaless_writer
        read = fastavro.schemaless_reader
        BytesIO = io.BytesIO

        def encode(native: Any) -> bytes:
            buf = BytesIO()
            write(buf, writer, native)
            return buf.getvalue()

        def decode(data: bytes) -> Any:
            buf = BytesIO(data)
            try:
                value = read(buf, writer, reader)
            except Exception as e:  # garbage makes fastavro raise EOFError, IndexError, UnicodeDecodeError, ...
                raise AvroDecodeError(f"not an Avro datum of {schema.name}: {type(e).__name__}: {e}") from None
            if buf.tell() != len(data):
                raise AvroDecodeError(
                    f"not an Avro datum of {schema.name}: {len(data) - buf.tell()} byte(s) left over after the record"
                )
            return value

        from_native = _identity
        if reader_schema is not None:
            from_native = _bytes_default_fixer(reader_schema) or _identity
        return SimplePrepared(encode=encode, decode=decode, to_native=_identity, from_native=from_native)
