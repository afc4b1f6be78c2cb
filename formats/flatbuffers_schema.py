"""FlatBuffers schema (``.fbs``) generated at runtime from the common payload model.

The codec (:mod:`formats.flatbuffers_runtime`) does not need ``flatc``: it builds and reads the
tables with the official ``flatbuffers`` Python runtime directly from the layout described here.
The ``.fbs`` text is exported (``msgbench schema``, ``encode --schema-out``) so that a user, or
``flatc --json`` in the wire-proof test, reads the same bytes independently.

Mapping (model -> FlatBuffers)
==============================
============== ======================================================================
model          FlatBuffers
============== ======================================================================
bool           ``bool``
int32 / int64  ``int`` / ``long``;  timestamp: ``long`` (microseconds since the epoch)
float32/64     ``float`` / ``double``
string/bytes   ``string`` / ``[ubyte]``
enum           ``enum X : int`` with a synthetic ``X_UNSPECIFIED = 0`` and the model's numbers
               (1..n unless given), so the wire numbers equal protobuf's and Thrift's
list<T>        ``[T]``; FlatBuffers has no vector of vectors, so a list/map/bytes element is
               wrapped in a one-field table (``ListOfX { items }``, ``MapOfX { entries }``,
               ``BytesBox { data }``)
map<string,T>  ``[XEntry]`` with ``table XEntry { key: string; value: T; }`` (entries in the
               map's order; not sorted, so no ``(key)`` attribute)
record         ``table``
============== ======================================================================

Field ids. A table field's vtable slot is its model field id - 1 (``(id: n)`` in the ``.fbs``),
and ids the model leaves free get a ``deprecated`` placeholder, as FlatBuffers requires ids to
be dense. This is FlatBuffers' own tag-based evolution: adding or removing a field with a new id
is safe both ways, a removed field's slot is simply not read. A gap costs 2 bytes of vtable.

Optional fields. An optional scalar or enum is a FlatBuffers optional scalar (``= null``:
written whenever it is set, absent means ``None``); an optional string/vector/table that is
``None`` is not written. A non-optional scalar equal to its default is not written (FlatBuffers'
rule); the default is the model field's default, else 0 / false / the UNSPECIFIED enum value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from formats.api import UnsupportedSchema
from formats.idl_literals import scalar_literal
from payloads.model import STRING, EnumType, Field, ListType, MapType, Primitive, Record, Type, named_types

SCALARS = {
    "bool": "bool",
    "int32": "int",
    "int64": "long",
    "timestamp": "long",
    "float32": "float",
    "float64": "double",
}
KEYWORDS = frozenset({
    "table", "struct", "enum", "union", "namespace", "root_type", "include", "attribute", "file_identifier",
    "file_extension", "rpc_service", "native_include", "true", "false", "null", "nan", "inf", "bool", "byte",
    "ubyte", "short", "ushort", "int", "uint", "long", "ulong", "float", "double", "string", "int8", "uint8",
    "int16", "uint16", "int32", "uint32", "int64", "uint64", "float32", "float64",
})
MAX_ID = 32000  # the vtable (2 bytes per slot) must stay below 64 KiB


def is_scalar(t: Type) -> bool:
    return (isinstance(t, Primitive) and t.kind in SCALARS) or isinstance(t, EnumType)


def needs_box(t: Type) -> bool:
    """A vector cannot hold this type directly (vector of vectors): it goes into a wrapper table."""
    return isinstance(t, (ListType, MapType)) or (isinstance(t, Primitive) and t.kind == "bytes")


@dataclass
class FbsSchema:
    record: Record
    text: str = ""
    tables: dict[str, Record] = field(default_factory=dict)  # table name -> record (model or synthetic)
    type_names: dict[str, str] = field(default_factory=dict)  # model record/enum name -> fbs name
    field_names: dict[tuple[str, str], str] = field(default_factory=dict)  # (record, field) -> fbs name
    boxes: dict[str, Record] = field(default_factory=dict)  # element type_name -> wrapper table
    entries: dict[str, Record] = field(default_factory=dict)  # map value type_name -> entry table
    enums: dict[str, EnumType] = field(default_factory=dict)


def _ident(name: str) -> str:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise UnsupportedSchema(f"flatbuffers: {name!r} is not a valid identifier (letters, digits, _)")
    return name


def _unique(name: str, taken: set[str]) -> str:
    out = name
    while out in taken or out in KEYWORDS:
        out += "_"
    taken.add(out)
    return out


def _part(t: Type) -> str:
    if isinstance(t, Primitive):
        return t.kind.capitalize()
    if isinstance(t, (EnumType, Record)):
        return t.name
    if isinstance(t, ListType):
        return "ListOf" + _part(t.items)
    return "MapOf" + _part(t.values)


def _default_text(t: Type, value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(t, EnumType):
        return value if value in t.symbols else None
    k = t.kind  # type: ignore[union-attr]
    return scalar_literal(k, value)


def describe(schema: Record) -> FbsSchema:
    """The layout (model and synthetic tables) and the ``.fbs`` text for ``schema``."""
    if not isinstance(schema, Record):
        raise UnsupportedSchema(f"flatbuffers: the top-level schema must be a record, got {schema!r:.80}")
    fs = FbsSchema(schema)
    taken: set[str] = set()
    named = list(named_types(schema))
    for nt in named:
        fs.type_names[nt.name] = _unique(_ident(nt.name), taken)
        if isinstance(nt, EnumType):
            fs.enums[nt.name] = nt
    order: list[Record] = []  # tables in declaration order (dependencies first)

    def synth(kind: str, key: str, make: Any) -> Record:
        store = fs.boxes if kind == "box" else fs.entries
        hit = store.get(key)
        if hit is None:
            hit = store[key] = make()
            fs.type_names[hit.name] = hit.name
            for f in hit.fields:
                visit_type(f.type)
            order.append(hit)
            fs.tables[hit.name] = hit
        return hit

    def visit_type(t: Type) -> None:
        if isinstance(t, ListType):
            if needs_box(t.items):
                box(t.items)
            else:
                visit_type(t.items)
        elif isinstance(t, MapType):
            entry(t.values)

    def box(t: Type) -> Record:
        name = _unique("BytesBox" if isinstance(t, Primitive) else _part(t), taken)
        inner = "data" if isinstance(t, Primitive) else ("items" if isinstance(t, ListType) else "entries")
        return synth("box", t.type_name, lambda: Record(name, (Field(inner, t, 1),)))

    def entry(t: Type) -> Record:
        return synth("entry", t.type_name, lambda: Record(_unique(_part(t) + "Entry", taken),
                                                          (Field("key", STRING, 1), Field("value", t, 2))))

    for nt in named:
        if isinstance(nt, Record):
            for f in nt.fields:
                if f.id > MAX_ID:
                    raise UnsupportedSchema(f"flatbuffers: field {nt.name}.{f.name} id {f.id} is above {MAX_ID} "
                                            "(the vtable holds 2 bytes per id up to the largest)")
                visit_type(f.type)
            order.append(nt)
            fs.tables[nt.name] = nt
    fs.text = _text(fs, named, order)
    return fs


def _type_text(t: Type, fs: FbsSchema) -> str:
    if isinstance(t, Primitive):
        if t.kind == "string":
            return "string"
        if t.kind == "bytes":
            return "[ubyte]"
        return SCALARS[t.kind]
    if isinstance(t, (EnumType, Record)):
        return fs.type_names[t.name]
    if isinstance(t, ListType):
        inner = fs.boxes[t.items.type_name].name if needs_box(t.items) else _type_text(t.items, fs)
        return f"[{inner}]"
    return f"[{fs.entries[t.values.type_name].name}]"


def _text(fs: FbsSchema, named: list[Any], order: list[Record]) -> str:
    lines = [
        f"// Generated by msgbench from the common payload model (record {fs.record.name}).",
        "// A field's id is its model field id - 1; free ids are deprecated placeholders.",
        "// timestamp = long microseconds since the epoch; map<string,T> = [TEntry] (entries in map order).",
        "// Enums: X_UNSPECIFIED = 0 (unset), then the model's enum numbers.",
    ]
    for nt in named:
        if isinstance(nt, EnumType):
            name = fs.type_names[nt.name]
            syms = set(nt.symbols)
            zero = _unique(f"{name}_UNSPECIFIED", set(syms))
            lines += ["", f"enum {name} : int {{", f"  {zero} = 0,"]
            for s, n in sorted(nt.symbol_numbers().items(), key=lambda p: p[1]):
                lines.append(f"  {_ident(s)} = {n},")
            lines.append("}")
    for rec in order:
        lines.append("")
        lines += [f"// {line}".rstrip() for line in rec.doc.splitlines()]
        lines.append(f"table {fs.type_names[rec.name]} {{")
        used: set[str] = set()
        by_slot = {f.id - 1: f for f in rec.fields}
        for f in rec.fields:  # model names first: a placeholder never takes a model field's name
            fs.field_names[(rec.name, f.name)] = _unique(_ident(f.name), used)
        for slot in range(max(by_slot) + 1 if by_slot else 0):
            f = by_slot.get(slot)
            if f is None:
                lines.append(f"  {_unique(f'reserved_id_{slot}', used)}: bool (id: {slot}, deprecated);")
                continue
            fname = fs.field_names[(rec.name, f.name)]
            dflt = ""
            if is_scalar(f.type):
                if f.optional:
                    dflt = " = null"
                else:
                    d = _default_text(f.type, f.default)
                    dflt = f" = {d}" if d is not None else ""
            lines += [f"  // {line}".rstrip() for line in f.doc.splitlines()]
            lines.append(f"  {fname}: {_type_text(f.type, fs)}{dflt} (id: {slot});")
        lines.append("}")
    lines += ["", f"root_type {fs.type_names[fs.record.name]};"]
    return "\n".join(lines) + "\n"
