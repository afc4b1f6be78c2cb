"""Generate an Avro schema (a JSON-ready dict, and its ``.avsc`` text) from the common model.

Mapping
-------
- record -> Avro ``record`` with the model's ``namespace`` (``Record.namespace``), ``doc`` and
  ``aliases``; enum -> Avro ``enum`` (``symbols``, ``default`` from ``EnumType.default``, ``doc``,
  ``aliases``) in the namespace of the record that first uses it. Every named type is defined once,
  at its first use, and referenced by its full name (``msgbench.Trip``) afterwards.
- bool -> boolean, int32 -> int, int64 -> long, float32 -> float, float64 -> double,
  string -> string, bytes -> bytes, list -> array, map -> map (string keys).
- timestamp -> plain ``long`` (microseconds since the Unix epoch, UTC), *without*
  ``logicalType: timestamp-micros``. With the logical type, fastavro (and the official ``avro``
  package) turn the value into a ``datetime`` on read: the model keeps timestamps as ints, the
  conversion would run inside the timed decode, and ``datetime`` cannot hold most of the int64
  range (``OverflowError`` beyond year 9999). The field's ``doc`` says what the long means; pass
  ``timestamp_logical_type=True`` to :func:`avro_schema` for the idiomatic variant.
- optional field -> union ``["null", T]`` with ``"default": null``; an optional field with a model
  default -> ``[T, "null"]`` with that default (Avro requires the default to match the union's
  first branch); a required field with a model default -> ``T`` with that default. ``Field.aliases``
  -> the field's ``aliases`` (earlier names: Avro's schema resolution uses them for renames).

Names must be valid Avro names (``[A-Za-z_][A-Za-z0-9_]*``); anything else raises
:class:`formats.api.UnsupportedSchema`.
"""

from __future__ import annotations

import json
import re
from typing import Any

from formats.api import SchemaText, UnsupportedSchema
from payloads.model import EnumType, ListType, MapType, Primitive, Record, Type, normalize

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_NAMESPACE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(\.[A-Za-z_][A-Za-z0-9_]*)*\Z")

PRIMITIVES = {
    "bool": "boolean",
    "int32": "int",
    "int64": "long",
    "float32": "float",
    "float64": "double",
    "string": "string",
    "bytes": "bytes",
    "timestamp": "long",
}

TIMESTAMP_DOC = "timestamp: microseconds since the Unix epoch (UTC)"


def _check_name(kind: str, name: str) -> str:
    if not _NAME.match(name):
        raise UnsupportedSchema(f"avro: {kind} name {name!r} is not a valid Avro name ([A-Za-z_][A-Za-z0-9_]*)")
    return name


def default_to_avro(t: Type, value: Any) -> Any:
    """A model value as an Avro JSON default (bytes as latin-1 code points, per the Avro spec)."""
    value = normalize(t, value)
    return _json_default(t, value)


def _json_default(t: Type, v: Any) -> Any:
    if isinstance(t, Primitive) and t.kind == "bytes":
        return v.decode("latin-1")
    if isinstance(t, ListType):
        return [_json_default(t.items, x) for x in v]
    if isinstance(t, MapType):
        return {k: _json_default(t.values, x) for k, x in v.items()}
    if isinstance(t, Record):
        return {f.name: _json_default(f.type, v[f.name]) if v[f.name] is not None else None for f in t.fields}
    return v


class _Generator:
    def __init__(self, timestamp_logical_type: bool):
        self.logical = timestamp_logical_type
        self.defined: dict[str, str] = {}  # model name -> Avro full name

    def type(self, t: Type, namespace: str) -> Any:
        if isinstance(t, Primitive):
            if t.kind == "timestamp" and self.logical:
                return {"type": "long", "logicalType": "timestamp-micros"}
            return PRIMITIVES[t.kind]
        if isinstance(t, ListType):
            return {"type": "array", "items": self.type(t.items, namespace)}
        if isinstance(t, MapType):
            return {"type": "map", "values": self.type(t.values, namespace)}
        if isinstance(t, EnumType):
            full = self.defined.get(t.name)
            if full is not None:
                return full
            _check_name("enum", t.name)
            for s in t.symbols:
                _check_name(f"enum {t.name} symbol", s)
            self.defined[t.name] = f"{namespace}.{t.name}"
            d: dict[str, Any] = {"type": "enum", "name": t.name, "namespace": namespace, "symbols": list(t.symbols)}
            if t.default is not None:
                d["default"] = t.default
            if t.doc:
                d["doc"] = t.doc
            if t.aliases:
                d["aliases"] = [_check_name(f"enum {t.name} alias", a) for a in t.aliases]
            return d
        if isinstance(t, Record):
            return self.record(t)
        raise UnsupportedSchema(f"avro: unknown schema type {t!r}")

    def record(self, r: Record) -> Any:
        full = self.defined.get(r.name)
        if full is not None:
            return full
        _check_name("record", r.name)
        ns = r.namespace
        if not _NAMESPACE.match(ns):
            raise UnsupportedSchema(f"avro: namespace {ns!r} of record {r.name} is not a valid Avro namespace")
        self.defined[r.name] = f"{ns}.{r.name}"
        d: dict[str, Any] = {"type": "record", "name": r.name, "namespace": ns}
        if r.doc:
            d["doc"] = r.doc
        if r.aliases:
            d["aliases"] = [_check_name(f"record {r.name} alias", a) for a in r.aliases]
        fields = []
        for f in r.fields:
            _check_name(f"field {r.name}.{f.name}", f.name)
            ft = self.type(f.type, ns)
            fd: dict[str, Any] = {"name": f.name}
            if f.optional:
                if f.has_default:
                    fd["type"] = [ft, "null"]
                    fd["default"] = default_to_avro(f.type, f.default)
                else:
                    fd["type"] = ["null", ft]
                    fd["default"] = None
            else:
                fd["type"] = ft
                if f.has_default:
                    fd["default"] = default_to_avro(f.type, f.default)
            doc = f.doc
            if isinstance(f.type, Primitive) and f.type.kind == "timestamp" and not self.logical:
                doc = f"{doc} ({TIMESTAMP_DOC})" if doc else TIMESTAMP_DOC
            if doc:
                fd["doc"] = doc
            if f.aliases:
                fd["aliases"] = [_check_name(f"field {r.name}.{f.name} alias", a) for a in f.aliases]
            fields.append(fd)
        d["fields"] = fields
        return d


def avro_schema(schema: Record, timestamp_logical_type: bool = False) -> dict[str, Any]:
    """The Avro schema of ``schema`` as a JSON-ready dict (see the module docstring)."""
    if not isinstance(schema, Record):
        raise UnsupportedSchema(f"avro: the top-level schema must be a record, got {schema!r:.80}")
    return _Generator(timestamp_logical_type).record(schema)


def avsc_text(schema: Record, timestamp_logical_type: bool = False) -> str:
    return json.dumps(avro_schema(schema, timestamp_logical_type), indent=2, ensure_ascii=False) + "\n"


def schema_text(schema: Record) -> SchemaText:
    return SchemaText("avro", ".avsc", avsc_text(schema))
