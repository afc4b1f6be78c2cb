"""Generate a JSON Schema (draft 2020-12) from the common model, for JSON's strict reader.

It describes the JSON documents ``json/orjson`` writes (its native form):

- record -> ``object`` with ``properties``, ``required`` = the non-optional fields and
  ``additionalProperties: false``; every record and enum is defined once under ``$defs`` and
  referenced with ``$ref`` (the root record is the document itself);
- optional field -> ``anyOf: [T, {"type": "null"}]`` (absent is allowed too: not in ``required``);
- bool -> boolean; int32/int64/timestamp -> integer with the type's bounds; float32/float64 ->
  number, or one of the strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"`` (JSON has no
  non-finite numbers; the codec writes them as these strings, like protobuf's JSON mapping);
- string -> string; bytes -> base64 string (``contentEncoding: base64`` plus a pattern, since
  ``contentEncoding`` is only an annotation); enum -> ``enum`` of the symbols;
- list -> array; map -> object with ``additionalProperties`` = the value schema.
"""

from __future__ import annotations

import json
from typing import Any

from formats.api import SchemaText, UnsupportedSchema
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
        return {"anyOf": [{"type": "number"}, {"enum": list(NON_FINITE)}]}
    if kind == "string":
        return {"type": "string"}
    if kind == "bytes":
        return {"type": "string", "contentEncoding": "base64", "pattern": BASE64_PATTERN}
    raise UnsupportedSchema(f"json-schema: unknown primitive {kind!r}")


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/$defs/{name}"}


def _type(t: Type, root: Record) -> dict[str, Any]:
    if isinstance(t, Primitive):
        return _primitive(t.kind)
    if isinstance(t, EnumType):
        return _ref(t.name)
    if isinstance(t, Record):
        return {"$ref": "#"} if t is root or t == root else _ref(t.name)
    if isinstance(t, ListType):
        return {"type": "array", "items": _type(t.items, root)}
    if isinstance(t, MapType):
        return {"type": "object", "additionalProperties": _type(t.values, root)}
    raise UnsupportedSchema(f"json-schema: unknown schema type {t!r}")


def _record_body(r: Record, root: Record) -> dict[str, Any]:
    props: dict[str, Any] = {}
    for f in r.fields:
        s = _type(f.type, root)
        if f.optional:
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


def json_schema(schema: Record) -> dict[str, Any]:
    """The JSON Schema of the documents ``json/orjson`` writes for ``schema``."""
    if not isinstance(schema, Record):
        raise UnsupportedSchema(f"json-schema: the top-level schema must be a record, got {schema!r:.80}")
    defs: dict[str, Any] = {}
    for nt in named_types(schema):
        if nt == schema:
            continue
        if isinstance(nt, EnumType):
            d: dict[str, Any] = {"enum": list(nt.symbols)}
            if nt.doc:
                d["description"] = nt.doc
            defs[nt.name] = d
        else:
            defs[nt.name] = _record_body(nt, schema)
    out: dict[str, Any] = {"$schema": DRAFT, "title": schema.name}
    out.update(_record_body(schema, schema))
    if defs:
        out["$defs"] = defs
    return out


def schema_text(schema: Record) -> SchemaText:
    return SchemaText("json-schema", ".schema.json", json.dumps(json_schema(schema), indent=2, ensure_ascii=False) + "\n")
