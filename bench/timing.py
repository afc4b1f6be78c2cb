"""Timing through pytest-benchmark, with an inner loop so sub-microsecond calls are not swamped.

pytest-benchmark's own calibration settles on one call per round for a sub-µs call, and its
runner adds ``*args, **kwargs`` unpacking per call; medians then come out ~1.45x a bare
``timeit`` loop. We therefore hand pytest-benchmark a *round*: a loop compiled like timeit's
(locals bound as default arguments) that makes ``inner_loops`` calls, and divide each round's
duration by ``inner_loops`` (recorded in the results). Settings, and why:

- ``iterations=1`` per round, ``inner_loops`` chosen so a round lasts ~``round_s`` (0.2 ms quick,
  1 ms full): timer and per-round overhead (~100 ns) become < 0.1% of a round;
- ``warmup_rounds`` (caches, branch predictors, lazy imports and first-call allocations);
- ``--benchmark-disable-gc`` as timeit does: a collection triggered by an earlier allocation
  should not be charged to whichever call happens to run then;
- ``time.perf_counter`` (monotonic, ns resolution on Linux);
- rounds = budget / round time, clamped to [min_rounds, max_rounds], so every figure has enough
  samples for a median, IQR and a 95% CI.

- pytest runs with ``-p no:hypothesispytest`` (and without cacheprovider, randomly, xdist): the
  hypothesis plugin's import alone cost ~0.6 s in every worker and section child.

Checked by ``bench.calibrate`` (section ``calibration``, ``msgbench calibrate``, ``python -m
bench.overhead``): the harness median over a bare ``timeit`` loop of the same call, interleaved
in one process. Measured on the shared 2-core machine (full plan, 4 alternations): 0.975–1.057
over the six core codecs × trip_request/completed_trip × encode/decode, 23 of 24 within ±5%.
The one outside is orjson encoding trip_request (~280 ns): 1.04–1.06 in repeated runs, the same
with round_s 0.2, 1 or 2 ms and with pytest's capture off. A bare timeit loop run inside a
pytest-benchmark test agrees with the harness within ~1%, so this is the execution context
(a few ns of process-state/layout bias, which also separates two bare loops in different
processes: 276 vs 293 ns seen), not harness overhead; no setting here changes it. Settings
therefore unchanged; see docs/measurement.md.

One process measures each figure for ``budget_s``; the runner starts ``Plan.processes`` worker
processes per codec (interleaved between codecs) and ``reports.stats.combine`` merges their
figures, with confidence intervals from the variation between processes (see docs/measurement.md).

In tests, ``Plan(disabled=True)`` runs each callable once through pytest-benchmark's disabled
mode (no timing), so the suite exercises the same path quickly.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from reports.stats import summarize


@dataclass(frozen=True)
class Plan:
    """How long to measure each figure."""

    budget_s: float = 0.08  # per encode/decode figure and worker process
    conversion_budget_s: float = 0.02  # per to_native/from_native/parse_lazy figure and process
    round_s: float = 0.001
    min_rounds: int = 10
    max_rounds: int = 2000
    warmup_rounds: int = 3
    disabled: bool = False  # run each callable once, untimed (tests)
    # Wall time one figure may take in one process, warm-up included: a slow call (a multi-MB
    # document) gets fewer rounds (never fewer than 3) and no warm-up beyond the sizing calls.
    max_case_s: float = 10.0
    # Rounds for a call whose min_rounds alone would take over twice the figure's budget (None: no
    # such shortcut, min_rounds stand). Quick mode's rough answer on a multi-MB document: 3 rounds
    # per process, the sizing call as the warm-up; the processes still give the spread.
    slow_rounds: int | None = None
    # Worker processes per codec (interleaved between codecs); the budgets above are per process.
    # The variation between processes is what a rerun sees (see reports.stats.combine).
    processes: int = 4

    def __post_init__(self) -> None:
        if self.processes < 1:
            raise ValueError("processes must be at least 1")

    @property
    def worker_processes(self) -> int:
        return 1 if self.disabled else self.processes

    @classmethod
    def quick(cls) -> Plan:
        return cls(budget_s=0.025, conversion_budget_s=0.008, round_s=0.0002, min_rounds=5, warmup_rounds=2,
                   processes=3, max_case_s=1.0, slow_rounds=3)

    @classmethod
    def full(cls) -> Plan:
        return cls()

    def to_json(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def make_loop(fn: Callable[[Any], Any], arg: Any, inner_loops: int) -> Callable[[], None]:
    """A zero-argument round that calls ``fn(arg)`` ``inner_loops`` times with minimal overhead."""
    ns: dict[str, Any] = {}
    exec(  # noqa: S102 - a fixed template, like timeit's (itertools.repeat: no int objects)
        "def _round(_fn=_fn, _arg=_arg, _n=_n, _repeat=_repeat):\n"
        "    for _ in _repeat(None, _n):\n"
        "        _fn(_arg)\n",
        {"_fn": fn, "_arg": arg, "_n": inner_loops, "_repeat": itertools.repeat},
        ns,
    )
    return ns["_round"]


def choose_inner_loops(fn: Callable[[Any], Any], arg: Any, round_s: float) -> tuple[int, float]:
    """Calls per round so one round lasts about ``round_s``; also returns the per-call estimate.
    The first call runs outside any measurement (lazy initialisation); when it alone already lasts a
    quarter round, one call per round it is, without calling again."""
    t0 = time.perf_counter()
    fn(arg)
    first = time.perf_counter() - t0
    if first >= round_s / 4:
        return 1, first
    n = 1
    while True:
        loop = make_loop(fn, arg, n)
        t0 = time.perf_counter()
        loop()
        dt = time.perf_counter() - t0
        if dt >= round_s / 4 or n >= 1 << 20:
            per_call = dt / n
            return max(1, min(1 << 22, round(round_s / per_call))) if per_call > 0 else n, per_call
        n *= 4


@dataclass
class Case:
    """One figure to time: ``fn(arg)``, e.g. ``prepared.encode(native)``."""

    key: str  # "encode", "decode", ...
    fn: Callable[[Any], Any]
    arg: Any
    budget_s: float
    inner_loops: int = 1
    rounds: int = 1
    warmup_rounds: int = 0
    result: dict | None = field(default=None)
    error: str | None = None


def plan_case(case: Case, plan: Plan) -> None:
    if plan.disabled:
        case.inner_loops, case.rounds, case.warmup_rounds = 1, 1, 0
        return
    case.inner_loops, per_call = choose_inner_loops(case.fn, case.arg, plan.round_s)
    round_time = max(per_call * case.inner_loops, 1e-9)
    case.rounds = int(max(plan.min_rounds, min(plan.max_rounds, case.budget_s / round_time)))
    case.warmup_rounds = plan.warmup_rounds
    if plan.slow_rounds and round_time * plan.min_rounds > 2 * case.budget_s:  # the budget is long gone
        case.warmup_rounds = 0  # the sizing calls above already warmed it up
        case.rounds = min(case.rounds, plan.slow_rounds)
    if round_time * (case.rounds + case.warmup_rounds) > plan.max_case_s:  # a slow call: bounded wall time
        case.warmup_rounds = 0  # the sizing calls above already warmed it up
        case.rounds = max(3, min(case.rounds, int(plan.max_case_s / round_time)))


# ----------------------------------------------------------------------------------------------
# The pytest-benchmark driver. ``run_cases`` starts an in-process pytest session on this very
# module; ``test_timed_case`` below is its only test, parametrised with the pending cases.

_PENDING: list[Case] = []
_PLAN: Plan = Plan()


def pytest_generate_tests(metafunc: Any) -> None:  # pragma: no cover - called by pytest
    if "timed_case" in metafunc.fixturenames:
        metafunc.parametrize("timed_case", _PENDING, ids=[c.key for c in _PENDING])


def test_timed_case(benchmark: Any, timed_case: Case) -> None:  # pragma: no cover - run by run_cases
    loop = make_loop(timed_case.fn, timed_case.arg, timed_case.inner_loops)
    benchmark.pedantic(loop, rounds=timed_case.rounds, warmup_rounds=timed_case.warmup_rounds,
                       iterations=1)
    if _PLAN.disabled:
        timed_case.result = None
        return
    per_call_ns = [d * 1e9 / timed_case.inner_loops for d in benchmark.stats.stats.data]
    timed_case.result = summarize(per_call_ns, timed_case.inner_loops)


class _Errors:
    def __init__(self) -> None:
        self.failures: dict[str, str] = {}

    def pytest_runtest_logreport(self, report: Any) -> None:  # pragma: no cover - pytest hook
        if report.failed:
            key = report.nodeid.rsplit("[", 1)[-1].rstrip("]")
            self.failures[key] = str(report.longrepr).strip().splitlines()[-1][:500] if report.longrepr else "failed"


def run_cases(cases: list[Case], plan: Plan) -> None:
    """Time every case through pytest-benchmark; fills ``case.result`` or ``case.error``."""
    global _PLAN
    import pytest

    for c in cases:
        plan_case(c, plan)
    _PENDING[:] = cases
    _PLAN = plan
    errors = _Errors()
    args = [
        os.path.abspath(__file__.removesuffix("c")),
        "-q", "-p", "no:cacheprovider", "-p", "no:randomly", "-p", "no:xdist",
        "-p", "no:hypothesispytest",  # its import costs ~0.6 s per worker process and it plays no part here
        "--rootdir", os.path.dirname(os.path.abspath(__file__)), "-c", os.devnull,
        "--benchmark-disable-gc", "--benchmark-timer", "time.perf_counter",
        "--benchmark-sort", "name", "--benchmark-quiet",
        "-W", "ignore::pytest.PytestAssertRewriteWarning",
    ]
    if plan.disabled:
        args.append("--benchmark-disable")
    with contextlib.redirect_stdout(sys.stderr):  # pytest's chatter must not mix with our output
        pytest.main(args, plugins=[errors])
    for c in cases:
        if c.key in errors.failures:
            c.error = errors.failures[c.key]
        elif c.result is None and not plan.disabled:
            c.error = "not measured (pytest-benchmark did not run the case)"
    _PENDING.clear()
