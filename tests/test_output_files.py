"""What a run leaves on disk: output files readable like any file the user writes (the umask, not
0600 from a temp file), written atomically, and no copy of the user's records left in ``OUT/.work``
(private while the run lasts, removed when it ends, also on Ctrl-C).

The umask is real: in-process tests set it with ``os.umask`` (and restore it); the end-to-end
tests start ``msgbench`` with ``subprocess``'s ``umask=`` argument.
"""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from report_fixtures import build_document
from sites import pip_install_site, site_env

from bench.compare import compare, write_outputs
from reports import results
from reports.render import write_report

ROOT = Path(__file__).resolve().parents[1]
DOUBLES = ROOT / "tests" / "doubles"


def _mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


@pytest.fixture
def umask():
    """Set the process umask for one test; restored afterwards."""
    old = os.umask(0o022)
    try:
        yield os.umask
    finally:
        os.umask(old)


@pytest.mark.parametrize("mask, expected", [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600), (0o002, 0o664)],
                         ids=lambda m: f"{m:04o}")
def test_write_atomic_honours_the_umask_for_new_and_replaced_files(tmp_path, umask, mask, expected):
    umask(mask)
    p = tmp_path / "results.json"
    results.write_atomic(p, "first")
    assert _mode(p) == expected
    p.chmod(0o600)  # a file an older msgbench wrote
    results.write_atomic(p, b"second")
    assert p.read_text() == "second" and _mode(p) == expected
    assert [f.name for f in tmp_path.iterdir()] == ["results.json"]  # no temp file left


def test_write_atomic_creates_a_fresh_temp_name_each_time(tmp_path, umask, monkeypatch):
    # a stale temp file with the name the writer picks first is not reused or truncated
    names = iter(["aaaaaaaaaaaa", "aaaaaaaaaaaa", "bbbbbbbbbbbb"])
    monkeypatch.setattr(results.secrets, "token_hex", lambda n: next(names))
    stale = tmp_path / ".r.json.aaaaaaaaaaaa.tmp"
    stale.write_text("someone else's")
    results.write_atomic(tmp_path / "r.json", "mine")  # the taken name is skipped, twice
    assert stale.read_text() == "someone else's"
    assert (tmp_path / "r.json").read_text() == "mine"


def test_report_results_and_compare_outputs_follow_the_umask(tmp_path, umask):
    umask(0o022)
    doc = build_document()
    paths = write_report(doc, tmp_path)
    results.save(doc, tmp_path / "results.json")
    cmp = write_outputs(compare(doc, build_document(seed=8)), tmp_path)
    files = [paths["html"], paths["markdown"], tmp_path / "results.json", cmp["json"], cmp["html"]]
    assert {p.name: _mode(p) for p in files} == {p.name: 0o644 for p in files}
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in files)


def _msgbench(*args: str) -> list[str]:
    return [sys.executable, "-m", "bench.cli", *args]


@pytest.mark.parametrize("mask, expected", [(0o022, 0o644), (0o077, 0o600)], ids=lambda m: f"{m:04o}")
def test_a_real_run_writes_readable_files_and_removes_its_work_dir(tmp_path, mask, expected):
    out = tmp_path / "out"
    out.mkdir()
    (out / ".work").mkdir(mode=0o755)
    (out / ".work" / "payloads.pkl").write_bytes(b"an older run's copy of the records")
    proc = subprocess.run(
        _msgbench("--no-plugins", "run", "--untimed", "--payloads", "trip_request", "--formats", "json/orjson",
                  "--sections", "--out", str(out)),
        capture_output=True, text=True, timeout=240, cwd=ROOT, umask=mask,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    written = {p.name: _mode(p) for p in out.iterdir()}
    assert written == {"results.json": expected, "index.html": expected, "summary.md": expected}
    # a re-render with `msgbench report` under another umask gets that umask
    proc = subprocess.run(_msgbench("report", str(out / "results.json")), capture_output=True, text=True,
                          timeout=120, cwd=ROOT, umask=0o027)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert _mode(out / "index.html") == 0o640 and _mode(out / "summary.md") == 0o640


@pytest.fixture(scope="module")
def doubles_site(tmp_path_factory):
    target = pip_install_site(tmp_path_factory, "fault-doubles-output", DOUBLES)
    try:
        yield target
    finally:
        shutil.rmtree(target, ignore_errors=True)


def test_work_dir_is_private_during_the_run_and_removed_on_interrupt(doubles_site, tmp_path):
    out = tmp_path / "out"
    marker = tmp_path / "hanging-now"
    proc = subprocess.Popen(
        _msgbench("run", "--untimed", "--no-conformance", "--payloads", "trip_request", "--formats", "json/orjson",
                  "fault/hangs", "--out", str(out), "--timeout", "60", "--sections", "--no-report"),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT, umask=0o022,
        env=site_env(doubles_site, MSGBENCH_TEST_HANG_MARKER=str(marker)),
    )
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert proc.poll() is None, proc.communicate()[1].decode()[-2000:]
            assert time.monotonic() < deadline, "the hanging codec was never reached"
            time.sleep(0.05)
        work = out / ".work"
        assert _mode(work) == 0o700  # the user's records are private while the run lasts
        assert (work / "payloads.pkl").is_file()
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err.decode()[-2000:]
    assert not (out / ".work").exists()
    assert _mode(out / "results.partial.json") == 0o644
