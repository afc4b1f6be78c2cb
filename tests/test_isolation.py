"""A codec that raises, hangs or crashes its process costs its own rows, never the run.

The faulty codecs are test doubles in ``tests/doubles`` (distribution
``msgbench-test-fault-doubles``, entry points ``fault/raises-prepare``, ``fault/raises-decode``,
``fault/hangs``, ``fault/crashes``). Like the example plugins in ``tests/test_plugins.py`` they
are pip-installed (``--no-deps --no-build-isolation``) into a private ``--target`` directory put
on ``PYTHONPATH`` of the ``msgbench`` subprocesses only, so they never show up in anybody else's
run and nothing is left behind if the session dies; the directory is removed at the end.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sites import pip_install_site, site_env

ROOT = Path(__file__).resolve().parents[1]
DOUBLES = ROOT / "tests" / "doubles"
PAYLOADS = ["trip_request", "completed_trip"]
FAULTY = ["fault/raises-prepare", "fault/raises-decode", "fault/hangs", "fault/crashes"]


@pytest.fixture(scope="session")
def doubles_site(tmp_path_factory):
    target = pip_install_site(tmp_path_factory, "fault-doubles", DOUBLES)
    try:
        yield target
    finally:
        shutil.rmtree(target, ignore_errors=True)


_env = site_env


def _msgbench(*args: str) -> list[str]:
    return [sys.executable, "-m", "bench.cli", *args]


def test_faulty_codecs_fail_their_rows_and_the_run_completes(doubles_site, tmp_path) -> None:
    out = tmp_path / "out"
    proc = subprocess.run(
        _msgbench("run", "--untimed", "--no-conformance", "--payloads", *PAYLOADS, "--formats", "json/orjson", "fault",
                  "--out", str(out), "--timeout", "10", "--sections", "--no-report"),
        capture_output=True, text=True, timeout=240, cwd=ROOT, env=_env(doubles_site),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    doc = json.loads((out / "results.json").read_text())
    from reports.results import check

    check(doc)
    assert doc["run"]["partial"] is False
    assert not (out / "results.partial.json").exists()
    rows = {(r["codec"], r["payload"]): r for r in doc["rows"]}
    assert set(rows) == {(c, p) for c in ["json/orjson", *FAULTY] for p in PAYLOADS}

    for p in PAYLOADS:
        ok = rows[("json/orjson", p)]
        assert ok["status"] == "ok" and ok["verdict"] == "exact", ok
        assert ok["size"]["raw"] > 0 and ok["error"] is None

        r = rows[("fault/raises-prepare", p)]
        assert r["status"] == "failed" and "prepare failed" in r["error"]
        assert "schema work failed on purpose" in r["error"]

        r = rows[("fault/raises-decode", p)]
        assert r["status"] == "failed" and "decoder failed on purpose" in r["error"]

        r = rows[("fault/hangs", p)]
        assert r["status"] == "failed" and "hung" in r["error"], r["error"]

        r = rows[("fault/crashes", p)]
        assert r["status"] == "failed" and "crashed (killed by SIGSEGV)" in r["error"], r["error"]
    codecs = {c["name"]: c for c in doc["codecs"]}
    assert codecs["json/orjson"]["status"] == "ok"
    assert "hung" in (codecs["fault/hangs"].get("error") or "")
    assert "SIGSEGV" in (codecs["fault/crashes"].get("error") or "")


def _previous_results() -> str:
    from reports.results import SCHEMA_VERSION, dumps

    doc = {"schema_version": SCHEMA_VERSION, "tool": {"name": "msgbench", "version": "0"},
           "run": {"started": "2020-01-01T00:00:00+00:00", "finished": "2020-01-01T00:01:00+00:00",
                   "partial": False, "mode": "quick", "argv": [], "duration_s": 60.0},
           "environment": {}, "codecs": [], "payloads": [], "rows": [], "sections": {}}
    return dumps(doc) + "\n"


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGHUP, 129)],
                         ids=["SIGINT", "SIGTERM", "SIGHUP"])
def test_interrupted_run_keeps_previous_results_and_writes_partial(doubles_site, tmp_path, sig, code) -> None:
    out = tmp_path / "out"
    out.mkdir()
    previous = _previous_results().encode()
    (out / "results.json").write_bytes(previous)
    marker = tmp_path / "hanging-now"
    proc = subprocess.Popen(
        _msgbench("run", "--untimed", "--no-conformance", "--payloads", *PAYLOADS, "--formats", "json/orjson", "fault/hangs",
                  "--out", str(out), "--timeout", "60", "--sections", "--no-report"),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT,
        env=_env(doubles_site, MSGBENCH_TEST_HANG_MARKER=str(marker)),
    )
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert proc.poll() is None, proc.communicate()[1].decode()[-2000:]
            assert time.monotonic() < deadline, "the hanging codec was never reached"
            time.sleep(0.05)
        time.sleep(0.3)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    err_text = err.decode()
    assert proc.returncode == code, err_text[-2000:]
    assert "Traceback" not in err_text
    assert "interrupted" in err_text and (sig == signal.SIGINT or sig.name in err_text)
    assert (out / "results.json").read_bytes() == previous
    from reports.results import load

    partial = load(out / "results.partial.json")
    assert partial["run"]["partial"] is True
    assert partial["run"].get("interrupted") is True
    assert {r["codec"] for r in partial["rows"]} >= {"json/orjson"}
    assert all(r["status"] == "ok" for r in partial["rows"] if r["codec"] == "json/orjson")
    # the hung worker was killed, not left behind
    hung_pid = int(marker.read_text())
    time.sleep(0.2)
    with pytest.raises(ProcessLookupError):
        os.kill(hung_pid, 0)


@pytest.mark.parametrize("content, expect", [
    ('{"schema_version": 1, "rows": [', "not a valid results file"),
    ('{"schema_version": 99, "rows": [], "codecs": [], "payloads": []}', "newer msgbench"),
])
def test_report_rejects_corrupted_or_newer_results(tmp_path, content, expect) -> None:
    path = tmp_path / "results.json"
    path.write_text(content)
    proc = subprocess.run(_msgbench("report", str(path)), capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert proc.returncode != 0
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("msgbench: error:") and expect in lines[0]
    assert not (tmp_path / "index.html").exists()


# ------------------------------------------------------------------------------------------------
# The fault probe (bench/faults.py) survives codecs that crash or hang on corrupted input.

PROBE = """
import json, sys
from pathlib import Path
from bench.faults import produce
from bench.runner import SectionContext
from bench.timing import Plan
from payloads.catalog import builtin_payloads
ctx = SectionContext(sys.argv[2:], builtin_payloads(), Plan(disabled=True), "untimed", Path(sys.argv[1]), None,
                     lambda m: None)
print(json.dumps(produce(ctx)))
"""


def _probe(site: Path, out: Path, *codecs: str) -> dict:
    proc = subprocess.run([sys.executable, "-c", PROBE, str(out), *codecs], capture_output=True, text=True,
                          timeout=240, cwd=ROOT, env=_env(site))
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_fault_probe_records_crashes_and_hangs_and_goes_on(doubles_site, tmp_path) -> None:
    from bench.faults import KINDS, OUTCOMES

    t0 = time.monotonic()
    section = _probe(doubles_site, tmp_path, "faultprobe/crashes-on-garbage", "faultprobe/hangs-on-short",
                     "json/orjson")
    n = section["trials_per_kind"]
    assert n == 3 and section["payloads"] == ["trip_request", "completed_trip"]
    by = {c["codec"]: c for c in section["codecs"]}
    for c in by.values():
        assert "error" not in c, c
        assert set(c["kinds"]) == set(KINDS)
        for kind in KINDS:
            assert set(c["kinds"][kind]) == set(OUTCOMES)
            # the doubles' made-up format has no known bomb: those trials are skipped, not blamed
            expected = 0 if kind == "bomb" and c["codec"].startswith("faultprobe/") else n
            assert sum(c["kinds"][kind].values()) == expected, (c["codec"], kind, c["kinds"][kind])
        assert sum(sum(v.values()) for v in c["kinds"].values()) + c["skipped"] == n * len(KINDS)
        assert all(isinstance(e, str) and len(e) <= 200 for e in c["examples"])

    crash = by["faultprobe/crashes-on-garbage"]
    assert all(crash["kinds"][k]["crash"] == n for k in KINDS if k != "bomb"), crash["kinds"]
    assert any("killed by SIGSEGV" in e for e in crash["examples"])

    hang = by["faultprobe/hangs-on-short"]
    assert hang["kinds"]["truncated"]["hang"] == n
    assert all(hang["kinds"][k]["hang"] == 0 for k in KINDS if k != "truncated")
    assert any("no answer within" in e for e in hang["examples"])

    orjson = by["json/orjson"]
    assert all(orjson["kinds"][k]["crash"] == 0 and orjson["kinds"][k]["hang"] == 0 for k in KINDS)
    assert orjson["kinds"]["truncated"]["clean_error"] == n
    assert time.monotonic() - t0 < 60


def test_fault_probe_bombs_find_the_thrift_hangs_and_memory_errors_are_clean_errors(tmp_path) -> None:
    """12 bytes that make thriftpy2's compact protocol spin (an unknown list of 2**62 zero-size
    elements) are found as hangs; a decoder that raises MemoryError under the limit is a clean error
    for its caller, counted apart as an attempted allocation."""
    from bench import faults

    bomb, how = faults.bombs(b"\x00", "thrift/compact", "thrift")[0]
    assert len(bomb) <= 14 and "2**62" in how
    section = _probe(Path("/nonexistent"), tmp_path, "thrift/compact", "protobuf/upb", "thrift/binary")
    by = {c["codec"]: c for c in section["codecs"]}
    assert by["thrift/compact"]["kinds"]["bomb"]["hang"] >= 1, by["thrift/compact"]
    assert by["protobuf/upb"]["kinds"]["bomb"]["hang"] == 0 and by["protobuf/upb"]["kinds"]["bomb"]["crash"] == 0
    binary = by["thrift/binary"]
    assert binary["kinds"]["bomb"]["hang"] >= 1, binary
    # a forged string length makes thriftpy2 allocate past the 1 GiB limit: the caller gets a clean
    # MemoryError (was counted as a crash), reported apart as an attempted allocation
    assert sum(k["crash"] for k in binary["kinds"].values()) == 0, binary
    assert binary["memory_errors"] >= 1, binary


def test_fault_probe_is_deterministic_and_finds_length_fields() -> None:
    from bench import faults
    from formats.registry import build_registry
    from payloads.catalog import find_payloads

    p = find_payloads(["completed_trip"])[0]
    reg = build_registry(False)
    for name in ("protobuf/upb", "thrift/binary", "thrift/compact", "thrift/apache-binary", "thrift/apache-compact",
                 "avro/fastavro"):
        codec = reg.codec(name)
        pr = codec.prepare(p.schema)
        data = pr.encode(pr.to_native(p.value))
        avsc = json.loads(codec.schema_text(p.schema).text) if codec.format == "avro" else None
        a = faults.corrupt(data, "oversized_length", 3, 8, "s", name, codec.format, avsc)
        b = faults.corrupt(data, "oversized_length", 3, 8, "s", name, codec.format, avsc)
        assert a == b and a[0] != data
        assert "made huge" in a[1], (name, a[1])  # a real length field was found, not the heuristic
    for kind in faults.KINDS:
        x = faults.corrupt(b"x" * 100, kind, 1, 8, "seed", "json/orjson", "json")
        assert x == faults.corrupt(b"x" * 100, kind, 1, 8, "seed", "json/orjson", "json")
    assert faults.corrupt(b'{"a":12}', "oversized_length", 0, 8, "s", "json/orjson", "json")[1] == "giant number"
    assert faults._encode_varint(300) == bytes([0xAC, 0x02])  # the protobuf docs example


# ------------------------------------------------------------------------------------------------
# Plugins are imported in a child first: an import that crashes, hangs or exits is reported.


@pytest.mark.parametrize(("how", "expect"), [("segv", "SIGSEGV"), ("hang", "did not finish loading within 3 s"),
                                             ("exit", "SystemExit: 3")])
def test_a_plugin_whose_import_crashes_hangs_or_exits_is_listed_and_skipped(doubles_site, tmp_path, how,
                                                                            expect) -> None:
    env = _env(doubles_site, MSGBENCH_TEST_IMPORT=how, MSGBENCH_PLUGIN_LOAD_TIMEOUT="3")
    proc = subprocess.run(_msgbench("list"), capture_output=True, text=True, timeout=120, cwd=ROOT, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    line = next(ln for ln in (proc.stdout + proc.stderr).splitlines() if "importfault/codec" in ln)
    assert "no" in line and (expect in proc.stdout + proc.stderr), proc.stdout[-3000:]
    out = tmp_path / "out"
    proc = subprocess.run(
        _msgbench("run", "--untimed", "--payloads", "trip_request", "--formats", "json/orjson", "importfault/codec",
                  "--out", str(out), "--sections", "--no-report"),
        capture_output=True, text=True, timeout=180, cwd=ROOT, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    doc = json.loads((out / "results.json").read_text())
    rows = {r["codec"]: r for r in doc["rows"]}
    assert rows["json/orjson"]["status"] == "ok"
    assert rows["importfault/codec"]["status"] == "failed" and expect in rows["importfault/codec"]["error"]
