"""The main job end to end: `msgbench run` over every core codec and built-in payload (untimed,
so each call runs once through the same pytest-benchmark path), then the report from its results."""

import json
import subprocess
import sys

import pytest

from formats.registry import CORE
from payloads.catalog import builtin_payloads
from reports.results import load

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    proc = subprocess.run(
        [sys.executable, "-m", "bench.cli", "--no-plugins", "run", "--untimed", "--out", str(out),
         "--sections", "evolution"],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert f"report:  {(out / 'index.html').resolve()}" in proc.stdout
    return out


def test_every_core_codec_round_trips_every_payload_exactly(run_dir):
    doc = load(run_dir / "results.json")
    assert doc["run"]["partial"] is False
    names = [p.name for p in builtin_payloads()]
    rows = {(r["codec"], r["payload"]): r for r in doc["rows"]}
    assert set(rows) == {(c, p) for c in CORE for p in names}
    for key, r in rows.items():
        assert r["status"] == "ok" and r["verdict"] == "exact", (key, r.get("error"), r.get("fidelity"))
        assert r["size"]["raw"] > 0 and r["size"]["gzip"] > 0 and r["size"]["zstd"] > 0
    # the bytes differ between formats: nobody silently fell back to another encoder; two libraries
    # of one wire format (thriftpy2 and Apache Thrift) write the same bytes
    sizes = {c: rows[(c, "completed_trip")]["size"]["raw"] for c in CORE}
    for kind in ("binary", "compact"):
        assert sizes.pop(f"thrift/apache-{kind}") == sizes[f"thrift/{kind}"], kind
    assert len(set(sizes.values())) == len(sizes), sizes


def test_codec_metadata_records_the_fast_backends(run_dir):
    doc = load(run_dir / "results.json")
    codecs = {c["name"]: c for c in doc["codecs"]}
    assert codecs["protobuf/upb"]["backend"] == "upb"
    assert codecs["thrift/binary"]["backend"] == "cybin"
    assert codecs["avro/fastavro"]["backend"] == "C extension"
    assert codecs["thrift/compact"]["backend"].startswith("pure-python")
    assert codecs["thrift/apache-compact"]["backend"] == "C accelerator (fastbinary)"
    assert all(c["library_version"] not in (None, "", "unknown") for c in codecs.values())
    env = doc["environment"]
    assert env["python"]["version"].startswith("3.") and env["cpu_count"] >= 1
    assert env["libraries"]["protobuf"]


def test_report_and_summary_are_written_from_the_results(run_dir):
    html = (run_dir / "index.html").read_text()
    md = (run_dir / "summary.md").read_text()
    for codec in CORE:
        assert codec in html and codec in md
    assert "Schema evolution" in html
    assert "http://" not in html.replace("http://www.w3.org", "") and "https://" not in html
    # re-rendering from the file gives the same page (the report measures nothing)
    first = html
    proc = subprocess.run([sys.executable, "-m", "bench.cli", "report", str(run_dir / "results.json")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert (run_dir / "index.html").read_text() == first


def test_schema_export_commands(run_dir):
    for fmt, marker in (("protobuf", "syntax = \"proto3\""), ("avro", "\"type\": \"record\""),
                        ("thrift", "struct "), ("xsd", "xs:schema"), ("json-schema", "\"$schema\""),
                        ("model", "\"fields\"")):
        proc = subprocess.run([sys.executable, "-m", "bench.cli", "schema", "completed_trip", "--format", fmt],
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, (fmt, proc.stderr)
        assert marker in proc.stdout, (fmt, proc.stdout[:300])
    model = json.loads(subprocess.run([sys.executable, "-m", "bench.cli", "schema", "trip_request", "--format",
                                       "model"], capture_output=True, text=True, timeout=60).stdout)
    assert model["name"] == "TripRequest"
