"""Generate a JSON Schema (draft 2020-12) from the common model, for JSON's strict reader.

It describes the JSON documents ``json/orjson`` writes (its native form):

- record -> ``object`` with ``properties``, ``required`` = the non-optional fields and
  ``additionalProperties: false``; every record and enum is defined once under ``$defs`` and
  referenced with ``$ref`` (the root record is the document itself);
- optional field -> ``null`` added to the ``type`` list (``anyOf: [T, {"type": "null"}]`` for
  references); absent is allowed too: not in ``required``;
- bool -> boolean; int32/int64/timestamp -> integer with the type's bounds (draft 2020-12: any
  number with a zero fraction, so ``5.0`` and ``5e0`` are integers too); float32/float64 ->
  number, or one of the strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"`` (JSON has no
  non-finite numbers; the codec writes them as these strings, like protobuf's JSON mapping);
  written as ``type: [number, string]`` plus a ``pattern`` (which only applies to strings),
  because jsonschema validates that several times faster than the equivalent ``anyOf``; a
  float32 number must round to a finite float32 (``exclusiveMinimum``/``exclusiveMaximum`` =
  the half-way point past float32's largest value, so Java's ``3.4028235E38`` is in, ``1e300``
  is out; these keywords apply to numbers only);
- string -> string; bytes -> base64 string (``contentEncoding: base64`` plus a pattern, since
  ``contentEncoding`` is only an annotation); enum -> ``enum`` of the symbols;
- list -> array; map -> object with ``additionalProperties`` = the value schema.
"""

from __future__ import annotations

import json
from typing import Any

from formats.api import SchemaText, UnsupportedSchema
from formats.native_convert import FLOAT32_OVERFLOW
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
    Type,
    named_types,
)

DRAFT = "https://json-schema.org/draft/2020-12/schema"
NON_FINITE = ("NaN", "Infinity", "-Infinity")
NON_FINITE_PATTERN = "^(?:NaN|Infinity|-Infinity)$"
BASE64_PATTERN = r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"


def _primitive(kind: str) -> dict[str, Any]:
    if kind == "bool":
        return {"type": "boolean"}
    if kind == "int32":
        return {"type": "integer", "minimum": INT32_MIN, "maximum": INT32_MAX}
    if kind in ("int64", "timestamp"):
        d: dict[str, Any] = {"type": "integer", "minimum": INT64_MIN, "maximum": INT64_MAX}
        if kind == "timestamp":
            d["description"] = "microseconds since the Unix epoch (UTC)"
        return d
    if kind in ("float32", "float64"):
        # "pattern" applies to strings only: a number, or one of the non-finite strings (cheaper
        # to validate than the equivalent anyOf)
        d = {"type": ["number", "string"], "pattern": NON_FINITE_PATTERN}
        if kind == "float32":  # the bounds apply to numbers only
            d.update(exclusiveMinimum=-FLOAT32_OVERFLOW, exclusiveMaximum=FLOAT32_OVERFLOW)
        return d
    if kind == "string":
        return {"type": "string"}
    if kind == "bytes":
        return {"type": "string", "contentEncoding": "base64", "pattern": BASE64_PATTERN}
    raise UnsupportedSchema(f"json-schema: unknown primitive {kind!r}")


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/$defs/{name}"}


def _enum_body(e: EnumType) -> dict[str, Any]:
    d: dict[str, Any] = {"enum": list(e.symbols)}
    if e.doc:
        d["description"] = e.doc
    return d


def _type(t: Type, root: Record, inline: bool) -> dict[str, Any]:
    if isinstance(t, Primitive):
        return _primitive(t.kind)
    if isinstance(t, EnumType):
        return _enum_body(t) if inline else _ref(t.name)
    if isinstance(t, Record):
        if inline:
            return _record_body(t, root, inline)
        return {"$ref": "#"} if t is root or t == root else _ref(t.name)
    if isinstance(t, ListType):
        return {"type": "array", "items": _type(t.items, root, inline)}
    if isinstance(t, MapType):
        return {"type": "object", "additionalProperties": _type(t.values, root, inline)}
    raise UnsupportedSchema(f"json-schema: unknown schema type {t!r}")


def _record_body(r: Record, root: Record, inline: bool = False) -> dict[str, Any]:
    props: dict[str, Any] = {}
    for f in r.fields:
        s = _type(f.type, root, inline)
        if f.optional:
            t = s.get("type")
            if t is not None and "$ref" not in s:  # keywords other than "type" ignore null
                s = {**s, "type": [*(t if isinstance(t, list) else [t]), "null"]}
            else:
                s = {"anyOf": [s, {"type": "null"}]}
        if f.doc:
            s = {**s, "description": f.doc}
        props[f.name] = s
    d: dict[str, Any] = {"type": "object", "properties": props}
    required = [f.name for f in r.fields if not f.optional]
    if required:
        d["required"] = required
    d["additionalProperties"] = False
    if r.doc:
        d["description"] = r.doc
    return d


def json_schema(schema: Record, inline: bool = False) -> dict[str, Any]:
    """The JSON Schema of the documents ``json/orjson`` writes for ``schema``.

    ``inline=True`` repeats each record/enum definition where it is used instead of ``$ref`` to
    ``$defs``: the same constraints, larger text, but jsonschema validates it markedly faster
    (no reference resolution per value); the strict reader uses it, ``schema_text`` does not."""
    if not isinstance(schema, Record):
        raise UnsupportedSchema(f"json-schema: the top-level schema must be a record, got {schema!r:.80}")
    defs: dict[str, Any] = {}
    for nt in named_types(schema):
        if nt == schema or inline:
            continue
        defs[nt.name] = _enum_body(nt) if isinstance(nt, EnumType) else _record_body(nt, schema)
    out: dict[str, Any] = {"$schema": DRAFT, "title": schema.name}
    out.update(_record_body(schema, schema, inline))
    if defs:
        out["$defs"] = defs
    return out


def schema_text(schema: Record) -> SchemaText:
    return SchemaText("json-schema", ".schema.json", json.dumps(json_schema(schema), indent=2, ensure_ascii=False) + "\n")
