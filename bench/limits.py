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
import os
import resource
import signal
import sys
from collections.abc import Iterator
from typing import Any

from formats.api import MsgbenchError

MEMORY_LIMIT = 2 << 30  # address space this command may add
TIME_LIMIT_S = 600.0
MIN_MEMORY_LIMIT = 64 << 20


class LimitExceeded(MsgbenchError):
    pass


def fmt_memory(n: int) -> str:
    return f"{n / 2**30:.3g} GiB" if n >= 2**30 else f"{n / 2**20:.3g} MiB"


def memory_limit(text: str) -> int:
    """``--memory-limit``: bytes, 0 for none, else at least ``MIN_MEMORY_LIMIT`` — below that the
    C libraries under it (OpenBLAS, matplotlib's Agg) crash instead of raising MemoryError."""
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of bytes") from None
    if n and n < MIN_MEMORY_LIMIT:
        raise argparse.ArgumentTypeError(f"{n:,} bytes is too little to render anything; give at least "
                                         f"{MIN_MEMORY_LIMIT:,} ({fmt_memory(MIN_MEMORY_LIMIT)}), or 0 for no limit")
    return n


def _out_of_memory(e: BaseException) -> bool:
    """An error that, under an address-space limit, means the limit was hit: MemoryError, or
    what C extensions make of a failed allocation (SystemError without an exception set, a
    shared library that could not be mapped)."""
    if isinstance(e, (MemoryError, SystemError)):
        return True
    text = str(e)
    return isinstance(e, OSError | ImportError) and ("failed to map" in text or "Cannot allocate memory" in text)


def add_limit_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--memory-limit", type=memory_limit, default=MEMORY_LIMIT, metavar="BYTES",
                   help=f"memory this command may use beyond its start (default {fmt_memory(MEMORY_LIMIT)}; "
                        f"0 for none; at least {fmt_memory(MIN_MEMORY_LIMIT)})")
    p.add_argument("--time-limit", type=float, default=TIME_LIMIT_S, metavar="S",
                   help=f"give up after S seconds (default {TIME_LIMIT_S:g})")


def _address_space() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return 0


GRACE_S = 2.0  # after the time limit, how long the code under it has to unwind before a hard exit


@contextlib.contextmanager
def limited(args: Any, what: str) -> Iterator[None]:
    """Run the body under the limits. The time limit is decided by the clock, not by what the body
    does with the exception the alarm raises: libraries under it (matplotlib, numpy) may turn it
    into their own error or swallow it, so any error after the deadline is reported as the time
    limit, and a body that keeps running ``GRACE_S`` past it is ended with the same one line
    (written files are atomic, so nothing half-written is left under its real name). Once the
    deadline has passed the outcome is always the time-limit error, even when the body swallowed
    the alarm (in a finaliser, say) and finished within the grace time."""
    memory = getattr(args, "memory_limit", MEMORY_LIMIT)
    seconds = getattr(args, "time_limit", TIME_LIMIT_S)
    too_slow = (f"{what} took longer than {seconds:g} s; raise --time-limit if the input is really "
                "that large")
    expired = False
    old_as = resource.getrlimit(resource.RLIMIT_AS)
    if memory:
        cap = _address_space() + int(memory)
        hard = old_as[1]
        resource.setrlimit(resource.RLIMIT_AS, (cap if hard == resource.RLIM_INFINITY else min(cap, hard), hard))

    def alarm(signum: int, frame: Any) -> None:
        nonlocal expired
        if expired:  # the body ignored the first alarm: end the process with the same message
            sys.stderr.write(f"msgbench: error: {too_slow}\n")
            sys.stderr.flush()
            os._exit(2)
        expired = True
        signal.setitimer(signal.ITIMER_REAL, GRACE_S)
        raise LimitExceeded(too_slow)

    def unraisable(info: Any) -> None:  # the alarm landed in a finaliser or weakref callback
        if not isinstance(info.exc_value, LimitExceeded):
            old_unraisable(info)

    old_handler = signal.signal(signal.SIGALRM, alarm) if seconds else None
    old_unraisable, sys.unraisablehook = sys.unraisablehook, unraisable
    if seconds:
        signal.setitimer(signal.ITIMER_REAL, float(seconds))
    try:
        yield
        if expired:  # the alarm's exception was swallowed and the body finished within the grace time
            raise LimitExceeded(too_slow)
    except Exception as e:
        if expired:  # whatever the alarm's exception became on its way out
            raise LimitExceeded(too_slow) from None
        if memory and _out_of_memory(getattr(e, "original", e)):
            raise LimitExceeded(f"{what} needed more than {fmt_memory(int(memory))} of memory; the input is "
                                "probably damaged or hostile (raise --memory-limit if it is really that "
                                "large)") from None
        raise
    finally:
        if seconds:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old_handler)
        sys.unraisablehook = old_unraisable
        resource.setrlimit(resource.RLIMIT_AS, old_as)
