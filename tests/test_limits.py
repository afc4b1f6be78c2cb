"""The main-process limits (bench/limits.py) decide by the clock, not by what the limited code does
with the alarm's exception: matplotlib once turned it into "ValueError: Invalid affine
transformation matrix", and `msgbench report --time-limit 0.05` called the results file hand-edited
(CI, stop 19). These tests drive each way the body can treat the alarm, without depending on when
the alarm lands."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from bench.limits import LimitExceeded, limited

ROOT = Path(__file__).resolve().parents[1]


def _args(seconds: float) -> SimpleNamespace:
    return SimpleNamespace(time_limit=seconds, memory_limit=0)


def test_the_alarm_ends_the_body_with_the_time_limit_message() -> None:
    with pytest.raises(LimitExceeded, match="rendering took longer than 0.05 s"):
        with limited(_args(0.05), "rendering"):
            time.sleep(5)


def test_an_error_the_library_makes_of_the_alarm_is_still_the_time_limit() -> None:
    with pytest.raises(LimitExceeded, match="took longer than 0.05 s") as info:
        with limited(_args(0.05), "rendering"):
            try:
                time.sleep(5)
            except LimitExceeded:
                raise ValueError("Invalid affine transformation matrix") from None
    assert "affine" not in str(info.value)


def test_an_error_before_the_deadline_stays_itself() -> None:
    with pytest.raises(ValueError, match="bad input"):
        with limited(_args(30), "rendering"):
            raise ValueError("bad input")


def test_a_body_that_swallows_the_alarm_is_ended_with_one_line() -> None:
    code = textwrap.dedent("""
        import time
        from types import SimpleNamespace
        import bench.limits as L
        L.GRACE_S = 0.2
        with L.limited(SimpleNamespace(time_limit=0.05, memory_limit=0), "rendering"):
            end = time.monotonic() + 20
            while time.monotonic() < end:
                try:
                    time.sleep(0.01)
                except BaseException:
                    pass
        print("not ended")
    """)
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT)
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert proc.returncode == 2 and lines == ["msgbench: error: rendering took longer than 0.05 s; raise "
                                              "--time-limit if the input is really that large"], proc.stderr
    assert "not ended" not in proc.stdout and time.monotonic() - started < 15


def test_the_timer_and_handler_are_restored_after_the_body() -> None:
    import signal

    before = signal.getsignal(signal.SIGALRM)
    with limited(_args(30), "rendering"):
        pass
    assert signal.getsignal(signal.SIGALRM) is before
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_a_swallowed_alarm_in_a_body_that_then_finishes_is_still_the_time_limit() -> None:
    with pytest.raises(LimitExceeded, match="took longer than 0.05 s"):
        with limited(_args(0.05), "rendering"):
            try:
                time.sleep(5)
            except LimitExceeded:
                pass


def test_an_alarm_in_a_finaliser_prints_no_ignored_exception(capfd) -> None:
    import gc

    class Slow:
        def __del__(self) -> None:
            time.sleep(1)

    with pytest.raises(LimitExceeded):
        with limited(_args(0.05), "rendering"):
            Slow()
            gc.collect()
    assert "Exception ignored" not in capfd.readouterr().err
