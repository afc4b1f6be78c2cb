"""Thrift IDL generated at runtime from the common payload model, loaded with thriftpy2.

:func:`build` turns a model :class:`~payloads.model.Record` into Thrift IDL text (one ``struct``
per record, one ``enum`` per enum, dependencies first) and loads it with
``thriftpy2.load_fp(io.StringIO(idl), module_name=...)`` under a module name made of the record's
name and a hash of the whole schema, so v1 and v2 of a record never share generated classes.
No thrift compiler is involved.

============== ======================================================================
model          Thrift
============== ======================================================================
bool           ``bool``
int32 / int64  ``i32`` / ``i64``;  timestamp: ``i64`` (microseconds since the epoch)
float32        ``double`` (Thrift has no 32-bit float: the value is *widened*; a float32
               value is exactly representable, so it round-trips, but it takes 8 bytes)
float64        ``double``
string/bytes   ``string`` / ``binary``
enum           ``enum`` with explicit values: the model's ``EnumType.numbers`` (stable across
               versions, like field ids), by default 1..n in declaration order
list<T>        ``list<T>`` (nests freely: ``list<list<i32>>``, ``map<string,list<Stop>>``)
map<string,T>  ``map<string,T>``
record         ``struct``
============== ======================================================================

Field ids are the model's ``Field.id``; a non-optional field is ``required``, an optional one
``optional``. A field default of a scalar or enum type becomes the IDL default (``= 5``), which
is what a reader uses when the writer did not send the field (so an optional field with a
default that is explicitly ``None`` comes back as the default: Thrift cannot send "null").

Names Thrift or thriftpy2 cannot take (Thrift keywords, the long list of reserved words such as
``from``, ``end``, ``type``-like language keywords, Python keywords, thriftpy2's own struct
attributes ``read``/``write``/...) get a trailing underscore in the IDL (``from`` -> ``from_``).
Names never travel on the Thrift wire, so this changes nothing but the generated text;
:attr:`ThriftSchema.names` maps model names to IDL names.
"""

from __future__ import annotations

import hashlib
import io
import json
import keyword
import re
import threading
from dataclasses import dataclass, field
from typing import Any

from formats.api import UnsupportedSchema
from formats.idl_literals import scalar_literal
from payloads.model import EnumType, ListType, MapType, Primitive, Record, Type, named_types, type_to_json

TYPES = {
    "bool": "bool",
    "int32": "i32",
    "int64": "i64",
    "timestamp": "i64",
    "float32": "double",
    "float64": "double",
    "string": "string",
    "bytes": "binary",
}

# attributes every thriftpy2 struct has; a field of that name would shadow them
_STRUCT_ATTRS = {"read", "write", "validate", "thrift_spec", "default_spec", "thrift_file", "thrift_module"}


def _reserved() -> frozenset[str]:
    try:
        from thriftpy2.parser import lexer

        words = set(lexer.keywords) | set(lexer.thrift_reserved_keywords)
    except Exception:  # pragma: no cover - thriftpy2 missing: the codec reports that itself
        words = set()
    return frozenset(words | set(keyword.kwlist) | {"true", "false"} | _STRUCT_ATTRS)


_RESERVED: frozenset[str] | None = None


def thrift_name(name: str, taken: set[str] | None = None) -> str:
    """``name`` made acceptable as a Thrift/thriftpy2 identifier (a trailing ``_`` when reserved)."""
    global _RESERVED
    if _RESERVED is None:
        _RESERVED = _reserved()
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise UnsupportedSchema(f"thrift: {name!r} is not a valid identifier (letters, digits, _)")
    out = name
    while out in _RESERVED or (taken is not None and out in taken):
        out += "_"
    return out


def schema_key(schema: Record) -> str:
    return json.dumps(type_to_json(schema), sort_keys=True, default=repr)


def module_name_for(schema: Record) -> str:
    digest = hashlib.sha1(schema_key(schema).encode()).hexdigest()[:10]
    base = re.sub(r"[^A-Za-z0-9_]", "_", schema.name) or "record"
    return f"msgbench_{base}_{digest}_thrift"


@dataclass
class ThriftSchema:
    record: Record
    module_name: str
    idl: str
    # model type name -> IDL name; (record name, field name) -> IDL field name;
    # (enum name, symbol) -> IDL symbol name
    type_names: dict[str, str] = field(default_factory=dict)
    field_names: dict[tuple[str, str], str] = field(default_factory=dict)
    symbol_names: dict[tuple[str, str], str] = field(default_factory=dict)
    module: Any = None  # the thriftpy2 module
    classes: dict[str, type] = field(default_factory=dict)  # model record name -> struct class

    @property
    def root(self) -> type:
        return self.classes[self.record.name]


def _type_text(t: Type, names: dict[str, str]) -> str:
    if isinstance(t, Primitive):
        return TYPES[t.kind]
    if isinstance(t, (EnumType, Record)):
        return names[t.name]
    if isinstance(t, ListType):
        return f"list<{_type_text(t.items, names)}>"
    if isinstance(t, MapType):
        return f"map<string, {_type_text(t.values, names)}>"
    raise UnsupportedSchema(f"thrift: unknown schema type {t!r}")


def _default_text(t: Type, value: Any, ts: ThriftSchema) -> str | None:
    """The IDL text of a field default, or None when it is not expressed in the IDL."""
    if value is None:
        return None
    if isinstance(t, EnumType):
        return str(t.number_of(value)) if value in t.symbols else None
    if not isinstance(t, Primitive):
        return None
    k = t.kind
    literal = scalar_literal(k, value)
    if literal is not None:
        return literal
    if k == "string" and isinstance(value, str) and value.isprintable() and '"' not in value and "\\" not in value:
        return json.dumps(value, ensure_ascii=False)
    return None


def _comment(text: str, indent: str) -> list[str]:
    return [f"{indent}// {line}".rstrip() for line in text.splitlines()] if text else []


def describe(schema: Record) -> ThriftSchema:
    """The IDL text and the name mapping for ``schema`` (nothing loaded)."""
    if not isinstance(schema, Record):
        raise UnsupportedSchema(f"thrift: the top-level schema must be a record, got {schema!r:.80}")
    ts = ThriftSchema(schema, module_name_for(schema), "")
    named = list(named_types(schema))
    taken: set[str] = set()
    for nt in named:
        ts.type_names[nt.name] = thrift_name(nt.name, taken)
        taken.add(ts.type_names[nt.name])
    lines = [
        f"// Generated by msgbench from the common payload model (record {schema.name}).",
        "// Field ids are the model's field ids. timestamp = i64 microseconds since the epoch.",
        "// float32 fields are widened to double (Thrift has no 32-bit float).",
        "// Enum values: the model's enum numbers (1..n in declaration order unless given).",
    ]
    for nt in named:
        lines.append("")
        lines += _comment(nt.doc, "")
        tname = ts.type_names[nt.name]
        if isinstance(nt, EnumType):
            lines.append(f"enum {tname} {{")
            used: set[str] = set()
            for s, n in nt.symbol_numbers().items():
                sname = thrift_name(s, used)
                used.add(sname)
                ts.symbol_names[(nt.name, s)] = sname
                lines.append(f"  {sname} = {n},")
            lines.append("}")
            continue
        lines.append(f"struct {tname} {{")
        used = set()
        for f in nt.fields:
            fname = thrift_name(f.name, used)
            used.add(fname)
            ts.field_names[(nt.name, f.name)] = fname
            lines += _comment(f.doc, "  ")
            req = "optional" if f.optional else "required"
            note = "  // float32 widened to double" if isinstance(f.type, Primitive) and f.type.kind == "float32" else ""
            default = _default_text(f.type, f.default, ts)
            dflt = f" = {default}" if default is not None else ""
            lines.append(f"  {f.id}: {req} {_type_text(f.type, ts.type_names)} {fname}{dflt},{note}")
        lines.append("}")
    ts.idl = "\n".join(lines) + "\n"
    return ts


_cache: dict[str, ThriftSchema] = {}
_lock = threading.Lock()


def build(schema: Record) -> ThriftSchema:
    """:func:`describe` plus the loaded thriftpy2 module and struct classes (cached per schema)."""
    key = schema_key(schema)
    with _lock:
        hit = _cache.get(key)
        if hit is not None:
            return hit
        import thriftpy2

        ts = describe(schema)
        try:
            ts.module = thriftpy2.load_fp(io.StringIO(ts.idl), module_name=ts.module_name)
        except Exception as e:
            raise UnsupportedSchema(f"thrift: thriftpy2 rejected the IDL generated for {schema.name}: {e}") from e
        ts.classes = {
            nt.name: getattr(ts.module, ts.type_names[nt.name]) for nt in named_types(schema) if isinstance(nt, Record)
        }
        _cache[key] = ts
        return ts
