"""`msgbench evolve --old/--new`: the user's change observed in every format next to the rule
verdicts (bench.user_evolution, bench.rules). Rule and ideal-reader tests are pure; the CLI tests
run the real codecs in worker processes on small fixtures (one per input language), each pinning
a place where the ecosystem's rule and the observed bytes disagree, with the evidence cell."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from pathlib import Path

from bench import rules
from bench.cli import main
from bench.user_evolution import align, ideal_read, load_versions
from payloads.model import INT32, INT64, STRING, EnumType, Field, Record
from payloads.schema_import import import_schema
from payloads.schema_values import generate

HERE = Path(__file__).parent / "user_schemas"
CODECS = ["avro/fastavro", "protobuf/upb", "thrift/binary", "json/orjson"]

BASE = Record("Trip", (Field("id", STRING, 1), Field("seats", INT32, 2),
                       Field("note", STRING, 3, optional=True)))


# ------------------------------------------------------------------------------------------------
# Pure: ids carried over, the ideal reader, the rules


def test_align_carries_ids_and_enum_numbers_by_name_and_alias() -> None:
    e1 = EnumType("S", ("A", "B", "C"))
    old = Record("T", (Field("a", STRING, 1), Field("b", INT32, 2), Field("s", e1, 3)))
    e2 = EnumType("S", ("A", "C", "D"))  # B removed, D added: C keeps 3, D gets 4
    new = Record("T", (Field("s", e2, 1), Field("z", STRING, 2), Field("bb", INT32, 3, aliases=("b",))))
    got = align(old, new)
    assert [(f.name, f.id) for f in got.fields] == [("s", 3), ("z", 4), ("bb", 2)]
    assert got.field("s").type.numbers == (1, 3, 4)


def test_ideal_reader_converts_defaults_and_rejects() -> None:
    v2 = Record("Trip", BASE.fields + (Field("tip", INT32, 4, optional=True, default=0),))
    assert ideal_read(BASE, v2, {"id": "t", "seats": 2, "note": None}).value["tip"] == 0
    wide = replace(BASE, fields=(BASE.fields[0], replace(BASE.fields[1], type=INT64), BASE.fields[2]))
    assert not ideal_read(wide, BASE, {"id": "t", "seats": 2, "note": None}).reject
    r = ideal_read(wide, BASE, {"id": "t", "seats": 5_000_000_000, "note": None})
    assert "does not fit in int32" in r.reject and r.reference["seats"] == 5_000_000_000
    req = Record("Trip", BASE.fields + (Field("city", STRING, 4),))
    assert "no city" in ideal_read(BASE, req, {"id": "t", "seats": 2, "note": None}).reject
    # proto3: a field without presence that the writer lacks reads as its zero value
    assert ideal_read(BASE, req, {"id": "t", "seats": 2, "note": None}, zero_defaults=True).value["city"] == ""


def test_confluent_levels_use_the_avro_rules() -> None:
    v1 = {"type": "record", "name": "T", "fields": [{"name": "a", "type": "int"}]}
    v2 = {"type": "record", "name": "T", "fields": [{"name": "a", "type": "long"}]}
    v3 = {"type": "record", "name": "T", "fields": [{"name": "a", "type": "long"},
                                                     {"name": "b", "type": "string"}]}
    lv = rules.avro_levels([v1, v2])
    assert lv["BACKWARD"]["ok"] and not lv["FORWARD"]["ok"] and not lv["FULL"]["ok"]
    lv = rules.avro_levels([v1, v2, v3])  # v3 adds a field without a default
    assert not lv["BACKWARD"]["ok"] and lv["FORWARD"]["ok"] and not lv["FORWARD_TRANSITIVE"]["ok"]


def test_buf_wire_and_wire_json_rules() -> None:
    wide = replace(BASE, fields=(BASE.fields[0], replace(BASE.fields[1], type=INT64), BASE.fields[2]))
    v = rules.buf_verdict(rules.buf_breaking(BASE, wide))
    assert v["WIRE"]["ok"] and v["WIRE_JSON"]["rules"] == ["FIELD_WIRE_JSON_COMPATIBLE_TYPE"]
    gone = replace(BASE, fields=BASE.fields[:2])
    assert rules.buf_verdict(rules.buf_breaking(BASE, gone))["WIRE"]["rules"] == ["FIELD_NO_DELETE_UNLESS_NUMBER_RESERVED"]
    reserved = {"Trip": (((3, 3),), ("note",))}
    assert rules.buf_verdict(rules.buf_breaking(BASE, gone, reserved)) == {
        "WIRE": {"ok": True, "rules": []}, "WIRE_JSON": {"ok": True, "rules": []}}
    renamed = replace(BASE, fields=(BASE.fields[0], replace(BASE.fields[1], name="places"), BASE.fields[2]))
    assert rules.buf_verdict(rules.buf_breaking(BASE, renamed))["WIRE_JSON"]["rules"] == [
        "FIELD_SAME_JSON_NAME", "FIELD_SAME_NAME"]
    to_str = replace(BASE, fields=(BASE.fields[0], replace(BASE.fields[1], type=STRING), BASE.fields[2]))
    assert rules.buf_verdict(rules.buf_breaking(BASE, to_str))["WIRE"]["rules"] == ["FIELD_WIRE_COMPATIBLE_TYPE"]


def test_thrift_rules() -> None:
    added_req = Record("Trip", BASE.fields + (Field("city", STRING, 4),))
    f = rules.thrift_rules(BASE, added_req)
    assert [(x.rule, x.directions) for x in f] == [("required is forever", ("backward",))]
    added_opt = Record("Trip", BASE.fields + (Field("city", STRING, 4, optional=True),))
    assert rules.thrift_rules(BASE, added_opt) == []
    moved = replace(BASE, fields=(BASE.fields[0], BASE.fields[1], replace(BASE.fields[2], id=9)))
    assert "never change a field's id" in [x.rule for x in rules.thrift_rules(BASE, moved)]
    wide = replace(BASE, fields=(BASE.fields[0], replace(BASE.fields[1], type=INT64), BASE.fields[2]))
    assert [x.rule for x in rules.thrift_rules(BASE, wide)] == ["never change a field's type"]
    # default requiredness as written in the IDL: removing it is fine
    gone = replace(BASE, fields=BASE.fields[:1] + BASE.fields[2:])
    assert rules.thrift_rules(BASE, gone, {("Trip", "seats"): "default"}) == []
    assert rules.thrift_rules(BASE, gone)[0].rule == "required is forever"


# ------------------------------------------------------------------------------------------------
# The CLI, per input language: rule vs bytes


def _sample(rec, path, seed, **over) -> str:
    v = generate(rec, seed=seed)
    v.update(over)
    path.write_text(json.dumps(v, default=lambda b: base64.b64encode(b).decode()) + "\n")
    return str(path)


def _evolve(tmp_path, old, new, over, *extra, level=None):
    vs = load_versions([str(old), str(new)])
    s1 = _sample(vs[0].record, tmp_path / "v1.json", 1)
    s2 = _sample(vs[1].record, tmp_path / "v2.json", 2, **over)
    out = tmp_path / "out"
    md = tmp_path / "answer.md"
    argv = ["evolve", "--old", str(old), "--new", str(new), "--payload", s1, "--payload", s2,
            "--formats", *CODECS, "--out", str(out), "--markdown", str(md), *extra]
    if level:
        argv += ["--level", level]
    rc = main(argv)
    doc = json.loads((out / "evolve.json").read_text())
    return rc, doc, md.read_text()


def _cell(doc, codec, direction, scenario="v1->v2"):
    return next(c for c in doc["matrix"]["cells"] if c["codec"] == codec and c["direction"] == direction
                and c["scenario"] == scenario)


def test_evolve_avro_rules_say_full_but_an_old_intermediary_loses_the_new_symbol(tmp_path, capsys) -> None:
    rc, doc, md = _evolve(tmp_path, HERE / "trip_v1.avsc", HERE / "trip_v2.avsc", {"status": "NO_SHOW"}, level="FULL")
    assert rc == 0  # FULL holds: Avro's rules and the fastavro cells of both directions agree
    assert doc["rules"]["avro"]["levels"]["FULL"]["ok"]
    cell = _cell(doc, "avro/fastavro", "roundtrip")
    assert cell["outcome"] == "lost" and not cell["ideal"]  # silent loss for the final reader
    assert "status: expected 'NO_SHOW', got 'UNKNOWN'" in cell["detail"]
    d = next(d for d in doc["disagreements"] if d["codec"] == "avro/fastavro")
    assert d["direction"] == "roundtrip" and d["rule"] == "compatible" and d["evidence"] == cell["detail"]
    assert _cell(doc, "avro/fastavro", "forward")["outcome"] == "defaulted"  # the enum default, as the rules say
    # the mapping: NO_SHOW gets the next number in the tagged formats
    assert "+  TRIP_STATUS_NO_SHOW = 7;" in doc["mapping"]["v1->v2"]["protobuf"]
    assert "FULL: holds" in md and "| avro/fastavro | defaulted | defaulted | lost* |" in md


def test_evolve_proto_buf_wire_says_compatible_but_int32_reader_corrupts(tmp_path) -> None:
    rc, doc, md = _evolve(tmp_path, HERE / "proto" / "trip_v1.proto", HERE / "proto" / "trip_v2.proto",
                          {"distance_m": 5_000_000_000}, level="FORWARD")
    assert doc["rules"]["buf"]["categories"]["WIRE"] == {"ok": True, "rules": []}  # tags 13 reserved
    cell = _cell(doc, "protobuf/upb", "forward")
    assert cell["outcome"] == "changed" and "expected 5000000000, got 705032704" in cell["detail"]
    d = next(d for d in doc["disagreements"] if d["codec"] == "protobuf/upb" and d["direction"] == "forward")
    assert d["tool"] == "buf" and d["rule"] == "compatible"
    assert rc == 1 and "FORWARD: VIOLATED" in md  # the bytes violate it although buf does not object
    assert _cell(doc, "protobuf/upb", "backward")["ideal"]


def test_evolve_thrift_rules_allow_a_new_enum_value_an_old_reader_cannot_hold(tmp_path) -> None:
    rc, doc, md = _evolve(tmp_path, HERE / "thrift" / "trip_v1.thrift", HERE / "thrift" / "trip_v2.thrift",
                          {"status": "NO_SHOW"})
    assert rc == 0  # no --level: informational
    assert doc["rules"]["thrift"]["ok"]
    cell = _cell(doc, "thrift/binary", "forward")
    # the library hands back the bare number 7 without an error; msgbench's adapter refuses it
    assert cell["outcome"] == "changed" and "got 7 (a bare number" in cell["detail"]
    assert cell["adapter"]["outcome"] == "error" and "unknown number 7" in cell["adapter"]["detail"]
    d = next(d for d in doc["disagreements"] if d["codec"] == "thrift/binary" and d["direction"] == "forward")
    assert d["tool"] == "thrift" and d["rule"] == "compatible" and "NO_SHOW" in d["ideal_reader"]
    # through an old Thrift intermediary the final reader silently loses what v1 did not know
    assert _cell(doc, "thrift/binary", "roundtrip")["outcome"] == "lost"


def test_evolve_json_schema_widening_is_wire_compatible_for_buf_but_not_for_the_bytes(tmp_path) -> None:
    rc, doc, md = _evolve(tmp_path, HERE / "jsonschema" / "trip_v1.schema.json",
                          HERE / "jsonschema" / "trip_v2.schema.json", {"distance_m": 5_000_000_000},
                          level="BACKWARD")
    assert rc == 0  # new readers read old data: every JSON reader fine
    assert not doc["rules"]["avro"]["levels"]["FORWARD"]["ok"]  # Avro's rules on the mapping: int -> long
    d = next(d for d in doc["disagreements"] if d["codec"] == "protobuf/upb" and d["direction"] == "forward")
    assert d["tool"] == "buf" and "705032704" in d["evidence"]
    # ids carried over by name: distance_m keeps its id, tip_cents takes the next one
    assert "+  int64 distance_m = 12;" in doc["mapping"]["v1->v2"]["protobuf"]
    assert "tip_cents = 13;" in doc["mapping"]["v1->v2"]["protobuf"]


def test_evolve_transitive_three_versions(tmp_path) -> None:
    out = tmp_path / "out"
    rc = main(["evolve", "--old", str(HERE / "trip_v1.avsc"), "--new", str(HERE / "trip_v2.avsc"),
               "--new", str(HERE / "trip_v3.avsc"), "--formats", "avro/fastavro", "--out", str(out),
               "--level", "BACKWARD_TRANSITIVE"])
    doc = json.loads((out / "evolve.json").read_text())
    assert [s["id"] for s in doc["matrix"]["scenarios"]] == ["v1->v2", "v2->v3", "v1->v3"]
    assert doc["rules"]["avro"]["levels"]["BACKWARD_TRANSITIVE"]["ok"]
    assert not doc["rules"]["avro"]["levels"]["FORWARD_TRANSITIVE"]["ok"]  # v1/v2 cannot read v3's long
    assert rc == 0
    rc = main(["evolve", "--old", str(HERE / "trip_v1.avsc"), "--new", str(HERE / "trip_v2.avsc"),
               "--new", str(HERE / "trip_v3.avsc"), "--formats", "avro/fastavro", "--out", str(out),
               "--level", "FULL_TRANSITIVE"])
    assert rc == 1


def test_evolve_mixed_languages_is_a_clear_error(tmp_path, capsys) -> None:
    rc = main(["evolve", "--old", str(HERE / "trip_v1.avsc"), "--new", str(HERE / "thrift" / "trip_v2.thrift"),
               "--out", str(tmp_path)])
    assert rc == 2 and "different schema languages" in capsys.readouterr().err


def test_imported_schemas_of_the_fixtures_fit_the_model() -> None:
    for p in sorted(HERE.rglob("trip_v*.*")):
        assert import_schema(p).record.fields


def test_edge_value_replaces_only_what_the_change_bites() -> None:
    from bench.user_evolution import edge_value

    wide = replace(BASE, fields=(BASE.fields[0], replace(BASE.fields[1], type=INT64), BASE.fields[2]))
    hit: list[str] = []
    v = {"id": "t", "seats": 2, "note": "n"}
    assert edge_value(wide, BASE, v, "", hit) == {"id": "t", "seats": 5_000_000_000, "note": "n"} and hit == ["seats"]
    assert "does not fit in int32" in ideal_read(wide, BASE, edge_value(wide, BASE, v)).reject
    hit = []
    assert edge_value(BASE, wide, v, "", hit) == v and hit == []  # every int32 fits an int64: nothing to try
    e1, e2 = EnumType("S", ("A", "B")), EnumType("S", ("A", "B", "C"))
    r1, r2 = Record("T", (Field("s", e1, 1),)), Record("T", (Field("s", e2, 1),))
    assert edge_value(r2, r1, {"s": "A"}) == {"s": "C"}  # a symbol the old reader lacks
    assert edge_value(r1, r2, {"s": "A"}) == {"s": "A"}


def test_evolve_without_samples_tries_a_value_past_the_old_type(tmp_path) -> None:
    """Issue 12's rule on the user's change: a retyped field is tried with the generated value (it
    fits) and with one past the other side's type, so the verdict does not hang on the one value
    the generator happened to pick (it gave exit 0 for int32 -> int64 FORWARD before)."""
    out, md = tmp_path / "out", tmp_path / "answer.md"
    rc = main(["evolve", "--old", str(HERE / "proto" / "trip_v1.proto"), "--new", str(HERE / "proto" / "trip_v2.proto"),
               "--formats", *CODECS, "--out", str(out), "--markdown", str(md), "--level", "FORWARD"])
    doc = json.loads((out / "evolve.json").read_text())
    cell = _cell(doc, "protobuf/upb", "forward")
    labels = [v["label"] for v in cell["values"]]
    assert labels[0] == "generated" and labels[1].startswith("past the other type (") and "distance_m" in labels[1]
    assert [v["outcome"] for v in cell["values"]][1] == "changed" and cell["outcome"] == "changed"
    assert rc == 1 and "FORWARD: VIOLATED" in md.read_text()
    # the rules table lists broken Thrift rules: no roundtrip cell may be shown as "thrift says compatible"
    assert not doc["rules"]["thrift"]["ok"]
    assert not [d for d in doc["disagreements"] if d["tool"] == "thrift" and d["rule"] == "compatible"
                and d["direction"] in ("roundtrip", "backward-roundtrip")]


def test_markdown_says_how_many_disagreements_are_left_out() -> None:
    from bench.user_evolution import markdown

    doc = {"versions": [{"file": "a.avsc", "language": "avro", "notes": []}, {"file": "b.avsc", "language": "avro",
                                                                              "notes": []}],
           "rules": {"avro": {"source": "s", "levels": {k: {"ok": True, "why": []} for k in
                                                        ("BACKWARD", "FORWARD", "FULL", "FULL_TRANSITIVE")}},
                     "buf": {"source": "s", "categories": {"WIRE": {"ok": True, "rules": []}}},
                     "thrift": {"source": "s", "ok": True, "findings": []}},
           "matrix": {"scenarios": [{"id": "v1->v2"}], "codecs": [], "cells": []}, "mapping": {"v1->v2": {}},
           "ideal": {}, "disagreements": [{"tool": "avro", "rule": "compatible", "rule_detail": "x", "codec": "c",
                                           "direction": "forward", "observed": "lost", "ideal": False,
                                           "evidence": f"e{i}"} for i in range(11)]}
    text = markdown(doc, "FULL", [f"why {i}" for i in range(10)])
    assert "- (+3 more in evolve.json)" in text and "- (+2 more in evolve.json)" in text
    assert "e7" in text and "e8" not in text
