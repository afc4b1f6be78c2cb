"""Repeat counts sized from the measured cost of one call (bench.sizing, calibration, memory, the
scaling sweep): quick mode stays short whatever one call costs. Slow calls are made slow with
``time.sleep`` (it never returns early), so no assertion depends on how fast the machine is."""

from __future__ import annotations

import time
import types

import pytest

from bench import calibrate, memory, scaling
from bench.sizing import one_call_s, sized_count
from bench.timing import Plan
from formats.registry import build_registry


@pytest.mark.parametrize("cost, budget, default, minimum, expected", [
    (1e-6, 0.08, 40, 3, 40),     # cheap: the default
    (0.01, 0.08, 40, 3, 8),      # as many as fit
    (2.0, 0.08, 40, 3, 3),       # never fewer than the minimum
    (0.0, 0.08, 40, 3, 40),
    (5.0, 1.0, 3, 1, 1),
])
def test_sized_count(cost, budget, default, minimum, expected):
    assert sized_count(cost, budget, default, minimum) == expected


def test_sized_count_rejects_a_minimum_above_the_default():
    with pytest.raises(ValueError):
        sized_count(1.0, 1.0, 2, 3)


def _sleeper(seconds: float):
    calls = []

    def fn(arg):
        calls.append(arg)
        time.sleep(seconds)
        return b"x"

    return fn, calls


def test_calibration_skips_a_call_too_slow_for_overhead_to_matter():
    fn, calls = _sleeper(0.01)
    row = calibrate.calibrate_call(fn, 1, Plan.quick(), calibrate.Settings.for_mode("quick"))
    assert len(calls) == 1  # one call measured the cost; nothing else ran
    assert row["ratio"] is None and row["one_call_ns"] >= 10_000_000
    assert row["skipped"].startswith("one call takes ") and "not calibrated" in row["skipped"]


def test_memory_traces_fewer_calls_when_one_is_slow():
    fn, calls = _sleeper(0.05)
    assert memory.peak_bytes(fn, 1, repeats=3, budget_s=0.1) >= 0
    assert len(calls) == 2  # the untraced first call, then one traced call instead of three
    assert one_call_s(lambda x: None, 1) >= 0


def test_scaling_sweep_stops_when_one_call_is_too_slow():
    inner = build_registry(discover_plugins=False).codec("json/orjson")

    class SlowAtTwenty:  # json/orjson, but encoding 20+ updates takes at least 0.3 s
        name = "slow/json"

        def check_schema(self, schema):
            inner.check_schema(schema)

        def prepare(self, schema):
            p = inner.prepare(schema)

            def encode(native):
                if len(native["updates"]) >= 20:
                    time.sleep(0.3)
                return p.encode(native)

            return types.SimpleNamespace(encode=encode, decode=p.decode, to_native=p.to_native,
                                         from_native=p.from_native)

    plan = Plan(budget_s=0.02, round_s=0.0005, min_rounds=1, max_rounds=2, warmup_rounds=0)
    out = scaling.measure_codec(SlowAtTwenty(), [1, 10, 20, 30, 40], plan)
    measured = sorted({p["n"] for s in out["series"] for p in s["points"]})
    assert measured == [1, 10, 20]
    skipped = [e for e in out["errors"] if e["error"].startswith("not measured: one encode of n=20 took")]
    assert [e["n"] for e in skipped] == [30, 40]


def test_memory_uses_the_gates_call_as_the_warm_up_when_it_was_slow():
    fn, calls = _sleeper(0.05)
    memory.peak_bytes(fn, 1, repeats=3, budget_s=0.1, warmed_cost_s=0.2)
    assert len(calls) == 1  # no extra untraced call; one traced call fits the budget
    fn, calls = _sleeper(0.0)
    memory.peak_bytes(fn, 1, repeats=3, budget_s=0.1, warmed_cost_s=1e-6)
    assert len(calls) == 3
