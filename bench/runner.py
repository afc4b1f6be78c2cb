"""Orchestrates a run: one worker process per codec, progress, partial saves, sections, report.

Results are written atomically. While a run is in progress its rows go to
``OUT/results.partial.json`` (marked ``"partial": true``) after every codec; ``OUT/results.json``
is replaced only when the run completes, so an interrupted run leaves the previous results intact
and a partial file that says so.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import selectors
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import results
from bench.environment import capture
from bench.environment import finish as finish_environment
from bench.measure import SIZE_SETTINGS, empty_row
from bench.sections import SECTION_PRODUCERS
from bench.subproc import exit_text, kill_group
from bench.timing import Plan
from bench.worker import PREFIX, dump_payloads
from formats.api import MsgbenchError
from formats.registry import CodecEntry, build_registry
from payloads.catalog import Payload

TOOL_VERSION = "0.1.0"


class OutputDirError(MsgbenchError):
    pass


@dataclass
class RunOptions:
    formats: list[str] | None = None
    payloads: list[Payload] = field(default_factory=list)
    out_dir: Path = Path("out")
    plan: Plan = field(default_factory=Plan)
    mode: str = "full"
    sections: list[str] | None = None  # None: the default sections for the mode
    row_timeout_s: float = 180.0
    plugins: bool | None = None
    argv: list[str] = field(default_factory=list)
    render: bool = True
    conformance: bool = True  # run the conformance kit on plugins before timing them
    quiet: bool = False


@dataclass
class SectionContext:
    """What a section producer (evolution, faults, ...) gets."""

    codecs: list[str]  # usable codec names in this run
    payloads: list[Payload]
    plan: Plan
    mode: str
    out_dir: Path
    plugins: bool | None
    log: Callable[[str], None]



def check_output_dir(out_dir: Path) -> None:
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out_dir, prefix=".write-test-"):
            pass
    except OSError as e:
        raise OutputDirError(f"cannot write to output directory {out_dir}: {e.strerror or e}; "
                             "choose another with --out") from None


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def payload_info(p: Payload) -> dict:
    import orjson

    from formats.json_orjson import OrjsonCodec

    try:
        prepared = OrjsonCodec().prepare(p.schema)
        json_bytes = len(orjson.dumps(prepared.to_native(p.value)))
    except Exception:
        json_bytes = None
    return {"name": p.name, "description": p.description, "source": p.source, "json_bytes": json_bytes,
            "record": p.schema.name, "notes": list(p.notes)}


class _WorkerRun:
    """Runs one codec's worker and yields its messages, with an inactivity timeout."""

    def __init__(self, entry: CodecEntry, env: dict[str, str], job: dict, log_path: Path, timeout_s: float):
        self.entry, self.timeout_s = entry, timeout_s
        self.log_path = log_path
        self.log = open(log_path, "wb")
        full_env = dict(os.environ)
        full_env.update(env)
        full_env["PYTHONUNBUFFERED"] = "1"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.worker"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=self.log, env=full_env, start_new_session=True,
        )
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(job).encode())
        self.proc.stdin.close()

    def messages(self):
        assert self.proc.stdout is not None
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        buf = b""
        while True:
            if not sel.select(self.timeout_s):
                self.kill()
                yield "timeout", {"error": f"no progress for {self.timeout_s:.0f} s: worker hung and was killed"}
                return
            chunk = os.read(self.proc.stdout.fileno(), 65536)
            if not chunk:
                break
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                text = line.decode("utf-8", "replace")
                if text.startswith(PREFIX + " "):
                    _, kind, data = text.split(" ", 2)
                    yield kind, json.loads(data)
        rc = self.proc.wait()
        if rc != 0:
            yield "exit", {"returncode": rc, "error": self.describe_exit(rc)}

    def describe_exit(self, rc: int) -> str:
        why = f"worker process crashed ({exit_text(rc)})" if rc < 0 else f"worker process {exit_text(rc)}"
        tail = self.stderr_tail()
        return f"{why}; last output: {tail}" if tail else why

    def stderr_tail(self, n: int = 3) -> str:
        self.log.flush()
        try:
            lines = [ln for ln in self.log_path.read_text(errors="replace").splitlines() if ln.strip()]
        except OSError:
            return ""
        return " | ".join(lines[-n:])[-500:]

    def kill(self) -> None:
        kill_group(self.proc)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.kill()
        self.log.close()


def _progress(quiet: bool):
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=Console(stderr=True, quiet=quiet), transient=False,
    )


def private_work_dir(out_dir: Path) -> Path:
    """``out_dir/.work``, the run's scratch space (the pickled payloads, i.e. the user's records, and
    worker logs): emptied of an earlier run's leftovers and made private (0700)."""
    work = out_dir / ".work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(mode=0o700, exist_ok=True)
    os.chmod(work, 0o700)  # mkdir's mode is subject to the umask
    return work


def run(opts: RunOptions) -> dict:
    """Measure, save results.json. Returns the results document. ``OUT/.work`` is removed when
    the run ends, however it ends (an exception or Ctrl-C)."""
    check_output_dir(opts.out_dir)
    work = private_work_dir(opts.out_dir)
    try:
        return _run(opts, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _run(opts: RunOptions, work: Path) -> dict:
    started = time.perf_counter()
    registry = build_registry(opts.plugins)
    entries = registry.select(opts.formats)
    payloads = opts.payloads
    final_path = opts.out_dir / "results.json"
    partial_path = opts.out_dir / "results.partial.json"
    payloads_file = work / "payloads.pkl"
    dump_payloads(payloads, str(payloads_file))

    doc: dict[str, Any] = {
        "schema_version": results.SCHEMA_VERSION,
        "tool": {"name": "msgbench", "version": TOOL_VERSION},
        "run": {"started": _now(), "finished": None, "partial": True, "mode": opts.mode, "argv": opts.argv,
                "plan": opts.plan.to_json(), "sizes": SIZE_SETTINGS, "duration_s": None},
        "environment": capture(),
        "codecs": [],
        "payloads": [payload_info(p) for p in payloads],
        "rows": [],
        "sections": {},
    }

    def save_partial() -> None:
        doc["run"]["duration_s"] = round(time.perf_counter() - started, 2)
        results.save(doc, partial_path)

    progress = _progress(opts.quiet)
    usable: list[str] = []
    try:
        with progress:
            task = progress.add_task("measuring", total=len(entries) * len(payloads))
            for entry in entries:
                info = run_codec(entry, payloads, payloads_file, opts, doc, progress, task, work)
                if info.get("status") == "ok":
                    usable.append(entry.name)
                save_partial()
            for name in opts.sections if opts.sections is not None else default_sections(opts.mode):
                progress.update(task, description=f"section: {name}")
                doc["sections"][name] = run_section(name, SectionContext(
                    usable, payloads, opts.plan, opts.mode, opts.out_dir, opts.plugins,
                    lambda msg: progress.console.print(msg)))
                save_partial()
            progress.update(task, description="done")
    except KeyboardInterrupt:
        doc["run"]["interrupted"] = True
        save_partial()
        raise
    doc["run"]["partial"] = False
    finish_environment(doc["environment"])
    doc["run"]["finished"] = _now()
    doc["run"]["duration_s"] = round(time.perf_counter() - started, 2)
    results.save(doc, final_path)
    try:
        partial_path.unlink()
    except FileNotFoundError:
        pass
    return doc


def default_sections(mode: str) -> list[str]:
    return [name for name, (_, on) in SECTION_PRODUCERS.items() if on]


def run_section(name: str, ctx: SectionContext) -> dict:
    import importlib
    import traceback

    if name not in SECTION_PRODUCERS:
        raise MsgbenchError(f"unknown section {name!r}; known: {', '.join(SECTION_PRODUCERS)}")
    target, _ = SECTION_PRODUCERS[name]
    mod, _, fn = target.partition(":")
    t0 = time.perf_counter()
    try:
        data = getattr(importlib.import_module(mod), fn)(ctx)
    except Exception as e:
        return {"error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc(limit=6)}
    data.setdefault("duration_s", round(time.perf_counter() - t0, 2))
    return data


def run_codec(entry: CodecEntry, payloads: list[Payload], payloads_file: Path, opts: RunOptions, doc: dict,
              progress: Any, task: Any, work: Path) -> dict:
    """Measure one codec in its own worker; add its info and rows to ``doc``."""
    info: dict[str, Any] = {"name": entry.name, "source": entry.source, "format": entry.name.split("/")[0]}
    done: set[str] = set()

    def fail_remaining(reason: str) -> None:
        for p in payloads:
            if p.name not in done:
                doc["rows"].append(empty_row(entry.name, info["format"], p.name, "failed", reason))
                done.add(p.name)
                progress.advance(task)

    try:
        codec = entry.codec()
        codec.check_available()
        env = dict(codec.process_env)
    except Exception as e:
        info.update(status="unavailable" if "pip install" in str(e) else "failed", error=str(e))
        doc["codecs"].append(info)
        fail_remaining(f"codec unavailable: {e}")
        return info
    job = {"codec": entry.name, "payloads_file": str(payloads_file), "plan": opts.plan.to_json(),
           "plugins": opts.plugins if opts.plugins is not None else True,
           # plugins pass the conformance kit before they are timed (built-ins pass it in our tests)
           "conformance": opts.conformance and not entry.builtin}
    safe = entry.name.replace("/", "_")
    worker = _WorkerRun(entry, env, job, work / f"{safe}.log", opts.row_timeout_s)
    info.update(status="ok", error=None)
    try:
        current = None
        for kind, data in worker.messages():
            if kind == "codec":
                info.update(data)
            elif kind == "conformance":
                info["conformance"] = data
                if not data["passed"]:
                    info.update(status="failed", error="fails the conformance kit (rules: "
                                + ", ".join(data["failed_rules"]) + "); run `msgbench check-plugin "
                                + entry.name + "` for details")
            elif kind == "start":
                current = data["payload"]
                progress.update(task, description=f"{entry.name} · {current}")
            elif kind == "row":
                doc["rows"].append(data)
                done.add(data["payload"])
                progress.advance(task)
            elif kind == "fatal":
                info.update(status="failed", error=data["error"])
                fail_remaining(f"codec failed to start: {data['error']}")
            elif kind in ("timeout", "exit"):
                where = f" while measuring {current}" if current and current not in done else ""
                if info.get("status") == "ok" and len(done) < len(payloads):
                    info["error"] = data["error"] + where
                fail_remaining(data["error"] + where)
    finally:
        worker.close()
    if "library_version" not in info and info["status"] == "ok":
        info.update(status="failed", error=info.get("error") or "worker produced no codec information")
    fail_remaining(info.get("error") or "worker ended without measuring this payload")
    doc["codecs"].append(info)
    return info
