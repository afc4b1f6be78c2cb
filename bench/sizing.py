"""Repeat counts sized from the measured cost of one call, so a section's time stays bounded for any
payload size (a 2 MB document takes a million times longer to encode than a 200 B message).

    cost = one_call_s(prepared.encode, native)            # one untimed call (also warms it up)
    n = sized_count(cost, budget_s=0.08, default=40, minimum=3)

Pure arithmetic apart from :func:`one_call_s`; no figure is produced here, only how many calls to spend.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def one_call_s(fn: Callable[[Any], Any], arg: Any) -> float:
    """Seconds taken by one call of ``fn(arg)`` (the first call: lazy set-up included, an upper bound)."""
    t0 = time.perf_counter()
    fn(arg)
    return time.perf_counter() - t0


def sized_count(cost_s: float, budget_s: float, default: int, minimum: int = 1) -> int:
    """How many calls of ``cost_s`` seconds to make: ``default`` when they fit in ``budget_s``,
    else as many as fit, but never fewer than ``minimum`` (nor more than ``default``)."""
    if minimum > default:
        raise ValueError(f"minimum {minimum} > default {default}")
    if cost_s <= 0:
        return default
    return max(minimum, min(default, int(budget_s / cost_s)))


def fmt_s(seconds: float) -> str:
    return f"{seconds * 1e3:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"
