"""Schema-evolution scenarios, as data.

Each :class:`Scenario` is one change a team makes to a message: a v1 and a v2 schema of the same
taxi-domain record (a trip request, built from the same types as the built-in payloads), a v1
and a v2 value, whether common guidance calls the change "safe", and the *ideal* outcome used to
judge what a codec really does:

- ``backward``: data written by v1, read by a v2 reader. The ideal is what a v2 reader should see.
- ``forward``: data written by v2, read by a v1 reader. The ideal is what a v1 reader should see.
- ``roundtrip`` (derived): v2 data passes through a v1 intermediary that decodes and re-encodes it;
  the ideal is that the final v2 reader sees the v2 value unchanged.
- ``backward-roundtrip`` (derived): v1 data passes through a v2 intermediary (a service already
  upgraded) and is read by a v1 reader; ideally the v1 reader sees the v1 value unchanged, including
  what v2 no longer knows (does the new service re-emit fields it dropped?).

A type change is judged with more than one value: a scenario's own values plus its ``variants``
(:class:`Variant`), e.g. a distance that fits in int32 and one that does not, because a codec's
outcome often depends on the value written, not only on the change (protobuf reads 23456 through a
widened field fine and truncates 5,000,000,000; fastavro rejects ``long`` data for an ``int``
reader whatever the value). :meth:`Scenario.cases` lists the scenario once per value set.

An ideal is either a value in the reader's model (:func:`ideal`) or a rejection (:func:`reject`):
when no correct value exists (a required field the writer never wrote, a number that does not fit)
the right reader refuses the message. A rejection carries a ``reference``: the writer's data in
the reader's shape, against which whatever a codec decodes anyway is compared (a codec that
decodes ``5_000_000_000`` as ``705_032_704`` has *changed* it, one that reads it as 0 has *lost* it; one that fills a missing field
with ``0`` has *defaulted* it).

:meth:`Scenario.expectation` adds what follows from the two schemas: which reader fields the
writer did not have (``new``: candidates for "defaulted"), which writer fields the reader does
not know (``unknown``: candidates for "dropped"/"preserved-unknown"), and the values that count as
a reader's default for each field (``None``, the declared default, the type's zero value).
Fields are matched by name, alias *or* id, so a rename (same id) or an id change (same name) is
not a "new" field; whether a codec finds it is exactly what the matrix measures.

The scenarios' enum carries explicit, stable numbers (``EnumType.numbers``): formats that number
enum symbols (Protobuf, Thrift) keep each remaining symbol's number when one is added or removed,
as a Protobuf/Thrift user does (a removed symbol's number is retired, never reused), so the matrix
measures the formats, not a generator that would renumber by position.

This module imports only the payload model and the built-in taxi types (no codec code).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from typing import Any

from payloads.model import (
    FLOAT64,
    INT32,
    INT64,
    STRING,
    TIMESTAMP,
    EnumType,
    Field,
    ListType,
    MapType,
    Primitive,
    Record,
    Type,
    normalize,
)
from payloads.taxi import GEO_POINT

DIRECTIONS = ("backward", "forward", "roundtrip", "backward-roundtrip")
# what each direction means, for tables and the report
DIRECTION_TEXT = {
    "backward": "v1 data read by a v2 reader",
    "forward": "v2 data read by a v1 reader",
    "roundtrip": "v2 data through a v1 intermediary (decoded, re-encoded), read by a v2 reader",
    "backward-roundtrip": "v1 data through a v2 intermediary (decoded, re-encoded), read by a v1 reader",
}
ROUNDTRIPS = ("roundtrip", "backward-roundtrip")


@dataclass(frozen=True)
class Ideal:
    """What the ideal reader produces: a value, or a rejection (``reject`` non-empty)."""

    value: Any = None
    reject: str = ""
    reference: Any = None  # rejection: the writer's data in the reader's shape (None: nothing fits)
    substituted: tuple[str, ...] = ()  # paths where the value is a reader default standing in for
    # a writer value the reader cannot represent (an enum symbol it does not know)


def ideal(value: Any, substituted: tuple[str, ...] = ()) -> Ideal:
    return Ideal(value=value, substituted=substituted)


def reject(reason: str, reference: Any = None) -> Ideal:
    return Ideal(reject=reason, reference=reference)


@dataclass(frozen=True)
class Expectation:
    """An :class:`Ideal` plus what the schemas say (see the module docstring)."""

    direction: str
    value: Any  # ideal value (normalized to the reader schema); None when rejecting
    reject: str
    reference: Any
    substituted: tuple[str, ...]
    new: tuple[str, ...]  # reader field paths the writer did not have
    unknown: tuple[str, ...]  # writer field paths the reader does not know
    defaults: dict[str, tuple[Any, ...]] = field(default_factory=dict)  # path -> values counting as defaults


@dataclass(frozen=True)
class Variant:
    """Another value set for a scenario: the same two schemas, different values (e.g. one that fits
    the other side's type where the scenario's own value does not), with its own ideals."""

    label: str  # what distinguishes these values, e.g. "fits int32"
    v1_value: dict
    v2_value: dict
    backward: Ideal
    forward: Ideal


@dataclass(frozen=True)
class Scenario:
    id: str
    title: str
    description: str
    change: str  # the kind of change, e.g. "add-field", "retype", "enum"
    v1: Record
    v2: Record
    v1_value: dict
    v2_value: dict
    safe: bool  # "safe" in common guidance
    backward: Ideal  # what a v2 reader should see for v1 data
    forward: Ideal  # what a v1 reader should see for v2 data
    value_label: str = ""  # what distinguishes this scenario's own values from its variants' ones
    variants: tuple[Variant, ...] = ()  # more value sets, judged separately (see the module docstring)

    def cases(self, direction: str | None = None) -> list[Scenario]:
        """This scenario once per value set (the variants first, typically the values the other
        side can hold, then its own values), each without variants. With ``direction``, a value set
        whose values and ideal in that direction are the same as an earlier one's is left out
        (widening an int changes nothing for old data)."""
        out = [replace(self, v1_value=v.v1_value, v2_value=v.v2_value, backward=v.backward, forward=v.forward,
                       value_label=v.label, variants=()) for v in self.variants]
        out.append(replace(self, variants=()))
        if direction is None:
            return out
        seen: list[tuple] = []
        kept = []
        for c in out:
            key = c._direction_key(direction)
            if key not in seen:
                seen.append(key)
                kept.append(c)
        return kept

    def _direction_key(self, direction: str) -> tuple:
        if direction in ("forward", "roundtrip"):
            return (repr(self.v2_value), self.forward)
        return (repr(self.v1_value), self.backward)

    def schemas(self, direction: str) -> tuple[Record, Record]:
        """(writer, reader) for ``backward``/``forward``; roundtrips: the first hop's."""
        return (self.v1, self.v2) if direction in ("backward", "backward-roundtrip") else (self.v2, self.v1)

    def writer_value(self, direction: str) -> dict:
        return self.v1_value if direction in ("backward", "backward-roundtrip") else self.v2_value

    def expectation(self, direction: str) -> Expectation:
        if direction not in DIRECTIONS:
            raise ValueError(f"unknown direction {direction!r}; use one of {DIRECTIONS}")
        if direction == "backward-roundtrip":
            # The final reader is v1; ideally it sees exactly what the v1 writer wrote, including
            # what the v2 intermediary no longer knows.
            _, v1_only = field_changes(self.v1, self.v2)  # what the v2 intermediary does not know
            bwd = self.backward
            if bwd.reject:
                return Expectation(direction, None, bwd.reject, self.v1_value, (), (), tuple(v1_only),
                                   reader_defaults(self.v1))
            return Expectation(direction, normalize(self.v1, self.v1_value), "", None, bwd.substituted, (),
                               tuple(v1_only), reader_defaults(self.v1))
        if direction == "roundtrip":
            # The final reader is v2; ideally it sees exactly what the v2 writer wrote, including
            # what the v1 intermediary did not know. If the v1 hop cannot represent the value at
            # all, the ideal intermediary refuses it.
            _, v2_only = field_changes(self.v2, self.v1)  # what the v1 intermediary does not know
            fwd = self.forward
            if fwd.reject:
                return Expectation(direction, None, fwd.reject, self.v2_value, (), (), tuple(v2_only),
                                   reader_defaults(self.v2))
            return Expectation(direction, normalize(self.v2, self.v2_value), "", None, fwd.substituted, (),
                               tuple(v2_only), reader_defaults(self.v2))
        writer, reader = self.schemas(direction)
        ide = self.backward if direction == "backward" else self.forward
        new, unknown = field_changes(writer, reader)
        value = None if ide.reject else normalize(reader, ide.value)
        return Expectation(direction, value, ide.reject, ide.reference, ide.substituted, tuple(new),
                           tuple(unknown), reader_defaults(reader))

    def to_json(self) -> dict:
        out = {"id": self.id, "title": self.title, "description": self.description, "safe": self.safe,
               "change": self.change}
        if self.variants:
            out["values"] = [v.label for v in self.variants] + [self.value_label or "as written"]
        return out


# ------------------------------------------------------------------------------------------------
# Schema helpers


def _matches(a: Field, b: Field) -> bool:
    return a.id == b.id or a.name == b.name or a.name in b.aliases or b.name in a.aliases


def _record_of(t: Type) -> Record | None:
    if isinstance(t, Record):
        return t
    if isinstance(t, ListType) and isinstance(t.items, Record):
        return t.items
    return None


def field_changes(writer: Record, reader: Record, prefix: str = "") -> tuple[list[str], list[str]]:
    """(reader field paths the writer lacks, writer field paths the reader lacks); nested records
    (and lists of records) are compared field by field; list indices are not part of a path."""
    new: list[str] = []
    unknown: list[str] = []
    for rf in reader.fields:
        path = prefix + rf.name
        wf = next((w for w in writer.fields if _matches(w, rf)), None)
        if wf is None:
            new.append(path)
            continue
        rr, wr = _record_of(rf.type), _record_of(wf.type)
        if rr is not None and wr is not None:
            n, u = field_changes(wr, rr, path + ".")
            new += n
            unknown += u
    for wf in writer.fields:
        if not any(_matches(wf, rf) for rf in reader.fields):
            unknown.append(prefix + wf.name)
    return new, unknown


def zero_value(t: Type) -> Any:
    """The value a reader without a declared default typically produces (Protobuf's zero value)."""
    if isinstance(t, Primitive):
        return {"bool": False, "string": "", "bytes": b"", "float32": 0.0, "float64": 0.0}.get(t.kind, 0)
    if isinstance(t, EnumType):
        return t.symbols[0]
    if isinstance(t, ListType):
        return []
    if isinstance(t, MapType):
        return {}
    return None


def reader_defaults(reader: Record, prefix: str = "") -> dict[str, tuple[Any, ...]]:
    """Field path -> the values that count as "the reader's default" for it."""
    out: dict[str, tuple[Any, ...]] = {}
    for f in reader.fields:
        path = prefix + f.name
        vals: list[Any] = [None, zero_value(f.type)]
        if f.has_default:
            vals.append(f.default)
        if isinstance(f.type, EnumType) and f.type.default is not None:
            vals.append(f.type.default)
        out[path] = tuple(vals)
        sub = _record_of(f.type)
        if sub is not None:
            out.update(reader_defaults(sub, path + "."))
    return out


def _with_field(rec: Record, field_name: str, /, **changes: Any) -> Record:
    return replace(rec, fields=tuple(replace(f, **changes) if f.name == field_name else f for f in rec.fields))


def _without(rec: Record, name: str) -> Record:
    return replace(rec, fields=tuple(f for f in rec.fields if f.name != name))


def _plus(rec: Record, *fields: Field) -> Record:
    return replace(rec, fields=rec.fields + fields)


def _val(base: dict, **changes: Any) -> dict:
    out = copy.deepcopy(base)
    for k, v in changes.items():
        if v is _DROP:
            out.pop(k, None)
        else:
            out[k] = v
    return out


_DROP: Any = object()

# ------------------------------------------------------------------------------------------------
# The taxi-domain types the scenarios evolve (the same shapes as the built-in trip request).

# The built-in payloads' point type. The trip request below is a compact sibling of the built-in
# payloads.taxi.TRIP_REQUEST: the scenarios need an int64 id, an int32 count, an enum whose Avro
# default lets resolution work and an optional free-text field, which that record does not all have.
LOCATION = GEO_POINT

RIDE_CLASS = EnumType("RideClass", ("UNKNOWN", "ECONOMY", "COMFORT", "XL"), default="UNKNOWN",
                      doc="The product the passenger asked for", numbers=(1, 2, 3, 4))

TRIP_REQUEST = Record("TripRequest", (
    Field("trip_id", STRING, 1),
    Field("passenger_id", INT64, 2),
    Field("pickup", LOCATION, 3),
    Field("requested_at", TIMESTAMP, 4),
    Field("ride_class", RIDE_CLASS, 5),
    Field("seats", INT32, 6),
    Field("note", STRING, 7, optional=True, doc="free text for the driver"),
    Field("distance_m", INT32, 8, doc="estimated route length in metres"),
), doc="A passenger asks for a ride")

V1_VALUE: dict = {
    "trip_id": "trip-7f3a9c",
    "passenger_id": 4_200_017,
    "pickup": {"lat": 52.520008, "lon": 13.404954},
    "requested_at": 1_718_000_000_000_000,
    "ride_class": "ECONOMY",
    "seats": 2,
    "note": "gate B, blue door",
    "distance_m": 12_345,
}

# A variant of v1's value written by a v2 writer (different values, so a value that came from the
# wrong place is visible).
V2_BASE: dict = {
    "trip_id": "trip-8b41d0",
    "passenger_id": 4_200_099,
    "pickup": {"lat": 48.856613, "lon": 2.352222},
    "requested_at": 1_718_000_360_000_000,
    "ride_class": "COMFORT",
    "seats": 3,
    "note": "terminal 2, exit 4",
    "distance_m": 23_456,
}


def _project(value: dict, reader: Record) -> dict:
    """``value`` restricted to the fields ``reader`` has (by name)."""
    return {f.name: value[f.name] for f in reader.fields if f.name in value}


def _scenarios() -> list[Scenario]:
    base = TRIP_REQUEST
    v1v, v2b = V1_VALUE, V2_BASE
    out: list[Scenario] = []

    # 1. add an optional field with a default
    v2 = _plus(base, Field("payment_method", STRING, 9, optional=True, default="card"))
    v2v = _val(v2b, payment_method="cash")
    out.append(Scenario(
        "add-optional-default", "Add an optional field with a default",
        "v2 adds payment_method (optional, default 'card'). An old message lacks it; an old reader "
        "meets it as an unknown field.", "add-field", base, v2, v1v, v2v, True,
        backward=ideal(_val(v1v, payment_method="card")),
        forward=ideal(_project(v2v, base)),
    ))

    # 2. add a required field without a default
    v2 = _plus(base, Field("passenger_count", INT32, 9))
    v2v = _val(v2b, passenger_count=3)
    out.append(Scenario(
        "add-required", "Add a required field without a default",
        "v2 adds passenger_count, required, no default. Old data cannot provide it: the ideal new "
        "reader rejects it instead of inventing a number.", "add-field", base, v2, v1v, v2v, False,
        backward=reject("v1 data has no passenger_count and v2 declares no default", reference=v1v),
        forward=ideal(_project(v2v, base)),
    ))

    # 3. remove an optional field
    v2 = _without(base, "note")
    v2v = _val(v2b, note=_DROP)
    out.append(Scenario(
        "remove-optional", "Remove an optional field",
        "v2 drops the optional note. A new reader ignores it in old data; an old reader sees it "
        "absent (None).", "remove-field", base, v2, v1v, v2v, True,
        backward=ideal(_project(v1v, v2)),
        forward=ideal(_val(v2v, note=None)),
    ))

    # 4. remove a required field
    v2 = _without(base, "seats")
    v2v = _val(v2b, seats=_DROP)
    out.append(Scenario(
        "remove-required", "Remove a required field",
        "v2 drops seats, which v1 requires. An old reader cannot get a value for it from new data: "
        "the ideal old reader rejects the message.", "remove-field", base, v2, v1v, v2v, False,
        backward=ideal(_project(v1v, v2)),
        forward=reject("v2 data has no seats, which v1 requires", reference=_project(v2v, base)),
    ))

    # 5. rename a field (same id/tag; v2 carries an Avro alias for the old name)
    v2 = _with_field(base, "passenger_id", name="rider_id", aliases=("passenger_id",))
    v2v = {("rider_id" if k == "passenger_id" else k): v for k, v in v2b.items()}
    out.append(Scenario(
        "rename-field", "Rename a field (same id, alias for the old name)",
        "passenger_id becomes rider_id with the same field id; v2 lists 'passenger_id' as an alias. "
        "Ideally both readers find the value under their own name.", "rename", base, v2, v1v, v2v, False,
        backward=ideal({("rider_id" if k == "passenger_id" else k): v for k, v in v1v.items()}),
        forward=ideal(V2_BASE),
    ))

    # 6. reorder fields
    v2 = replace(base, fields=tuple(reversed(base.fields)))
    out.append(Scenario(
        "reorder-fields", "Reorder fields (ids kept)",
        "v2 declares the same fields in reverse order, each with its id.", "reorder", base, v2, v1v, v2b, True,
        backward=ideal(v1v), forward=ideal(v2b),
    ))

    # 7. widen int32 -> int64
    v2 = _with_field(base, "distance_m", type=INT64)
    v2v = _val(v2b, distance_m=5_000_000_000)
    out.append(Scenario(
        "widen-int", "Widen int32 to int64",
        "distance_m becomes int64. Old values fit; a new value of 5,000,000,000 does not fit an old "
        "int32 reader, which ideally rejects it.", "retype", base, v2, v1v, v2v, True,
        backward=ideal(v1v),
        forward=reject("5000000000 does not fit in int32", reference=_project(v2v, base)),
        value_label="past int32 (5,000,000,000)",
        variants=(Variant("fits int32 (23456)", v1v, _val(v2b, distance_m=23_456), backward=ideal(v1v),
                          forward=ideal(_project(_val(v2b, distance_m=23_456), base))),),
    ))

    # 8. narrow int64 -> int32
    v2 = _with_field(base, "passenger_id", type=INT32)
    v1n = _val(v1v, passenger_id=7_000_000_001)
    out.append(Scenario(
        "narrow-int", "Narrow int64 to int32",
        "passenger_id becomes int32. Old data holds 7,000,000,001, which does not fit; new values "
        "fit an old int64 reader.", "retype", base, v2, v1n, v2b, False,
        backward=reject("7000000001 does not fit in int32", reference=v1n),
        forward=ideal(v2b),
        value_label="past int32 (7,000,000,001)",
        variants=(Variant("fits int32 (4,200,017)", v1v, v2b, backward=ideal(v1v), forward=ideal(v2b)),),
    ))

    # 9. int -> string
    v2 = _with_field(base, "passenger_id", type=STRING)
    v2v = _val(v2b, passenger_id="p-4200099")
    out.append(Scenario(
        "int-to-string", "Change int64 to string",
        "passenger_id becomes a string ('p-4200099'). Neither reader can take the other's value; "
        "the ideal reader rejects the message rather than guess.", "retype", base, v2, v1v, v2v, False,
        backward=reject("an int64 written where v2 expects a string", reference=v1v),
        forward=reject("a string written where v1 expects an int64", reference=_project(v2v, base)),
        value_label="not a number ('p-4200099')",
        variants=(Variant("digits only ('4200099')", v1v, _val(v2b, passenger_id="4200099"),
                          backward=reject("an int64 written where v2 expects a string", reference=v1v),
                          forward=ideal(_project(v2b, base))),),
    ))

    # 10. int -> double
    v2 = _with_field(base, "distance_m", type=FLOAT64)
    v2v = _val(v2b, distance_m=23_456.5)
    out.append(Scenario(
        "int-to-double", "Change int32 to double",
        "distance_m becomes a double. Old integers convert exactly (12345 -> 12345.0); a new "
        "23456.5 does not fit an old int reader.", "retype", base, v2, v1v, v2v, False,
        backward=ideal(_val(v1v, distance_m=12_345.0)),
        forward=reject("23456.5 is not an integer", reference=_project(v2v, base)),
        value_label="a fraction (23456.5)",
        variants=(Variant("a whole number (23456.0)", v1v, _val(v2b, distance_m=23_456.0),
                          backward=ideal(_val(v1v, distance_m=12_345.0)),
                          forward=ideal(_project(v2b, base))),),
    ))

    # 11. add an enum symbol
    rc2 = replace(RIDE_CLASS, symbols=RIDE_CLASS.symbols + ("GREEN",), numbers=RIDE_CLASS.numbers + (5,))
    v2 = _with_field(base, "ride_class", type=rc2)
    v2v = _val(v2b, ride_class="GREEN")
    out.append(Scenario(
        "enum-add-symbol", "Add an enum symbol",
        "RideClass gains GREEN (appended, with the next number, 5). A v2 message uses it; an old "
        "reader ideally maps the unknown symbol to its enum default UNKNOWN.", "enum", base, v2, v1v, v2v, True,
        backward=ideal(v1v),
        forward=ideal(_val(v2v, ride_class="UNKNOWN"), substituted=("ride_class",)),
        value_label="the new symbol (GREEN)",
        variants=(Variant("an old symbol (COMFORT)", v1v, v2b, backward=ideal(v1v), forward=ideal(v2b)),),
    ))

    # 12. remove an enum symbol (from the middle)
    rc2 = replace(RIDE_CLASS, symbols=("UNKNOWN", "ECONOMY", "XL"), numbers=(1, 2, 4))
    v2 = _with_field(base, "ride_class", type=rc2)
    v1e = _val(v1v, ride_class="COMFORT")
    v2v = _val(v2b, ride_class="XL")
    out.append(Scenario(
        "enum-remove-symbol", "Remove an enum symbol",
        "RideClass loses COMFORT, from the middle of the list; the remaining symbols keep their "
        "numbers (XL stays 4, COMFORT's 3 is retired). Old data says COMFORT: a new reader ideally "
        "maps it to UNKNOWN.", "enum",
        base, v2, v1e, v2v, False,
        backward=ideal(_val(v1e, ride_class="UNKNOWN"), substituted=("ride_class",)),
        forward=ideal(v2v),
    ))

    # 13. change only a field's id/tag
    v2 = _with_field(base, "note", id=17)
    out.append(Scenario(
        "change-field-id", "Change a field's id/tag only",
        "note keeps its name but moves from id 7 to id 17.", "renumber", base, v2, v1v, v2b, False,
        backward=ideal(v1v), forward=ideal(v2b),
    ))

    # 14. optional -> required
    v2 = _with_field(base, "note", optional=False)
    v1o = _val(v1v, note=None)
    out.append(Scenario(
        "optional-to-required", "Make an optional field required",
        "note becomes required. Old data without a note cannot satisfy a new reader; new data "
        "always has one.", "optionality", base, v2, v1o, v2b, False,
        backward=reject("v1 data has no note, which v2 requires", reference=v1o),
        forward=ideal(v2b),
        value_label="null",
        variants=(Variant("a note", v1v, v2b, backward=ideal(v1v), forward=ideal(v2b)),),
    ))

    # 15. required -> optional
    v2 = _with_field(base, "seats", optional=True)
    v2v = _val(v2b, seats=None)
    out.append(Scenario(
        "required-to-optional", "Make a required field optional",
        "seats becomes optional and a v2 message leaves it out. Old data reads fine; an old reader "
        "that requires seats ideally rejects the new message.", "optionality", base, v2, v1v, v2v, False,
        backward=ideal(v1v),
        forward=reject("v2 data has no seats, which v1 requires", reference=_project(v2v, base)),
        value_label="null",
        variants=(Variant("a number (3)", v1v, v2b, backward=ideal(v1v), forward=ideal(v2b)),),
    ))

    # 16. singular -> list
    v1s = _plus(base, Field("stop", LOCATION, 9, optional=True, doc="an intermediate stop"))
    v2 = _plus(base, Field("stop", ListType(LOCATION), 9, doc="intermediate stops"))
    stop_a, stop_b = {"lat": 52.5163, "lon": 13.3777}, {"lat": 52.5096, "lon": 13.3759}
    v1sv = _val(v1v, stop=stop_a)
    v2v = _val(v2b, stop=[stop_a, stop_b])
    out.append(Scenario(
        "singular-to-list", "Turn a singular field into a list",
        "stop (one optional GeoPoint) becomes a list of GeoPoints, same name and id. Old data is "
        "ideally read as a one-element list; two stops cannot be one, so an old reader ideally "
        "rejects them.", "retype", v1s, v2, v1sv, v2v, False,
        backward=ideal(_val(v1sv, stop=[stop_a])),
        forward=reject("two stops cannot be read as one", reference=_project(v2v, v1s)),
        value_label="two stops",
        variants=(Variant("one stop", v1sv, _val(v2b, stop=[stop_a]), backward=ideal(_val(v1sv, stop=[stop_a])),
                          forward=ideal(_val(_project(v2b, v1s), stop=stop_a))),),
    ))

    # 17. add a field inside a nested record
    loc2 = _plus(LOCATION, Field("address", STRING, 3, optional=True))
    v2 = _with_field(base, "pickup", type=loc2)
    v2v = _val(v2b, pickup={**V2_BASE["pickup"], "address": "Place de l'Hôtel de Ville"})
    out.append(Scenario(
        "nested-add-field", "Add a field inside a nested record",
        "GeoPoint (the pickup) gains an optional address.", "add-field", base, v2, v1v, v2v, True,
        backward=ideal(v1v),
        forward=ideal(v2b),
    ))

    # 18. rename the record type (with an alias)
    v2 = replace(base, name="RideRequest", aliases=("TripRequest",))
    out.append(Scenario(
        "rename-record", "Rename the record type (alias for the old name)",
        "TripRequest becomes RideRequest; v2 lists the old name as an alias. Field names and ids "
        "are unchanged.", "rename", base, v2, v1v, v2b, False,
        backward=ideal(v1v), forward=ideal(v2b),
    ))

    # 19. change a map's value type
    v1m = _plus(base, Field("surcharges", MapType(INT32), 9, doc="surcharge name -> cents"))
    v2 = _plus(base, Field("surcharges", MapType(FLOAT64), 9, doc="surcharge name -> amount"))
    v1mv = _val(v1v, surcharges={"airport": 500, "night": 250})
    v2v = _val(v2b, surcharges={"airport": 500.0, "night": 262.5})
    out.append(Scenario(
        "map-value-type", "Change a map's value type (int32 to double)",
        "surcharges: map<string,int32> becomes map<string,double>. Old integers convert exactly; "
        "262.5 does not fit an old int reader.", "retype", v1m, v2, v1mv, v2v, False,
        backward=ideal(_val(v1mv, surcharges={"airport": 500.0, "night": 250.0})),
        forward=reject("262.5 is not an integer", reference=_project(v2v, v1m)),
        value_label="a fraction (262.5)",
        variants=(Variant("whole amounts (500.0, 250.0)", v1mv, _val(v2b, surcharges={"airport": 500.0, "night": 250.0}),
                          backward=ideal(_val(v1mv, surcharges={"airport": 500.0, "night": 250.0})),
                          forward=ideal(_val(_project(v2b, v1m), surcharges={"airport": 500, "night": 250}))),),
    ))
    return out


SCENARIOS: tuple[Scenario, ...] = tuple(_scenarios())
BY_ID: dict[str, Scenario] = {s.id: s for s in SCENARIOS}
SAFE_IDS: tuple[str, ...] = tuple(s.id for s in SCENARIOS if s.safe)


def find(ids: list[str] | None) -> list[Scenario]:
    """The scenarios named (all when ``ids`` is empty), in the order given."""
    if not ids:
        return list(SCENARIOS)
    words = [w.strip() for i in ids for w in i.split(",") if w.strip()]
    missing = [w for w in words if w not in BY_ID]
    if missing:
        raise KeyError(f"unknown scenario(s) {', '.join(missing)}; known: {', '.join(BY_ID)}")
    return [BY_ID[w] for w in words]

