"""Rule-based compatibility verdicts, as the ecosystems' own tools give them (pure functions).

- **Avro / Confluent Schema Registry levels** (BACKWARD, FORWARD, FULL and their _TRANSITIVE
  forms, NONE): computed with Apache Avro's own ``avro.compatibility.ReaderWriterCompatibilityChecker``
  (the rules Confluent's registry applies: a reader schema can read a writer schema). For a list
  of versions the last one is checked against the previous one, or against all earlier ones for
  the _TRANSITIVE levels, as the registry does when the last version is registered.
- **Protobuf, ``buf breaking``**: the wire rules of the WIRE and WIRE_JSON categories, re-implemented
  here on the model's proto3 mapping (there is no buf binary on PyPI): FIELD_NO_DELETE_UNLESS_NUMBER_
  RESERVED, FIELD_WIRE_COMPATIBLE_TYPE, FIELD_WIRE_COMPATIBLE_CARDINALITY, ENUM_VALUE_NO_DELETE_UNLESS_
  NUMBER_RESERVED (WIRE) and additionally FIELD_NO_DELETE_UNLESS_NAME_RESERVED, FIELD_SAME_NAME,
  FIELD_WIRE_JSON_COMPATIBLE_TYPE, ENUM_VALUE_SAME_NAME (WIRE_JSON). Reserved numbers/names come from
  the user's .proto; a schema from another language has none (a proto user would add them).
- **Thrift**: the published IDL evolution rules (Apache Thrift's IDL documentation and "Thrift: the
  missing guide", section Versioning/Compatibility): never change a field's id or type; adding or
  removing an optional/default field is safe, a ``required`` field is forever (adding or removing
  one breaks); do not change requiredness; do not reuse a removed id; enum values may be added, not
  removed or renumbered; names are free (not on the wire).

Each check returns :class:`Finding` objects; :func:`avro_levels`, :func:`buf_breaking` and
:func:`thrift_rules` are the entry points. Nothing here encodes a byte: see bench.user_evolution
for what the bytes do.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from payloads.model import EnumType, ListType, MapType, Primitive, Record, Type

LEVELS = ("BACKWARD", "BACKWARD_TRANSITIVE", "FORWARD", "FORWARD_TRANSITIVE", "FULL", "FULL_TRANSITIVE", "NONE")
BUF_CATEGORIES = ("WIRE", "WIRE_JSON")


@dataclass(frozen=True)
class Finding:
    tool: str  # "avro", "buf", "thrift"
    rule: str  # e.g. FIELD_WIRE_COMPATIBLE_TYPE, BACKWARD, "required is forever"
    where: str  # e.g. TripEvent.fare_cents
    message: str
    categories: tuple[str, ...] = ()  # buf: the categories the rule belongs to
    directions: tuple[str, ...] = ("backward", "forward")  # which readers it concerns

    def to_json(self) -> dict:
        return {"tool": self.tool, "rule": self.rule, "where": self.where, "message": self.message,
                "categories": list(self.categories), "directions": list(self.directions)}


# ------------------------------------------------------------------------------------------------
# Avro / Confluent


def avro_can_read(reader: dict, writer: dict) -> tuple[bool, str]:
    """(compatible, why not) for an Avro reader schema reading writer data (JSON-ready dicts)."""
    try:
        import avro.schema
        from avro.compatibility import ReaderWriterCompatibilityChecker, SchemaCompatibilityType
    except ImportError:  # pragma: no cover - avro is a dependency
        raise RuntimeError("the Avro rules need the avro package: pip install avro") from None
    r = avro.schema.parse(json.dumps(reader))
    w = avro.schema.parse(json.dumps(writer))
    res = ReaderWriterCompatibilityChecker().get_compatibility(r, w)
    if res.compatibility is SchemaCompatibilityType.compatible:
        return True, ""
    msgs = sorted({f"{m} at {loc}" if loc else str(m) for m, loc in zip(res.messages, res.locations or [""] * len(res.messages), strict=False)})
    return False, "; ".join(msgs)[:400]


def avro_levels(versions: list[dict]) -> dict[str, dict]:
    """Confluent level -> {"ok": bool, "why": [..]} for the last of ``versions`` (Avro schemas,
    oldest first) against the previous one (or all earlier ones for _TRANSITIVE)."""
    if len(versions) < 2:
        raise ValueError("need at least two schema versions")
    new, earlier = versions[-1], versions[:-1]
    out: dict[str, dict] = {}
    for transitive in (False, True):
        olds = list(enumerate(earlier, start=1)) if transitive else [(len(earlier), earlier[-1])]
        back, fwd = [], []
        for i, old in olds:
            ok, why = avro_can_read(new, old)
            if not ok:
                back.append(f"v{len(versions)} cannot read v{i} data: {why}")
            ok, why = avro_can_read(old, new)
            if not ok:
                fwd.append(f"v{i} cannot read v{len(versions)} data: {why}")
        sfx = "_TRANSITIVE" if transitive else ""
        out["BACKWARD" + sfx] = {"ok": not back, "why": back}
        out["FORWARD" + sfx] = {"ok": not fwd, "why": fwd}
        out["FULL" + sfx] = {"ok": not back and not fwd, "why": back + fwd}
    out["NONE"] = {"ok": True, "why": []}
    return out


def level_directions(level: str) -> tuple[tuple[str, ...], bool]:
    """(directions a Confluent level requires, transitive?)."""
    base = level.removesuffix("_TRANSITIVE")
    dirs = {"BACKWARD": ("backward",), "FORWARD": ("forward",), "FULL": ("backward", "forward"), "NONE": ()}[base]
    return dirs, level.endswith("_TRANSITIVE")


# ------------------------------------------------------------------------------------------------
# Protobuf: buf breaking, WIRE and WIRE_JSON


def _proto_kind(t: Type) -> tuple[str, str]:
    """(wire group, json group) of a model type in the proto3 mapping."""
    if isinstance(t, Primitive):
        return {"bool": ("varint", "bool"), "int32": ("varint", "int32"), "int64": ("varint", "int64"),
                "timestamp": ("varint", "int64"), "float32": ("fixed32", "float"), "float64": ("fixed64", "double"),
                "string": ("len", "string"), "bytes": ("len", "bytes")}[t.kind]
    if isinstance(t, EnumType):
        return "varint", f"enum {t.name}"
    if isinstance(t, Record):
        return "message", f"message {t.name}"
    if isinstance(t, MapType):
        return "map", "map"
    return "len", "list"


def _cardinality(t: Type) -> str:
    return "repeated" if isinstance(t, (ListType, MapType)) else "singular"


def _elem(t: Type) -> Type:
    return t.items if isinstance(t, ListType) else t


def buf_breaking(old: Record, new: Record, reserved: dict | None = None) -> list[Finding]:
    """buf's WIRE/WIRE_JSON findings for ``old`` -> ``new`` in the proto3 mapping; ``reserved``:
    message name -> ((lo, hi) number ranges, names) from the new .proto."""
    reserved = reserved or {}
    out: list[Finding] = []
    seen: set[tuple[str, str]] = set()

    def is_reserved(msg: str, number: int | None = None, name: str | None = None) -> bool:
        ranges, names = reserved.get(msg, ((), ()))
        if number is not None:
            return any(lo <= number <= hi for lo, hi in ranges)
        return name in names

    def add(rule: str, where: str, msg: str, cats: tuple[str, ...]) -> None:
        out.append(Finding("buf", rule, where, msg, cats))

    def walk(o: Record, n: Record) -> None:
        if (o.name, n.name) in seen:
            return
        seen.add((o.name, n.name))
        by_id = {f.id: f for f in n.fields}
        for of in o.fields:
            where = f"{n.name}.{of.name}"
            nf = by_id.get(of.id)
            if nf is None:
                if not is_reserved(n.name, number=of.id):
                    add("FIELD_NO_DELETE_UNLESS_NUMBER_RESERVED", where,
                        f"field {of.id} ({of.name}) was deleted without reserving its number", ("WIRE", "WIRE_JSON"))
                if not is_reserved(n.name, name=of.name):
                    add("FIELD_NO_DELETE_UNLESS_NAME_RESERVED", where,
                        f"field {of.id} ({of.name}) was deleted without reserving its name", ("WIRE_JSON",))
                continue
            if nf.name != of.name:
                add("FIELD_SAME_NAME", where, f"field {of.id} changed name from {of.name} to {nf.name}", ("WIRE_JSON",))
                add("FIELD_SAME_JSON_NAME", where, f"field {of.id} changed JSON name from {of.name} to {nf.name}",
                    ("WIRE_JSON",))
            if _cardinality(of.type) != _cardinality(nf.type) or isinstance(of.type, MapType) != isinstance(nf.type, MapType):
                add("FIELD_WIRE_COMPATIBLE_CARDINALITY", where,
                    f"field {of.id} changed cardinality from {of.type.type_name} to {nf.type.type_name}",
                    ("WIRE", "WIRE_JSON"))
                continue
            ot, nt = _elem(of.type), _elem(nf.type)
            if isinstance(ot, MapType) and isinstance(nt, MapType):
                ot, nt = ot.values, nt.values
            (ow, oj), (nw, nj) = _proto_kind(ot), _proto_kind(nt)
            if ow != nw or (ow == "message" and ot.name != nt.name):  # type: ignore[union-attr]
                add("FIELD_WIRE_COMPATIBLE_TYPE", where,
                    f"field {of.id} changed type from {ot.type_name} to {nt.type_name}", ("WIRE", "WIRE_JSON"))
            elif oj != nj and not (isinstance(ot, EnumType) and isinstance(nt, EnumType) and ot.name == nt.name):
                add("FIELD_WIRE_JSON_COMPATIBLE_TYPE", where,
                    f"field {of.id} changed type from {ot.type_name} to {nt.type_name} (wire-compatible, "
                    "not JSON-compatible)", ("WIRE_JSON",))
            if isinstance(ot, Record) and isinstance(nt, Record):
                walk(ot, nt)
            if isinstance(ot, EnumType) and isinstance(nt, EnumType):
                enum(ot, nt)

    enum_seen: set[str] = set()

    def enum(o: EnumType, n: EnumType) -> None:
        if o.name in enum_seen:
            return
        enum_seen.add(o.name)
        nums = n.symbol_numbers()
        by_num = {v: k for k, v in nums.items()}
        for sym, num in o.symbol_numbers().items():
            if num not in by_num:
                if not is_reserved(n.name, number=num):
                    add("ENUM_VALUE_NO_DELETE_UNLESS_NUMBER_RESERVED", f"{n.name}.{sym}",
                        f"enum value {num} ({sym}) was deleted without reserving its number", ("WIRE", "WIRE_JSON"))
            elif by_num[num] != sym:
                add("ENUM_VALUE_SAME_NAME", f"{n.name}.{sym}",
                    f"enum value {num} changed name from {sym} to {by_num[num]}", ("WIRE_JSON",))

    walk(old, new)
    return out


def buf_verdict(findings: list[Finding]) -> dict[str, dict]:
    return {cat: {"ok": not [f for f in findings if cat in f.categories],
                  "rules": sorted({f.rule for f in findings if cat in f.categories})} for cat in BUF_CATEGORIES}


# ------------------------------------------------------------------------------------------------
# Thrift IDL rules


def thrift_rules(old: Record, new: Record, old_req: dict | None = None, new_req: dict | None = None) -> list[Finding]:
    """Findings of the published Thrift IDL evolution rules for ``old`` -> ``new``. ``*_req``:
    (struct, field) -> "required"/"optional"/"default" as written in the IDL (else from the model:
    optional -> optional, otherwise required, as msgbench's Thrift mapping writes it)."""
    out: list[Finding] = []
    seen: set[tuple[str, str]] = set()

    def req(reqs: dict | None, rec: Record, f: Any) -> str:
        if reqs and (rec.name, f.name) in reqs:
            return reqs[(rec.name, f.name)]
        return "optional" if f.optional else "required"

    def add(rule: str, where: str, msg: str, dirs: tuple[str, ...] = ("backward", "forward")) -> None:
        out.append(Finding("thrift", rule, where, msg, (), dirs))

    def walk(o: Record, n: Record) -> None:
        if (o.name, n.name) in seen:
            return
        seen.add((o.name, n.name))
        n_by_id = {f.id: f for f in n.fields}
        o_by_id = {f.id: f for f in o.fields}
        n_by_name = {f.name: f for f in n.fields}
        for of in o.fields:
            where = f"{n.name}.{of.name}"
            nf = n_by_id.get(of.id)
            moved = n_by_name.get(of.name)
            if moved is not None and moved.id != of.id:
                add("never change a field's id", where, f"{of.name} moved from id {of.id} to {moved.id}")
            if nf is None:
                if req(old_req, o, of) == "required":
                    add("required is forever", where, f"required field {of.id}: {of.name} was removed: old readers "
                        "reject new data", ("forward",))
                continue
            if nf.name != of.name and (moved is None or moved.id == of.id) and of.name not in n_by_name:
                if _thrift_type(of.type) != _thrift_type(nf.type):
                    add("do not reuse a field id", where, f"id {of.id} was {of.name}: {of.type.type_name}, is now "
                        f"{nf.name}: {nf.type.type_name}")
                    continue
            ro, rn = req(old_req, o, of), req(new_req, n, nf)
            if ro != rn and "required" in (ro, rn):
                add("do not change requiredness", where, f"field {of.id}: {of.name} changed from {ro} to {rn}",
                    ("backward",) if rn == "required" else ("forward",))
            if _thrift_type(of.type) != _thrift_type(nf.type):
                add("never change a field's type", where,
                    f"field {of.id}: {of.name} changed type from {_thrift_type(of.type)} to {_thrift_type(nf.type)}")
                continue
            for ot, nt in _nested_pairs(of.type, nf.type):
                if isinstance(ot, Record):
                    walk(ot, nt)  # type: ignore[arg-type]
                else:
                    enum(ot, nt)  # type: ignore[arg-type]
        for nf in n.fields:
            if nf.id not in o_by_id and req(new_req, n, nf) == "required" and nf.default is None:
                add("required is forever", f"{n.name}.{nf.name}", f"required field {nf.id}: {nf.name} was added: new "
                    "readers reject old data", ("backward",))

    def enum(o: EnumType, n: EnumType) -> None:
        nums = n.symbol_numbers()
        for sym, num in o.symbol_numbers().items():
            if sym not in nums:
                add("do not remove enum values", f"{n.name}.{sym}", f"enum value {sym} = {num} was removed",
                    ("backward",))
            elif nums[sym] != num:
                add("do not renumber enum values", f"{n.name}.{sym}", f"{sym} changed from {num} to {nums[sym]}")

    walk(old, new)
    return out


def _thrift_type(t: Type) -> str:
    if isinstance(t, Primitive):
        return {"bool": "bool", "int32": "i32", "int64": "i64", "timestamp": "i64", "float32": "double",
                "float64": "double", "string": "string", "bytes": "binary"}[t.kind]
    if isinstance(t, EnumType):
        return "enum"
    if isinstance(t, Record):
        return "struct"
    if isinstance(t, ListType):
        return f"list<{_thrift_type(t.items)}>"
    return f"map<string,{_thrift_type(t.values)}>"


def _nested_pairs(a: Type, b: Type) -> list[tuple[Type, Type]]:
    if isinstance(a, ListType) and isinstance(b, ListType):
        return _nested_pairs(a.items, b.items)
    if isinstance(a, MapType) and isinstance(b, MapType):
        return _nested_pairs(a.values, b.values)
    if (isinstance(a, Record) and isinstance(b, Record)) or (isinstance(a, EnumType) and isinstance(b, EnumType)):
        return [(a, b)]
    return []
