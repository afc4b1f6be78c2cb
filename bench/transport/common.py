"""What the transport modules share: route names, reading a field, a process's CPU time (pure or
/proc reads; imports no other transport module, so none of them import each other in a cycle)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

RAW = "raw"
Handler = Callable[[bytes], bytes]


def route(payload: str) -> str:
    """The method / path / subject token for a payload: ``p`` + its name in hex, so any payload name
    (dots, spaces, slashes, non-ASCII) is a valid URL segment, gRPC method, Thrift method and NATS token."""
    return "p" + payload.encode("utf-8").hex()


def touch(native: Any, field: str) -> Any:
    """Read one field of a decoded message, whatever the codec's native form (dict or object)."""
    if isinstance(native, dict):
        return native.get(field)
    return getattr(native, field, None)


def proc_cpu_s(pid: int | None) -> float | None:
    """User + system CPU seconds of process ``pid`` (all its threads) from /proc, or None."""
    if not pid:
        return None
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read().decode()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK
