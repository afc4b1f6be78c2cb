"""Importing a user's .proto / .avsc / .thrift / JSON Schema into the model (payloads.schema_import),
round-tripping it through msgbench's own generators, checked with the real tools (protoc, fastavro,
thriftpy2, jsonschema), values for an imported schema, and `msgbench run --schema` (untimed)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from bench.cli import main
from payloads.model import EnumType, ListType, MapType, Record, normalize, validate
from payloads.schema_import import SchemaImportError, import_schema
from payloads.schema_values import from_json, generate, generate_batch, parse_timestamp

HERE = Path(__file__).parent / "user_schemas"
AVSC = HERE / "trip_v1.avsc"
PROTO = HERE / "proto" / "trip_v1.proto"
THRIFT = HERE / "thrift" / "trip_v1.thrift"
JSONS = HERE / "jsonschema" / "trip_v1.schema.json"
ALL = [AVSC, PROTO, THRIFT, JSONS]


def _walk(t, seen=None):
    seen = {} if seen is None else seen
    if isinstance(t, (ListType,)):
        _walk(t.items, seen)
    elif isinstance(t, MapType):
        _walk(t.values, seen)
    elif isinstance(t, (Record, EnumType)):
        seen[t.name] = t
        if isinstance(t, Record):
            for f in t.fields:
                _walk(f.type, seen)
    return seen


# ------------------------------------------------------------------------------------------------
# What comes across


def test_avro_import_keeps_unions_defaults_aliases_and_logical_types() -> None:
    imp = import_schema(AVSC)
    r = imp.record
    assert (r.name, r.namespace, r.aliases) == ("TripEvent", "com.example.rides", ("RideEvent",))
    assert r.field("occurred_at").type.kind == "timestamp"  # timestamp-micros
    assert r.field("trip_id").type.kind == "string" and any("uuid" in n for n in imp.notes)
    status = r.field("status").type
    assert status.default == "UNKNOWN" and status.symbols[-1] == "CANCELLED"
    assert r.field("rider_id").aliases == ("passenger_id",)
    assert r.field("driver_id").optional and r.field("driver_id").default is None
    fare = r.field("fare_cents")
    assert fare.optional and fare.default == 0  # ["int", "null"] with default 0
    assert r.field("currency").default == "EUR" and not r.field("currency").optional
    assert r.field("surcharges").type == MapType(r.field("surcharges").type.values)
    assert [f.id for f in r.fields] == list(range(1, len(r.fields) + 1))
    assert not imp.ids_from_source


def test_proto_import_keeps_numbers_enums_maps_nested_and_reserved() -> None:
    imp = import_schema(PROTO)
    r = imp.record
    ids = {f.name: f.id for f in r.fields}
    assert ids["surcharges"] == 10 and ids["distance_m"] == 14
    status = r.field("status").type
    assert status.symbols == ("REQUESTED", "ACCEPTED", "STARTED", "COMPLETED", "CANCELLED")
    assert status.numbers == (1, 2, 3, 4, 6)  # the 0 value is the model's implicit UNSPECIFIED
    assert isinstance(r.field("surcharges").type, MapType)
    assert r.field("pickup").type.namespace == "rides.common"  # from the imported file
    assert r.field("fare").type.field("currency").type.symbols == ("EUR", "USD", "GBP")
    assert r.field("driver_id").optional and not r.field("rider_id").optional
    assert imp.reserved["TripEvent"] == (((9, 9), (15, 17)), ("promo_code",))


def test_thrift_import_follows_includes_and_requiredness() -> None:
    imp = import_schema(THRIFT)
    r = imp.record
    assert r.field("fare").type.name == "Money" and r.field("fare").optional
    assert r.field("fare").type.field("currency").default == "EUR"
    assert r.field("status").type.numbers == (1, 2, 3, 4, 6)
    assert r.field("status").default == "REQUESTED"
    assert r.field("receipt_pdf").type.kind == "bytes"
    assert imp.requiredness[("TripEvent", "seats")] == "default"
    assert imp.requiredness[("TripEvent", "trip_id")] == "required"
    assert any("seats: default requiredness" in n for n in imp.notes)


def test_json_schema_import_resolves_refs_formats_and_required() -> None:
    r = import_schema(JSONS).record
    assert r.field("occurred_at").type.kind == "timestamp"
    assert r.field("receipt_pdf").type.kind == "bytes" and r.field("receipt_pdf").optional
    assert r.field("fare_cents").type.kind == "int32" and r.field("fare_cents").default == 0
    assert r.field("rider_id").type.kind == "int64" and not r.field("rider_id").optional
    assert r.field("driver_id").optional
    assert isinstance(r.field("route").type.items, Record)
    assert r.field("status").type.symbols[0] == "REQUESTED"


@pytest.mark.parametrize("text, construct, line", [
    ('{"type": "record", "name": "A", "fields": [\n {"name": "x",\n "type": ["int", "string"]}]}', "union", 2),
    ('{"type": "record", "name": "A", "fields": [\n {"name": "h", "type": {"type": "fixed", "name": "MD5", '
     '"size": 16}}]}', "fixed", 2),
])
def test_avro_inexpressible_constructs_name_file_and_line(tmp_path, text, construct, line) -> None:
    p = tmp_path / "bad.avsc"
    p.write_text(text)
    with pytest.raises(SchemaImportError) as e:
        import_schema(p)
    assert construct in str(e.value) and str(e.value).startswith(f"{p}:{line}:")


def test_proto_errors_name_file_and_line(tmp_path) -> None:
    p = tmp_path / "m.proto"
    p.write_text('syntax = "proto3";\nmessage M {\n  string a = 1;\n  map<int32, string> by_id = 2;\n}\n')
    with pytest.raises(SchemaImportError) as e:
        import_schema(p)
    assert str(e.value).startswith(f"{p}:4:") and "string keys" in str(e.value)
    p.write_text('syntax = "proto3";\nmessage M {\n  strin a = 1;\n}\n')
    with pytest.raises(SchemaImportError) as e:
        import_schema(p)
    assert "protoc:" in str(e.value) and "m.proto:3:" in str(e.value)


def test_thrift_and_json_schema_errors_name_file_and_line(tmp_path) -> None:
    t = tmp_path / "s.thrift"
    t.write_text("struct S {\n  1: required string a,\n  2: optional set<string> tags,\n}\n")
    with pytest.raises(SchemaImportError) as e:
        import_schema(t)
    assert str(e.value).startswith(f"{t}:3:") and "set<" in str(e.value)
    j = tmp_path / "s.json"
    j.write_text('{"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",\n'
                 ' "properties": {\n  "a": {"oneOf": [{"type": "string"}, {"type": "integer"}]}}}\n')
    with pytest.raises(SchemaImportError) as e:
        import_schema(j)
    assert str(e.value).startswith(f"{j}:3:") and "oneOf" in str(e.value)


# ------------------------------------------------------------------------------------------------
# Round trips: import -> msgbench's generator -> the real tool says it is the same schema


def test_avro_round_trip_has_the_same_canonical_form_defaults_and_aliases() -> None:
    from fastavro.schema import parse_schema, to_parsing_canonical_form

    from formats.avro_schema import avro_schema

    original = json.loads(AVSC.read_text())
    exported = avro_schema(import_schema(AVSC).record, timestamp_logical_type=True)
    assert to_parsing_canonical_form(parse_schema(exported)) == to_parsing_canonical_form(parse_schema(original))

    def extras(s):
        return [(f["name"], json.dumps(f.get("default", "<none>")), f.get("aliases", [])) for f in s["fields"]]

    assert extras(exported) == extras(original)
    assert exported["aliases"] == original["aliases"]


def _descriptor_summary(fds, files=None):
    """Per message/enum short name: fields as (name, number, type, repeated, proto3_optional,
    short type name); enum values as (number, name without prefix) without the zero value."""
    from payloads.schema_import.proto import upper_snake

    msgs, enums = {}, {}

    def visit(m):
        if m.options.map_entry:
            msgs[m.name] = sorted((f.name, f.number, f.type) for f in m.field)
            return
        msgs[m.name] = sorted((f.name, f.number, f.type, f.label == 3, f.proto3_optional,
                               f.type_name.rsplit(".", 1)[-1]) for f in m.field)
        for n in m.nested_type:
            visit(n)
        for e in m.enum_type:
            enum(e)

    def enum(e):
        pre = upper_snake(e.name) + "_"
        enums[e.name] = sorted((v.number, v.name.removeprefix(pre)) for v in e.value if v.number)

    for f in fds.file:
        for m in f.message_type:
            visit(m)
        for e in f.enum_type:
            enum(e)
    return msgs, enums


def test_proto_round_trip_compiles_to_an_equal_descriptor(tmp_path) -> None:
    from formats.proto_schema import describe
    from payloads.schema_import.proto import compile_descriptor_set

    rec = import_schema(PROTO).record
    out = tmp_path / "exported.proto"
    out.write_text(describe(rec).text)
    again = compile_descriptor_set(out)  # the real compiler accepts msgbench's text
    a_msgs, a_enums = _descriptor_summary(compile_descriptor_set(PROTO))
    b_msgs, b_enums = _descriptor_summary(again)
    assert b_msgs == {k: v for k, v in a_msgs.items() if k in b_msgs}
    assert set(a_msgs) == set(b_msgs)
    assert a_enums == b_enums
    from payloads.model import type_to_json

    assert type_to_json(import_schema(out).record) == type_to_json(rec)  # same model, up to the package


def test_thrift_round_trip_parses_to_the_same_structure(tmp_path) -> None:
    import thriftpy2

    from formats.thrift_schema import describe

    imp = import_schema(THRIFT)
    out = tmp_path / "exported.thrift"
    out.write_text(describe(imp.record).idl)
    mod = thriftpy2.load(str(out), module_name="exported_rt_thrift")
    orig = thriftpy2.load(str(THRIFT), module_name="trip_rt_thrift", include_dirs=[str(THRIFT.parent)])

    def spec(cls, req):
        out = {}
        for fid, s in cls.thrift_spec.items():
            kind = req.get((cls.__name__, s[1]), "required" if s[-1] is True else "optional")
            # default requiredness is exported as required (documented): compare it as required
            out[fid] = (s[0], s[1], kind in ("required", "default"))
        return out

    exp_req = import_schema(out).requiredness
    for name in ("TripEvent", "GeoPoint", "Money"):
        a = getattr(orig, name, None) or getattr(orig.common, name)
        b = getattr(mod, name)
        assert spec(b, exp_req) == spec(a, imp.requiredness), name
        assert dict(b.default_spec) == dict(a.default_spec), name
    assert mod.TripStatus._NAMES_TO_VALUES == orig.TripStatus._NAMES_TO_VALUES
    from payloads.model import type_to_json

    assert type_to_json(import_schema(out).record) == type_to_json(imp.record)


def test_json_schema_round_trip_validates_the_same_documents(tmp_path) -> None:
    import jsonschema

    from formats.json_schema import json_schema

    rec = import_schema(JSONS).record
    exported = json_schema(rec)
    out = tmp_path / "exported.schema.json"
    out.write_text(json.dumps(exported))
    again = import_schema(out).record
    # msgbench's JSON Schema writes no defaults: the rest is the same model
    strip = [f.__class__(f.name, f.type, f.id, f.optional, None, f.doc, f.aliases) for f in rec.fields]
    assert again.fields == tuple(strip)
    original = json.loads(JSONS.read_text())
    for v in generate_batch(rec, 6):
        doc = _as_json(rec, v, rfc3339=True)
        jsonschema.validate(doc, original)
        jsonschema.validate(_as_json(rec, v, rfc3339=False), exported)


def _as_json(rec, v, rfc3339):
    import datetime as dt

    def conv(t, x):
        if x is None:
            return None
        if isinstance(t, Record):
            return {f.name: conv(f.type, x[f.name]) for f in t.fields if x[f.name] is not None}
        if isinstance(t, ListType):
            return [conv(t.items, y) for y in x]
        if isinstance(t, MapType):
            return {k: conv(t.values, y) for k, y in x.items()}
        if getattr(t, "kind", None) == "bytes":
            return base64.b64encode(x).decode()
        if getattr(t, "kind", None) == "timestamp" and rfc3339:
            return (dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=x)).isoformat()
        return x

    return conv(rec, v)


# ------------------------------------------------------------------------------------------------
# Values


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_generated_values_are_deterministic_and_cover_every_field(path) -> None:
    rec = import_schema(path).record
    one = generate(rec)
    assert one == generate(rec) and one != generate(rec, seed=1)
    validate(rec, one)
    assert all(one[f.name] is not None for f in rec.fields)  # every optional field set
    batch = generate_batch(rec, 10)
    for f in rec.fields:
        vals = [r[f.name] for r in batch]
        if f.optional:
            assert any(v is None for v in vals) and any(v is not None for v in vals), f.name
    assert 300 < len(json.dumps(one, default=lambda b: b.hex())) < 20_000
    for t in _walk(rec).values():
        if isinstance(t, EnumType):
            seen = {r["status"] for r in batch} if t.name in ("TripStatus", "Status") else None
            assert seen is None or len(seen) > 1


def test_json_samples_read_into_the_model() -> None:
    rec = import_schema(JSONS).record
    v = generate(rec)
    sample = _as_json(rec, v, rfc3339=True)
    assert from_json(rec, sample) == normalize(rec, v)
    assert parse_timestamp("2024-06-10T06:13:20Z") == 1_718_000_000_000_000
    assert parse_timestamp("1970-01-01T00:00:01.5+00:00") == 1_500_000


# ------------------------------------------------------------------------------------------------
# msgbench run --schema (untimed, two codecs)


@pytest.mark.parametrize("path", [PROTO, AVSC, THRIFT, JSONS], ids=lambda p: p.suffix)
def test_run_with_schema_benchmarks_every_codec_on_it(tmp_path, path, capsys) -> None:
    out = tmp_path / "out"
    rc = main(["run", "--untimed", "--schema", str(path), "--formats", "protobuf/upb", "avro/fastavro",
               "--out", str(out), "--sections", "--no-report"])
    assert rc == 0, capsys.readouterr().err
    doc = json.loads((out / "results.json").read_text())
    stem = path.name.split(".")[0]
    assert {p["name"] for p in doc["payloads"]} == {stem, f"{stem}-batch"}
    assert all(r["status"] == "ok" and r["verdict"] == "exact" for r in doc["rows"]), doc["rows"]


def test_run_with_schema_and_samples_validates_them(tmp_path, capsys) -> None:
    rec = import_schema(JSONS).record
    good = tmp_path / "trips.ndjson"
    good.write_text("".join(json.dumps(_as_json(rec, v, rfc3339=True)) + "\n" for v in generate_batch(rec, 5)))
    out = tmp_path / "out"
    assert main(["run", "--untimed", "--schema", str(JSONS), "--payload", str(good), "--formats", "json/orjson",
                 "--out", str(out), "--sections", "--no-report"]) == 0
    doc = json.loads((out / "results.json").read_text())
    assert [p["name"] for p in doc["payloads"]] == ["trips"]
    bad = tmp_path / "bad.ndjson"
    lines = good.read_text().splitlines()
    broken = json.loads(lines[2])
    broken["rider_id"] = "r-17"
    bad.write_text("\n".join(lines[:2] + [json.dumps(broken)]) + "\n")
    assert main(["run", "--untimed", "--schema", str(JSONS), "--payload", str(bad), "--formats", "json/orjson",
                 "--out", str(out), "--sections", "--no-report"]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:3" in err and "rider_id" in err


def test_the_models_own_json_form_is_not_taken_for_a_json_schema(tmp_path) -> None:
    from payloads.model import type_to_json
    from payloads.schema_import import language_of

    rec = import_schema(JSONS).record
    model = tmp_path / "model.json"
    model.write_text(json.dumps(type_to_json(Record("R", (rec.fields[0].__class__("properties", rec.fields[0].type, 1),)))))
    assert language_of(model) is None
    assert language_of(JSONS) == "json-schema"
