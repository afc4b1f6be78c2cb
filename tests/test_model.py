"""The common payload model: validation paths, normalization, comparison, schema errors, JSON form."""

from __future__ import annotations

import copy
import itertools
import json
import math
import struct
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from payloads import taxi
from payloads.model import (
    BOOL,
    BYTES,
    FLOAT32,
    FLOAT64,
    INT32,
    INT32_MAX,
    INT32_MIN,
    INT64,
    INT64_MAX,
    INT64_MIN,
    PRIMITIVE_KINDS,
    STRING,
    TIMESTAMP,
    EnumType,
    Field,
    ListType,
    MapType,
    ModelError,
    Primitive,
    Record,
    SchemaMismatch,
    differences,
    float32_round,
    named_types,
    normalize,
    type_from_json,
    type_to_json,
    validate,
)

FLOAT32_MAX = struct.unpack("<f", b"\xff\xff\x7f\x7f")[0]

# ---------------------------------------------------------------------------------------------
# Validation: the error names the path of the first offending value.


@pytest.fixture(scope="module")
def trip() -> dict[str, Any]:
    return taxi.build_completed_trip()


def mismatch(schema: Any, value: Any) -> SchemaMismatch:
    with pytest.raises(SchemaMismatch) as info:
        validate(schema, value)
    return info.value


def test_the_fixture_is_valid(trip) -> None:
    validate(taxi.COMPLETED_TRIP, trip)


def test_wrong_type_in_list_item_names_index(trip) -> None:
    bad = copy.deepcopy(trip)
    bad["route"][3]["lat"] = "38.7"
    err = mismatch(taxi.COMPLETED_TRIP, bad)
    assert err.path == "route[3].lat"
    assert "expected float64" in err.reason and "str" in err.reason
    assert str(err).startswith("route[3].lat: ")


def test_int32_out_of_range_names_nested_path(trip) -> None:
    for year in (INT32_MAX + 1, INT32_MIN - 1):
        bad = copy.deepcopy(trip)
        bad["driver"]["vehicle"]["year"] = year
        err = mismatch(taxi.COMPLETED_TRIP, bad)
        assert err.path == "driver.vehicle.year"
        assert "int32" in err.reason
    ok = copy.deepcopy(trip)
    ok["driver"]["vehicle"]["year"] = INT32_MAX
    validate(taxi.COMPLETED_TRIP, ok)


def test_int64_and_timestamp_out_of_range(trip) -> None:
    bad = copy.deepcopy(trip)
    bad["fare"]["total_cents"] = INT64_MAX + 1
    assert mismatch(taxi.COMPLETED_TRIP, bad).path == "fare.total_cents"
    bad = copy.deepcopy(trip)
    bad["route"][0]["timestamp"] = INT64_MIN - 1
    assert mismatch(taxi.COMPLETED_TRIP, bad).path == "route[0].timestamp"
    validate(INT64, INT64_MIN)
    validate(TIMESTAMP, INT64_MAX)


def test_bool_is_not_a_number_and_float_is_not_an_int() -> None:
    assert mismatch(INT32, True).path == "<root>"
    assert "expected int32" in mismatch(INT32, True).reason
    assert mismatch(FLOAT64, False).reason.startswith("expected float64")
    assert mismatch(INT64, 3.0).reason.startswith("expected int64")
    assert mismatch(BOOL, 1).reason.startswith("expected bool")
    assert mismatch(BYTES, "abc").reason.startswith("expected bytes")
    assert mismatch(STRING, b"abc").reason.startswith("expected string")


def test_unknown_enum_symbol(trip) -> None:
    bad = copy.deepcopy(trip)
    bad["fare"]["line_items"][2]["component"] = "FUEL"
    err = mismatch(taxi.COMPLETED_TRIP, bad)
    assert err.path == "fare.line_items[2].component"
    assert "'FUEL'" in err.reason and "FareComponent" in err.reason and "BASE" in err.reason
    assert mismatch(taxi.TRIP_STATUS, 5).path == "<root>"


def test_missing_and_null_required_fields(trip) -> None:
    bad = copy.deepcopy(trip)
    del bad["driver"]["vehicle"]["plate"]
    err = mismatch(taxi.COMPLETED_TRIP, bad)
    assert (err.path, err.reason) == ("driver.vehicle.plate", "required field is missing")
    bad = copy.deepcopy(trip)
    bad["rider"]["rating"] = None
    err = mismatch(taxi.COMPLETED_TRIP, bad)
    assert (err.path, err.reason) == ("rider.rating", "required field is null")


def test_unknown_field(trip) -> None:
    bad = copy.deepcopy(trip)
    bad["route"][1]["altitude"] = 12.0
    err = mismatch(taxi.COMPLETED_TRIP, bad)
    assert err.path == "route[1].altitude"
    assert "RoutePoint" in err.reason and "speed_kmh" in err.reason


def test_map_keys_and_values(trip) -> None:
    bad = copy.deepcopy(trip)
    bad["tags"][7] = "seven"
    err = mismatch(taxi.COMPLETED_TRIP, bad)
    assert err.path == "tags[7]" and "keys must be strings" in err.reason
    bad = copy.deepcopy(trip)
    bad["tags"]["city"] = 1
    assert mismatch(taxi.COMPLETED_TRIP, bad).path == "tags['city']"
    assert mismatch(MapType(INT32), [("a", 1)]).reason.startswith("expected a map")


def test_float32_overflow_and_edges(trip) -> None:
    bad = copy.deepcopy(trip)
    bad["driver"]["rating"] = 1e39
    err = mismatch(taxi.COMPLETED_TRIP, bad)
    assert err.path == "driver.rating" and "overflows float32" in err.reason
    # the largest float32, infinities and NaN all fit; the first double past the rounding boundary does not
    for ok in (FLOAT32_MAX, -FLOAT32_MAX, math.inf, -math.inf, math.nan, 0.0, -0.0, 1e-45):
        validate(FLOAT32, ok)
    assert mismatch(FLOAT32, 3.5e38).path == "<root>"
    validate(FLOAT64, 1e300)


def test_container_shape_errors() -> None:
    rec = Record("R", (Field("xs", ListType(INT32), 1),))
    assert mismatch(rec, {"xs": "123"}).path == "xs"
    assert mismatch(rec, [1]).reason.startswith("expected record R")
    assert mismatch(rec, {"xs": [1, 2, "3"]}).path == "xs[2]"
    assert mismatch(ListType(rec), [{"xs": []}, {"xs": [None]}]).path == "[1].xs[0]"


def test_validate_path_prefix(trip) -> None:
    bad = copy.deepcopy(trip)
    bad["rider"]["id"] = 42
    with pytest.raises(SchemaMismatch) as info:
        validate(taxi.COMPLETED_TRIP, bad, path="trip")
    assert info.value.path == "trip.rider.id"


def test_first_error_wins_in_field_order(trip) -> None:
    bad = copy.deepcopy(trip)
    bad["trip_id"] = 1
    bad["tags"] = None
    assert mismatch(taxi.COMPLETED_TRIP, bad).path == "trip_id"


# ---------------------------------------------------------------------------------------------
# normalize


def test_normalize_fills_optional_fields_and_defaults() -> None:
    rec = Record("N", (
        Field("a", INT32, 1),
        Field("b", STRING, 2, optional=True),
        Field("c", STRING, 3, optional=True, default="x"),
        Field("d", BOOL, 4, optional=True, default=False),
        Field("e", taxi.NOTIFICATION_PRIORITY, 5, optional=True, default="NORMAL"),
        Field("f", FLOAT32, 6, optional=True, default=0.1),
    ))
    out = normalize(rec, {"a": 1})
    assert out == {"a": 1, "b": None, "c": "x", "d": False, "e": "NORMAL", "f": float32_round(0.1)}
    assert list(out) == ["a", "b", "c", "d", "e", "f"]  # schema order
    # an explicit None stays None: the default is for absent values only
    assert normalize(rec, {"a": 1, "c": None})["c"] is None
    assert normalize(rec, {"a": 1, "c": "y"})["c"] == "y"


def test_normalize_rounds_float32_and_converts_types() -> None:
    rec = Record("F", (
        Field("f32", FLOAT32, 1), Field("f64", FLOAT64, 2), Field("raw", BYTES, 3), Field("xs", ListType(FLOAT32), 4),
    ))
    out = normalize(rec, {"f32": 0.1, "f64": 0.1, "raw": bytearray(b"\x00\xff"), "xs": (1, 2.5, 1e-50)})
    assert out["f32"] == float32_round(0.1) != 0.1
    assert out["f64"] == 0.1
    assert type(out["raw"]) is bytes and out["raw"] == b"\x00\xff"
    assert out["xs"] == [1.0, 2.5, 0.0] and all(type(x) is float for x in out["xs"])
    assert type(normalize(FLOAT64, 3)) is float
    assert math.copysign(1.0, normalize(FLOAT32, -1e-50)) == -1.0  # underflow keeps the sign
    assert math.isnan(normalize(FLOAT32, math.nan))
    # validate alone does not round
    validate(FLOAT32, 0.1)


def test_normalize_does_not_mutate_its_input(trip) -> None:
    before = copy.deepcopy(trip)
    normalize(taxi.COMPLETED_TRIP, trip)
    assert not differences(before, trip)


# ---------------------------------------------------------------------------------------------
# differences


def test_differences_exact_floats() -> None:
    assert differences(0.0, -0.0)[0].path == ""
    assert differences({"x": 0.0}, {"x": -0.0})[0].path == "x"
    assert differences(math.nan, math.nan) == []
    assert len(differences(math.nan, 1.0)) == 1
    assert len(differences(1.0, math.nan)) == 1
    assert len(differences(0.1, float32_round(0.1))) == 1
    assert differences(math.inf, math.inf) == []
    assert len(differences(math.inf, -math.inf)) == 1


def test_differences_types_are_strict() -> None:
    assert len(differences(1, 1.0)) == 1
    assert len(differences(True, 1)) == 1
    assert len(differences(b"a", "a")) == 1
    assert len(differences([1], (1,))) == 1
    assert len(differences(None, 0)) == 1


def test_differences_lists_and_keys() -> None:
    d = differences({"route": [1, 2, 3]}, {"route": [1, 9]})
    assert [(x.path, x.expected, x.actual) for x in d] == [("route.length", 3, 2), ("route[1]", 2, 9)]
    d = differences({"a": 1, "b": {"c": 2}}, {"a": 1, "b": {"d": 2}})
    assert [(x.path, x.expected, x.actual) for x in d] == [("b.c", 2, "<absent>"), ("b.d", "<absent>", 2)]
    assert "b.c: expected 2, got '<absent>'" == d[0].describe()
    assert differences([{"x": 1}], [{"x": 2}], path="p")[0].path == "p[0].x"
    assert differences({"k": "v" * 200}, {"k": "w"})[0].describe().endswith("vvv..., got 'w'")


def test_differences_limit() -> None:
    many = {str(i): i for i in range(100)}
    assert len(differences(many, {})) == 20
    assert len(differences(many, {}, limit=5)) == 5
    assert len(differences(list(range(100)), [-1] * 100, limit=7)) == 7


# ---------------------------------------------------------------------------------------------
# Schema errors


def test_duplicate_field_names_and_ids() -> None:
    with pytest.raises(ModelError, match="duplicate field name 'a'"):
        Record("R", (Field("a", INT32, 1), Field("a", INT64, 2)))
    with pytest.raises(ModelError, match="duplicate field id 1 .b."):
        Record("R", (Field("a", INT32, 1), Field("b", INT64, 1)))


@pytest.mark.parametrize("bad_id", [0, -1, 32768, 19000, 19999, True, 1.0, "1"])
def test_bad_field_ids(bad_id: Any) -> None:
    with pytest.raises(ModelError, match="field a id"):
        Record("R", (Field("a", INT32, bad_id),))


def test_good_field_ids_with_gaps() -> None:
    rec = Record("R", (Field("a", INT32, 1), Field("b", INT32, 18999), Field("c", INT32, 20000),
                       Field("d", INT32, 32767)))
    assert rec.field("b").id == 18999 and rec.get("zz") is None


def test_bad_enums_and_primitives() -> None:
    with pytest.raises(ModelError, match="no symbols"):
        EnumType("E", ())
    with pytest.raises(ModelError, match="duplicate symbols"):
        EnumType("E", ("A", "A"))
    with pytest.raises(ModelError, match="default 'C' is not a symbol"):
        EnumType("E", ("A", "B"), default="C")
    with pytest.raises(ModelError, match="unknown primitive type 'int128'"):
        Primitive("int128")
    assert set(PRIMITIVE_KINDS) == {"bool", "int32", "int64", "float32", "float64", "string", "bytes", "timestamp"}


def test_enum_numbers_default_to_positions_and_can_be_explicit() -> None:
    plain = EnumType("E", ("A", "B", "C"))
    assert plain.numbers is None and plain.symbol_numbers() == {"A": 1, "B": 2, "C": 3}
    sparse = EnumType("E", ("A", "B", "C"), numbers=(1, 2, 5))
    assert sparse.symbol_numbers() == {"A": 1, "B": 2, "C": 5} and sparse.number_of("C") == 5
    assert sparse.symbol_of(5) == "C" and sparse.symbol_of(3) is None and sparse.symbol_of(0) is None
    assert sparse != plain  # explicit numbers are part of the type
    assert EnumType("E", ("A", "B"), numbers=[4, 2]).numbers == (4, 2)  # a list is kept as a tuple
    assert EnumType("E", ("A",), numbers=(INT32_MAX,)).number_of("A") == INT32_MAX
    with pytest.raises(KeyError):
        sparse.number_of("D")


@pytest.mark.parametrize(
    ("numbers", "words"),
    [
        ((1, 2), "3 symbols but 2 numbers"),
        ((1, 2, 3, 4), "3 symbols but 4 numbers"),
        ((0, 1, 2), "symbol A number 0 is below 1 (0 is reserved for protobuf's synthetic UNSPECIFIED"),
        ((1, -3, 2), "symbol B number -3 is below 1"),
        ((1, 2, INT32_MAX + 1), f"symbol C number {INT32_MAX + 1} does not fit int32"),
        ((1, 3, 3), "symbols B, C share the number 3; numbers must be unique"),
        ((1, True, 3), "symbol B number True is not an integer"),
        ((1, 2.0, 3), "symbol B number 2.0 is not an integer"),
        ("123", "numbers must be a tuple of integers"),
    ],
)
def test_bad_enum_numbers(numbers: Any, words: str) -> None:
    with pytest.raises(ModelError) as info:
        EnumType("E", ("A", "B", "C"), numbers=numbers)
    assert str(info.value).startswith("enum E ") and words in str(info.value), info.value


def test_named_types_dependencies_first_and_conflicts() -> None:
    order = [t.name for t in named_types(taxi.COMPLETED_TRIP)]
    assert order.index("Vehicle") < order.index("Driver") < order.index("CompletedTrip")
    assert order.index("GeoPoint") < order.index("CompletedTrip")
    assert order[-1] == "CompletedTrip" and len(order) == len(set(order))
    a = Record("P", (Field("x", INT32, 1),))
    b = Record("P", (Field("x", INT64, 1),))
    with pytest.raises(ModelError, match="two different types are both named 'P'"):
        list(named_types(Record("Outer", (Field("a", a, 1), Field("b", ListType(b), 2)))))
    # the same record twice is fine
    assert [t.name for t in named_types(Record("O", (Field("a", a, 1), Field("b", MapType(a), 2))))] == ["P", "O"]


def test_type_names() -> None:
    assert ListType(MapType(taxi.GEO_POINT)).type_name == "list<map<string,GeoPoint>>"
    assert TIMESTAMP.type_name == "timestamp"


# ---------------------------------------------------------------------------------------------
# Schemas as JSON


@pytest.mark.parametrize("payload", taxi.payloads(), ids=lambda p: p.name)
def test_builtin_schemas_round_trip_through_json(payload) -> None:
    doc = type_to_json(payload.schema)
    text = json.dumps(doc, ensure_ascii=False)
    back = type_from_json(json.loads(text))
    assert back == payload.schema
    assert type_to_json(back) == doc
    # named types come back equal too (field-level lookups work on the rebuilt record)
    assert [t for t in named_types(back)] == list(named_types(payload.schema))


def test_json_round_trip_keeps_defaults_docs_aliases() -> None:
    enum = EnumType("Colour", ("RED", "GREEN"), default="RED", doc="paint", aliases=("Color",))
    rec = Record("Thing", (
        Field("raw", BYTES, 1, optional=True, default=b"\x00\x01", doc="bytes default as hex"),
        Field("colour", enum, 2, optional=True, default="GREEN", aliases=("color",)),
        Field("again", enum, 3),  # the second use may be written in full or by name
        Field("n", INT32, 5, optional=True, default=0),
    ), doc="a thing", aliases=("OldThing",))
    doc = type_to_json(rec)
    assert doc["fields"][0]["default"] == "0001"
    assert "numbers" not in doc["fields"][1]["type"]  # only emitted when set
    assert type_from_json(json.loads(json.dumps(doc))) == rec
    doc["fields"][2]["type"] = "Colour"
    assert type_from_json(doc) == rec


def test_json_round_trip_keeps_enum_numbers() -> None:
    enum = EnumType("RideClass", ("UNKNOWN", "ECONOMY", "XL"), default="UNKNOWN", numbers=(1, 2, 4))
    rec = Record("Trip", (Field("ride_class", enum, 1), Field("classes", ListType(enum), 2)))
    doc = type_to_json(rec)
    assert doc["fields"][0]["type"]["numbers"] == [1, 2, 4]
    back = type_from_json(json.loads(json.dumps(doc)))
    assert back == rec and back.field("ride_class").type.symbol_numbers() == {"UNKNOWN": 1, "ECONOMY": 2, "XL": 4}
    assert type_to_json(back) == doc


@pytest.mark.parametrize(
    ("doc", "path", "words"),
    [
        ([1, 2], "schema", "expected a type name"),
        ("int33", "schema", "unknown type 'int33'"),
        ({"type": "tuple"}, "schema", "unknown type kind 'tuple'"),
        ({"type": "record", "fields": []}, "schema", "missing key 'name'"),
        ({"type": "record", "name": "R", "fields": "abc"}, "schema.fields", "expected a list"),
        ({"type": "record", "name": "R", "fields": [{"name": "a", "id": 1, "type": "int32"}, 7]},
         "schema.fields[1]", "expected an object"),
        ({"type": "record", "name": "R", "fields": [{"name": "a", "type": "int32"}]},
         "schema.fields[0]", "missing key 'id'"),
        ({"type": "record", "name": "R", "fields": [{"name": "a", "id": "one", "type": "int32"}]},
         "schema.fields[0].id", "integer field id"),
        ({"type": "record", "name": "R", "fields": [{"name": "a", "id": 1, "type": "int32"},
                                                   {"name": "b", "id": 1, "type": "int32"}]},
         "schema", "duplicate field id 1"),
        ({"type": "record", "name": "R", "fields": [
            {"name": "a", "id": 1, "type": {"type": "list", "items": {"type": "map", "values": "uint8"}}}]},
         "schema.fields[0].type.items.values", "unknown type 'uint8'"),
        ({"type": "record", "name": "R", "fields": [
            {"name": "a", "id": 1, "type": {"type": "record", "name": "S", "fields": [{"id": 1, "type": "bool"}]}}]},
         "schema.fields[0].type.fields[0]", "missing key 'name'"),
        ({"type": "record", "name": "R", "fields": [
            {"name": "e", "id": 1, "type": {"type": "enum", "name": "E", "symbols": "AB"}}]},
         "schema.fields[0].type.symbols", "list of strings"),
        ({"type": "record", "name": "R", "fields": [
            {"name": "e", "id": 1, "type": {"type": "enum", "name": "E", "symbols": []}}]},
         "schema.fields[0].type", "no symbols"),
        ({"type": "record", "name": "R", "fields": [
            {"name": "e", "id": 1, "type": {"type": "enum", "name": "E", "symbols": ["A"]}},
            {"name": "f", "id": 2, "type": {"type": "enum", "name": "E", "symbols": ["B"]}}]},
         "schema.fields[1].type", "different type named 'E'"),
        ({"type": "record", "name": "R", "fields": [{"name": "b", "id": 1, "type": "bytes", "default": "xyz"}]},
         "schema.fields[0]", "hex"),
        ({"type": "list"}, "schema", "missing key 'items' in list definition"),
        ({"type": "record", "name": "R", "fields": [
            {"name": "e", "id": 1, "type": {"type": "enum", "name": "E", "symbols": ["A"], "numbers": "1"}}]},
         "schema.fields[0].type.numbers", "expected a list of integers"),
        ({"type": "enum", "name": "E", "symbols": ["A", "B"], "numbers": [1, True]},
         "schema.numbers", "expected a list of integers"),
        ({"type": "enum", "name": "E", "symbols": ["A", "B"], "numbers": [1]},
         "schema.numbers", "2 symbols but 1 numbers"),
        ({"type": "enum", "name": "E", "symbols": ["A", "B"], "numbers": [2, 2]},
         "schema.numbers", "symbols A, B share the number 2"),
        ({"type": "enum", "name": "E", "symbols": ["A", "B"], "numbers": [0, 1]},
         "schema.numbers", "number 0 is below 1"),
    ],
)
def test_type_from_json_errors_name_the_json_path(doc: Any, path: str, words: str) -> None:
    with pytest.raises(ModelError) as info:
        type_from_json(doc)
    message = str(info.value)
    assert message.startswith(f"{path}: "), message
    assert words in message, message


def test_type_from_json_custom_root_path() -> None:
    with pytest.raises(ModelError, match=r"^payload\.json\$\.fields\[0\]\.type: unknown type 'x'"):
        type_from_json({"type": "record", "name": "R", "fields": [{"name": "a", "id": 1, "type": "x"}]},
                       path="payload.json$")


# ---------------------------------------------------------------------------------------------
# Properties over generated schemas and values


_SAFE_NAMES = st.from_regex(r"[a-z][a-z0-9_]{0,7}", fullmatch=True)


@st.composite
def schema_types(draw: Any, depth: int = 0, counter: Any = None) -> Any:
    counter = itertools.count() if counter is None else counter
    choices = ["primitive", "enum"] + (["list", "map", "record"] if depth < 3 else [])
    kind = draw(st.sampled_from(choices))
    if kind == "primitive":
        return Primitive(draw(st.sampled_from(PRIMITIVE_KINDS)))
    if kind == "enum":
        symbols = draw(st.lists(st.from_regex(r"[A-Z][A-Z0-9_]{0,5}", fullmatch=True), min_size=1, max_size=5,
                                unique=True))
        numbers = draw(st.none() | st.lists(st.integers(1, INT32_MAX), min_size=len(symbols),
                                            max_size=len(symbols), unique=True).map(tuple))
        return EnumType(f"E{next(counter)}", tuple(symbols), numbers=numbers)
    if kind == "list":
        return ListType(draw(schema_types(depth + 1, counter)))
    if kind == "map":
        return MapType(draw(schema_types(depth + 1, counter)))
    return draw(records(depth + 1, counter))


_DEFAULTS = {"bool": st.booleans(), "int32": st.integers(-5, 5), "string": st.text(max_size=4),
             "bytes": st.binary(max_size=3)}


@st.composite
def records(draw: Any, depth: int = 0, counter: Any = None) -> Record:
    counter = itertools.count() if counter is None else counter
    name = f"R{next(counter)}"
    names = draw(st.lists(_SAFE_NAMES, min_size=1, max_size=5, unique=True))
    ids = draw(st.lists(st.integers(1, 18999), min_size=len(names), max_size=len(names), unique=True))
    fields = []
    for fname, fid in zip(names, ids, strict=True):
        ftype = draw(schema_types(depth, counter))
        optional = draw(st.booleans())
        default = None
        if optional and isinstance(ftype, Primitive) and ftype.kind in _DEFAULTS and draw(st.booleans()):
            default = draw(_DEFAULTS[ftype.kind])
        fields.append(Field(fname, ftype, fid, optional, default))
    return Record(name, tuple(fields))


def values_for(t: Any) -> st.SearchStrategy:
    if isinstance(t, Primitive):
        return {
            "bool": st.booleans(),
            "int32": st.integers(INT32_MIN, INT32_MAX),
            "int64": st.integers(INT64_MIN, INT64_MAX),
            "timestamp": st.integers(INT64_MIN, INT64_MAX),
            "float32": st.floats(width=32) | st.floats(-FLOAT32_MAX, FLOAT32_MAX),  # exact and to-be-rounded
            "float64": st.floats(),
            "string": st.text(max_size=6),
            "bytes": st.binary(max_size=6),
        }[t.kind]
    if isinstance(t, EnumType):
        return st.sampled_from(t.symbols)
    if isinstance(t, ListType):
        return st.lists(values_for(t.items), max_size=3)
    if isinstance(t, MapType):
        return st.dictionaries(st.text(max_size=3), values_for(t.values), max_size=3)
    required = {f.name: values_for(f.type) for f in t.fields if not f.optional}
    optional = {f.name: st.none() | values_for(f.type) for f in t.fields if f.optional}
    return st.fixed_dictionaries(required, optional=optional)


def _float32_leaves(t: Any, v: Any) -> list[float]:
    if v is None:
        return []
    if isinstance(t, Primitive):
        return [v] if t.kind == "float32" else []
    if isinstance(t, ListType):
        return [x for i in v for x in _float32_leaves(t.items, i)]
    if isinstance(t, MapType):
        return [x for i in v.values() for x in _float32_leaves(t.values, i)]
    if isinstance(t, Record):
        return [x for f in t.fields for x in _float32_leaves(f.type, v[f.name])]
    return []


_PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_PROPERTY
@given(st.data())
def test_generated_values_validate_and_normalize_idempotently(data: Any) -> None:
    schema = data.draw(records())
    value = data.draw(values_for(schema))
    validate(schema, value)
    canonical = normalize(schema, value)
    validate(schema, canonical)
    assert list(canonical) == [f.name for f in schema.fields]
    assert differences(canonical, normalize(schema, canonical)) == []
    assert differences(canonical, copy.deepcopy(canonical)) == []
    for x in _float32_leaves(schema, canonical):
        assert math.isnan(x) or float32_round(x) == x


@_PROPERTY
@given(records())
def test_generated_schemas_round_trip_through_json(schema: Record) -> None:
    doc = json.loads(json.dumps(type_to_json(schema)))
    assert type_from_json(doc) == schema


@settings(max_examples=200, deadline=None)
@given(st.floats(-FLOAT32_MAX, FLOAT32_MAX))
def test_float32_round_is_idempotent_and_nearest(x: float) -> None:
    r = float32_round(x)
    assert float32_round(r) == r
    assert abs(r - x) <= abs(x) * 2**-24 + 2**-149
