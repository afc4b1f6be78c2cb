"""Pure figures for the transport section: latency percentiles, throughput, CPU per call (no I/O;
tested on synthetic samples). The format's share of a call is computed by the report
(``reports.transport_view``) from these and the main run's encode/decode medians."""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(sorted_xs: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) of already sorted samples, nearest-rank (a real sample)."""
    if not sorted_xs:
        raise ValueError("no samples")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile {q} outside 0..100")
    k = max(0, math.ceil(q / 100 * len(sorted_xs)) - 1)
    return float(sorted_xs[k])


def latency_summary(samples_ns: Sequence[float], elapsed_s: float, keep: int = 200) -> dict:
    """Summary of one phase's per-call latencies (ns) over ``elapsed_s`` seconds of wall time.

    ``calls_per_s`` is the completed calls divided by the phase's wall time; ``samples_ns`` keeps an
    evenly spaced subset (at most ``keep``) of the sorted latencies for the report and for compare.
    """
    xs = sorted(samples_ns)
    if not xs:
        return {"calls": 0, "elapsed_s": round(elapsed_s, 4), "calls_per_s": 0.0}
    step = max(1, len(xs) // keep)
    return {
        "calls": len(xs),
        "elapsed_s": round(elapsed_s, 4),
        "calls_per_s": round(len(xs) / elapsed_s, 1) if elapsed_s > 0 else None,
        "p50_ns": percentile(xs, 50),
        "p90_ns": percentile(xs, 90),
        "p99_ns": percentile(xs, 99),
        "min_ns": float(xs[0]),
        "max_ns": float(xs[-1]),
        "mean_ns": round(sum(xs) / len(xs), 1),
        "samples_ns": [float(x) for x in xs[::step]][:keep],
    }


def cpu_per_call_ns(cpu_s: float | None, calls: int) -> float | None:
    """CPU time (all processes of the call's path, in seconds) divided by the completed calls, in ns."""
    if cpu_s is None or calls <= 0:
        return None
    return round(cpu_s * 1e9 / calls, 1)
