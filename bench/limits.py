"""Default time and memory limits for commands that read a user's files in this process
(``report``, ``compare``, ``schema --payload``): a hand-edited results file or a hostile payload
ends in a one-line error instead of exhausting the machine or hanging. Work on untrusted *bytes*
runs in a child (``formats.isolation``); these limits cover what stays in the main process.

    add_limit_args(parser)             # --memory-limit BYTES, --time-limit S
    with limited(args, "rendering the report"):
        ...
"""

from __future__ import annotations

import argparse
import contextlib
import resource
import signal
from collections.abc import Iterator
from typing import Any

from formats.api import MsgbenchError

MEMORY_LIMIT = 2 << 30  # address space this command may add
TIME_LIMIT_S = 600.0


class LimitExceeded(MsgbenchError):
    pass


def add_limit_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--memory-limit", type=int, default=MEMORY_LIMIT, metavar="BYTES",
                   help=f"memory this command may use beyond its start (default {MEMORY_LIMIT >> 30} GiB)")
    p.add_argument("--time-limit", type=float, default=TIME_LIMIT_S, metavar="S",
                   help=f"give up after S seconds (default {TIME_LIMIT_S:g})")


def _address_space() -> int:
    import os

    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return 0


@contextlib.contextmanager
def limited(args: Any, what: str) -> Iterator[None]:
    memory = getattr(args, "memory_limit", MEMORY_LIMIT)
    seconds = getattr(args, "time_limit", TIME_LIMIT_S)
    old_as = resource.getrlimit(resource.RLIMIT_AS)
    if memory:
        cap = _address_space() + int(memory)
        hard = old_as[1]
        resource.setrlimit(resource.RLIMIT_AS, (cap if hard == resource.RLIM_INFINITY else min(cap, hard), hard))

    def alarm(signum: int, frame: Any) -> None:
        raise LimitExceeded(f"{what} took longer than {seconds:g} s; raise --time-limit if the input is really "
                            "that large")

    old_handler = signal.signal(signal.SIGALRM, alarm) if seconds else None
    if seconds:
        signal.setitimer(signal.ITIMER_REAL, float(seconds))
    try:
        yield
    except MemoryError:
        raise LimitExceeded(f"{what} needed more than {int(memory) >> 20} MiB of memory; the input is probably "
                            "damaged or hostile (raise --memory-limit if it is really that large)") from None
    finally:
        if seconds:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old_handler)
        resource.setrlimit(resource.RLIMIT_AS, old_as)
