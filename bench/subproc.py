"""One-shot section jobs on top of ``formats.isolation`` (the only module that starts children).

Used by the measurement sections (calibration, batches, scaling, memory) so that a codec that
crashes, hangs or leaks never takes the run down, and so that each codec runs with its own
``process_env``. The job is ``handle_job(job) -> JSON-able dict`` in the section's module::

    result, error = run_job("bench.memory", job, env=codec.process_env, timeout_s=60)
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TextIO

from formats.isolation import ROOT, Limits, Task, TaskDied, child_env, exit_text, kill_group, run_once  # noqa: F401

PREFIX = "MSGBENCH"


def run_job(module: str, job: dict, env: dict[str, str] | None = None, timeout_s: float = 120.0) -> tuple[Any, str | None]:
    """Run ``module.handle_job(job)`` in a child; return ``(result, None)`` or ``(None, error)``."""
    try:
        return run_once(Task(f"{module}:handle_job", job, dict(env or {})), Limits(total_s=timeout_s)), None
    except TaskDied as e:
        return None, e.died.detail


def private_channel() -> TextIO:
    """In a worker: a private copy of stdout for its messages to the parent; fd 1 and ``sys.stdout``
    then point at stderr, so nothing a codec, library or test prints can corrupt the messages."""
    channel = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return channel


def worker_main(handle: Callable[[dict], Any]) -> int:
    """The child side: job from stdin, ``handle(job)``'s result as one line on the private channel."""
    channel = private_channel()
    job = json.loads(sys.stdin.read())
    try:
        result = handle(job)
    except Exception as e:
        traceback.print_exc()
        result = {"__worker_error__": f"{type(e).__name__}: {e}"[:600]}
    from bench.results import dumps

    channel.write(f"{PREFIX} result {dumps(result).replace(chr(10), ' ')}\n")
    channel.flush()
    return 0


def load_codec(name: str, plugins: bool | None) -> Any:
    """The codec ``name`` from the registry, checked usable (in the child)."""
    from formats.registry import build_registry

    codec = build_registry(plugins).codec(name)
    codec.check_available()
    return codec


def codec_env(name: str, plugins: bool | None) -> tuple[dict[str, str] | None, str | None]:
    """The codec's ``process_env`` (read in the parent without using the codec), or an error."""
    from formats.registry import build_registry

    try:
        return dict(getattr(build_registry(plugins).codec(name), "process_env", {}) or {}), None
    except Exception as e:
        return None, f"{type(e).__name__}: {e}"


def per_codec(module: str, codecs: Iterable[str], make_job: Callable[[str], dict], plugins: bool | None,
              timeout_s: float, log: Callable[[str], None] = lambda m: None) -> list[tuple[str, Any, str | None]]:
    """Run one child per codec, sequentially; ``[(codec, result or None, error or None)]``."""
    out = []
    for name in codecs:
        env, err = codec_env(name, plugins)
        if err is not None:
            out.append((name, None, err))
            continue
        result, err = run_job(module, make_job(name), env, timeout_s)
        if err is not None:
            log(f"{module.rsplit('.', 1)[-1]}: {name}: {err}")
        out.append((name, result, err))
    return out


def dump_payloads_for(payloads: list, out_dir: Path, tag: str) -> str:
    """Pickle the run's payloads (values may hold bytes) where the children can read them."""
    from bench.worker import dump_payloads

    work = Path(out_dir) / ".work"
    work.mkdir(parents=True, exist_ok=True)
    path = work / f"{tag}-payloads.pkl"
    dump_payloads(payloads, str(path))
    return str(path)


def payloads_by_name(path: str, names: list[str] | None = None) -> list:
    """In the child: the payloads pickled by :func:`dump_payloads_for`, optionally only ``names``."""
    from bench.worker import load_payloads

    ps = load_payloads(path)
    return ps if names is None else [p for p in ps if p.name in set(names)]


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
            return _tail(self._err.read().decode("utf-8", "replace"))
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
    import selectors
    import time

    err = tempfile.TemporaryFile()
    python = ready_match is None
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE if python else subprocess.DEVNULL,
                            stderr=err if python else subprocess.PIPE,
                            env=child_env(env) if python else {**os.environ, **(env or {})},
                            start_new_session=True, preexec_fn=None if python else _die_with_parent)
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
    import threading

    channel = private_channel()
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
