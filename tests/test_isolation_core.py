"""formats.isolation: the one way codec work runs in a child process (real children, real signals)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from formats.isolation import Died, Limits, Task, TaskDied, run, run_once

DOUBLES = str(Path(__file__).resolve().parent / "doubles")


def _alive(pid: int) -> bool:
    """Running (a killed process may linger as a zombie until whoever inherited it reaps it)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"
ENV = {"PYTHONPATH": DOUBLES}


def _task(fn: str, args=None, **env) -> Task:
    return Task(f"isolation_tasks:{fn}", args, {**ENV, **env})


def test_once_returns_the_value_with_the_codec_env_in_another_process() -> None:
    out = run_once(_task("echo", {"b": b"\x00\xff"}, MSGBENCH_TEST_VALUE="x"), Limits(total_s=30))
    assert out["got"] == {"b": b"\x00\xff"} and out["env"] == "x" and out["pid"] != os.getpid()


def test_once_reports_an_exception_a_hang_and_a_missing_task_in_one_vocabulary() -> None:
    with pytest.raises(TaskDied) as e:
        run_once(_task("raises", 7), Limits(total_s=30))
    assert e.value.died.reason == "error" and "ValueError: bad thing 7" in str(e.value)
    t0 = time.monotonic()
    with pytest.raises(TaskDied) as e:
        run_once(_task("hang"), Limits(total_s=1))
    assert e.value.died.reason == "timeout" and "hung" in str(e.value) and time.monotonic() - t0 < 10
    with pytest.raises(TaskDied) as e:
        run_once(Task("no_such_module_xyz:fn"), Limits(total_s=30))
    assert e.value.died.reason == "setup" and "ModuleNotFoundError" in str(e.value)


def test_stream_keeps_results_apart_from_what_the_task_prints() -> None:
    got = list(run(_task("count", {"n": 4}), Limits(item_s=30)))
    assert got == [(0, 0), (1, 10), (2, 20), (3, 30)]


def test_stream_restarts_after_a_hang_a_kill_and_a_segfault() -> None:
    args = {"n": 6, "hang_at": [1], "crash_at": [3], "segv_at": [4]}
    got = list(run(_task("count", args), Limits(item_s=3), restart=True))
    values = {i: v for i, v in got}
    assert values[0] == 0 and values[2] == 20 and values[5] == 50
    assert isinstance(values[1], Died) and values[1].reason == "timeout" and values[1].item == 1
    assert isinstance(values[3], Died) and values[3].reason == "crash" and "SIGKILL" in values[3].detail
    assert isinstance(values[4], Died) and values[4].reason == "crash" and "SIGSEGV" in values[4].detail
    assert "Fatal Python error" in values[4].detail  # faulthandler is on in every child
    # without restart the stream stops at the first death
    assert [i for i, _ in run(_task("count", args), Limits(item_s=3))] == [0, 1]


def test_memory_limit_turns_a_huge_allocation_into_memory_error() -> None:
    assert run_once(_task("allocate", {"bytes": 1 << 20}), Limits(total_s=30, memory_bytes=256 << 20)) == 1 << 20
    assert run_once(_task("allocate", {"bytes": 8 << 30}), Limits(total_s=30, memory_bytes=256 << 20)) == "MemoryError"


def test_the_whole_process_group_dies_with_a_timeout(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    with pytest.raises(TaskDied):
        run_once(_task("spawn_grandchild_and_hang", {"pidfile": str(pidfile)}), Limits(total_s=2))
    pid = int(pidfile.read_text())
    for _ in range(50):
        if not _alive(pid):
            break
        time.sleep(0.1)
    else:
        pytest.fail("the grandchild outlived its group")


def test_sigterm_in_the_parent_kills_the_children_and_exits_with_a_message(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    script = (
        "import sys; sys.path[:0] = [sys.argv[1], sys.argv[2]]\n"
        "from formats.isolation import Limits, Task, run_once, install_signal_handlers\n"
        "install_signal_handlers()\n"
        "try:\n"
        "    run_once(Task('isolation_tasks:spawn_grandchild_and_hang', {'pidfile': sys.argv[3]},"
        " {'PYTHONPATH': sys.argv[2]}), Limits(total_s=600))\n"
        "except KeyboardInterrupt as e:\n"
        "    print('interrupted by', e, flush=True); sys.exit(143)\n"
    )
    root = str(Path(__file__).resolve().parents[1])
    proc = subprocess.Popen([sys.executable, "-c", script, root, DOUBLES, str(pidfile)], stdout=subprocess.PIPE,
                            text=True)
    for _ in range(200):
        if pidfile.exists() and pidfile.read_text():
            break
        time.sleep(0.05)
    grandchild = int(pidfile.read_text())
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 143 and "interrupted by SIGTERM" in out
    for _ in range(50):
        if not _alive(grandchild):
            break
        time.sleep(0.1)
    else:
        pytest.fail("the grandchild outlived SIGTERM in the parent")


def test_children_share_the_callers_working_directory(tmp_path: Path) -> None:
    """`msgbench run` with the default relative `--out out` from any directory: the workers must read
    `out/.work/...` where the parent wrote it (they once ran in the package's directory, and every row
    of an installed msgbench failed with FileNotFoundError)."""
    root = str(Path(__file__).resolve().parents[1])
    proc = subprocess.run([sys.executable, "-m", "bench.cli", "--no-plugins", "run", "--quick", "--processes", "1", "--formats",
                           "json/orjson", "--payloads", "trip_request", "--sections", "calibration", "memory",
                           "--no-report", "--out", "out"], capture_output=True, text=True, timeout=300,
                          cwd=tmp_path, env={**os.environ, "PYTHONPATH": root})
    assert proc.returncode == 0, proc.stderr[-2000:]
    import json

    doc = json.loads((tmp_path / "out" / "results.json").read_text())
    assert [r["status"] for r in doc["rows"]] == ["ok"], doc["rows"]
    for name in ("calibration", "memory"):
        section = doc["sections"][name]
        assert section.get("rows") and not section.get("error"), section
        assert all(not r.get("error") for r in section["rows"]), section
