"""The one way msgbench runs codec work in a child process: a task + limits -> results or "died (why)".

Every isolated job — measuring a codec, the measurement sections, the fault probe, the conformance
kit's garbage probe, encode/decode of untrusted bytes — is a *task*: a module-level function named
``"package.module:function"``, with picklable arguments, run in a fresh interpreter that has the
codec's ``process_env`` set before anything is imported. The parent watches it with *limits* and
gets back either the task's results or a :class:`Died` that says why, in the same words everywhere:

    from formats.isolation import Limits, Task, run, run_once

    value = run_once(Task("bench.memory:handle_job", job, env), Limits(total_s=60))
    for i, item in run(Task("bench.faults:trials", job, env), Limits(item_s=5), restart=True):
        ...   # item is the task's next result, or Died(item=i, ...) for a trial that hung or crashed

Two task shapes:
- **once** (``run_once``): ``fn(args) -> value``; the child sends the value back.
- **stream** (``run``): ``fn(args, start) -> Iterable``; the child sends each item as it comes.
  When the child hangs on or dies during item *i*, ``run`` yields ``(i, Died(...))`` and, with
  ``restart=True``, starts a new child at ``start=i + 1``; otherwise it stops there.

What every child gets, identically (this was six hand-made copies before):
- msgbench's own code first on ``PYTHONPATH``, unbuffered output, faulthandler on (a segfault leaves
  a Python traceback in the error text);
- results on a **private pipe** (an inherited file descriptor), never on stdout: whatever a codec,
  library or test prints — even a partial line — goes to stderr and cannot corrupt a result;
- its own process group, killed whole on a time limit, on the parent's exit and on SIGINT, SIGTERM
  or SIGHUP in the parent (``bench.cli`` turns those into ``KeyboardInterrupt``);
- an optional address-space limit (``memory_bytes`` above what the child had after importing the
  task), so a forged length that makes a decoder allocate gigabytes ends in ``MemoryError``.

Jobs travel pickled on stdin and results come back as length-prefixed pickle frames: both sides
are this project's own code running with the user's privileges (a plugin already runs in-process).
POSIX only (process groups, ``RLIMIT_AS``), as before.
"""

from __future__ import annotations

import os
import pickle
import selectors
import signal
import struct
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = str(Path(__file__).resolve().parents[1])
FD_ENV = "MSGBENCH_ISOLATION_FD"
PREFIX = "MSGBENCH"  # a Python service's ready line: ``MSGBENCH ready <json>``
_HEADER = struct.Struct(">I")
_LIVE: set[subprocess.Popen] = set()


@dataclass(frozen=True)
class Task:
    """``fn`` is ``"module:function"`` (module-level, imported by name in the child)."""

    fn: str
    args: Any = None
    env: dict[str, str] = field(default_factory=dict)  # the codec's process_env


@dataclass(frozen=True)
class Limits:
    startup_s: float = 60.0  # until the child has imported the task (plugins, libraries)
    item_s: float | None = None  # per result: no result within this is a hang
    total_s: float | None = None  # the whole child
    memory_bytes: int | None = None  # address space the task may add after its imports


@dataclass(frozen=True)
class Died:
    """A child that did not deliver: ``reason`` is timeout, crash, exit, setup or error."""

    reason: str
    detail: str
    item: int | None = None

    def __str__(self) -> str:
        return self.detail


class TaskDied(Exception):
    def __init__(self, died: Died):
        self.died = died
        super().__init__(died.detail)


def exit_text(rc: int) -> str:
    """A child's return code in words: ``exited with status N`` or ``killed by SIGNAME``."""
    if rc < 0:
        try:
            return f"killed by {signal.Signals(-rc).name}"
        except ValueError:
            return f"killed by signal {-rc}"
    return f"exited with status {rc}"


def child_env(env: dict[str, str] | None) -> dict[str, str]:
    """This process's environment plus ``env``, msgbench's root first on ``PYTHONPATH``,
    unbuffered output and faulthandler on."""
    full = dict(os.environ)
    full.update(env or {})
    full["PYTHONPATH"] = ROOT + (os.pathsep + full["PYTHONPATH"] if full.get("PYTHONPATH") else "")
    full["PYTHONUNBUFFERED"] = "1"
    full["PYTHONFAULTHANDLER"] = "1"
    full.pop(FD_ENV, None)
    return full


def stderr_tail(text: str, n: int = 4) -> str:
    """The last lines a child wrote, or the start of a fatal error's report."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    fatal = next((i for i, ln in enumerate(lines) if ln.startswith("Fatal Python error")), None)
    if fatal is not None:
        return " | ".join(lines[fatal:fatal + 3])[:400]
    return " | ".join(lines[-n:])[-400:]


def kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL a child's whole process group and reap it."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:  # pragma: no cover - a zombie that will not go
        pass
    _LIVE.discard(proc)


def kill_all() -> None:
    """Kill every live child (on a signal or at exit)."""
    for proc in list(_LIVE):
        kill_group(proc)


class _Child:
    """One running child: start it, read its frames with deadlines, kill it."""

    def __init__(self, task: Task, mode: str, start: int, limits: Limits, log: Any):
        rfd, wfd = os.pipe()
        env = child_env(task.env)
        env[FD_ENV] = str(wfd)
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "formats.isolation"], stdin=subprocess.PIPE, stdout=log, stderr=log,
                env=env, pass_fds=(wfd,), start_new_session=True)  # our cwd: relative paths mean the same
        finally:
            os.close(wfd)
        _LIVE.add(self.proc)
        self.rfd = rfd
        self.buf = b""
        self.sel = selectors.DefaultSelector()
        self.sel.register(rfd, selectors.EVENT_READ)
        job = {"fn": task.fn, "args": task.args, "mode": mode, "start": start, "memory_bytes": limits.memory_bytes}
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(pickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL))
            self.proc.stdin.close()
        except BrokenPipeError:
            pass

    def frame(self, timeout: float | None) -> tuple[str, Any] | None:
        """The next (kind, data) frame; None on timeout; ("eof", returncode) when the child is gone."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if len(self.buf) >= _HEADER.size:
                (n,) = _HEADER.unpack_from(self.buf)
                if len(self.buf) >= _HEADER.size + n:
                    data = self.buf[_HEADER.size:_HEADER.size + n]
                    self.buf = self.buf[_HEADER.size + n:]
                    return pickle.loads(data)
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return None
            if not self.sel.select(left):
                return None
            chunk = os.read(self.rfd, 1 << 16)
            if not chunk:
                return "eof", self.proc.wait()
            self.buf += chunk

    def close(self) -> None:
        kill_group(self.proc)
        self.sel.close()
        os.close(self.rfd)


def _died(reason: str, what: str, log: Any, item: int | None = None) -> Died:
    tail = ""
    if log is not None:
        try:
            log.flush()
            log.seek(0)
            tail = stderr_tail(log.read().decode("utf-8", "replace"))
        except (OSError, ValueError):
            tail = ""
    return Died(reason, f"{what}; last output: {tail}" if tail else what, item)


def _eof_died(rc: int, log: Any, item: int | None) -> Died:
    if rc < 0:
        return _died("crash", f"worker process crashed ({exit_text(rc)})", log, item)
    return _died("exit", f"worker process {exit_text(rc)}", log, item)


def run(task: Task, limits: Limits, *, restart: bool = False, start: int = 0,
        log_path: Path | None = None) -> Iterator[tuple[int, Any]]:
    """Run a stream task; yield ``(index, item)`` per result, ``(index, Died)`` for an item that hung
    or crashed (then restart at the next item when ``restart``), and a final ``(index, Died)`` if the
    child could not start (``setup``) or the task raised (``error``)."""
    i = start
    while True:
        log = open(log_path, "a+b") if log_path else tempfile.TemporaryFile()
        child = _Child(task, "stream", i, limits, log)
        began = time.monotonic()
        try:
            first = child.frame(limits.startup_s)
            if first is None:
                yield i, _died("setup", f"the worker did not start within {limits.startup_s:g} s; killed", log)
                return
            if first[0] == "eof":
                yield i, _eof_died(first[1], log, None)
                return
            if first[0] == "setup":
                yield i, Died("setup", first[1])
                return
            while True:
                wait = limits.item_s
                if limits.total_s is not None:
                    left = limits.total_s - (time.monotonic() - began)
                    wait = left if wait is None else min(wait, left)
                msg = child.frame(wait)
                if msg is None:
                    what = f"no result within {wait:g} s: the worker hung and was killed"
                    yield i, _died("timeout", what, log, i)
                    break
                kind, data = msg
                if kind == "item":
                    yield i, data
                    i += 1
                elif kind == "done":
                    return
                elif kind == "error":
                    yield i, Died("error", data, i)
                    return
                else:  # eof
                    yield i, _eof_died(data, log, i)
                    break
        finally:
            child.close()
            log.close()
        if not restart:
            return
        i += 1


def run_once(task: Task, limits: Limits, log_path: Path | None = None) -> Any:
    """Run a once task; its value, or raise :class:`TaskDied`."""
    log = open(log_path, "a+b") if log_path else tempfile.TemporaryFile()
    child = _Child(task, "once", 0, limits, log)
    try:
        first = child.frame(limits.startup_s)
        if first is None:
            raise TaskDied(_died("setup", f"the worker did not start within {limits.startup_s:g} s; killed", log))
        if first[0] == "eof":
            raise TaskDied(_eof_died(first[1], log, None))
        if first[0] == "setup":
            raise TaskDied(Died("setup", first[1]))
        msg = child.frame(limits.total_s)
        if msg is None:
            raise TaskDied(_died("timeout", f"no result within {limits.total_s:g} s: the worker hung and was "
                                            "killed", log))
        kind, data = msg
        if kind == "value":
            return data
        if kind == "error":
            raise TaskDied(Died("error", data))
        raise TaskDied(_eof_died(data, log, None))
    finally:
        child.close()
        log.close()


def install_signal_handlers() -> None:
    """SIGTERM and SIGHUP end the run like Ctrl-C: children killed, results kept atomic."""

    def handler(signum: int, frame: Any) -> None:
        kill_all()
        raise KeyboardInterrupt(signal.Signals(signum).name)

    for sig in (signal.SIGTERM, signal.SIGHUP):
        try:
            signal.signal(sig, handler)
        except (ValueError, OSError):  # not the main thread
            pass


# ------------------------------------------------------------------------------------------------
# long-running services (servers, brokers, subscribers) for the transport section


class Service:
    """A child process that serves until stopped: started in its own session, ``ready`` is what it
    announced (``MSGBENCH ready <json>`` on stdout, or the first line matching ``ready_match`` on
    stderr for a foreign program such as a broker)."""

    def __init__(self, proc: subprocess.Popen, ready: Any, err: Any):
        self.proc, self.ready, self._err = proc, ready, err

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stderr_tail(self) -> str:
        try:
            self._err.flush()
            self._err.seek(0)
            return stderr_tail(self._err.read().decode("utf-8", "replace"))
        except (OSError, ValueError):
            return ""

    def stop(self, grace_s: float = 2.0) -> None:
        """SIGTERM the process group, SIGKILL it after ``grace_s``; reap it."""
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(grace_s)
            except (ProcessLookupError, PermissionError):
                pass
            except subprocess.TimeoutExpired:
                pass
        kill_group(self.proc)
        try:
            if self.proc.stdin:
                self.proc.stdin.close()
        except OSError:
            pass
        self._err.close()


def start_service(argv: list[str], env: dict[str, str] | None = None, timeout_s: float = 20.0,
                  ready_match: Callable[[str], Any] | None = None) -> Service:
    """Start ``argv`` (``[sys.executable, "-m", ...]`` or a program) and wait until it is ready.

    Python services print ``MSGBENCH ready <json>`` (see :func:`announce_ready`) and exit when their
    stdin closes, so they never outlive msgbench. For another program, ``ready_match(stderr_line)``
    returns a non-None value once it is ready. Raises ``RuntimeError`` with the child's last output
    when it dies or is not ready within ``timeout_s`` (the child is then killed).
    """
    import json

    err = tempfile.TemporaryFile()
    python = ready_match is None
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE if python else subprocess.DEVNULL,
                            stderr=err if python else subprocess.PIPE,
                            env=child_env(env) if python else {**os.environ, **(env or {})},
                            start_new_session=True, preexec_fn=None if python else _die_with_parent)
    _LIVE.add(proc)
    service = Service(proc, None, err)
    stream = proc.stdout if python else proc.stderr
    assert stream is not None
    sel = selectors.DefaultSelector()
    sel.register(stream, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout_s
    buf, seen = b"", []
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not sel.select(left):
                raise RuntimeError(f"{Path(argv[0]).name} {' '.join(argv[1:3])}: not ready within {timeout_s:.0f} s")
            chunk = os.read(stream.fileno(), 65536)
            if not chunk:
                proc.wait(5)
                raise RuntimeError(f"{' '.join(argv[:3])}: {exit_text(proc.returncode)} before it was ready")
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                text = line.decode("utf-8", "replace")
                if not python:
                    seen.append(text)
                    err.write(line + b"\n")
                    got = ready_match(text)
                    if got is not None:
                        service.ready = got
                        return service
                elif text.startswith(PREFIX + " ready "):
                    service.ready = json.loads(text.split(" ", 2)[2])
                    return service
    except BaseException as e:
        tail = service.stderr_tail()
        service.stop(0.2)
        if isinstance(e, RuntimeError):
            raise RuntimeError(f"{e}; last output: {tail}" if tail else str(e)) from None
        raise
    finally:
        sel.close()
        if not python and proc.stderr is not None and service.ready is not None:
            _drain(proc.stderr, err)


def _die_with_parent() -> None:
    """In a foreign service's child (Linux): SIGTERM it when msgbench dies, even by SIGKILL, so a
    broker never outlives the run. Elsewhere a no-op (``Service.stop`` still ends it normally)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _drain(stream: Any, sink: Any) -> None:
    """Keep reading a foreign service's stderr into ``sink`` so it never blocks on a full pipe."""
    import threading

    def pump() -> None:
        try:
            for line in iter(stream.readline, b""):
                try:
                    sink.write(line)
                except (OSError, ValueError):
                    return
        except (OSError, ValueError):
            return

    threading.Thread(target=pump, daemon=True).start()


def announce_ready(info: dict) -> None:
    """In a Python service: tell :func:`start_service` it is ready (``info`` e.g. its port), then
    exit (``os._exit``) as soon as the parent closes our stdin or dies."""
    import json
    import threading

    channel = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")  # a private copy of stdout
    os.dup2(2, 1)  # everything else printed goes to stderr
    sys.stdout = sys.stderr
    channel.write(f"{PREFIX} ready {json.dumps(info)}\n")
    channel.flush()

    def watch() -> None:
        try:
            while sys.stdin.buffer.read(65536):
                pass
        except (OSError, ValueError):
            pass
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()


# ------------------------------------------------------------------------------------------------
# the child side: python -m formats.isolation


def _limit_memory(extra: int) -> None:
    import resource

    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[0])
        now = pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        now = 0
    resource.setrlimit(resource.RLIMIT_AS, (now + extra, now + extra))


def _child_main() -> int:
    channel = os.fdopen(int(os.environ.pop(FD_ENV)), "wb", buffering=0)
    os.dup2(2, 1)  # whatever anyone prints goes to stderr, never to the parent's channel
    sys.stdout = sys.stderr

    def send(kind: str, data: Any = None) -> None:
        blob = pickle.dumps((kind, data), protocol=pickle.HIGHEST_PROTOCOL)
        channel.write(_HEADER.pack(len(blob)) + blob)

    job = pickle.loads(sys.stdin.buffer.read())
    try:
        import importlib

        module, _, name = job["fn"].partition(":")
        fn = getattr(importlib.import_module(module), name)
    except BaseException as e:  # noqa: BLE001 - a plugin may raise anything, even SystemExit, at import
        traceback.print_exc()
        send("setup", f"could not load {job['fn']}: {type(e).__name__}: {e}"[:600])
        return 0
    if job.get("memory_bytes"):
        _limit_memory(int(job["memory_bytes"]))
    send("ready")
    try:
        if job["mode"] == "once":
            send("value", fn(job["args"]))
        else:
            for item in fn(job["args"], job["start"]):
                send("item", item)
            send("done")
    except BaseException as e:  # noqa: BLE001
        traceback.print_exc()
        send("error", f"{type(e).__name__}: {e}"[:600])
    return 0


if __name__ == "__main__":
    sys.exit(_child_main())
