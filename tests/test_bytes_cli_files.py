"""``msgbench encode/decode --payload FILE [--schema FILE]``: the bytes of your own payload, for other tools."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.cli import main
from payloads.importer import load_payload_file
from payloads.model import type_to_json

SAMPLES = Path(__file__).parent / "samples"


@pytest.fixture(autouse=True)
def _no_plugins(monkeypatch):
    monkeypatch.setenv("MSGBENCH_NO_PLUGINS", "1")


@pytest.mark.parametrize("codec", ["protobuf/upb", "avro/fastavro", "protobuf/python"])
def test_encode_a_file_payload_and_decode_it_from_the_sidecar(capsys, tmp_path, codec):
    out = tmp_path / "trips.bin"
    rc = main(["encode", "--payload", str(SAMPLES / "trips.ndjson"), "--max-records", "5", "--codec", codec,
               "-o", str(out), "--schema-out", str(tmp_path / "schemas")])
    err = capsys.readouterr().err
    assert rc == 0, err
    side = json.loads(Path(str(out) + ".msgbench.json").read_text())
    assert side["payload"] == "trips" and side["payload_file"] == str((SAMPLES / "trips.ndjson").resolve())
    assert side["max_records"] == 5 and side["bytes"] == len(out.read_bytes())
    assert list((tmp_path / "schemas").iterdir())  # the exported schema, named after the payload
    rc = main(["decode", "--codec", codec, "--check", str(out)])  # schema and sample rebuilt from the sidecar
    cap = capsys.readouterr()
    assert rc == 0, cap.err
    expected = load_payload_file(SAMPLES / "trips.ndjson", max_records=5).value
    assert len(json.loads(cap.out)["records"]) == len(expected["records"]) == 5
    assert "decoded value equals payload trips" in cap.err


def test_decode_with_an_explicit_payload_file_and_schema(capsys, tmp_path):
    schema = tmp_path / "trips.schema.json"
    schema.write_text(json.dumps(type_to_json(load_payload_file(SAMPLES / "trips.ndjson").schema)))
    out = tmp_path / "t.bin"
    assert main(["encode", "--payload", str(SAMPLES / "trips.ndjson"), "--schema", str(schema), "--codec",
                 "json/orjson", "-o", str(out)]) == 0
    Path(str(out) + ".msgbench.json").unlink()  # no sidecar: say it on the command line
    rc = main(["decode", "--codec", "json/orjson", "--payload", str(SAMPLES / "trips.ndjson"), "--schema", str(schema),
               "--check", str(out)])
    cap = capsys.readouterr()
    assert rc == 0, cap.err
    assert len(json.loads(cap.out)["records"]) == 12


def test_encode_needs_exactly_one_payload(capsys, tmp_path):
    out = str(tmp_path / "x.bin")
    assert main(["encode", "--codec", "json/orjson", "-o", out]) != 0
    assert "a built-in PAYLOAD name or --payload FILE" in capsys.readouterr().err
    assert main(["encode", "trip_request", "--payload", str(SAMPLES / "trips.ndjson"), "--codec", "json/orjson",
                 "-o", out]) != 0
    assert main(["encode", "trip_request", "--schema", "s.json", "--codec", "json/orjson", "-o", out]) != 0
    assert "apply to --payload FILE" in capsys.readouterr().err
    assert main(["encode", "--payload", str(tmp_path / "missing.ndjson"), "--codec", "json/orjson", "-o", out]) != 0
    assert "missing.ndjson: no such file" in capsys.readouterr().err
