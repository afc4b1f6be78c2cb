"""Module-level tasks for tests/test_isolation_core.py (run in children by formats.isolation)."""

import os
import signal
import sys
import time


def echo(args):
    return {"got": args, "pid": os.getpid(), "env": os.environ.get("MSGBENCH_TEST_VALUE")}


def count(args, start):
    for i in range(start, args["n"]):
        if i in args.get("hang_at", ()):
            time.sleep(3600)
        if i in args.get("crash_at", ()):
            os.kill(os.getpid(), signal.SIGKILL)
        if i in args.get("segv_at", ()):
            import ctypes

            ctypes.string_at(0)
        print("partial line without newline", end="")  # must not corrupt the results
        sys.stdout.flush()
        yield i * 10


def raises(args):
    raise ValueError("bad thing " + str(args))


def hang(args):
    time.sleep(3600)


def allocate(args):
    try:
        blob = bytearray(args["bytes"])
    except MemoryError:
        return "MemoryError"
    return len(blob)


def spawn_grandchild_and_hang(args):
    import subprocess

    p = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"])
    with open(args["pidfile"], "w") as f:
        f.write(str(p.pid))
    time.sleep(3600)
