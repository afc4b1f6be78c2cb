"""Number formatting and the one accessor every view uses (pure; no other reports module imported,
so any of them can use it without an import cycle)."""

from __future__ import annotations

import math


def fmt_int(n: float | int | None) -> str:
    return "–" if n is None else f"{int(round(n)):,}"


def fmt_ns(ns: float | None) -> str:
    """A duration in the most readable unit: ``850 ns``, ``12.3 µs``, ``4.56 ms``, ``1.20 s``."""
    if ns is None or (isinstance(ns, float) and math.isnan(ns)):
        return "–"
    if ns < 1e3:
        return f"{ns:.0f} ns"
    if ns < 1e6:
        return f"{ns / 1e3:.3g} µs"
    if ns < 1e9:
        return f"{ns / 1e6:.3g} ms"
    return f"{ns / 1e9:.3g} s"


def median(stats: dict | None) -> float | None:
    if not isinstance(stats, dict):
        return None
    v = stats.get("median_ns")
    return float(v) if isinstance(v, (int, float)) else None
