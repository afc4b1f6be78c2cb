"""Schema inference (payloads.infer): types, names, maps vs records, fidelity notes, and a property test."""

from __future__ import annotations

import json
import re

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from payloads.infer import (
    ITEMS,
    MAX_DEPTH,
    MAX_RECORD_FIELDS,
    VALUES,
    SchemaInferrer,
    infer,
    key_looks_like_data,
    sanitize_field_name,
    type_name_for_key,
)
from payloads.model import (
    BOOL,
    FLOAT64,
    INT32,
    INT64,
    STRING,
    ListType,
    MapType,
    Record,
    differences,
    named_types,
    normalize,
    type_to_json,
    validate,
)


def _field(rec: Record, name: str):
    f = rec.get(name)
    assert f is not None, f"no field {name!r} in {[x.name for x in rec.fields]}"
    return f


def _check_all_valid(schema, conv, records):
    for r in records:
        validate(schema, conv.apply(r))


# -- primitive types ---------------------------------------------------------------------------


def test_int32_int64_boundaries():
    recs = [{"a": 2**31 - 1, "b": 2**31, "c": -(2**31), "d": -(2**31) - 1, "e": 2**63 - 1, "f": -(2**63)}]
    s, conv = infer(recs, "R")
    assert _field(s, "a").type == INT32
    assert _field(s, "b").type == INT64
    assert _field(s, "c").type == INT32
    assert _field(s, "d").type == INT64
    assert _field(s, "e").type == INT64
    assert _field(s, "f").type == INT64
    assert conv.identity and conv.notes == ()


def test_range_is_unified_across_records():
    s, _ = infer([{"a": 1}, {"a": 2**40}, {"a": -3}], "R")
    assert _field(s, "a").type == INT64


def test_int_beyond_int64_becomes_decimal_string_with_note():
    s, conv = infer([{"big": 2**64}, {"big": 5}], "R")
    assert _field(s, "big").type == STRING
    assert conv.apply({"big": 2**64}) == {"big": str(2**64)}
    assert any(n.kind == "big-int-text" and n.path == ("big",) for n in conv.losses)
    assert any("big" in n and "int64" in n for n in conv.notes)


def test_ints_and_floats_merge_to_float64_with_note():
    s, conv = infer([{"x": 1}, {"x": 2.5}, {"y": 1.5}], "R")
    assert _field(s, "x").type == FLOAT64
    assert _field(s, "y").type == FLOAT64
    out = conv.apply({"x": 1})
    assert out == {"x": 1.0} and type(out["x"]) is float
    assert [n.path for n in conv.losses if n.kind == "int-to-float"] == [("x",)]


def test_float_precision_loss_beyond_2_53_is_named():
    _, conv = infer([{"x": 2**60 + 1}, {"x": 0.5}], "R")
    (note,) = [n for n in conv.losses if n.kind == "int-to-float"]
    assert "2**53" in note.message


def test_bool_is_not_int():
    s, conv = infer([{"f": True}, {"f": 1}], "R")
    assert _field(s, "f").type == STRING  # JSON-text fallback, noted
    assert conv.apply({"f": True}) == {"f": "true"}
    assert any(n.kind == "json-text" and n.path == ("f",) for n in conv.losses)
    s2, _ = infer([{"f": True}, {"f": False}], "R")
    assert _field(s2, "f").type == BOOL


def test_negative_zero_is_kept():
    s, conv = infer([{"z": -0.0}], "R")
    v = normalize(s, conv.apply({"z": -0.0}))
    assert differences({"z": -0.0}, v) == []


# -- optional fields ---------------------------------------------------------------------------


def test_optional_when_missing_or_null():
    recs = [{"a": 1, "b": 2, "c": None}, {"a": 3, "c": 4}, {"a": 5, "c": 6}]
    s, conv = infer(recs, "R")
    assert not _field(s, "a").optional
    assert _field(s, "b").optional and _field(s, "b").type == INT32
    assert _field(s, "c").optional and _field(s, "c").type == INT32
    # absent keys are named in the aggregated note; nulls are not a loss
    absent = [n.path for n in conv.losses if n.kind == "absent-null"]
    assert absent == [("b",)]
    assert any("absent" in n and "b" in n for n in conv.notes)
    _check_all_valid(s, conv, recs)


def test_only_nulls_is_an_optional_string():
    s, conv = infer([{"n": None}, {"n": None}], "R")
    f = _field(s, "n")
    assert f.optional and f.type == STRING and conv.identity


def test_field_ids_in_first_seen_order():
    s, _ = infer([{"b": 1, "a": 2}, {"c": 3, "a": 1}], "R")
    assert [(f.name, f.id) for f in s.fields] == [("b", 1), ("a", 2), ("c", 3)]


# -- records, lists, names ---------------------------------------------------------------------


def test_nested_record_and_list_names():
    recs = [{"driver": {"name": "A", "vehicle": {"seats": 4}}, "points": [{"lat": 1.5, "lon": 2.5}],
             "categories": [{"id": 1}], "addresses": [{"city": "x"}]}]
    s, _ = infer(recs, "Trip")
    names = {t.name for t in named_types(s)}
    assert {"Trip", "Driver", "Vehicle", "Point", "Category", "Address"} <= names
    pts = _field(s, "points").type
    assert isinstance(pts, ListType) and pts.items.name == "Point"


def test_record_names_are_unique_and_identical_shapes_shared():
    recs = [{"a": {"address": {"city": "x"}}, "b": {"address": {"city": "y"}}, "c": {"address": {"zip": 1}},
             "trip": {"x": 1}}]
    s, _ = infer(recs, "Trip")
    types = list(named_types(s))  # raises if two different types share a name
    names = [t.name for t in types]
    assert len(names) == len(set(names))
    assert "Address" in names and "CAddress" in names  # qualified by the enclosing record, not numbered
    assert _field(_field(s, "a").type, "address").type is _field(_field(s, "b").type, "address").type
    assert _field(s, "trip").type.name == "TripItem"  # does not clash with the root


def test_reserved_names_are_avoided():
    inf = SchemaInferrer()
    inf.observe({"trip_batch": {"x": 1}})
    s = inf.schema("Trip", reserved=("TripBatch",))
    assert _field(s, "trip_batch").type.name == "TripBatch2"


def test_list_items_unified():
    s, conv = infer([{"xs": [1, 2]}, {"xs": [2**40]}, {"xs": []}], "R")
    assert _field(s, "xs").type == ListType(INT64)
    assert conv.identity


def test_empty_lists_only():
    s, conv = infer([{"xs": []}], "R")
    assert _field(s, "xs").type == ListType(STRING) and conv.identity


def test_heterogeneous_array_becomes_json_text():
    recs = [{"v": [1, "a", True, 2.5, {"k": [1]}]}]
    s, conv = infer(recs, "R")
    assert _field(s, "v").type == ListType(STRING)
    out = conv.apply(recs[0])
    assert [orjson.loads(x) for x in out["v"]] == recs[0]["v"]
    (note,) = [n for n in conv.losses if n.kind == "json-text"]
    assert note.path == ("v", ITEMS)
    assert "v[*]" in str(note) and "integer" in str(note) and "string" in str(note)
    _check_all_valid(s, conv, recs)


def test_null_in_list_is_wrapped_and_noted():
    recs = [{"scores": [1, None, 3]}, {"scores": [None]}]
    s, conv = infer(recs, "R")
    items = _field(s, "scores").type.items
    assert isinstance(items, Record) and items.name == "NullableScore"
    assert items.fields[0].optional and items.fields[0].type == INT32
    assert conv.apply(recs[0]) == {"scores": [{"value": 1}, {"value": None}, {"value": 3}]}
    assert any(n.kind == "null-wrapped" and n.path == ("scores", ITEMS) for n in conv.losses)
    _check_all_valid(s, conv, recs)


def test_deep_nesting_is_cut_with_note():
    v: dict = {"leaf": 1}
    for _ in range(MAX_DEPTH + 20):
        v = {"child": v}
    s, conv = infer([{"tree": v}], "R")
    out = conv.apply({"tree": v})
    validate(s, out)
    (note,) = [n for n in conv.losses if n.kind == "too-deep"]
    assert len(note.path) == MAX_DEPTH  # the record is level 1: levels 1..MAX_DEPTH are kept
    # the JSON text at the cut holds the rest exactly
    cut = out
    for key in note.path[:-1]:
        cut = cut[key]
    rest = v
    for key in note.path[1:]:
        rest = rest[key]
    assert orjson.loads(cut[note.path[-1]]) == rest


def test_very_deep_value_does_not_crash():
    v: list = []
    for _ in range(900):
        v = [v]
    s, conv = infer([{"x": v}], "R")
    validate(s, conv.apply({"x": v}))


# -- maps vs records ---------------------------------------------------------------------------


def test_currency_codes_make_a_map():
    recs = [{"prices": {"EUR": 1.0, "USD": 1.1}}, {"prices": {"GBP": 0.9, "JPY": 150}}]
    s, conv = infer(recs, "R")
    t = _field(s, "prices").type
    assert t == MapType(FLOAT64)
    assert [n.path for n in conv.losses if n.kind != "map"] == [("prices", VALUES)]  # JPY's integer: a float
    assert any(n.kind == "map" and "keys look like codes" in n.message for n in conv.losses)  # says map and why
    _check_all_valid(s, conv, recs)


def test_codes_with_mixed_values_stay_a_record():
    s, _ = infer([{"obj": {"ID": 1, "URL": "http://x"}}], "R")
    assert isinstance(_field(s, "obj").type, Record)


def test_numeric_and_date_keys_make_a_map():
    s, _ = infer([{"by_year": {"2019": {"n": 1}, "2020": {"n": 2, "m": 3}}, "daily": {"2024-01-01": 3}}], "R")
    t = _field(s, "by_year").type
    assert isinstance(t, MapType) and isinstance(t.values, Record) and t.values.name == "ByYear"
    assert _field(t.values, "m").optional
    assert _field(s, "daily").type == MapType(INT32)


def test_many_distinct_keys_make_a_map_with_bounded_memory():
    inf = SchemaInferrer()
    for i in range(MAX_RECORD_FIELDS * 30):
        inf.observe({"counts": {f"user{i}": i, f"user{i + 1}": 1}})
    s = inf.schema("R")
    assert _field(s, "counts").type == MapType(INT32)
    assert inf._root.fields["counts"].fields == {}  # collapsed: no per-key state kept


def test_varying_keys_with_one_value_type_make_a_map():
    recs = [{"tags": {f"tag{j}": "x" for j in range(i, i + 6)}} for i in range(0, 30, 3)]
    s, _ = infer(recs, "R")
    assert _field(s, "tags").type == MapType(STRING)


def test_identifier_keys_stay_a_record():
    recs = [{"user": {"name": "a", "email": "e"}}, {"user": {"name": "b", "phone": "p"}}]
    s, _ = infer(recs, "R")
    t = _field(s, "user").type
    assert isinstance(t, Record) and [f.name for f in t.fields] == ["name", "email", "phone"]


def test_data_keys_at_top_level_become_entries_map():
    recs = [{"1001": {"qty": 1}, "1002": {"qty": 2}}]
    s, conv = infer(recs, "Stock")
    assert [f.name for f in s.fields] == ["entries"]
    assert conv.apply(recs[0]) == {"entries": recs[0]}
    assert any(n.kind == "root-map" for n in conv.losses)
    _check_all_valid(s, conv, recs)


def test_key_classification():
    assert key_looks_like_data("2024-06-01") == "strong"
    assert key_looks_like_data("123") == "strong"
    assert key_looks_like_data("550e8400-e29b-41d4-a716-446655440000") == "strong"
    assert key_looks_like_data("EUR") == "weak"
    assert key_looks_like_data("en-US") == "weak"
    assert key_looks_like_data("driver") == ""
    assert key_looks_like_data("2fa") == ""


# -- field names -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key, expected",
    [("first_name", "first_name"), ("first-name", "first_name"), ("2fa", "f_2fa"), ("名前", "field_3"),
     ("", "field_3"), ("größe", "grosse"), ("Zoë", "Zoe"), ("a b.c", "a_b_c"), ("_id", "_id"), ("🚕", "field_3")],
)
def test_sanitize_field_name(key, expected):
    assert sanitize_field_name(key, 3) == expected


def test_renamed_keys_are_converted_documented_and_noted():
    recs = [{"first-name": "Zoë", "first_name": "x", "2fa": True, "名前": "山田", "": 1}]
    s, conv = infer(recs, "R")
    names = [f.name for f in s.fields]
    assert all(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", n) for n in names)
    assert len(set(names)) == len(names)
    assert _field(s, "first_name").doc == ""  # the valid key keeps its name
    assert _field(s, "first_name_2").doc == 'JSON key: "first-name"'
    out = conv.apply(recs[0])
    assert sorted(out.values(), key=str) == sorted(recs[0].values(), key=str)  # no value dropped
    renamed = {n.path[0] for n in conv.losses if n.kind == "renamed"}
    assert renamed == {"first-name", "2fa", "名前", ""}
    _check_all_valid(s, conv, recs)


def test_type_names():
    assert type_name_for_key("points", plural=True) == "Point"
    assert type_name_for_key("categories", plural=True) == "Category"
    assert type_name_for_key("driver") == "Driver"
    assert type_name_for_key("trip_updates", plural=True) == "TripUpdate"
    assert type_name_for_key("status", plural=True) == "Status"
    assert type_name_for_key("名前", fallback="RField1") == "RField1"
    assert type_name_for_key("2fa", fallback="X") == "X2fa"


def test_observe_rejects_non_objects():
    inf = SchemaInferrer()
    with pytest.raises(TypeError):
        inf.observe([1, 2])  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        inf.schema("R")


# -- the property: never a silent difference, never a crash -------------------------------------

_keys = st.text(max_size=6) | st.sampled_from(["id", "name", "EUR", "2024-01-01", "first-name", "a", "b"])
_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.integers(min_value=-5, max_value=5)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=6)
)
_json = st.recursive(
    _scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_keys, children, max_size=4),
    max_leaves=16,
)
_numbers = st.integers(min_value=-(2**64), max_value=2**64) | st.floats(allow_nan=False, allow_infinity=False)
_records = st.one_of(
    st.lists(_json, min_size=1, max_size=4).map(lambda vs: [{"v": v} for v in vs]),
    st.lists(st.lists(_numbers, max_size=3) | _numbers, min_size=1, max_size=4).map(lambda vs: [{"n": v} for v in vs]),
    st.lists(st.dictionaries(_keys, _json, max_size=5), min_size=1, max_size=4),
)


def _pattern(path: tuple) -> str:
    out = ""
    for i, seg in enumerate(path):
        if seg is ITEMS:
            out += r"\[\d+\]"
        elif seg is VALUES:
            out += (r"\." if i else "") + ".*?"
        else:
            out += (r"\." if i else "") + re.escape(seg)
    return out


def _covered(diff_path: str, losses) -> bool:
    for n in losses:
        for p in (n.path, *n.also):
            if not p:
                return True
            if re.match(_pattern(p) + r"(?:$|[.\[])", diff_path, re.S):
                return True
    return False


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_records)
def test_property_no_silent_difference(records):
    schema, conv = infer(records, "R")
    for r in records:
        value = normalize(schema, conv.apply(r))  # validates too
        for d in differences(r, value, limit=10_000):
            assert _covered(d.path, conv.losses), f"silent difference {d.describe()}; notes: {conv.notes}"
    if not conv.losses:
        assert all(differences(r, normalize(schema, r)) == [] for r in records)


# -- issue 15: names that break a library, wide objects, type names --------------------------------


def test_reserved_and_mangling_clashing_keys_are_renamed_with_the_key_kept():
    recs = [{"self": "https://api/x/1", "user_id": 1, "userId": "u1", "DESCRIPTOR": True, "type": "t"}]
    s, conv = infer(recs, "Thing")
    assert [f.name for f in s.fields] == ["self_", "user_id", "userId_2", "DESCRIPTOR_", "type"]
    assert _field(s, "self_").doc == 'JSON key: "self"' and _field(s, "userId_2").doc == 'JSON key: "userId"'
    assert conv.apply(recs[0]) == {"self_": "https://api/x/1", "user_id": 1, "userId_2": "u1", "DESCRIPTOR_": True,
                                   "type": "t"}
    notes = "\n".join(conv.notes)
    assert "self: key renamed to 'self_' ('self' is a reserved name" in notes
    assert "userId: key renamed to 'userId_2' (it clashes with 'user_id' once a format mangles names" in notes
    # a later key cannot take a renamed key's name, under mangling either
    s, _ = infer([{"a-b": 1, "a_b": 2, "AB": 3}], "R")
    assert [f.name for f in s.fields] == ["a_b_2", "a_b", "AB_3"]  # AB_2 would clash with a_b_2


def test_renamed_schema_compiles_with_protoc_and_round_trips_on_both_protobuf_backends(tmp_path):
    pytest.importorskip("grpc_tools")
    import os
    import subprocess
    import sys

    from formats.registry import build_registry

    recs = [{"self": "s", "user_id": 1, "userId": "u", "links": {"self": "x", "related": "y"}}]
    s, conv = infer(recs, "Thing")
    codec = build_registry(discover_plugins=False).codec("protobuf/upb")
    (tmp_path / "thing.proto").write_text(codec.schema_text(s).text)
    r = subprocess.run([sys.executable, "-m", "grpc_tools.protoc", f"-I{tmp_path}",
                        f"--descriptor_set_out={tmp_path / 'set.pb'}", "thing.proto"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    script = (
        "import json, sys\n"
        "from payloads.model import type_from_json, normalize, differences\n"
        "from formats.registry import build_registry\n"
        "schema = type_from_json(json.loads(sys.argv[1])); value = normalize(schema, json.loads(sys.argv[2]))\n"
        "p = build_registry(discover_plugins=False).codec(sys.argv[3]).prepare(schema)\n"
        "back = p.from_native(p.decode(p.encode(p.to_native(value))))\n"
        "print(differences(value, back))\n"
    )
    for name, impl in (("protobuf/upb", "upb"), ("protobuf/python", "python")):
        env = {**os.environ, "PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION": impl}
        r = subprocess.run([sys.executable, "-c", script, json.dumps(type_to_json(s)), json.dumps(conv.apply(recs[0])),
                            name], capture_output=True, text=True, timeout=120, env=env)
        assert r.returncode == 0 and r.stdout.strip() == "[]", (name, r.stderr[-2000:])


def test_wide_objects_stay_records_and_every_map_says_why():
    wide = {f"field_{i}": i for i in range(80)}  # a GitHub repository object has ~80 keys
    s, conv = infer([{"repo": {**wide, "name": "x", "owner": {"login": "y"}}}], "Event")
    repo = _field(s, "repo").type
    assert isinstance(repo, Record) and len(repo.fields) == 82
    assert not any(n.kind == "map" for n in conv.losses)
    s, conv = infer([{"ids": {f"k{i}": i for i in range(MAX_RECORD_FIELDS + 1)}}], "R")
    assert _field(s, "ids").type == MapType(INT32)
    assert any(n.kind == "map" and f"more than {MAX_RECORD_FIELDS} distinct keys" in str(n) for n in conv.losses)


@pytest.mark.parametrize("plural, singular", [
    ("statuses", "Status"), ("aliases", "Alias"), ("buses", "Bus"), ("houses", "House"), ("responses", "Response"),
    ("addresses", "Address"), ("boxes", "Box"), ("categories", "Category"), ("movies", "Movie"),
    ("people", "Person"), ("children", "Child"), ("indices", "Index"), ("trip_updates", "TripUpdate"),
    ("series", "Series"), ("data", "Data"), ("bus", "Bus"), ("analyses", "Analysis"), ("heroes", "Hero"),
])
def test_type_names_are_singularised(plural, singular):
    assert type_name_for_key(plural, plural=True) == singular


def test_items_of_the_roots_namesake_and_nesting_numbered_outside_in():
    s, _ = infer([{"instruments": [{"symbol": "X", "legs": [{"ratio": 1}]}]}], "Instrument")
    assert _field(s, "instruments").type.items.name == "InstrumentItem"  # not Instrument2
    s, _ = infer([{"node": {"v": 1, "node": {"w": 2, "node": {"x": 3}}}}], "Tree")
    outer = _field(s, "node").type
    middle = _field(outer, "node").type
    inner = _field(middle, "node").type
    assert (outer.name, middle.name, inner.name) == ("Node", "Node2", "Node3")
    s, _ = infer([{"driver": {"vehicle": {"plate": "x"}}, "vehicle": {"model": "y"}}], "Trip")
    assert _field(_field(s, "driver").type, "vehicle").type.name == "Vehicle"
    assert _field(s, "vehicle").type.name == "TripVehicle"
