"""Orchestrates a run: one worker process per codec, progress, partial saves, sections, report.

Results are written atomically. While a run is in progress its rows go to
``OUT/results.partial.json`` (marked ``"partial": true``) after every codec; ``OUT/results.json``
is replaced only when the run completes, so an interrupted run leaves the previous results intact
and a partial file that says so.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.environment import capture
from bench.environment import finish as finish_environment
from bench.measure import SIZE_SETTINGS, empty_row
from bench.sections import SECTION_PRODUCERS
from bench.timing import Plan
from bench.worker import dump_payloads
from formats.api import MsgbenchError
from formats.isolation import Died, Limits, Task
from formats.isolation import run as run_isolated
from formats.registry import CodecEntry, build_registry
from payloads.catalog import Payload
from reports import results

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
    section_options: dict = field(default_factory=dict)  # section name -> its options (e.g. `msgbench transport`)


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
    options: dict = field(default_factory=dict)  # this section's options from RunOptions.section_options



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
    processes = opts.plan.worker_processes
    # per codec: its info from the first process and every process's rows, merged into doc
    measured: dict[str, tuple[dict, list[list[dict]]]] = {}

    def merge_into_doc() -> None:
        doc["codecs"] = [measured[e.name][0] for e in entries if e.name in measured]
        doc["rows"] = [row for e in entries if e.name in measured
                       for row in merge_process_rows(measured[e.name][1], [p.name for p in payloads])]

    try:
        with progress:
            task = progress.add_task("measuring", total=len(entries) * len(payloads) * processes)
            # Processes are interleaved between codecs (pass 1 of every codec, then pass 2, ...), so
            # a slow spell of the machine touches every codec a little rather than one a lot.
            for index in range(processes):
                for entry in entries:
                    if index and measured.get(entry.name, ({},))[0].get("status") != "ok":
                        progress.advance(task, len(payloads))  # failed in process 1: not retried
                        continue
                    label = f" (process {index + 1}/{processes})" if processes > 1 else ""
                    info, rows = run_codec(entry, payloads, payloads_file, opts, progress, task, work, label)
                    if index == 0:
                        measured[entry.name] = (info, [rows])
                    else:
                        measured[entry.name][1].append(rows)
                        if info.get("status") != "ok" and measured[entry.name][0].get("status") == "ok":
                            measured[entry.name][0].update(
                                status="failed", error=f"process {index + 1} of {processes}: {info.get('error')}")
                    merge_into_doc()
                    save_partial()
            usable += [e.name for e in entries if measured.get(e.name, ({},))[0].get("status") == "ok"]
            for name in opts.sections if opts.sections is not None else default_sections(opts.mode):
                progress.update(task, description=f"section: {name}")
                doc["sections"][name] = run_section(name, SectionContext(
                    usable, payloads, opts.plan, opts.mode, opts.out_dir, opts.plugins,
                    lambda msg: progress.console.print(msg), dict(opts.section_options.get(name) or {})))
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


def merge_process_rows(per_process: list[list[dict]], payload_names: list[str]) -> list[dict]:
    """One row per payload from the rows of several worker processes of one codec (pure).

    The correctness gate, sizes and fidelity are deterministic and come from the first process; a
    row that failed in any process is failed (the first failure's row, naming the process); every
    timing figure is combined with ``reports.stats.combine`` (between-process CI, per-process medians).
    """
    from reports.stats import combine

    out = []
    for name in payload_names:
        rows = [next((r for r in rows if r.get("payload") == name), None) for rows in per_process]
        rows = [r for r in rows if r is not None]
        if not rows:
            continue
        bad = next(((i, r) for i, r in enumerate(rows) if r.get("status") != "ok"), None)
        if bad is not None:
            i, r = bad
            row = dict(r)
            if i and len(rows) > 1 and row.get("error"):
                row["error"] = f"process {i + 1} of {len(per_process)}: {row['error']}"
            out.append(row)
            continue
        row = dict(rows[0])
        if len(rows) > 1:
            for key, fig in rows[0].items():
                if isinstance(fig, dict) and "median_ns" in fig and "samples_ns" in fig:
                    figs = [r.get(key) for r in rows]
                    row[key] = combine([f for f in figs if isinstance(f, dict)])
        out.append(row)
    return out


def run_codec(entry: CodecEntry, payloads: list[Payload], payloads_file: Path, opts: RunOptions,
              progress: Any, task_id: Any, work: Path, label: str = "") -> tuple[dict, list[dict]]:
    """Measure one codec in one worker process; return its info and one row per payload."""
    info: dict[str, Any] = {"name": entry.name, "source": entry.source, "format": entry.name.split("/")[0]}
    done: set[str] = set()
    rows: list[dict] = []

    def fail_remaining(reason: str) -> None:
        for p in payloads:
            if p.name not in done:
                rows.append(empty_row(entry.name, info["format"], p.name, "failed", reason))
                done.add(p.name)
                progress.advance(task_id)

    try:
        if entry.builtin:
            codec = entry.codec()
            codec.check_available()
            env = dict(codec.process_env)
        else:  # a plugin is imported in a child first: its import may crash or hang
            from formats.registry import isolated_entry_info

            described = isolated_entry_info(entry)
            if not described.usable:
                raise MsgbenchError(described.error or "unusable")
            env = dict(described.process_env)
    except Exception as e:
        info.update(status="unavailable" if "pip install" in str(e) else "failed", error=str(e))
        fail_remaining(f"codec unavailable: {e}")
        return info, rows
    job = {"codec": entry.name, "payloads_file": str(payloads_file), "plan": opts.plan.to_json(),
           "plugins": opts.plugins if opts.plugins is not None else True,
           # plugins pass the conformance kit before they are timed (built-ins pass it in our tests)
           "conformance": opts.conformance and not entry.builtin}
    safe = entry.name.replace("/", "_")
    limits = Limits(startup_s=opts.row_timeout_s, item_s=opts.row_timeout_s)
    task = Task("bench.worker:measure_task", job, env)
    info.update(status="ok", error=None)
    current = None
    for _, item in run_isolated(task, limits, log_path=work / f"{safe}.log"):
        if isinstance(item, Died):
            if item.reason == "setup":
                info.update(status="failed", error=item.detail)
                fail_remaining(f"codec failed to start: {item.detail}")
                break
            if item.reason == "timeout":
                why = f"no progress for {opts.row_timeout_s:.0f} s: worker hung and was killed"
            else:
                why = item.detail
            where = f" while measuring {current}" if current and current not in done else ""
            if info.get("status") == "ok" and len(done) < len(payloads):
                info["error"] = why + where
            fail_remaining(why + where)
            break
        kind, data = item
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
            progress.update(task_id, description=f"{entry.name} · {current}{label}")
        elif kind == "row":
            rows.append(data)
            done.add(data["payload"])
            progress.advance(task_id)
        elif kind == "fatal":
            info.update(status="failed", error=data["error"])
            fail_remaining(f"codec failed to start: {data['error']}")
    if "library_version" not in info and info["status"] == "ok":
        info.update(status="failed", error=info.get("error") or "worker produced no codec information")
    fail_remaining(info.get("error") or "worker ended without measuring this payload")
    return info, rows
