"""Robust statistics for timing samples (pure functions, no I/O).

Timings are skewed (a floor plus a long tail of interruptions), so every figure is summarised by
its median and inter-quartile range, with a distribution-free 95% confidence interval for the
median from binomial order statistics (no normality assumption, no resampling cost). Two sets of
samples are compared with the Mann–Whitney U test (normal approximation with tie correction).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

Z95 = 1.959963984540054


def quantile(sorted_xs: Sequence[float], q: float) -> float:
    """Linear-interpolated quantile of already sorted data (numpy's default method)."""
    n = len(sorted_xs)
    if n == 0:
        raise ValueError("no samples")
    pos = (n - 1) * q
    lo = math.floor(pos)
    hi = min(lo + 1, n - 1)
    return sorted_xs[lo] + (sorted_xs[hi] - sorted_xs[lo]) * (pos - lo)


def median_ci95(sorted_xs: Sequence[float]) -> tuple[float, float]:
    """Distribution-free 95% CI of the median: order statistics j, k with j,k from Binomial(n, 1/2)."""
    n = len(sorted_xs)
    if n < 6:
        return (sorted_xs[0], sorted_xs[-1])
    half = Z95 * math.sqrt(n) / 2
    j = max(0, math.floor(n / 2 - half) - 1)
    k = min(n - 1, math.ceil(n / 2 + half))
    return (sorted_xs[j], sorted_xs[k])


def summarize(samples_ns: Sequence[float], inner_loops: int = 1, keep_samples: int = 2000) -> dict:
    """Summary of per-call samples in ns (see bench.results ``Stats``)."""
    xs = sorted(samples_ns)
    if not xs:
        raise ValueError("no samples")
    q1, med, q3 = quantile(xs, 0.25), quantile(xs, 0.5), quantile(xs, 0.75)
    lo, hi = median_ci95(xs)
    kept = list(samples_ns)
    if len(kept) > keep_samples:  # keep an even thinning, in measurement order
        step = len(kept) / keep_samples
        kept = [kept[int(i * step)] for i in range(keep_samples)]
    return {
        "median_ns": med,
        "iqr_ns": q3 - q1,
        "q1_ns": q1,
        "q3_ns": q3,
        "min_ns": xs[0],
        "mean_ns": sum(xs) / len(xs),
        "rounds": len(xs),
        "inner_loops": inner_loops,
        "ci95_ns": [lo, hi],
        "samples_ns": [round(x, 2) for x in kept],
    }


def mann_whitney_p(a: Sequence[float], b: Sequence[float]) -> float:
    """Two-sided p-value of the Mann–Whitney U test (normal approximation, tie-corrected)."""
    n1, n2 = len(a), len(b)
    if n1 == 0 or n2 == 0:
        return 1.0
    combined = sorted([(x, 0) for x in a] + [(x, 1) for x in b])
    ranks = [0.0] * len(combined)
    tie_term = 0.0
    i = 0
    while i < len(combined):
        j = i
        while j + 1 < len(combined) and combined[j + 1][0] == combined[i][0]:
            j += 1
        r = (i + j) / 2 + 1
        for k in range(i, j + 1):
            ranks[k] = r
        t = j - i + 1
        tie_term += t**3 - t
        i = j + 1
    r1 = sum(r for r, (_, g) in zip(ranks, combined, strict=True) if g == 0)
    u1 = r1 - n1 * (n1 + 1) / 2
    mu = n1 * n2 / 2
    n = n1 + n2
    var = n1 * n2 / 12 * ((n + 1) - tie_term / (n * (n - 1))) if n > 1 else 0
    if var <= 0:
        return 1.0
    z = (abs(u1 - mu) - 0.5) / math.sqrt(var)
    return max(0.0, min(1.0, math.erfc(max(z, 0) / math.sqrt(2))))


def ci_overlap(a: dict, b: dict) -> bool:
    """True when the two figures' 95% CIs of the median overlap ("same within noise")."""
    (alo, ahi), (blo, bhi) = a["ci95_ns"], b["ci95_ns"]
    return alo <= bhi and blo <= ahi
