"""Robust statistics for timing samples (pure functions, no I/O).

Timings are skewed (a floor plus a long tail of interruptions), so every figure is summarised by
its median and inter-quartile range, with a distribution-free 95% confidence interval for the
median from binomial order statistics (no normality assumption, no resampling cost). Two sets of
samples are compared with the Mann–Whitney U test (normal approximation with tie correction).

Rounds inside one process are not independent samples of "a run": memory layout, hash seeds,
CPU frequency and the neighbours' load shift a whole process's timings together, so two identical
runs differ by more than the rounds' spread suggests (on this kind of machine 7 of 24 medians of
two identical runs differed with Mann–Whitney p down to 1e-62). As pyperf does, every figure is
therefore measured in several worker processes; ``combine`` pools their rounds for the median and
IQR and bases the 95% CI on the variation *between processes* (Student's t on the logarithms of
the per-process medians, never narrower than the pooled rounds' CI), and ``welch_log_p`` compares
two runs' per-process medians (Welch's t-test on their logarithms: a timing is a product of
effects, and a 10% slowdown is the same shift at 300 ns and at 300 µs).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reports.results import Stats

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
    """Summary of per-call samples in ns (see reports.results ``Stats``)."""
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


# ------------------------------------------------------------------------------------------------
# between-process statistics (pure)


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the regularized incomplete beta function (modified Lentz)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1, a - 1
    c, d = 1.0, 1 - qab * x / qap
    d = 1 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 300):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1 + aa * d
        d = 1 / (d if abs(d) > tiny else tiny)
        c = 1 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1 + aa * d
        d = 1 / (d if abs(d) > tiny else tiny)
        c = 1 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1) < 3e-16:
            break
    return h


def _betainc(a: float, b: float, x: float) -> float:
    """Regularized incomplete beta I_x(a, b)."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1) / (a + b + 2):
        return front * _betacf(a, b, x) / a
    return 1 - front * _betacf(b, a, 1 - x) / b


def t_two_sided_p(t: float, df: float) -> float:
    """Two-sided p-value of Student's t with ``df`` degrees of freedom (df may be fractional)."""
    if df <= 0 or math.isnan(t):
        return 1.0
    if math.isinf(t):
        return 0.0
    return max(0.0, min(1.0, _betainc(df / 2, 0.5, df / (df + t * t))))


def t_quantile(q: float, df: float) -> float:
    """The t value with two-sided tail probability ``1 - q`` (e.g. q=0.95 -> 12.71 for df=1)."""
    lo, hi = 0.0, 1e6
    target = 1 - q
    for _ in range(200):
        mid = (lo + hi) / 2
        if t_two_sided_p(mid, df) > target:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def _mean_var(xs: Sequence[float]) -> tuple[float, float]:
    m = sum(xs) / len(xs)
    return m, (sum((x - m) ** 2 for x in xs) / (len(xs) - 1) if len(xs) > 1 else 0.0)


def welch_log_p(a: Sequence[float], b: Sequence[float]) -> float | None:
    """Two-sided p of Welch's t-test on log(a) vs log(b) (per-process medians); None below 2 each."""
    if len(a) < 2 or len(b) < 2 or min(a) <= 0 or min(b) <= 0:
        return None
    ma, va = _mean_var([math.log(x) for x in a])
    mb, vb = _mean_var([math.log(x) for x in b])
    sa, sb = va / len(a), vb / len(b)
    se2 = sa + sb
    if se2 <= 0:
        return 1.0 if ma == mb else 0.0
    df = se2 * se2 / ((sa * sa / (len(a) - 1) if sa else 0.0) + (sb * sb / (len(b) - 1) if sb else 0.0))
    return t_two_sided_p((mb - ma) / math.sqrt(se2), df)


def between_process_ci95(process_medians: Sequence[float]) -> tuple[float, float] | None:
    """95% CI of the typical per-process median (t interval on the logs); None below 2 processes."""
    xs = [x for x in process_medians if x > 0]
    if len(xs) < 2:
        return None
    m, v = _mean_var([math.log(x) for x in xs])
    half = t_quantile(0.95, len(xs) - 1) * math.sqrt(v / len(xs))
    return (math.exp(m - half), math.exp(m + half))


def combine(per_process: Sequence[dict], keep_samples: int = 2000) -> dict:
    """One figure from its per-process summaries (each as ``summarize`` returns, with samples).

    Median, IQR, min and mean come from the pooled rounds; ``ci95_ns`` is the wider of the pooled
    rounds' CI and the between-process t interval, so it reflects what a rerun may give;
    ``processes`` keeps each process's median and round count (what ``compare`` tests on).
    """
    parts = [p for p in per_process if isinstance(p, dict) and p.get("samples_ns")]
    if not parts:
        raise ValueError("no per-process samples")
    if len(parts) == 1:
        out = dict(parts[0])
        out["processes"] = [{"median_ns": parts[0]["median_ns"], "rounds": parts[0]["rounds"]}]
        return out
    share = max(1, keep_samples // len(parts))
    pooled: list[float] = []
    for p in parts:  # each process weighs the same in the pooled summary
        xs = p["samples_ns"]
        step = max(1.0, len(xs) / share)
        pooled += [xs[int(i * step)] for i in range(min(len(xs), share))]
    out = summarize(pooled, parts[0].get("inner_loops", 1), keep_samples)
    out["rounds"] = sum(int(p.get("rounds", len(p["samples_ns"]))) for p in parts)
    meds = [float(p["median_ns"]) for p in parts]
    between = between_process_ci95(meds)
    lo, hi = out["ci95_ns"]
    if between is not None:
        lo, hi = min(lo, between[0]), max(hi, between[1])
    out["ci95_ns"] = [lo, hi]
    out["inner_loops"] = [p.get("inner_loops", 1) for p in parts]
    out["processes"] = [{"median_ns": p["median_ns"], "rounds": p.get("rounds")} for p in parts]
    return out


def same_within_noise(a: Stats, b: Stats, alpha: float = 0.01) -> bool:
    """Could figures ``a`` and ``b`` (typed figures of a results document, see ``reports.results``)
    be the same speed? Between-process test when both have several processes, else overlapping CIs
    or Mann–Whitney on the rounds (older results)."""
    pa = [p["median_ns"] for p in a["processes"] if p["median_ns"]]
    pb = [p["median_ns"] for p in b["processes"] if p["median_ns"]]
    p = welch_log_p(pa, pb)
    if p is not None:
        return p >= alpha
    if a["ci95_ns"] is not None and b["ci95_ns"] is not None and ci_overlap(a, b):
        return True
    xs, ys = a["samples_ns"], b["samples_ns"]
    return len(xs) >= 2 and len(ys) >= 2 and mann_whitney_p(xs, ys) >= alpha
