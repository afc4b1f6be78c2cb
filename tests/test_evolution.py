"""The schema-evolution matrix: scenarios as data, the classifier, and what the real libraries do.

The matrix over the core codecs runs once per session (a couple of seconds, in worker processes)
and several tests pin behaviour a user can check in each library's documentation.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from bench import evolution as ev
from payloads import evolution as sc
from payloads.model import normalize, validate

ROOT = Path(__file__).resolve().parents[1]
DOUBLES = ROOT / "tests" / "doubles"
CORE = ("json/orjson", "xml/lxml", "avro/fastavro", "protobuf/upb", "thrift/binary", "thrift/compact")


# ------------------------------------------------------------------------------------------------
# Scenarios as data


def test_scenarios_cover_the_listed_changes_and_values_fit_their_schemas() -> None:
    ids = {s.id for s in sc.SCENARIOS}
    listed = {"add-optional-default", "add-required", "remove-optional", "remove-required", "rename-field",
              "reorder-fields", "widen-int", "narrow-int", "int-to-string", "int-to-double", "enum-add-symbol",
              "enum-remove-symbol", "change-field-id", "optional-to-required", "required-to-optional",
              "singular-to-list", "nested-add-field", "rename-record", "map-value-type"}
    assert listed <= ids
    for s in sc.SCENARIOS:
        validate(s.v1, s.v1_value)
        validate(s.v2, s.v2_value)
        assert s.v1 != s.v2, s.id
        for d in sc.DIRECTIONS:
            e = s.expectation(d)
            assert bool(e.reject) == (e.value is None), (s.id, d)
    # the widen scenario's forward value really does not fit int32, the rename keeps its id
    widen = sc.BY_ID["widen-int"]
    assert widen.v2_value["distance_m"] > 2**31 - 1 and widen.forward.reject
    rename = sc.BY_ID["rename-field"]
    assert rename.v2.field("rider_id").id == rename.v1.field("passenger_id").id
    assert "passenger_id" in rename.v2.field("rider_id").aliases
    assert sc.BY_ID["enum-add-symbol"].v1.field("ride_class").type.default == "UNKNOWN"
    # enum symbols keep their numbers across versions, as Protobuf/Thrift users keep them
    for sid in ("enum-add-symbol", "enum-remove-symbol"):
        s = sc.BY_ID[sid]
        n1 = s.v1.field("ride_class").type.symbol_numbers()
        n2 = s.v2.field("ride_class").type.symbol_numbers()
        assert n1 == {"UNKNOWN": 1, "ECONOMY": 2, "COMFORT": 3, "XL": 4}
        assert all(n1[k] == n2[k] for k in n1.keys() & n2.keys()), sid
    assert sc.BY_ID["enum-add-symbol"].v2.field("ride_class").type.number_of("GREEN") == 5
    assert sc.BY_ID["enum-remove-symbol"].v2.field("ride_class").type.symbol_numbers() == {
        "UNKNOWN": 1, "ECONOMY": 2, "XL": 4}
    assert set(sc.SAFE_IDS) >= {"add-optional-default", "remove-optional", "reorder-fields"}
    assert "int-to-string" not in sc.SAFE_IDS


def test_field_changes_match_by_name_alias_or_id() -> None:
    s = sc.BY_ID["nested-add-field"]
    assert s.expectation("backward").new == ("pickup.address",)
    assert s.expectation("forward").unknown == ("pickup.address",)
    assert s.expectation("roundtrip").unknown == ("pickup.address",)
    assert sc.BY_ID["rename-field"].expectation("forward").new == ()
    assert sc.BY_ID["change-field-id"].expectation("backward").unknown == ()
    rm = sc.BY_ID["remove-optional"]
    assert rm.expectation("backward").unknown == ("note",) and rm.expectation("roundtrip").unknown == ()


# ------------------------------------------------------------------------------------------------
# The classifier (pure)


def _exp(scenario: str, direction: str):
    return sc.BY_ID[scenario].expectation(direction)


def test_classify_ok_defaulted_dropped() -> None:
    e = _exp("reorder-fields", "backward")
    assert ev.classify(e, dict(e.value)).outcome == "ok"
    e = _exp("add-optional-default", "backward")
    v = ev.classify(e, dict(e.value))
    assert (v.outcome, v.ideal) == ("defaulted", True) and "payment_method='card'" in v.detail
    # a zero value instead of the declared default is still "defaulted", but not ideal
    v = ev.classify(e, {**e.value, "payment_method": ""})
    assert (v.outcome, v.ideal) == ("defaulted", False) and "expected 'card', got ''" in v.detail
    e = _exp("add-optional-default", "forward")
    v = ev.classify(e, dict(e.value))
    assert v.outcome == "dropped" and "payment_method" in v.detail


def test_classify_changed_and_lost_name_path_expected_actual() -> None:
    # a field that silently comes back empty while the bytes held a value: lost
    e = _exp("change-field-id", "backward")
    v = ev.classify(e, {**e.value, "note": None})
    assert v.outcome == "lost" and not v.ideal
    assert "note: expected 'gate B, blue door', got None" in v.detail
    for empty in ("", 0, {}, []):
        assert ev.classify(e, {**e.value, "note": empty}).outcome == "lost", empty
    # a different non-empty value: changed
    assert ev.classify(e, {**e.value, "note": "gate C"}).outcome == "changed"
    e = _exp("widen-int", "forward")  # a rejection: whatever decodes is judged against the writer's data
    v = ev.classify(e, {**sc.BY_ID["widen-int"].v2_value, "distance_m": 705032704})
    assert v.outcome == "changed" and "distance_m: expected 5000000000, got 705032704" in v.detail
    v = ev.classify(e, {**sc.BY_ID["widen-int"].v2_value, "distance_m": 0})
    assert v.outcome == "lost" and not v.ideal


def test_classify_rejections_defaults_and_lossless_conversion() -> None:
    s = sc.BY_ID["add-required"]
    e = s.expectation("backward")
    v = ev.classify(e, {**normalize(s.v1, s.v1_value), "passenger_count": 0})
    assert v.outcome == "defaulted" and not v.ideal and "passenger_count" in v.detail
    e = _exp("int-to-string", "backward")
    v = ev.classify(e, {**sc.BY_ID["int-to-string"].v1_value, "passenger_id": "4200017"})
    # a correct value existed after all and the reader found it
    assert (v.outcome, v.ideal) == ("ok", True) and "converted without loss" in v.detail
    v = ev.classify(e, {**sc.BY_ID["int-to-string"].v1_value, "passenger_id": ""})
    assert v.outcome == "lost"
    v = ev.classify(e, {**sc.BY_ID["int-to-string"].v1_value, "passenger_id": "p-1"})
    assert v.outcome == "changed"
    v = ev.error_verdict(e, "decode", ValueError("bad"))
    assert (v.outcome, v.ideal) == ("error", True) and v.detail.startswith("decode: ValueError: bad (rightly:")
    from formats.api import UnsupportedSchema

    assert ev.error_verdict(e, "prepare", UnsupportedSchema("no maps")).outcome == "unsupported"


def test_classify_roundtrip_judges_what_the_final_reader_sees() -> None:
    s = sc.BY_ID["add-optional-default"]
    e = s.expectation("roundtrip")
    assert ev.classify(e, normalize(s.v2, s.v2_value)).outcome == "preserved-unknown"
    # the reader's default where 'cash' was written, no error: silent loss, not "dropped"
    v = ev.classify(e, {**normalize(s.v2, s.v2_value), "payment_method": "card"})
    assert (v.outcome, v.ideal) == ("lost", False) and "expected 'cash', got 'card'" in v.detail
    assert "intermediary" in v.detail
    v = ev.classify(e, {**normalize(s.v2, s.v2_value), "payment_method": "voucher"})
    assert v.outcome == "changed"
    enum = sc.BY_ID["enum-add-symbol"].expectation("roundtrip")
    assert ev.classify(enum, {**enum.value, "ride_class": "UNKNOWN"}).outcome == "lost"
    assert ev.classify(enum, {**enum.value, "ride_class": "XL"}).outcome == "changed"
    # the same for v1 data through a v2 intermediary
    rm = sc.BY_ID["remove-optional"]
    back = rm.expectation("backward-roundtrip")
    assert back.unknown == ("note",) and back.value == normalize(rm.v1, rm.v1_value)
    assert ev.classify(back, dict(back.value)).outcome == "preserved-unknown"
    assert ev.classify(back, {**back.value, "note": None}).outcome == "lost"


def test_classify_a_bare_enum_number_is_kept_not_defaulted() -> None:
    from bench.evolution_library import UnknownNumber

    e = _exp("enum-add-symbol", "forward")
    v = ev.classify(e, {**e.value, "ride_class": UnknownNumber(5, "RideClass")})
    assert (v.outcome, v.ideal) == ("preserved-unknown", False) and "5 (a bare number" in v.detail


# ------------------------------------------------------------------------------------------------
# The real matrix


@pytest.fixture(scope="module")
def matrix() -> dict:
    from formats.registry import build_registry

    registry = build_registry(False)
    codecs = []
    for name in CORE:
        c = registry.codec(name)
        c.check_available()
        codecs.append(c)
    return ev.run_matrix(codecs, list(sc.SCENARIOS), plugins=False)


def _cell(matrix: dict, scenario: str, codec: str, direction: str) -> dict:
    found = [c for c in matrix["cells"] if (c["scenario"], c["codec"], c["direction"]) == (scenario, codec, direction)]
    assert len(found) == 1, (scenario, codec, direction)
    return found[0]


def test_matrix_is_complete_and_shaped_for_the_report(matrix: dict) -> None:
    assert matrix["directions"] == ["backward", "forward", "roundtrip", "backward-roundtrip"]
    assert [s["id"] for s in matrix["scenarios"]] == [s.id for s in sc.SCENARIOS]
    assert set(matrix["safe_scenarios"]) == set(sc.SAFE_IDS)
    expected_cols = ["json/orjson (tolerant)", "json/orjson (strict)", "xml/lxml (tolerant)", "xml/lxml (strict)",
                     "avro/fastavro", "protobuf/upb", "thrift/binary", "thrift/compact"]
    assert sorted(matrix["codecs"]) == sorted(expected_cols)
    keys = {(c["scenario"], c["codec"], c["direction"]) for c in matrix["cells"]}
    assert len(keys) == len(matrix["cells"]) == len(sc.SCENARIOS) * 4 * len(expected_cols)
    for c in matrix["cells"]:
        assert c["outcome"] in ev.OUTCOMES, c
        assert not c["detail"].startswith(("crash:", "timeout:", "not run")), c
        if c["outcome"] in ("changed", "lost", "error", "unsupported", "dropped", "defaulted"):
            assert c["detail"], c
        for v in c.get("values", []):
            assert v["outcome"] in ev.OUTCOMES and v["label"], c
        if c.get("values"):  # the cell is the worse of its values
            assert c["ideal"] == all(v["ideal"] for v in c["values"]), c
            assert ev.worst(c["values"])["outcome"] == c["outcome"], c
    assert matrix["summary"] and all(isinstance(x, str) for x in matrix["summary"])
    json.dumps(matrix)  # JSON-able as results.json needs


def test_avro_resolution(matrix: dict) -> None:
    # Avro spec: a reader field missing from the writer takes the reader's default
    c = _cell(matrix, "add-optional-default", "avro/fastavro", "backward")
    assert c["outcome"] == "defaulted" and "payment_method='card'" in c["detail"]
    # enum default: an unknown symbol resolves to the reader enum's default
    assert _cell(matrix, "enum-add-symbol", "avro/fastavro", "forward")["outcome"] == "defaulted"
    # int -> long is a permitted promotion, long -> int is not
    assert _cell(matrix, "widen-int", "avro/fastavro", "backward")["outcome"] == "ok"
    assert _cell(matrix, "narrow-int", "avro/fastavro", "backward")["outcome"] == "error"
    # a reader alias finds the old field name (backward), the old reader has no alias (forward)
    assert _cell(matrix, "rename-field", "avro/fastavro", "backward")["outcome"] == "ok"
    assert _cell(matrix, "rename-field", "avro/fastavro", "forward")["outcome"] == "error"


def test_protobuf_keeps_unknown_fields_through_an_old_intermediary(matrix: dict) -> None:
    # Protobuf docs: unknown fields are retained during parsing and included in the serialized output
    for s in ("add-optional-default", "nested-add-field"):
        c = _cell(matrix, s, "protobuf/upb", "roundtrip")
        assert c["outcome"] == "preserved-unknown", c
    assert _cell(matrix, "add-optional-default", "protobuf/upb", "forward")["outcome"] == "dropped"
    assert _cell(matrix, "remove-optional", "protobuf/upb", "backward")["outcome"] == "dropped"


@pytest.mark.parametrize("codec", ["protobuf/upb", "thrift/binary", "thrift/compact"])
def test_wire_incompatible_retype_is_never_ok(matrix: dict, codec: str) -> None:
    for direction in ("backward", "forward"):
        c = _cell(matrix, "int-to-string", codec, direction)
        assert c["outcome"] in ("error", "changed", "lost"), c


def test_json_strict_rejects_unknown_fields_tolerant_ignores_them(matrix: dict) -> None:
    strict = _cell(matrix, "add-optional-default", "json/orjson (strict)", "forward")
    assert strict["outcome"] == "error" and "payment_method" in strict["detail"]
    tolerant = _cell(matrix, "add-optional-default", "json/orjson (tolerant)", "forward")
    assert tolerant["outcome"] == "dropped"


@pytest.mark.parametrize("codec", ["thrift/binary", "thrift/compact"])
def test_thrift_skips_unknown_field_ids(matrix: dict, codec: str) -> None:
    assert _cell(matrix, "add-optional-default", codec, "forward")["outcome"] == "dropped"
    assert _cell(matrix, "nested-add-field", codec, "forward")["outcome"] == "dropped"


@pytest.mark.parametrize("codec", ["protobuf/upb", "thrift/binary", "thrift/compact"])
def test_stable_enum_numbers_survive_a_removed_symbol_in_tagged_formats(matrix: dict, codec: str) -> None:
    # the remaining symbols keep their numbers (XL stays 4): new data reads right in an old reader
    fwd = _cell(matrix, "enum-remove-symbol", codec, "forward")
    assert fwd["outcome"] == "ok" and fwd["ideal"], fwd
    # old data says COMFORT (3), a number the new reader does not have: the library hands back the
    # bare int (proto3 enums are open, thriftpy2 does not check); msgbench's adapter maps it to the
    # enum default, a second layer of the cell
    back = _cell(matrix, "enum-remove-symbol", codec, "backward")
    assert back["outcome"] == "preserved-unknown" and not back["ideal"] and "got 3 (a bare number" in back["detail"]
    a = back["adapter"]
    assert a["outcome"] == "defaulted" and a["ideal"] and "ride_class='UNKNOWN'" in a["detail"], back
    assert _cell(matrix, "enum-remove-symbol", codec, "roundtrip")["outcome"] == "ok"
    # an appended symbol (GREEN = 5) is unknown to an old reader: the bare 5 (the adapter defaults
    # it); an old symbol is read fine; an old intermediary forwards the number it does not know
    fwd = _cell(matrix, "enum-add-symbol", codec, "forward")
    assert [(v["outcome"], v["ideal"]) for v in fwd["values"]] == [("ok", True), ("preserved-unknown", False)]
    assert "got 5 (a bare number" in fwd["values"][1]["detail"]
    assert fwd["adapter"]["outcome"] == "defaulted" and fwd["adapter"]["ideal"]
    assert _cell(matrix, "enum-add-symbol", codec, "roundtrip")["outcome"] == "preserved-unknown"
    assert not any(c["outcome"] in ev.SILENT for c in matrix["cells"]
                   if c["scenario"].startswith("enum-") and c["codec"] == codec)
    assert _cell(matrix, "enum-remove-symbol", "avro/fastavro", "forward")["outcome"] == "ok"


# ------------------------------------------------------------------------------------------------
# Isolation: crashing and hanging codecs cost their cells, not the run


def test_crashing_and_hanging_codecs_are_recorded_per_cell(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(DOUBLES))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(DOUBLES), os.environ.get("PYTHONPATH", "")]))
    from msgbench_test_fault_doubles import Crashes, Hangs

    from formats.registry import build_registry

    orjson = build_registry(False).codec("json/orjson")
    data = ev.run_matrix([Crashes(), Hangs(), orjson], [sc.BY_ID["reorder-fields"]], plugins=False,
                         cell_timeout=5, soft_timeout=1)
    by = {(c["codec"], c["direction"]): c for c in data["cells"]}
    for d in sc.DIRECTIONS:
        crash = by[("fault/crashes", d)]
        assert crash["outcome"] == "error" and crash["detail"].startswith("crash:") and "SIGSEGV" in crash["detail"]
        assert by[("fault/hangs", d)]["detail"].startswith("timeout:")
        assert by[("json/orjson (tolerant)", d)]["outcome"] == "ok"
    assert any("crashed or hung" in line for line in data["summary"])


def test_cli_evolve_writes_the_matrix(tmp_path: Path) -> None:
    import subprocess

    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "bench.cli", "--no-plugins", "evolve", "--formats", "avro", "--scenarios",
         "add-optional-default", "widen-int", "--out", str(out), "--json"],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    printed = json.loads(proc.stdout)
    saved = json.loads((out / "evolution.json").read_text())
    assert printed["cells"] == saved["cells"] and len(saved["cells"]) == 2 * 4
    assert saved["codecs"] == ["avro/fastavro"]
    bad = subprocess.run([sys.executable, "-m", "bench.cli", "evolve", "--scenarios", "nope", "--out", str(out)],
                         capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert bad.returncode == 2 and "unknown scenario" in bad.stderr


def test_scenarios_travel_to_the_worker_as_data_and_the_adapter_layer_is_switchable() -> None:
    from dataclasses import replace

    from formats.registry import build_registry

    own = replace(sc.BY_ID["widen-int"], id="my-own-change", title="My own change")  # not a built-in id
    thrift = build_registry(False).codec("thrift/binary")
    data = ev.run_matrix([thrift], [own], plugins=False)
    by = {c["direction"]: c for c in data["cells"]}
    assert set(by) == set(sc.DIRECTIONS) and all(c["scenario"] == "my-own-change" for c in by.values())
    assert (by["backward"]["outcome"], by["backward"]["adapter"]["outcome"]) == ("lost", "error")
    assert data["reader_rules"]["thrift/binary"].startswith("tag-based")
    adapter = ev.with_layer(data, "adapter")
    a = {c["direction"]: c for c in adapter["cells"]}
    assert a["backward"]["outcome"] == "error" and a["backward"]["library"]["outcome"] == "lost"
    assert [v["outcome"] for v in a["forward"]["values"]] == ["error", "error"]
    assert ev.with_layer(data, "library") is data
    assert any("wrong value" in line for line in data["summary"])
    assert not any("wrong value in" in line for line in adapter["summary"])
