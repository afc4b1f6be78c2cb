"""The literal text of a scalar default in a generated IDL (.thrift, .capnp, .fbs): the three
generators write booleans, integers and finite floats the same way."""

from __future__ import annotations

import math
from typing import Any


def scalar_literal(kind: str, value: Any) -> str | None:
    """``true``/``false``, a decimal integer or the shortest float text; None when ``value`` is not a
    literal of that model kind (or a float that is not finite, which no IDL here can write)."""
    if kind == "bool" and isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, bool):
        return None
    if kind in ("int32", "int64", "timestamp") and isinstance(value, int):
        return str(value)
    if kind in ("float32", "float64") and isinstance(value, (int, float)):
        v = float(value)
        return repr(v) if math.isfinite(v) else None
    return None
