"""``json/orjson``: JSON with orjson (Rust), the fastest JSON library for Python.

Native form: a JSON-compatible dict. ``to_native`` (built once per schema, only the fields that
need it are touched) turns bytes into base64 text and non-finite floats into the strings
``"NaN"``/``"Infinity"``/``"-Infinity"`` (protobuf's JSON mapping does the same: orjson writes
NaN and infinities as ``null``, which would silently lose the value); everything else is passed
as is (enums as their symbol strings, timestamps as int microseconds). ``from_native`` follows the
*reader* schema and rebuilds the canonical model value (``payloads.model.normalize``): base64 ->
bytes, ints in float fields -> float, non-finite strings -> floats, types checked on the way, so
a document of the wrong shape is an error, not a wrong value.

``from_native`` reads every form the generated JSON Schema allows and what other writers send:

- float32 fields are rounded to float32: Java/Go/.NET write a float32 as its shortest text
  (``4.97``), which parses as the float64 4.97, not float32(4.97); a number beyond float32's range
  (``1e300``) is an error naming the field, as the JSON Schema's bounds say, not an infinity;
- integer fields (int32/int64/timestamp) take a whole float (``5.0``, ``5e0``): JSON Schema's
  ``integer`` (draft 2020-12) is any number with a zero fraction; one of 2**53 or more is refused,
  since the parsed float may not be the integer that was written;
- bytes: standard base64 with padding (what the JSON Schema's pattern allows, and the only form a
  strict reader accepts), and in the tolerant reader also line breaks (``base64.encodebytes``,
  MIME), the URL-safe alphabet and missing padding (protobuf's JSON mapping accepts these too).

encode = ``orjson.dumps(native)`` (no options), decode = ``orjson.loads(data)``. orjson rejects
integers wider than 64 bits and strings with lone surrogates; the model's int64 bounds keep ints
in range, surrogates fail encode with orjson's error.

Reader policies (``prepare(schema, reader_schema, policy)``):

- ``"tolerant"`` (default): ``from_native`` against the reader schema ignores unknown keys, finds
  a field under one of its ``aliases`` (earlier names), fills missing optional fields with their
  default or ``None``; a missing required field is an error.
- ``"strict"``: ``decode`` also validates the document against the JSON Schema generated from the
  reader's model (:mod:`formats.json_schema`, with ``additionalProperties: false`` and the
  non-optional fields ``required``) with ``jsonschema``; a violation raises
  :class:`JsonSchemaViolation`. Validation is part of a strict reader's decode, so it is inside
  the timed region for that policy only.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from formats.api import ALL_TYPE_KINDS, Capabilities, Codec, SchemaText, SimplePrepared, UnsupportedSchema
from formats.json_schema import NON_FINITE, json_schema, schema_text
from formats.native_convert import (
    F32_STRUCT,
    POLICIES,
    Conv,
    check_bool,
    check_policy,
    check_string,
    decode_base64_text,
    enum_from,
    fail,
    int_from_float,
    list_from,
    map_from,
    record_from,
    to_float32,
)
from formats.native_convert import make_to_native as _make_to_native
from payloads.model import (
    INT32_MAX,
    INT32_MIN,
    INT64_MAX,
    INT64_MIN,
    EnumType,
    ListType,
    MapType,
    Primitive,
    Record,
    SchemaMismatch,
    Type,
)


class JsonSchemaViolation(ValueError):
    """A strict reader got a document its JSON Schema rejects."""


# ------------------------------------------------------------------------------------------------
# model -> native (only bytes and non-finite floats change)

_b64encode = base64.b64encode


def _bytes_to(b: bytes) -> str:
    return _b64encode(b).decode("ascii")


def _float_to(x: float) -> Any:
    if x - x == 0.0:  # finite (also true for ints); inf - inf and nan - nan are nan
        return x
    return "NaN" if x != x else ("Infinity" if x > 0 else "-Infinity")


def make_to_native(schema: Record) -> Conv:
    try:
        return _make_to_native(schema, _bytes_to, _float_to)
    except TypeError as e:  # a schema type the model does not have
        raise UnsupportedSchema(f"json/orjson: {e}") from None


# ------------------------------------------------------------------------------------------------
# native -> model (reader-schema guided, type-checked)


def _from(t: Type, tolerant: bool) -> Conv:
    if isinstance(t, Primitive):
        k = t.kind
        if k == "bool":
            return check_bool
        if k in ("int32", "int64", "timestamp"):
            lo, hi = (INT32_MIN, INT32_MAX) if k == "int32" else (INT64_MIN, INT64_MAX)

            def integer(x: Any) -> int:
                if type(x) is int and lo <= x <= hi:
                    return x
                if type(x) is float:  # 5.0 / 5e0: an integer per JSON Schema
                    return int_from_float(x, k, lo, hi)
                raise fail(f"{k} (an integer in [{lo}, {hi}])", x)

            return integer
        if k == "float64":

            def floating(x: Any) -> float:
                tx = type(x)
                if tx is float:
                    return x
                if tx is int:
                    return float(x)  # orjson ints are 64-bit: always in float64's range
                if tx is str and x in NON_FINITE:
                    return float(x)
                raise fail(k, x)

            return floating
        if k == "float32":
            pack, unpack = F32_STRUCT.pack, F32_STRUCT.unpack

            def floating32(x: Any) -> float:
                tx = type(x)
                if tx is float:
                    try:
                        return unpack(pack(x))[0]  # to_float32, inlined: this runs for every float32
                    except OverflowError:
                        return to_float32(x)  # raises, naming the limit
                if tx is int:
                    return to_float32(float(x))
                if tx is str and x in NON_FINITE:
                    return float(x)
                raise fail(k, x)

            return floating32
        if k == "string":
            return check_string
        if k == "bytes":
            if tolerant:

                def raw(x: Any) -> bytes:
                    if type(x) is not str:
                        raise fail("base64 text", x)
                    try:
                        return decode_base64_text(x)
                    except ValueError as e:
                        raise SchemaMismatch("", str(e)) from None

                return raw
            b64decode = base64.b64decode

            def raw_strict(x: Any) -> bytes:
                if type(x) is not str:
                    raise fail("base64 text", x)
                try:
                    return b64decode(x, validate=True)
                except ValueError as e:  # binascii.Error
                    raise SchemaMismatch("", f"invalid base64 (a strict reader takes the standard alphabet "
                                             f"with padding, no line breaks): {e}") from None

            return raw_strict
        raise UnsupportedSchema(f"json/orjson: unknown primitive {k!r}")
    if isinstance(t, EnumType):
        return enum_from(t, tolerant)
    if isinstance(t, ListType):
        return list_from(_from(t.items, tolerant))
    if isinstance(t, MapType):
        return map_from(_from(t.values, tolerant))
    if isinstance(t, Record):
        return _record(t, tolerant)
    raise UnsupportedSchema(f"json/orjson: unknown schema type {t!r}")


def _record(t: Record, tolerant: bool) -> Conv:
    # a strict reader matches fields by name only, as its JSON Schema does
    return record_from(t, lambda ft: _from(ft, tolerant), not tolerant, strict_aliases=False, noun="an object")


def make_from_native(reader: Record, policy: str = "tolerant") -> Conv:
    return _record(reader, policy == "tolerant")


# ------------------------------------------------------------------------------------------------


class OrjsonCodec(Codec):
    name = "json/orjson"
    format = "json"
    library = "orjson"
    modules = ("orjson",)
    pip_name = "orjson"
    description = "JSON with orjson.dumps/loads; bytes as base64, non-finite floats as strings"
    capabilities = Capabilities(
        binary=False,
        needs_schema=False,
        types=ALL_TYPE_KINDS,
        evolution_modes=POLICIES,
        deterministic=True,
        notes=(
            "bytes are carried as base64 strings (converted in to_native/from_native)",
            "NaN/Infinity are carried as the strings \"NaN\"/\"Infinity\"/\"-Infinity\" (JSON has no such numbers)",
            "strict reader: decode validates against a generated JSON Schema (jsonschema), inside the timed decode",
        ),
    )

    def backend(self) -> str:
        return "Rust extension"

    def schema_text(self, schema: Record) -> SchemaText:
        return schema_text(schema)

    def prepare(self, schema: Record, reader_schema: Record | None = None, policy: str | None = None) -> SimplePrepared:
        import orjson

        self.check_schema(schema)
        reader = reader_schema or schema
        if reader_schema is not None:
            self.check_schema(reader_schema)
        pol = check_policy(self.name, policy)
        decode: Callable[[bytes], Any] = orjson.loads
        if pol == "strict":
            decode = _strict_decoder(reader, orjson.loads)
        return SimplePrepared(
            encode=orjson.dumps,
            decode=decode,
            to_native=make_to_native(schema),
            from_native=make_from_native(reader, pol),
        )


def _strict_decoder(reader: Record, loads: Callable[[bytes], Any]) -> Callable[[bytes], Any]:
    import jsonschema

    doc_schema = json_schema(reader, inline=True)
    cls = jsonschema.validators.validator_for(doc_schema)
    cls.check_schema(doc_schema)
    validator = cls(doc_schema)
    best_match = jsonschema.exceptions.best_match

    def decode(data: bytes) -> Any:
        doc = loads(data)
        err = best_match(validator.iter_errors(doc))
        if err is not None:
            where = "/".join(str(p) for p in err.absolute_path) or "<root>"
            raise JsonSchemaViolation(f"strict JSON reader for {reader.name}: {where}: {err.message}")
        return doc

    return decode

