import random

import pytest

from bench.stats import ci_overlap, mann_whitney_p, median_ci95, quantile, summarize


def test_quantile_matches_linear_interpolation():
    xs = [1.0, 2.0, 3.0, 4.0]
    assert quantile(xs, 0.5) == 2.5
    assert quantile(xs, 0.25) == 1.75
    assert quantile(xs, 0.0) == 1.0 and quantile(xs, 1.0) == 4.0


def test_summary_fields_and_per_call_units():
    s = summarize([100.0, 110.0, 90.0, 105.0, 95.0, 1000.0], inner_loops=50)
    assert s["median_ns"] == pytest.approx(102.5)
    assert s["min_ns"] == 90.0
    assert s["rounds"] == 6 and s["inner_loops"] == 50
    assert s["q1_ns"] <= s["median_ns"] <= s["q3_ns"]
    assert s["iqr_ns"] == pytest.approx(s["q3_ns"] - s["q1_ns"])
    lo, hi = s["ci95_ns"]
    assert lo <= s["median_ns"] <= hi


def test_median_ci_covers_true_median_about_95_percent():
    rng = random.Random(7)
    hits = 0
    trials = 400
    for _ in range(trials):
        xs = sorted(rng.lognormvariate(0, 0.5) for _ in range(60))
        lo, hi = median_ci95(xs)
        hits += lo <= 1.0 <= hi  # the lognormal(0, s) median is exp(0) = 1
    assert 0.90 <= hits / trials <= 0.995


def test_mann_whitney_detects_shift_and_not_noise():
    rng = random.Random(1)
    a = [rng.gauss(100, 5) for _ in range(80)]
    b = [rng.gauss(100, 5) for _ in range(80)]
    c = [rng.gauss(115, 5) for _ in range(80)]
    assert mann_whitney_p(a, b) > 0.01
    assert mann_whitney_p(a, c) < 1e-6


def test_ci_overlap():
    assert ci_overlap({"ci95_ns": [1, 3]}, {"ci95_ns": [2, 4]})
    assert not ci_overlap({"ci95_ns": [1, 2]}, {"ci95_ns": [3, 4]})


def test_samples_are_thinned_not_truncated():
    s = summarize([float(i) for i in range(10000)], keep_samples=100)
    assert len(s["samples_ns"]) == 100
    assert s["samples_ns"][-1] > 9000
