"""Cap'n Proto schema text generated at runtime from the common payload model, loaded with pycapnp.

:func:`describe` turns a model :class:`~payloads.model.Record` into ``.capnp`` text (one ``struct``
per record, one ``enum`` per model enum, one entry struct per map value type); :func:`build`
writes it to a private temporary directory and ``capnp.load``\\ s it (cached per schema). No
``capnp`` compiler binary is involved: pycapnp bundles the schema parser.

Mapping (model -> Cap'n Proto)
==============================
============== ======================================================================
model          Cap'n Proto
============== ======================================================================
bool           ``Bool``
int32 / int64  ``Int32`` / ``Int64``;  timestamp: ``Int64`` (microseconds since the epoch)
float32/64     ``Float32`` / ``Float64``
string/bytes   ``Text`` / ``Data``
enum           ``enum``; enumerant ``@0`` is a synthetic ``unspecified`` (what an unset field
               reads as, like protobuf's 0), model symbol number n is enumerant ``@n``, gaps are
               filled with ``reservedN`` placeholders, so wire numbers equal protobuf's and
               Thrift's. Cap'n Proto enumerants must be dense ``@0..@n-1`` and are UInt16: an
               enum whose explicit numbers go above 1024 is numbered by rank instead (the
               symbols sorted by number get ``@1..@k``), which the header comment says.
list<T>        ``List(T)`` (nests: ``List(List(Int32))``)
map<string,T>  ``List(<T>Entry)`` with ``struct <T>Entry { key @0 :Text; value @1 :T; }``
record         ``struct``
============== ======================================================================

Ordinals. Cap'n Proto field ordinals must be dense, ``@0..@n-1``, and they decide the layout of
the struct (each field is placed after the ones with lower ordinals). The model's field ids are
stable tags that may have gaps (``9 left free on purpose``), so the fields are taken in ascending
field-id order and numbered densely: the k-th field (by id) gets the next ordinal(s). Consequence,
which the evolution matrix shows rather than hides: only a field added with a *higher* id than
all others is a safe Cap'n Proto change; removing a field or adding one with a lower id shifts
the ordinals (and the layout) of later fields, so readers see other fields' bytes. Real Cap'n
Proto schemas never delete or renumber: they rename a field to ``obsoleteX`` and keep it.

Optional fields. A pointer field (Text, Data, List, struct) that is ``None`` is left null (Cap'n
Proto tells a null pointer from an empty one); an optional scalar or enum field becomes
``name :union { none @k :Void; value @k+1 :T; }`` (two ordinals; an unset union reads as
``none``, i.e. ``None``).

Defaults. A non-optional scalar or enum field's model default becomes the Cap'n Proto default
(``= 5``): Cap'n Proto stores scalars XORed with the default, and a reader given old data without
the field reads the default, as the model wants.

Names. Cap'n Proto requires camelCase without underscores: ``pickup_time`` -> ``pickupTime``,
``DRIVER_ASSIGNED`` -> ``driverAssigned``, type ``trip_event`` -> ``TripEvent``; a name that then
collides with another (or a Cap'n Proto keyword) gets a numeric suffix. Names never travel on
the wire; :class:`CapnpSchema` keeps the model -> Cap'n Proto name maps.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import threading
from dataclasses import dataclass, field
from typing import Any

from formats.api import UnsupportedSchema
from formats.idl_literals import scalar_literal
from payloads.model import EnumType, ListType, MapType, Primitive, Record, Type, named_types, type_to_json

TYPES = {
    "bool": "Bool",
    "int32": "Int32",
    "int64": "Int64",
    "timestamp": "Int64",
    "float32": "Float32",
    "float64": "Float64",
    "string": "Text",
    "bytes": "Data",
}
POINTER_KINDS = frozenset({"string", "bytes"})
KEYWORDS = frozenset({
    "struct", "enum", "union", "group", "interface", "const", "annotation", "import", "using", "embed",
    "extends", "true", "false", "void", "inf", "nan", "list", "bool", "text", "data", "float32", "float64",
    "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "anyPointer",
})
MAX_SPARSE_ENUM = 1024  # above this explicit number, enumerants are numbered by rank


def _words(name: str) -> list[str]:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise UnsupportedSchema(f"capnp: {name!r} is not a valid identifier (letters, digits, _)")
    parts = [p for p in name.split("_") if p]
    return parts or ["x"]


def lower_camel(name: str) -> str:
    """``rider_id`` -> ``riderId``; ``DRIVER_ASSIGNED`` -> ``driverAssigned``; ``lat`` -> ``lat``."""
    parts = _words(name)
    if all(p.isupper() or p.isdigit() for p in parts):
        parts = [p.lower() for p in parts]
    first = parts[0][0].lower() + parts[0][1:]
    out = first + "".join(p[0].upper() + p[1:] for p in parts[1:])
    return out if out[0].isalpha() else "x" + out


def upper_camel(name: str) -> str:
    out = "".join(p[0].upper() + p[1:] for p in _words(name))
    return out if out[0].isalpha() else "X" + out


def unique(name: str, taken: set[str]) -> str:
    out, n = name, 2
    while out in taken or out in KEYWORDS:
        out, n = f"{name}{n}", n + 1
    taken.add(out)
    return out


@dataclass
class SlotInfo:
    """One model field in a generated struct."""

    name: str  # model name
    cname: str  # Cap'n Proto name
    type: Type
    optional: bool
    union: bool  # optional scalar/enum: `cname :union { none; value }`
    default: Any = None


@dataclass
class CapnpSchema:
    record: Record
    text: str
    file_id: int
    type_names: dict[str, str] = field(default_factory=dict)  # model record/enum name -> capnp name
    entry_names: dict[str, str] = field(default_factory=dict)  # map value type_name -> entry struct name
    fields: dict[str, list[SlotInfo]] = field(default_factory=dict)  # record name -> fields by id
    # enum name -> (capnp enumerant name per model symbol, model symbol per enumerant ordinal)
    enum_names: dict[str, dict[str, str]] = field(default_factory=dict)
    enum_symbols: dict[str, dict[int, str]] = field(default_factory=dict)
    enum_ordinals: dict[str, dict[str, int]] = field(default_factory=dict)
    module: Any = None
    structs: dict[str, Any] = field(default_factory=dict)  # model record name -> pycapnp struct module

    @property
    def root(self) -> Any:
        return self.structs[self.record.name]


def schema_key(schema: Record) -> str:
    return json.dumps(type_to_json(schema), sort_keys=True, default=repr)


def _file_id(key: str) -> int:
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") | (1 << 63)


def _scalar_kind(t: Type) -> bool:
    return (isinstance(t, Primitive) and t.kind not in POINTER_KINDS) or isinstance(t, EnumType)


def _default_text(t: Type, value: Any, cs: CapnpSchema) -> str | None:
    if value is None:
        return None
    if isinstance(t, EnumType):
        return cs.enum_names[t.name].get(value)
    if not isinstance(t, Primitive):
        return None
    k = t.kind
    return scalar_literal(k, value)


def _type_name_part(t: Type) -> str:
    if isinstance(t, Primitive):
        return upper_camel(t.kind)
    if isinstance(t, (EnumType, Record)):
        return upper_camel(t.name)
    if isinstance(t, ListType):
        return "ListOf" + _type_name_part(t.items)
    return "MapOf" + _type_name_part(t.values)


def describe(schema: Record) -> CapnpSchema:
    """The ``.capnp`` text and the name maps for ``schema`` (nothing loaded)."""
    if not isinstance(schema, Record):
        raise UnsupportedSchema(f"capnp: the top-level schema must be a record, got {schema!r:.80}")
    key = schema_key(schema)
    cs = CapnpSchema(schema, "", _file_id(key))
    named = list(named_types(schema))
    taken: set[str] = set()
    for nt in named:
        cs.type_names[nt.name] = unique(upper_camel(nt.name), taken)
    entries: list[tuple[str, Type]] = []

    def type_text(t: Type) -> str:
        if isinstance(t, Primitive):
            return TYPES[t.kind]
        if isinstance(t, (EnumType, Record)):
            return cs.type_names[t.name]
        if isinstance(t, ListType):
            return f"List({type_text(t.items)})"
        if isinstance(t, MapType):
            tn = t.values.type_name
            if tn not in cs.entry_names:
                cs.entry_names[tn] = unique(_type_name_part(t.values) + "Entry", taken)
                entries.append((cs.entry_names[tn], t.values))
            return f"List({cs.entry_names[tn]})"
        raise UnsupportedSchema(f"capnp: unknown schema type {t!r}")

    lines = [
        f"@0x{cs.file_id:016x};",
        f"# Generated by msgbench from the common payload model (record {schema.name}).",
        "# Fields are declared in ascending model field id; ordinals are dense (@0..@n-1) in that order.",
        "# Optional scalars: `name :union { none; value }`; optional Text/Data/List/struct: a null pointer.",
        "# timestamp = Int64 microseconds since the epoch; map<string,T> = List(<T>Entry).",
        "# Enums: @0 = unspecified, model symbol number n = @n (gaps: reservedN placeholders).",
    ]
    body: list[str] = []
    for nt in named:
        body.append("")
        body += [f"# {line}".rstrip() for line in nt.doc.splitlines()]
        cname = cs.type_names[nt.name]
        if isinstance(nt, EnumType):
            body += _enum_lines(nt, cname, cs)
            continue
        body.append(f"struct {cname} {{")
        used: set[str] = set()
        infos: list[SlotInfo] = []
        ordinal = 0
        for f in sorted(nt.fields, key=lambda f: f.id):
            fname = unique(lower_camel(f.name), used)
            body += [f"  # {line}".rstrip() for line in f.doc.splitlines()]
            tt = type_text(f.type)
            union = f.optional and _scalar_kind(f.type)
            info = SlotInfo(f.name, fname, f.type, f.optional, union, f.default)
            infos.append(info)
            if union:
                body.append(f"  {fname} :union {{  # model field {f.name} (id {f.id}), optional")
                body.append(f"    none @{ordinal} :Void;")
                body.append(f"    value @{ordinal + 1} :{tt};")
                body.append("  }")
                ordinal += 2
            else:
                dflt = "" if f.optional else _default_text(f.type, f.default, cs)
                dflt = f" = {dflt}" if dflt else ""
                note = ", optional (null pointer = None)" if f.optional else ""
                body.append(f"  {fname} @{ordinal} :{tt}{dflt};  # model field {f.name} (id {f.id}){note}")
                ordinal += 1
        body.append("}")
        cs.fields[nt.name] = infos
    i = 0
    while i < len(entries):  # type_text may discover more entry structs (map of maps) on the way
        ename, vt = entries[i]
        body += ["", f"struct {ename} {{", "  key @0 :Text;", f"  value @1 :{type_text(vt)};", "}"]
        i += 1
    cs.text = "\n".join(lines + body) + "\n"
    return cs


def _enum_lines(nt: EnumType, cname: str, cs: CapnpSchema) -> list[str]:
    pairs = sorted(nt.symbol_numbers().items(), key=lambda p: p[1])
    dense = pairs[-1][1] > MAX_SPARSE_ENUM
    ordinals = {s: (i + 1 if dense else n) for i, (s, n) in enumerate(pairs)}
    used: set[str] = set()
    names = {s: unique(lower_camel(s), used) for s, _ in pairs}
    placeholder = unique("unspecified", used)
    by_ord = {o: s for s, o in ordinals.items()}
    lines = [f"enum {cname} {{"]
    if dense:
        lines.append(f"  # explicit numbers above {MAX_SPARSE_ENUM}: enumerants numbered by rank, not by number")
    lines.append(f"  {placeholder} @0;  # an unset field reads as this (no model symbol)")
    for o in range(1, max(ordinals.values()) + 1):
        s = by_ord.get(o)
        if s is None:
            lines.append(f"  {unique(f'reserved{o}', used)} @{o};")
        else:
            note = f"  # model number {nt.number_of(s)}" if dense else ""
            lines.append(f"  {names[s]} @{o};{note}")
    lines.append("}")
    cs.enum_names[nt.name] = names
    cs.enum_symbols[nt.name] = by_ord
    cs.enum_ordinals[nt.name] = ordinals
    return lines


_cache: dict[str, CapnpSchema] = {}
_lock = threading.Lock()


def build(schema: Record) -> CapnpSchema:
    """:func:`describe` plus the loaded pycapnp module (cached per schema)."""
    key = schema_key(schema)
    with _lock:
        hit = _cache.get(key)
        if hit is not None:
            return hit
        import capnp

        try:
            capnp.remove_import_hook()
        except Exception:  # pragma: no cover - older pycapnp without the hook
            pass
        cs = describe(schema)
        # pycapnp parses a schema from a file; it is written to a private temporary directory
        # (never the source tree), parsed eagerly, and removed again.
        with tempfile.TemporaryDirectory(prefix="msgbench-capnp-") as tmp:
            path = os.path.join(tmp, f"s{cs.file_id:016x}.capnp")
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(cs.text)
            try:
                cs.module = capnp.load(path)
            except Exception as e:
                raise UnsupportedSchema(f"capnp: pycapnp rejected the schema generated for {schema.name}: {e}") from e
        cs.structs = {nt.name: getattr(cs.module, cs.type_names[nt.name]) for nt in named_types(schema)
                      if isinstance(nt, Record)}
        _cache[key] = cs
        return cs
