"""Counting every difference between two plain values: the true size of a loss, examples capped.

    loss = count_differences(expected, actual, examples=20)
    loss.total        # every value that differs (110918, not "20")
    loss.examples     # the first ``examples`` differences (payloads.model.Difference)
    loss.by_path      # {"records[*].points[*]": 110918, ...}: list indices folded into [*]

The notion of "different" is :func:`payloads.model.differences`' (exact: float bits, -0.0 and NaN
count; a list of another length is one difference at ``path.length`` plus its common prefix).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from payloads.model import Difference


@dataclass
class LossCount:
    total: int = 0
    examples: list[Difference] = field(default_factory=list)
    by_path: dict[str, int] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return self.total > 0

    def summary(self, max_paths: int = 10) -> str:
        """``110918 values changed: records[*].points[*] (110918)`` (the paths with the most first)."""
        if not self.total:
            return "no values changed"
        top = sorted(self.by_path.items(), key=lambda kv: (-kv[1], kv[0]))
        shown = ", ".join(f"{p or '<root>'} ({n})" for p, n in top[:max_paths])
        more = f" and {len(top) - max_paths} more paths" if len(top) > max_paths else ""
        return f"{self.total} value{'s' if self.total != 1 else ''} changed: {shown}{more}"


def _same_float(a: float, b: float) -> bool:
    if math.isnan(a) and math.isnan(b):
        return True
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)


def count_differences(expected: Any, actual: Any, *, examples: int = 20, path: str = "") -> LossCount:
    """Every difference between ``expected`` and ``actual`` counted; the first ``examples`` kept."""
    out = LossCount()
    _walk(expected, actual, path, path, out, examples)
    return out


def _add(out: LossCount, path: str, pattern: str, e: Any, a: Any, examples: int) -> None:
    out.total += 1
    out.by_path[pattern] = out.by_path.get(pattern, 0) + 1
    if len(out.examples) < examples:
        out.examples.append(Difference(path, e, a))


def _walk(e: Any, a: Any, path: str, pattern: str, out: LossCount, examples: int) -> None:
    if isinstance(e, dict) and isinstance(a, dict):
        for k in e:
            sub = f"{path}.{k}" if path else str(k)
            pat = f"{pattern}.{k}" if pattern else str(k)
            if k not in a:
                _add(out, sub, pat, e[k], "<absent>", examples)
            else:
                _walk(e[k], a[k], sub, pat, out, examples)
        for k in a:
            if k not in e:
                sub = f"{path}.{k}" if path else str(k)
                pat = f"{pattern}.{k}" if pattern else str(k)
                _add(out, sub, pat, "<absent>", a[k], examples)
        return
    if isinstance(e, list) and isinstance(a, list):
        if len(e) != len(a):
            _add(out, f"{path}.length", f"{pattern}.length", len(e), len(a), examples)
        item = f"{pattern}[*]"
        for i, (x, y) in enumerate(zip(e, a, strict=False)):
            if type(x) is type(y) and x is y:
                continue
            if type(x) is float and type(y) is float:  # the common case (float32 loss): no path string unless needed
                if not _same_float(x, y):
                    _add(out, f"{path}[{i}]", item, x, y, examples)
                continue
            _walk(x, y, f"{path}[{i}]", item, out, examples)
        return
    if type(e) is not type(a):
        _add(out, path, pattern, e, a, examples)
        return
    if isinstance(e, float):
        if not _same_float(e, a):
            _add(out, path, pattern, e, a, examples)
        return
    if e != a:
        _add(out, path, pattern, e, a, examples)


__all__ = ["LossCount", "count_differences"]
