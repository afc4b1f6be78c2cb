"""One-shot section jobs on top of ``formats.isolation`` (the only module that starts children).

Used by the measurement sections (calibration, batches, scaling, memory) so that a codec that
crashes, hangs or leaks never takes the run down, and so that each codec runs with its own
``process_env``. The job is ``handle_job(job) -> JSON-able dict`` in the section's module::

    result, error = run_job("bench.memory", job, env=codec.process_env, timeout_s=60)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from formats.isolation import Limits, Task, TaskDied, run_once


def run_job(module: str, job: dict, env: dict[str, str] | None = None, timeout_s: float = 120.0) -> tuple[Any, str | None]:
    """Run ``module.handle_job(job)`` in a child; return ``(result, None)`` or ``(None, error)``."""
    try:
        return run_once(Task(f"{module}:handle_job", job, dict(env or {})), Limits(total_s=timeout_s)), None
    except TaskDied as e:
        return None, e.died.detail


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
