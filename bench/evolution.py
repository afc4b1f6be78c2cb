"""The schema-evolution matrix: what each codec *really* does when writer and reader schemas differ.

For every scenario of :mod:`payloads.evolution` x codec x direction the engine encodes with the
writer's schema, decodes with a reader built by ``codec.prepare(writer, reader_schema=reader,
policy=...)`` and judges the decoded value (``from_native`` against the reader's schema) against
the scenario's ideal with :func:`classify`. Nothing is taken from documentation:

- ``backward``: v1 value encoded with v1, read by a v2 reader.
- ``forward``: v2 value encoded with v2, read by a v1 reader.
- ``roundtrip``: v2 value encoded with v2, read by a v1 intermediary (which decodes it, reads it
  with ``from_native`` and forwards the *decoded native object* re-encoded with v1, as a service
  forwarding a protobuf message does), then read by a v2 reader. Does what v1 did not know survive?

Outcomes: ``ok`` (the ideal value), ``defaulted`` (a field the writer did not have got the reader's
default or None), ``dropped`` (a field the reader does not know is absent, the rest right; on a
roundtrip: the intermediary lost it), ``preserved-unknown`` (roundtrip: the intermediary kept what
it did not know and the final reader sees it), ``corrupted`` (decoded without error, but a value is
wrong: path, expected, actual), ``error`` (exception type and message; ``crash:``/``timeout:``
when the process died or hung), ``unsupported`` (the codec cannot express the scenario). Each
cell also says whether it matches the ideal (``ideal``): an ``error`` is the ideal outcome when no
correct value exists.

Text formats are judged under both reader policies (columns ``json/orjson (tolerant)`` and
``json/orjson (strict)``); codecs that declare no evolution modes (plugins) decode with a reader
prepared for the reader schema alone. The matrix runs in worker processes (``python -m
bench.evolution --worker``, one per codec, two at a time), each cell under a time limit, so a C
extension that crashes or hangs on mismatched input costs one cell, not the run.
"""

from __future__ import annotations

import json
import os
import re
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.subproc import child_env, exit_text, kill_group
from payloads.evolution import DIRECTIONS, SCENARIOS, Expectation, Scenario
from payloads.model import Difference, Record, SchemaMismatch, differences, validate

OUTCOMES = ("ok", "defaulted", "dropped", "preserved-unknown", "corrupted", "error", "unsupported")
GOOD = ("ok", "defaulted", "dropped", "preserved-unknown")
TEXT_POLICIES = ("tolerant", "strict")
PREFIX = "EVO"
CELL_TIMEOUT_S = 10.0  # hard limit per cell (the worker is killed)
SOFT_TIMEOUT_S = 5.0  # in-process limit per cell (SIGALRM; the worker survives)
STARTUP_TIMEOUT_S = 60.0
MAX_RESTARTS = 6  # crashes per codec before its remaining cells are given up
MAX_TIMEOUTS = 2  # cells per codec that may time out before its remaining cells are given up
DETAIL_MAX = 400
_ABSENT = "<absent>"


# ------------------------------------------------------------------------------------------------
# Classifying an observed outcome (pure).


@dataclass(frozen=True)
class Verdict:
    outcome: str
    detail: str
    ideal: bool  # the outcome is what the ideal reader does

    def to_json(self) -> dict:
        return {"outcome": self.outcome, "detail": self.detail, "ideal": self.ideal}


def _norm(path: str) -> str:
    """A differences() path without list indices / the ``.length`` pseudo-field."""
    p = re.sub(r"\[\d+\]", "", path)
    return p[: -len(".length")] if p.endswith(".length") else p


def _under(path: str, prefixes: tuple[str, ...] | list[str]) -> bool:
    return any(path == q or path.startswith(q + ".") for q in prefixes)


def _is_default(actual: Any, candidates: tuple[Any, ...]) -> bool:
    if actual is None or actual == _ABSENT:
        return True
    return any(c is not None and type(c) is type(actual) and c == actual for c in candidates)


def _describe(diffs: list[Difference], limit: int = 3) -> str:
    text = "; ".join(d.describe() for d in diffs[:limit])
    if len(diffs) > limit:
        text += f"; and {len(diffs) - limit} more"
    return text


def _clip(text: str, n: int = DETAIL_MAX) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 3] + "..."


def classify(exp: Expectation, actual: Any, reader: Record | None = None, intermediary: Any = None) -> Verdict:
    """Judge a decoded value against the scenario's ideal for one direction (``intermediary``: on a
    roundtrip, the value the v1 intermediary read)."""
    if exp.reject:
        return _classify_accepted(exp, actual, reader, intermediary)
    rt = exp.direction == "roundtrip"
    diffs = differences(exp.value, actual)
    if not diffs:
        if rt and (exp.unknown or exp.substituted):
            kept = list(exp.unknown) + [f"the value of {p}" for p in exp.substituted]
            return Verdict("preserved-unknown", _clip(
                f"the v1 intermediary kept {', '.join(kept)}, which it does not know; the final reader sees it"), True)
        notes = []
        if exp.new:
            got = ", ".join(f"{p}={_lookup(actual, p)!r:.40}" for p in exp.new)
            notes.append(f"the writer did not have {', '.join(exp.new)}: reader default ({got})")
        if exp.substituted:
            got = ", ".join(f"{p}={_lookup(actual, p)!r:.40}" for p in exp.substituted)
            notes.append(f"a value the reader cannot represent became its default ({got})")
        if exp.unknown and not rt:
            notes.append(f"ignored {', '.join(exp.unknown)}, which the reader does not know")
        if exp.new or exp.substituted:
            return Verdict("defaulted", _clip("; ".join(notes)), True)
        if exp.unknown and not rt:
            return Verdict("dropped", _clip("; ".join(notes)), True)
        return Verdict("ok", "", True)
    lossy = tuple(exp.unknown) + tuple(exp.substituted) if rt else ()
    soft_new = () if rt else tuple(exp.new) + tuple(exp.substituted)
    corrupt, lost, defaulted = [], [], []
    for d in diffs:
        p = _norm(d.path)
        cands = exp.defaults.get(p, ())
        if rt and _under(p, lossy) and _is_default(d.actual, cands):
            lost.append(d)
        elif _under(p, soft_new) and _is_default(d.actual, cands):
            defaulted.append(d)
        else:
            corrupt.append(d)
    if corrupt:
        return Verdict("corrupted", _clip("no error, wrong value: " + _describe(corrupt)), False)
    if lost:
        return Verdict("dropped", _clip("the v1 intermediary lost what it did not know: " + _describe(lost)), False)
    return Verdict("defaulted", _clip("reader default, but not the ideal value: " + _describe(defaulted)), False)


def _classify_accepted(exp: Expectation, actual: Any, reader: Record | None, intermediary: Any) -> Verdict:
    """The ideal reader rejects this data, but the codec decoded something: what did it make up?"""
    why = f"no error although {exp.reject}"
    if exp.reference is None:
        return Verdict("corrupted", _clip(f"{why}; decoded {actual!r}"), False)
    diffs = differences(exp.reference, actual)
    if not diffs and exp.direction == "roundtrip":
        seen = intermediary if isinstance(intermediary, dict) else {}
        same = {k: v for k, v in exp.reference.items() if k in seen}
        misread = [d for d in differences(same, {k: seen[k] for k in same}) if d.expected not in (None, _ABSENT)]
        if misread:
            return Verdict("preserved-unknown", _clip(
                f"the v1 intermediary could not read the value ({exp.reject}: it saw "
                f"{_describe(misread, 2)}) but forwarded it unchanged"), True)
        return Verdict("ok", _clip(f"the final reader got the v2 value unchanged although {exp.reject}"), True)
    if not diffs:
        if reader is not None:
            try:
                validate(reader, actual)
            except SchemaMismatch as e:
                return Verdict("corrupted", _clip(f"{why}; the decoded value breaks the reader's schema: {e}"), False)
        return Verdict("ok", _clip(f"{why}; the writer's value came through unchanged"), False)
    made_up = [d for d in diffs if _under(_norm(d.path), exp.new) and d.expected == _ABSENT]
    wrong = [d for d in diffs if d not in made_up]
    # a required field the writer did not write, filled in by the reader
    missing = [d for d in wrong if _is_default(d.actual, exp.defaults.get(_norm(d.path), ()))
               and d.expected in (None, _ABSENT)]
    wrong = [d for d in wrong if d not in missing]
    converted = [d for d in wrong if _lossless(d.expected, d.actual)]
    if converted and len(converted) == len(wrong) and not missing and not made_up:
        return Verdict("ok", _clip(f"{why}; converted without loss: {_describe(converted)}"), False)
    if wrong:
        return Verdict("corrupted", _clip(f"{why}: {_describe(wrong)}"), False)
    return Verdict("defaulted", _clip(f"{why}: filled in {_describe(made_up + missing)}"), False)


def _lossless(expected: Any, actual: Any) -> bool:
    """``actual`` is ``expected`` in another type without loss (4200017 -> '4200017', 500 -> 500.0)."""
    if isinstance(expected, bool) or isinstance(actual, bool):
        return False
    if isinstance(expected, int) and isinstance(actual, str):
        return actual == str(expected)
    if isinstance(expected, int) and isinstance(actual, float):
        return actual == expected
    return False


def _lookup(value: Any, path: str) -> Any:
    for part in path.split("."):
        if isinstance(value, dict):
            value = value.get(part, _ABSENT)
        elif isinstance(value, list):
            value = [v.get(part, _ABSENT) if isinstance(v, dict) else v for v in value]
        else:
            return value
    return value


def error_verdict(exp: Expectation, stage: str, exc: BaseException) -> Verdict:
    from formats.api import UnsupportedSchema

    msg = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, UnsupportedSchema):
        return Verdict("unsupported", _clip(str(exc)), False)
    text = f"{stage}: {msg}"
    if exp.reject:
        text += f" (rightly: {exp.reject})"
    return Verdict("error", _clip(text), bool(exp.reject))


# ------------------------------------------------------------------------------------------------
# Running cells (inside a worker process).


@dataclass(frozen=True)
class Column:
    name: str  # matrix column, e.g. "json/orjson (strict)"
    codec: str
    policy: str | None


def columns_for(codec: Any) -> list[Column]:
    modes = tuple(getattr(codec.capabilities, "evolution_modes", ()) or ())
    policies = [p for p in TEXT_POLICIES if p in modes]
    if policies:
        return [Column(f"{codec.name} ({p})", codec.name, p) for p in policies]
    return [Column(codec.name, codec.name, None)]


class _Preparer:
    """Prepared writers and readers for one codec and policy, built once (errors cached too)."""

    def __init__(self, codec: Any, policy: str | None):
        self.codec, self.policy = codec, policy
        self.tagged = bool(getattr(codec.capabilities, "evolution_modes", ()))
        self._cache: dict[tuple, Any] = {}

    def _get(self, key: tuple, make: Callable[[], Any]) -> Any:
        if key not in self._cache:
            try:
                self._cache[key] = ("ok", make())
            except Exception as e:  # cached so a failing schema costs one attempt
                self._cache[key] = ("err", e)
        kind, obj = self._cache[key]
        if kind == "err":
            raise obj
        return obj

    def writer(self, sc: Scenario, ver: str) -> Any:
        schema = sc.v1 if ver == "v1" else sc.v2
        return self._get((sc.id, ver), lambda: self.codec.prepare(schema))

    def reader(self, sc: Scenario, writer_ver: str) -> Any:
        w, r = (sc.v1, sc.v2) if writer_ver == "v1" else (sc.v2, sc.v1)
        if not self.tagged:  # no evolution support declared: the reader schema's own decoder
            return self._get((sc.id, "plain", writer_ver), lambda: self.codec.prepare(r))
        return self._get((sc.id, "r", writer_ver),
                         lambda: self.codec.prepare(w, reader_schema=r, policy=self.policy))


class _CellTimeout(BaseException):  # not swallowed by a codec's `except Exception`
    pass


def _alarm(signum: int, frame: Any) -> None:
    raise _CellTimeout("no result within the cell's time limit")


def run_cell(prep: _Preparer, sc: Scenario, direction: str) -> Verdict:
    exp = sc.expectation(direction)
    stage = "prepare"
    try:
        if direction in ("backward", "forward"):
            wv = "v1" if direction == "backward" else "v2"
            writer, reader = prep.writer(sc, wv), prep.reader(sc, wv)
            stage = "encode"
            data = writer.encode(writer.to_native(sc.writer_value(direction)))
            stage = "decode"
            native = reader.decode(data)
            stage = "from_native"
            actual = reader.from_native(native)
            return classify(exp, actual, sc.schemas(direction)[1])
        w2, mid, w1, fin = prep.writer(sc, "v2"), prep.reader(sc, "v2"), prep.writer(sc, "v1"), prep.reader(sc, "v1")
        stage = "encode v2"
        data = w2.encode(w2.to_native(sc.v2_value))
        stage = "v1 intermediary decode"
        native = mid.decode(data)
        stage = "v1 intermediary from_native"
        mid_value = mid.from_native(native)
        stage = "v1 intermediary re-encode"
        via = ""
        try:
            data2 = w1.encode(native)
        except Exception as e:  # the decoded object is not the v1 writer's native form
            via = f" (re-encoded through the model: the v1 encoder refused the decoded object: {type(e).__name__})"
            data2 = w1.encode(w1.to_native(mid_value))
        stage = "v2 decode"
        final = fin.decode(data2)
        stage = "v2 from_native"
        actual = fin.from_native(final)
        v = classify(exp, actual, sc.v2, mid_value)
        return Verdict(v.outcome, _clip(v.detail + via), v.ideal) if via else v
    except _CellTimeout as e:
        return Verdict("error", f"timeout: {stage}: {e}", False)
    except Exception as e:
        return error_verdict(exp, stage, e)


def _emit(kind: str, data: Any) -> None:
    sys.stdout.write(f"{PREFIX} {kind} {json.dumps(data)}\n")
    sys.stdout.flush()


def _load_codec(job: dict) -> Any:
    """The codec class the parent used (``target``), else the registry's entry of that name."""
    target = job.get("target")
    if target:
        import importlib

        mod, _, attr = target.partition(":")
        try:
            cls = getattr(importlib.import_module(mod), attr)
        except (ImportError, AttributeError):
            cls = None
        if cls is not None and getattr(cls, "name", None) == job["codec"]:
            return cls()
    from formats.registry import build_registry

    return build_registry(job.get("plugins")).codec(job["codec"])


def worker_main() -> int:
    """``python -m bench.evolution --worker``: run the cells of a job read from stdin."""
    job = json.loads(sys.stdin.read())
    try:
        codec = _load_codec(job)
        codec.check_available()
    except Exception as e:
        _emit("fatal", {"error": _clip(f"{type(e).__name__}: {e}")})
        return 1
    by_id = {s.id: s for s in SCENARIOS}
    preps: dict[str | None, _Preparer] = {}
    _emit("ready", {})
    signal.signal(signal.SIGALRM, _alarm)
    soft = float(job.get("soft_timeout", SOFT_TIMEOUT_S))
    timeouts = 0
    for scenario, direction, policy, column in job["cells"]:
        _emit("start", [scenario, direction, column])
        if timeouts >= MAX_TIMEOUTS:
            v = Verdict("error", f"timeout: not run, {timeouts} earlier cells of this codec timed out", False)
        else:
            prep = preps.setdefault(policy, _Preparer(codec, policy))
            signal.setitimer(signal.ITIMER_REAL, soft)
            try:
                v = run_cell(prep, by_id[scenario], direction)
            except _CellTimeout as e:
                v = Verdict("error", f"timeout: {e}", False)
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            if v.detail.startswith("timeout:"):
                timeouts += 1
        _emit("cell", {"scenario": scenario, "codec": column, "direction": direction, **v.to_json()})
    return 0


# ------------------------------------------------------------------------------------------------
# Orchestration (parent process).


@dataclass
class _Job:
    codec: str
    target: str  # module:Class of the codec, loaded as is by the worker
    env: dict[str, str]
    cells: list[list]  # [scenario, direction, policy, column] still to run
    restarts: int = 0
    timeouts: int = 0


@dataclass
class _Proc:
    job: _Job
    proc: subprocess.Popen
    stderr: Any
    deadline: float
    current: list | None = None
    buf: bytes = b""
    ready: bool = False
    fatal: str | None = None
    done: list = field(default_factory=list)


def _stderr_tail(f: Any, n: int = 4) -> str:
    """The end of a worker's stderr; for a fatal signal, faulthandler's line and innermost frame."""
    try:
        f.seek(0)
        lines = [ln.strip() for ln in f.read().decode("utf-8", "replace").splitlines() if ln.strip()]
    except (OSError, ValueError):
        return ""
    fatal = next((i for i, ln in enumerate(lines) if ln.startswith("Fatal Python error")), None)
    if fatal is not None:
        frame = next((ln for ln in lines[fatal:] if ln.startswith("File ")), "")
        return f"{lines[fatal]} at {frame}"[:300] if frame else lines[fatal][:300]
    return " | ".join(lines[-n:])[-300:]


def _spawn(job: _Job, plugins: bool | None, soft_timeout: float) -> _Proc:
    env = child_env(job.env)
    err = tempfile.TemporaryFile()
    proc = subprocess.Popen([sys.executable, "-m", "bench.evolution", "--worker"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=err, env=env, start_new_session=True)
    assert proc.stdin is not None
    proc.stdin.write(json.dumps({"codec": job.codec, "target": job.target, "cells": job.cells,
                                 "plugins": plugins, "soft_timeout": soft_timeout}).encode())
    proc.stdin.close()
    return _Proc(job, proc, err, time.monotonic() + STARTUP_TIMEOUT_S)


def _kill(p: _Proc) -> None:
    kill_group(p.proc)


def run_matrix(codecs: list[Any], scenarios: list[Scenario], plugins: bool | None = None,
               log: Callable[[str], None] = lambda m: None, jobs: int = 2,
               cell_timeout: float = CELL_TIMEOUT_S, soft_timeout: float = SOFT_TIMEOUT_S) -> dict:
    """Run every scenario x column x direction; ``codecs`` are loaded codec objects. A cell gets
    ``soft_timeout`` seconds in the worker (then it is an ``error``), ``cell_timeout`` before the
    worker is killed; a codec whose cells keep crashing or hanging has the rest given up."""
    t0 = time.perf_counter()
    columns: list[Column] = []
    pending: list[_Job] = []
    for c in codecs:
        cols = columns_for(c)
        columns += cols
        cells = [[s.id, d, col.policy, col.name] for col in cols for s in scenarios for d in DIRECTIONS]
        target = f"{type(c).__module__}:{type(c).__qualname__}"
        pending.append(_Job(c.name, target, dict(getattr(c, "process_env", {}) or {}), cells))
    results: dict[tuple[str, str, str], dict] = {}

    def record(job: _Job, cell: list, outcome: str, detail: str) -> None:
        sid, d, _, col = cell
        results[(sid, col, d)] = {"scenario": sid, "codec": col, "direction": d, "outcome": outcome,
                                  "detail": _clip(detail), "ideal": False}
        job.cells = [c for c in job.cells if c != cell]

    running: list[_Proc] = []
    sel = selectors.DefaultSelector()

    def start(job: _Job) -> None:
        p = _spawn(job, plugins, soft_timeout)
        assert p.proc.stdout is not None
        sel.register(p.proc.stdout, selectors.EVENT_READ, p)
        running.append(p)

    def finish(p: _Proc, why: str | None) -> None:
        """The worker ended (EOF, timeout): record what it left and restart it if worthwhile."""
        sel.unregister(p.proc.stdout)
        running.remove(p)
        if why is None:
            rc = p.proc.wait()
            tail = _stderr_tail(p.stderr)
            why = f"crash: worker {exit_text(rc)}" if rc else ""
            if tail and rc:
                why += f"; last output: {tail}"
        else:
            tail = _stderr_tail(p.stderr)
        p.stderr.close()
        job = p.job
        if not job.cells:
            return
        if p.fatal:
            for cell in list(job.cells):
                record(job, cell, "error", f"codec failed to load: {p.fatal}")
            return
        if p.current is not None:
            cell = next((c for c in job.cells if [c[0], c[1], c[3]] == p.current), None)
            if cell is not None:
                record(job, cell, "error", why or "worker ended during this cell")
                log(f"evolution: {job.codec}: {p.current[0]}/{p.current[1]}: {why}")
        elif not p.ready:
            for cell in list(job.cells):
                record(job, cell, "error", f"worker failed to start: {why or tail}")
            return
        job.restarts += 1
        if why.startswith("timeout:"):
            job.timeouts += 1
        if job.restarts > MAX_RESTARTS or job.timeouts >= MAX_TIMEOUTS:
            for cell in list(job.cells):
                record(job, cell, "error", f"{why.split(':')[0]}: not run, the worker died "
                       f"{job.restarts} times (last: {why})")
            return
        if job.cells:
            pending.insert(0, job)

    while pending or running:
        while pending and len(running) < max(1, jobs):
            start(pending.pop(0))
        now = time.monotonic()
        wait = max(0.05, min(p.deadline for p in running) - now)
        for key, _ in sel.select(wait):
            p = key.data
            chunk = os.read(p.proc.stdout.fileno(), 65536)
            if not chunk:
                finish(p, None)
                continue
            p.buf += chunk
            while b"\n" in p.buf:
                line, p.buf = p.buf.split(b"\n", 1)
                text = line.decode("utf-8", "replace")
                if not text.startswith(PREFIX + " "):
                    continue
                _, kind, data = text.split(" ", 2)
                msg = json.loads(data)
                if kind == "ready":
                    p.ready = True
                    p.deadline = time.monotonic() + cell_timeout
                elif kind == "fatal":
                    p.fatal = msg["error"]
                elif kind == "start":
                    p.current = msg
                    p.deadline = time.monotonic() + cell_timeout
                elif kind == "cell":
                    results[(msg["scenario"], msg["codec"], msg["direction"])] = msg
                    p.job.cells = [c for c in p.job.cells
                                   if [c[0], c[1], c[3]] != [msg["scenario"], msg["direction"], msg["codec"]]]
                    p.current = None
                    p.deadline = time.monotonic() + cell_timeout
        now = time.monotonic()
        for p in [p for p in running if p.deadline < now]:
            _kill(p)
            what = "a cell" if p.ready else "start-up"
            limit = cell_timeout if p.ready else STARTUP_TIMEOUT_S
            finish(p, f"timeout: no result within {limit:.0f} s ({what}); worker killed")

    cells = []
    for col in columns:
        for s in scenarios:
            for d in DIRECTIONS:
                cells.append(results.get((s.id, col.name, d)) or {
                    "scenario": s.id, "codec": col.name, "direction": d, "outcome": "error",
                    "detail": "not run (no result from the worker)", "ideal": False})
    data = {
        "scenarios": [s.to_json() for s in scenarios],
        "codecs": [c.name for c in columns],
        "directions": list(DIRECTIONS),
        "cells": cells,
        "safe_scenarios": [s.id for s in scenarios if s.safe],
    }
    data["summary"] = summarize(data)
    data["duration_s"] = round(time.perf_counter() - t0, 2)
    return data


# ------------------------------------------------------------------------------------------------
# Plain-language summary.


def _join(items: list[str]) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def summarize(data: dict) -> list[str]:
    cells = {(c["scenario"], c["codec"], c["direction"]): c for c in data["cells"]}
    titles = {s["id"]: s["title"] for s in data["scenarios"]}
    safe = list(data["safe_scenarios"])
    out: list[str] = []
    if safe:
        full, partial = [], []
        for col in data["codecs"]:
            bad = [(s, d, cells[(s, col, d)]) for s in safe for d in ("backward", "forward")
                   if (s, col, d) in cells and not cells[(s, col, d)].get("ideal")]
            if not bad:
                full.append(col)
            else:
                shown = _join([f"{s} {d}: {c['outcome']}" for s, d, c in bad[:3]])
                more = "" if len(bad) <= 3 else f", +{len(bad) - 3} more"
                partial.append(f"{col} ({shown}{more})")
        safe_names = _join([titles[s].lower() for s in safe])
        if full:
            out.append(f"Full backward and forward compatibility for the {len(safe)} common safe changes "
                       f"({safe_names}): {_join(full)}.")
        else:
            out.append(f"No codec handled all {len(safe)} common safe changes ideally in both directions.")
        if partial:
            out.append("Not ideal on the safe changes: " + "; ".join(partial) + ".")
    dangerous: dict[str, list[str]] = {}
    for c in data["cells"]:
        if c["outcome"] == "corrupted":
            dangerous.setdefault(c["scenario"], []).append(f"{c['codec']} {c['direction']}")
    for sid, where in dangerous.items():
        out.append(f"Silent corruption (decoded without error, wrong value) on '{titles[sid]}': {_join(where)}.")
    if not dangerous:
        out.append("No codec silently corrupted a value in any scenario.")
    keep = sorted({c["codec"] for c in data["cells"] if c["outcome"] == "preserved-unknown"})
    lose = sorted({c["codec"] for c in data["cells"] if c["direction"] == "roundtrip" and c["outcome"] == "dropped"})
    if keep:
        out.append(f"An old intermediary that re-encodes a message kept fields it did not know with {_join(keep)}.")
    if lose:
        out.append(f"An old intermediary silently lost new fields or values with {_join(lose)}.")
    errs = [c for c in data["cells"] if c["detail"].startswith(("crash:", "timeout:"))]
    if errs:
        out.append(f"{len(errs)} cell(s) crashed or hung a worker: "
                   + _join([f"{c['codec']} {c['scenario']} {c['direction']}" for c in errs[:5]]) + ".")
    return out


# ------------------------------------------------------------------------------------------------
# Section producer and CLI.


def produce(ctx: Any) -> dict:
    """The ``evolution`` section of results.json (``bench.runner.SectionContext``)."""
    from formats.registry import build_registry

    registry = build_registry(ctx.plugins)
    codecs = []
    for name in ctx.codecs:
        try:
            codecs.append(registry.codec(name))
        except Exception as e:
            ctx.log(f"evolution: skipping {name}: {e}")
    data = run_matrix(codecs, list(SCENARIOS), ctx.plugins, ctx.log)
    ctx.log(f"evolution: {len(data['cells'])} cells in {data['duration_s']:.1f} s")
    return data


_STYLE = {"ok": "green", "defaulted": "cyan", "dropped": "yellow", "preserved-unknown": "bright_green",
          "corrupted": "bold red", "error": "magenta", "unsupported": "dim"}


def print_tables(data: dict, console: Any = None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    cells = {(c["scenario"], c["codec"], c["direction"]): c for c in data["cells"]}
    for d in data["directions"]:
        table = Table(title=f"evolution: {d}", title_justify="left")
        table.add_column("scenario")
        for col in data["codecs"]:
            table.add_column(col.replace(" (", "\n("))
        for s in data["scenarios"]:
            row = [s["id"] + (" (safe)" if s["safe"] else "")]
            for col in data["codecs"]:
                c = cells.get((s["id"], col, d))
                if c is None:
                    row.append("")
                    continue
                mark = "" if c.get("ideal") else "*"
                row.append(f"[{_STYLE.get(c['outcome'], '')}]{c['outcome']}{mark}[/]")
            table.add_row(*row)
        console.print(table)
    console.print("* = not what the ideal reader does (see OUT/evolution.json for each cell's detail)")
    for line in data.get("summary", []):
        console.print("- " + line)


def register_cli(sub: Any) -> None:
    p = sub.add_parser("evolve", help="run the schema-evolution matrix and write OUT/evolution.json")
    p.add_argument("--formats", nargs="+", metavar="NAME", help="codecs or formats (default: core + plugins)")
    p.add_argument("--scenarios", nargs="+", metavar="ID", help="scenario ids (default: all); "
                   + ", ".join(s.id for s in SCENARIOS))
    p.add_argument("--out", type=Path, default=Path("out"), help="output directory (default: out)")
    p.add_argument("--json", action="store_true", help="print the matrix as JSON instead of tables")
    p.set_defaults(func=cmd_evolve)


def cmd_evolve(args: Any) -> int:
    from rich.console import Console

    from bench.results import dumps, write_atomic
    from formats.api import MsgbenchError
    from formats.registry import build_registry
    from payloads import evolution

    try:
        scenarios = evolution.find(args.scenarios)
    except KeyError as e:
        raise MsgbenchError(str(e.args[0])) from None
    plugins = False if getattr(args, "no_plugins", False) else None
    registry = build_registry(plugins)
    err = Console(stderr=True)
    codecs = []
    for entry in registry.select(args.formats):
        try:
            c = entry.codec()
            c.check_available()
            codecs.append(c)
        except MsgbenchError as e:
            err.print(f"[yellow]evolution: skipping {entry.name}: {e}[/yellow]")
    if not codecs:
        raise MsgbenchError("no usable codec selected (see `msgbench list`)")
    data = run_matrix(codecs, scenarios, plugins, lambda m: err.print(m))
    path = write_atomic(args.out / "evolution.json", dumps(data) + "\n")
    if args.json:
        sys.stdout.write(json.dumps(data, indent=1) + "\n")
    else:
        print_tables(data)
    err.print(f"evolution: {len(data['cells'])} cells in {data['duration_s']:.1f} s; wrote {path}")
    return 0


if __name__ == "__main__":
    if "--worker" in sys.argv[1:]:
        sys.exit(worker_main())
    from bench.cli import main

    sys.exit(main(["evolve", *sys.argv[1:]]))
