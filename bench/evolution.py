"""The schema-evolution matrix: what each codec *really* does when writer and reader schemas differ.

For every scenario of :mod:`payloads.evolution` x codec x direction the engine encodes with the
writer's schema, decodes with a reader built by ``codec.prepare(writer, reader_schema=reader,
policy=...)`` and judges the decoded value against the scenario's ideal with :func:`classify`.
Nothing is taken from documentation:

- ``backward``: v1 value encoded with v1, read by a v2 reader.
- ``forward``: v2 value encoded with v2, read by a v1 reader.
- ``roundtrip``: v2 value encoded with v2, read by a v1 intermediary (which decodes it and forwards
  the *decoded native object* re-encoded with v1, as a service forwarding a protobuf message does),
  then read by a v2 reader. Does what v1 did not know survive?
- ``backward-roundtrip``: the same with v1 data through a v2 intermediary to a v1 reader (does a new
  service re-emit the fields it no longer has?).

Outcomes: ``ok`` (the ideal value), ``defaulted`` (a field the writer did not have got the reader's
default or None), ``dropped`` (a field the reader does not know is absent, the rest right),
``preserved-unknown`` (the reader kept what it did not know: on a roundtrip the final reader sees
it; on a plain read, e.g. a bare enum number), ``changed`` (no error, a different non-empty value),
``lost`` (no error, nothing where a value was written: empty, zero, None, absent or the reader's
default; on a roundtrip judged by what the *final* reader sees, so an intermediary that swaps a
written value for its default is ``lost``, not "dropped"), ``error`` (exception type and message;
``crash:``/``timeout:`` when the process died or hung), ``unsupported`` (the codec cannot express
the scenario). ``changed`` and ``lost`` are the silent failures. Each cell also says whether it
matches the ideal (``ideal``): an ``error`` is the ideal outcome when no correct value exists.

Values: a scenario with variants (a value the other side can hold and one it cannot) is run once
per value; the cell carries each value's verdict under ``values`` and, as its own verdict, the
worse of them (:func:`worst`), with ``brief`` ("ok for fits int32 (23456); changed* for past
int32 (...)").

Layers: for Protobuf and Thrift the cell's verdict is the **library's** (the decoded message or
struct read field by field, :mod:`bench.evolution_library`); what msgbench's adapter
(``from_native``: an unknown enum number -> the enum default, the Thrift required-field check)
made of it is the cell's ``adapter`` verdict, present when it differs. Other codecs' native form is
plain Python, so they have one layer.

Text formats are judged under both reader policies (columns ``json/orjson (tolerant)`` and
``json/orjson (strict)``); codecs that declare no evolution modes (plugins) still get
``prepare(writer, reader_schema=reader)``, so one that cannot do it shows ``unsupported``. The
matrix runs in worker processes (``python -m bench.evolution --worker``, one per codec, two at a
time), each cell under a time limit, so a C extension that crashes or hangs on mismatched input
costs one cell, not the run.
"""

from __future__ import annotations

import json
import re
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.evolution_library import UnknownNumber, library_view, unknown_fields
from payloads.evolution import DIRECTION_TEXT, DIRECTIONS, ROUNDTRIPS, SCENARIOS, Expectation, Scenario
from payloads.model import Difference, Record, SchemaMismatch, differences, validate

OUTCOMES = ("ok", "defaulted", "dropped", "preserved-unknown", "changed", "lost", "error", "unsupported")
SILENT = ("changed", "lost", "corrupted")  # a wrong value and no error ("corrupted": results before 2026-11-30)
TEXT_POLICIES = ("tolerant", "strict")
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


def _emptyish(actual: Any, candidates: tuple[Any, ...]) -> bool:
    """``actual`` is nothing: absent, None, a zero/empty value or one of the reader's defaults."""
    if actual is None or actual == _ABSENT or actual is False:
        return True
    if isinstance(actual, (str, bytes, list, dict)) and len(actual) == 0:
        return True
    if type(actual) in (int, float) and actual == 0:
        return True
    return _is_default(actual, candidates)


def _hop(exp: Expectation) -> str:
    return "the v2 intermediary" if exp.direction == "backward-roundtrip" else "the v1 intermediary"


def _silent(diffs: list[Difference], defaults: dict) -> tuple[list[Difference], list[Difference]]:
    """(changed, lost): a different non-empty value vs. nothing where a value was written."""
    changed, lost = [], []
    for d in diffs:
        (lost if _emptyish(d.actual, defaults.get(_norm(d.path), ())) else changed).append(d)
    return changed, lost


def _silent_verdict(exp: Expectation, changed: list[Difference], lost: list[Difference], why: str = "") -> Verdict:
    head = why + ": " if why else ""
    if changed:
        more = f"; and lost {_describe(lost, 2)}" if lost else ""
        return Verdict("changed", _clip(f"{head or 'no error, '}a different value: {_describe(changed)}{more}"), False)
    return Verdict("lost", _clip(f"{head or 'no error, '}the value is gone (empty, zero or absent): {_describe(lost)}"),
                   False)


def classify(exp: Expectation, actual: Any, reader: Record | None = None, intermediary: Any = None) -> Verdict:
    """Judge a decoded value against the scenario's ideal for one direction (``intermediary``: on a
    roundtrip, the value the intermediary read). A wrong value without an error is ``changed`` (a
    different non-empty value) or ``lost`` (nothing: empty, zero, None, absent, the reader's default
    where a value was written), whichever way it happened; on a roundtrip the *final* reader's value
    is judged, so a default standing in for what the writer wrote is ``lost`` there."""
    if exp.reject:
        return _classify_accepted(exp, actual, reader, intermediary)
    rt = exp.direction in ROUNDTRIPS
    hop = _hop(exp)
    diffs = differences(exp.value, actual)
    if not diffs:
        if rt and (exp.unknown or exp.substituted):
            kept = list(exp.unknown) + [f"the value of {p}" for p in exp.substituted]
            return Verdict("preserved-unknown", _clip(
                f"{hop} kept {', '.join(kept)}, which it does not know; the final reader sees it"), True)
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
    numbers = [d for d in diffs if isinstance(d.actual, UnknownNumber)]
    diffs = [d for d in diffs if d not in numbers]
    lossy = tuple(exp.unknown) + tuple(exp.substituted) if rt else ()
    soft_new = () if rt else tuple(exp.new) + tuple(exp.substituted)
    wrong, lost_hop, defaulted = [], [], []
    for d in diffs:
        p = _norm(d.path)
        cands = exp.defaults.get(p, ())
        if rt and _under(p, lossy) and _is_default(d.actual, cands):
            lost_hop.append(d)
        elif _under(p, soft_new) and _is_default(d.actual, cands):
            defaulted.append(d)
        else:
            wrong.append(d)
    changed, lost = _silent(wrong, exp.defaults)
    if changed or lost:
        return _silent_verdict(exp, changed, lost + lost_hop)
    if lost_hop:
        return Verdict("lost", _clip(f"no error, but {hop} dropped what it did not know and the final reader got "
                                     f"its default instead of the written value: {_describe(lost_hop)}"), False)
    if numbers:
        return Verdict("preserved-unknown", _clip(
            f"no error; the library handed back a number the reader's enum does not have: {_describe(numbers)} "
            "(the ideal reader maps it to the enum's default)"), False)
    return Verdict("defaulted", _clip("reader default, but not the ideal value: " + _describe(defaulted)), False)


def _classify_accepted(exp: Expectation, actual: Any, reader: Record | None, intermediary: Any) -> Verdict:
    """The ideal reader rejects this data, but the codec decoded something: what did it make up?"""
    why = f"no error although {exp.reject}"
    if exp.reference is None:
        return Verdict("changed", _clip(f"{why}; decoded {actual!r}"), False)
    diffs = differences(exp.reference, actual)
    if not diffs and exp.direction in ROUNDTRIPS:
        seen = intermediary if isinstance(intermediary, dict) else {}
        same = {k: v for k, v in exp.reference.items() if k in seen}
        misread = [d for d in differences(same, {k: seen[k] for k in same}) if d.expected not in (None, _ABSENT)]
        if misread:
            return Verdict("preserved-unknown", _clip(
                f"{_hop(exp)} could not read the value ({exp.reject}: it saw "
                f"{_describe(misread, 2)}) but forwarded it unchanged"), True)
        return Verdict("ok", _clip(f"the final reader got the written value unchanged although {exp.reject}"), True)
    if not diffs:
        if reader is not None:
            try:
                validate(reader, actual)
            except SchemaMismatch as e:  # e.g. thriftpy2's None for a required field it did not get
                return Verdict("defaulted", _clip(f"{why}: the reader accepted a value its own schema does not "
                                                  f"allow ({e})"), False)
        return Verdict("ok", _clip(f"{why}; the writer's value came through unchanged"), False)
    made_up = [d for d in diffs if _under(_norm(d.path), exp.new) and d.expected == _ABSENT]
    wrong = [d for d in diffs if d not in made_up]
    # a required field the writer did not write, filled in by the reader
    missing = [d for d in wrong if _is_default(d.actual, exp.defaults.get(_norm(d.path), ()))
               and d.expected in (None, _ABSENT)]
    wrong = [d for d in wrong if d not in missing]
    converted = [d for d in wrong if _lossless(d.expected, d.actual)]
    if converted and len(converted) == len(wrong) and not missing and not made_up:
        # a correct value existed after all (4200017 -> '4200017'), and the reader found it
        return Verdict("ok", _clip(f"converted without loss although {exp.reject}: {_describe(converted)}"), True)
    if wrong:
        changed, lost = _silent(wrong, exp.defaults)
        return _silent_verdict(exp, changed, lost, why)
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
# The rules each reader follows, stated with the results (the report prints them as a legend).

READER_RULES = {
    "tolerant": "text reader, tolerant policy (msgbench's converter): ignores fields it does not know; finds a "
                "field under its aliases (earlier names); a missing optional field gets its default or null, a "
                "missing required one is an error; no type coercion beyond the format's own (JSON: a string is "
                "never read as a number; XML: element text is parsed as the reader's type); an enum symbol it "
                "does not know becomes the reader enum's declared default (an error if it has none); XML: the "
                "root element must be the record's name or an alias, and text where a list, map or record is "
                "expected is an error",
    "strict": "text reader, strict policy: the document is first validated against the reader's own JSON "
              "Schema / XSD, so unknown fields, unknown enum symbols, aliases and out-of-range numbers are "
              "errors; fields are found by name only; the root element name must match exactly (XML)",
    "schema-resolution": "Avro (fastavro): the writer's schema is resolved against the reader's by the Avro "
                         "rules (names and aliases, defaults, int->long->float->double promotions, enum "
                         "default for an unknown symbol); the reader needs the writer's schema (a registry "
                         "or a container-file header)",
    "tagged": "tag-based (Protobuf, Thrift): fields are matched by number; the cell shows what the library "
              "returned (protobuf: unset -> zero value, unknown numbers kept as unknown fields, an unknown enum "
              "number as the bare int; thriftpy2: unknown or retyped fields skipped -> None, required not "
              "checked); 'adapter' is what msgbench's converter made of it (enum number -> the enum's default, "
              "Thrift required fields checked)",
    "roundtrip": "the intermediary forwards the object it decoded (protobuf message, thriftpy2 "
                 "struct, parsed JSON dict / XML value, Avro record), re-encoded with its own schema",
}


def reader_rules(codec: Any, policy: str | None) -> str:
    modes = tuple(getattr(codec.capabilities, "evolution_modes", ()) or ())
    if policy in READER_RULES:
        return READER_RULES[policy]
    for m in modes:
        if m in READER_RULES:
            return READER_RULES[m]
    if not modes:
        return "declares no evolution mode: prepared with the reader's schema as any codec is"
    return ""


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
        self.declared = bool(getattr(codec.capabilities, "evolution_modes", ()))  # any evolution mode
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
        if not self.declared:  # no evolution mode declared: still asked for a reader of ``r``, so a
            # codec that cannot do it says so (UnsupportedSchema -> "unsupported")
            return self._get((sc.id, "plain", writer_ver), lambda: self.codec.prepare(w, reader_schema=r))
        return self._get((sc.id, "r", writer_ver),
                         lambda: self.codec.prepare(w, reader_schema=r, policy=self.policy))


class _CellTimeout(BaseException):  # not swallowed by a codec's `except Exception`
    pass


def _alarm(signum: int, frame: Any) -> None:
    raise _CellTimeout("no result within the cell's time limit")


def run_case(prep: _Preparer, sc: Scenario, direction: str) -> tuple[Verdict, Verdict | None]:
    """One value set in one direction: (library verdict, adapter verdict). The adapter verdict is
    ``None`` when the codec's native form is plain Python already (one layer: what ``from_native``
    returned is what the library returned, give or take a type check)."""
    exp = sc.expectation(direction)
    stage = "prepare"
    try:
        if direction in ("backward", "forward"):
            wv = "v1" if direction == "backward" else "v2"
            rschema = sc.schemas(direction)[1]
            writer, reader = prep.writer(sc, wv), prep.reader(sc, wv)
            stage = "encode"
            data = writer.encode(writer.to_native(sc.writer_value(direction)))
            stage = "decode"
            native = reader.decode(data)
            lib = library_view(rschema, native)
            stage = "from_native"
            try:
                adapter = classify(exp, reader.from_native(native), rschema)
            except Exception as e:
                if lib is None:
                    raise
                adapter = error_verdict(exp, "msgbench adapter (from_native)", e)
            if lib is None:
                return adapter, None
            return _kept_note(classify(exp, lib, rschema), native), adapter
        first, back = ("v2", "v1") if direction == "roundtrip" else ("v1", "v2")
        mid_schema, fin_schema = (sc.v1, sc.v2) if direction == "roundtrip" else (sc.v2, sc.v1)
        w_first, mid = prep.writer(sc, first), prep.reader(sc, first)
        w_mid, fin = prep.writer(sc, back), prep.reader(sc, back)
        stage = f"encode {first}"
        data = w_first.encode(w_first.to_native(sc.writer_value(direction)))
        stage = f"{back} intermediary decode"
        native = mid.decode(data)
        mid_lib = library_view(mid_schema, native)
        stage = f"{back} intermediary from_native"
        mid_err: Exception | None = None
        try:
            mid_value = mid.from_native(native)
        except Exception as e:
            if mid_lib is None:
                raise
            mid_value, mid_err = None, e
        stage = f"{back} intermediary re-encode"
        via = ""
        try:
            data2 = w_mid.encode(native)  # a service forwards the object it decoded
        except Exception as e:  # the decoded object is not the writer's native form
            if mid_value is None:
                raise
            via = (f" (re-encoded through the model: the {back} encoder refused the decoded object: "
                   f"{type(e).__name__})")
            data2 = w_mid.encode(w_mid.to_native(mid_value))
        stage = f"{first} decode"
        final = fin.decode(data2)
        fin_lib = library_view(fin_schema, final)
        if mid_err is not None:
            adapter = error_verdict(exp, f"msgbench adapter ({back} intermediary from_native)", mid_err)
        else:
            stage = f"{first} from_native"
            try:
                adapter = _via(classify(exp, fin.from_native(final), fin_schema, mid_value), via)
            except Exception as e:
                if fin_lib is None:
                    raise
                adapter = error_verdict(exp, f"msgbench adapter ({first} from_native)", e)
        if fin_lib is None:
            return adapter, None
        return _via(classify(exp, fin_lib, fin_schema, mid_lib), via), adapter
    except _CellTimeout as e:
        return Verdict("error", f"timeout: {stage}: {e}", False), None
    except Exception as e:
        return error_verdict(exp, stage, e), None


def _via(v: Verdict, via: str) -> Verdict:
    return Verdict(v.outcome, _clip(v.detail + via), v.ideal) if via else v


def _kept_note(v: Verdict, native: Any) -> Verdict:
    kept = unknown_fields(native)
    if not kept:
        return v
    note = f"the library kept unknown field number(s) {', '.join(map(str, kept))} in the decoded message"
    return Verdict(v.outcome, _clip(f"{v.detail}; {note}" if v.detail else note), v.ideal)


# How bad an outcome is, for "the worse of the values tried" (a non-ideal outcome is always worse
# than an ideal one; silent wrong values are the worst).
SEVERITY = {"changed": 8, "corrupted": 8, "lost": 7, "defaulted": 5, "preserved-unknown": 5, "dropped": 4,
            "error": 3, "ok": 2, "unsupported": 1}


def _rank(v: dict) -> tuple[bool, int]:
    return (not v.get("ideal"), SEVERITY.get(str(v.get("outcome")), 0))


def worst(verdicts: list[dict]) -> dict:
    """The worse of several verdicts (the first of equals)."""
    best = verdicts[0]
    for v in verdicts[1:]:
        if _rank(v) > _rank(best):
            best = v
    return best


@dataclass(frozen=True)
class CellResult:
    """One matrix cell: the library's verdict (the worse over the values tried), the adapter's when
    it differs, and each value's verdicts when more than one value was tried."""

    library: Verdict
    adapter: Verdict | None = None
    values: tuple[dict, ...] = ()

    @property
    def detail(self) -> str:
        return self.library.detail

    def to_json(self) -> dict:
        out = self.library.to_json()
        if self.adapter is not None:
            out["adapter"] = self.adapter.to_json()
        if self.values:
            out["values"] = [dict(v) for v in self.values]
            out["brief"] = "; ".join(f"{v['outcome']}{'' if v['ideal'] else '*'} for {v['label']}"
                                     for v in self.values)
        return out


def run_cell(prep: _Preparer, sc: Scenario, direction: str) -> CellResult:
    """Every value set of ``sc`` in ``direction``; the cell's verdict is the worse of them, per layer."""
    results = [(case.value_label, *run_case(prep, case, direction)) for case in sc.cases(direction)]
    if len(results) == 1:
        _, lib, adapter = results[0]
        return CellResult(lib, adapter if adapter is not None and adapter != lib else None)
    values = []
    for label, lib, adapter in results:
        v = {"label": label or "as written", **lib.to_json()}
        if adapter is not None and adapter != lib:
            v["adapter"] = adapter.to_json()
        values.append(v)
    w = worst(values)
    detail = f"worst of {len(values)} values tried: " + "; ".join(
        f"{v['label']}: {v['outcome']}{'' if v['ideal'] else ' (not ideal)'}"
        + (f" ({v['detail']})" if v["detail"] else "") for v in values)
    lib = Verdict(w["outcome"], _clip(detail, DETAIL_MAX * 2), all(v["ideal"] for v in values))
    adapter = None
    if any("adapter" in v for v in values):
        layers = [v.get("adapter") or v for v in values]
        wa = worst(layers)
        text = "worst of the values tried: " + "; ".join(
            f"{v['label']}: {a['outcome']}" + (f" ({a['detail']})" if a["detail"] else "")
            for v, a in zip(values, layers, strict=True))
        adapter = Verdict(wa["outcome"], _clip(text, DETAIL_MAX * 2), all(a["ideal"] for a in layers))
    return CellResult(lib, adapter, tuple(values))


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


def cells_task(job: dict, start: int = 0):
    """``formats.isolation`` stream task: one codec's cells from ``start``, one result per cell.
    A cell gets ``soft_timeout`` seconds (SIGALRM, the worker survives); the parent's per-cell
    limit kills a worker that does not come back from C code."""
    codec = _load_codec(job)
    codec.check_available()
    by_id = {s.id: s for s in (job.get("scenarios") or SCENARIOS)}
    preps: dict[str | None, _Preparer] = {}
    signal.signal(signal.SIGALRM, _alarm)
    soft = float(job.get("soft_timeout", SOFT_TIMEOUT_S))
    timeouts = 0
    for scenario, direction, policy, column in job["cells"][start:]:
        if timeouts >= MAX_TIMEOUTS:
            v = CellResult(Verdict("error", f"timeout: not run, {timeouts} earlier cells of this codec timed out", False))
        else:
            prep = preps.setdefault(policy, _Preparer(codec, policy))
            signal.setitimer(signal.ITIMER_REAL, soft)
            try:
                v = run_cell(prep, by_id[scenario], direction)
            except _CellTimeout as e:
                v = CellResult(Verdict("error", f"timeout: {e}", False))
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            if v.detail.startswith("timeout:") or "timeout: " in v.detail:
                timeouts += 1
        yield {"scenario": scenario, "codec": column, "direction": direction, **v.to_json()}


# ------------------------------------------------------------------------------------------------
# Orchestration (parent process).


def _run_codec_cells(job: dict, env: dict[str, str], cell_timeout: float, log: Callable[[str], None]) -> list[dict]:
    """All of one codec's cells through ``formats.isolation``: a worker restarted after a cell that
    crashed or hung, given up after MAX_RESTARTS deaths or MAX_TIMEOUTS hangs."""
    from formats.isolation import Died, Limits, Task, run

    cells, out = job["cells"], []
    deaths = hangs = 0

    def failed(cell: list, detail: str) -> dict:
        sid, d, _, col = cell
        return {"scenario": sid, "codec": col, "direction": d, "outcome": "error", "detail": _clip(detail),
                "ideal": False}

    limits = Limits(startup_s=STARTUP_TIMEOUT_S, item_s=cell_timeout)
    for i, item in run(Task("bench.evolution:cells_task", job, env), limits, restart=True):
        if not isinstance(item, Died):
            out.append(item)
            continue
        if item.reason in ("setup", "error") and i < len(cells):
            what = "codec failed to load" if i == 0 else "worker failed"
            out += [failed(c, f"{what}: {item.detail}") for c in cells[i:]]
            break
        if i >= len(cells):
            break
        timeout = item.reason == "timeout"
        why = (f"timeout: no result within {cell_timeout:.0f} s; worker killed" if timeout
               else f"crash: {item.detail}")
        out.append(failed(cells[i], why))
        log(f"evolution: {job['codec']}: {cells[i][0]}/{cells[i][1]}: {why}")
        deaths += 1
        hangs += timeout
        if (deaths > MAX_RESTARTS or hangs >= MAX_TIMEOUTS) and i + 1 < len(cells):
            out += [failed(c, f"{why.split(':')[0]}: not run, the worker died {deaths} times (last: {why})")
                    for c in cells[i + 1:]]
            break
    return out


def run_matrix(codecs: list[Any], scenarios: list[Scenario], plugins: bool | None = None,
               log: Callable[[str], None] = lambda m: None, jobs: int = 2,
               cell_timeout: float = CELL_TIMEOUT_S, soft_timeout: float = SOFT_TIMEOUT_S) -> dict:
    """Run every scenario x column x direction; ``codecs`` are loaded codec objects. A cell gets
    ``soft_timeout`` seconds in the worker (then it is an ``error``), ``cell_timeout`` before the
    worker is killed; a codec whose cells keep crashing or hanging has the rest given up. ``jobs``
    codecs run at once (each in its own worker; threads only wait on them)."""
    from concurrent.futures import ThreadPoolExecutor

    from formats.isolation import kill_all

    t0 = time.perf_counter()
    columns: list[Column] = []
    work: list[tuple[dict, dict[str, str]]] = []
    rules: dict[str, str] = {}
    for c in codecs:
        cols = columns_for(c)
        columns += cols
        rules.update({col.name: reader_rules(c, col.policy) for col in cols})
        cells = [[s.id, d, col.policy, col.name] for col in cols for s in scenarios for d in DIRECTIONS]
        target = f"{type(c).__module__}:{type(c).__qualname__}"
        # scenarios travel as data: a user's own v1/v2 schemas and values work like the built-in ones
        job = {"codec": c.name, "target": target, "cells": cells, "plugins": plugins, "soft_timeout": soft_timeout,
               "scenarios": list(scenarios)}
        work.append((job, dict(getattr(c, "process_env", {}) or {})))
    results: dict[tuple[str, str, str], dict] = {}
    pool = ThreadPoolExecutor(max_workers=max(1, jobs))
    try:
        for got in pool.map(lambda w: _run_codec_cells(w[0], w[1], cell_timeout, log), work):
            for msg in got:
                results[(msg["scenario"], msg["codec"], msg["direction"])] = msg
    except BaseException:
        kill_all()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)

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
        "direction_text": dict(DIRECTION_TEXT),
        "cells": cells,
        "safe_scenarios": [s.id for s in scenarios if s.safe],
        "reader_rules": {k: v for k, v in rules.items() if v},
        "roundtrip_rule": READER_RULES["roundtrip"],
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


def _where(cells: list[tuple[str, str]], data: dict, limit: int = 6) -> str:
    """``widen-int (all directions), add-optional-default (roundtrip)``: cells grouped by scenario."""
    by: dict[str, list[str]] = {}
    for sid, d in cells:
        by.setdefault(sid, []).append(d)
    every = set(data.get("directions") or DIRECTIONS)
    items = [f"{sid} ({'all directions' if set(ds) >= every else ', '.join(ds)})" for sid, ds in by.items()]
    more = f", +{len(items) - limit} more scenarios" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


def _short(c: dict) -> str:
    """``widen-int backward: lost*`` (a cell that tried several values: its per-value brief, which
    marks each value itself)."""
    return f"{c['scenario']} {c['direction']}: {c.get('brief') or c['outcome'] + ('' if c.get('ideal') else '*')}"


def summarize(data: dict) -> list[str]:
    """The plain-language findings, computed from the cells (the library layer; each cell's verdict
    is the worse of the values tried)."""
    cells = {(c["scenario"], c["codec"], c["direction"]): c for c in data["cells"]}
    titles = {s["id"]: s["title"] for s in data["scenarios"]}
    safe = list(data["safe_scenarios"])
    out: list[str] = []
    if safe:
        full, partial = [], []
        for col in data["codecs"]:
            bad = [cells[(s, col, d)] for s in safe for d in ("backward", "forward")
                   if (s, col, d) in cells and not cells[(s, col, d)].get("ideal")]
            if not bad:
                full.append(col)
            else:
                shown = _join([_short(c) for c in bad[:3]])
                more = "" if len(bad) <= 3 else f", +{len(bad) - 3} more"
                partial.append(f"{col} ({shown}{more})")
        safe_names = _join([titles[s].lower() for s in safe])
        if full:
            out.append(f"Ideal backward and forward on all {len(safe)} common safe changes ({safe_names}), "
                       f"for every value tried: {_join(full)}.")
        else:
            out.append(f"No codec handled all {len(safe)} common safe changes ideally in both directions for every "
                       "value tried (a cell counts its worse value).")
        if partial:
            out.append("Not ideal on the safe changes (* = not ideal for that value): " + "; ".join(partial) + ".")
    silent: dict[str, dict[str, list[tuple[str, str]]]] = {}
    for c in data["cells"]:
        if c["outcome"] in SILENT:
            kind = "changed" if c["outcome"] in ("changed", "corrupted") else "lost"
            silent.setdefault(c["codec"], {"changed": [], "lost": []})[kind].append((c["scenario"], c["direction"]))
    for col, kinds in silent.items():
        parts = []
        if kinds["changed"]:
            parts.append(f"a different value in {len(kinds['changed'])} ({_where(kinds['changed'], data)})")
        if kinds["lost"]:
            parts.append(f"nothing where a value was written in {len(kinds['lost'])} ({_where(kinds['lost'], data)})")
        n = len(kinds["changed"]) + len(kinds["lost"])
        out.append(f"{col}: no error but a wrong value in {n} cell{'s' if n != 1 else ''}: " + "; ".join(parts) + ".")
    if not silent:
        out.append("No codec returned a wrong value without an error in any scenario.")
    for d, who in (("roundtrip", "an old (v1) intermediary"), ("backward-roundtrip", "a new (v2) intermediary")):
        rt = [c for c in data["cells"] if c["direction"] == d]
        if not rt:
            continue
        keep = sorted({c["codec"] for c in rt if c["outcome"] == "preserved-unknown"})
        lose = sorted({c["codec"] for c in rt if c["outcome"] == "lost"})
        if keep:
            out.append(f"Through {who} that re-encodes the message, fields or values it did not know reached the "
                       f"final reader with {_join(keep)}.")
        if lose:
            out.append(f"Through {who}, the final reader silently got a default or nothing instead of the "
                       f"written value with {_join(lose)}.")
    layered: dict[str, int] = {}
    for c in data["cells"]:
        a = c.get("adapter")
        if isinstance(a, dict) and a.get("outcome") != c["outcome"]:
            layered[c["codec"]] = layered.get(c["codec"], 0) + 1
    if layered:
        out.append("The matrix shows what each library returned; msgbench's adapter (mapping an unknown enum "
                   "number to the enum default, checking Thrift's required fields) changes the outcome in "
                   + _join([f"{n} {col} cell{'s' if n != 1 else ''}" for col, n in layered.items()])
                   + " (shown as the cell's second line).")
    if any(str(c).startswith("avro/") for c in data["codecs"]):
        out.append("Avro's outcomes assume the reader has the writer's schema (from a schema registry or a "
                   "container-file header); without it Avro data cannot be decoded at all.")
    errs = [c for c in data["cells"] if c["detail"].startswith(("crash:", "timeout:"))]
    if errs:
        out.append(f"{len(errs)} cell(s) crashed or hung a worker: "
                   + _join([f"{c['codec']} {c['scenario']} {c['direction']}" for c in errs[:5]]) + ".")
    return out


def with_layer(data: dict, layer: str = "library") -> dict:
    """The matrix seen through one layer: ``library`` (as recorded) or ``adapter`` (each cell that
    has an adapter verdict takes it, values too; the summary is recomputed)."""
    if layer == "library":
        return data
    if layer != "adapter":
        raise ValueError(f"unknown layer {layer!r}; use library or adapter")
    cells = []
    for c in data["cells"]:
        a = c.get("adapter")
        if not isinstance(a, dict):
            cells.append(c)
            continue
        new = {**c, **a, "library": {k: c[k] for k in ("outcome", "detail", "ideal")}}
        new.pop("adapter")
        if c.get("values"):
            new["values"] = [{**v, **(v.get("adapter") or {})} for v in c["values"]]
            for v in new["values"]:
                v.pop("adapter", None)
            new["brief"] = "; ".join(f"{v['outcome']}{'' if v['ideal'] else '*'} for {v['label']}"
                                     for v in new["values"])
        cells.append(new)
    out = {**data, "cells": cells, "layer": "adapter"}
    out["summary"] = summarize(out)
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
          "changed": "bold red", "lost": "bold magenta", "corrupted": "bold red", "error": "dark_orange",
          "unsupported": "dim"}


def _styled(outcome: str, ideal: bool) -> str:
    style = _STYLE.get(outcome, "")
    text = f"{outcome}{'' if ideal else '*'}"
    return f"[{style}]{text}[/]" if style else text


def cell_text(c: dict) -> str:
    """A cell for a terminal table: the library's outcome (per value when several were tried) and
    msgbench's adapter outcome on a second line when it differs."""
    if c.get("values"):
        text = " / ".join(_styled(v["outcome"], v["ideal"]) for v in c["values"])
    else:
        text = _styled(c["outcome"], c.get("ideal", False))
    a = c.get("adapter")
    if isinstance(a, dict) and (a.get("outcome"), a.get("ideal")) != (c["outcome"], c.get("ideal")):
        text += "\n" + "adapter: " + _styled(a["outcome"], a.get("ideal", False))
    return text


def print_tables(data: dict, console: Any = None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    cells = {(c["scenario"], c["codec"], c["direction"]): c for c in data["cells"]}
    about = data.get("direction_text") or {}
    if data.get("layer") == "adapter":
        console.print("Layer: what msgbench's adapter made of each library result (Protobuf/Thrift: unknown enum "
                      "numbers -> the enum default, Thrift required fields checked).", markup=False)
    for d in data["directions"]:
        title = f"evolution: {d}" + (f" ({about[d]})" if d in about else "")
        table = Table(title=title, title_justify="left", show_lines=True)
        table.add_column("scenario")
        for col in data["codecs"]:
            table.add_column(col.replace(" (", "\n("))
        for s in data["scenarios"]:
            row_cells = [cells.get((s["id"], col, d)) for col in data["codecs"]]
            head = s["id"] + (" (safe)" if s["safe"] else "")
            labels = next((c["values"] for c in row_cells if c and c.get("values")), None)
            if labels:
                head += "\n" + " / ".join(v["label"] for v in labels)
            table.add_row(head, *["" if c is None else cell_text(c) for c in row_cells])
        console.print(table)
    console.print("* = not what the ideal reader does; a / b = the outcome for each value tried (the cell counts "
                  "the worse); 'adapter:' = what msgbench's converter made of the library's result "
                  "(see OUT/evolution.json for each cell's detail)")
    for line in data.get("summary", []):
        console.print("- " + line, markup=False)


def register_cli(sub: Any) -> None:
    p = sub.add_parser("evolve", help="run the schema-evolution matrix and write OUT/evolution.json")
    p.add_argument("--formats", nargs="+", metavar="NAME", help="codecs or formats (default: core + plugins)")
    p.add_argument("--scenarios", nargs="+", metavar="ID", help="scenario ids (default: all); "
                   + ", ".join(s.id for s in SCENARIOS))
    p.add_argument("--out", type=Path, default=Path("out"), help="output directory (default: out)")
    p.add_argument("--json", action="store_true", help="print the matrix as JSON instead of tables")
    p.add_argument("--layer", choices=("library", "adapter"), default="library",
                   help="tables and summary for what the library returned (default) or for what msgbench's "
                        "adapter made of it (Protobuf/Thrift; the JSON file always carries both)")
    p.set_defaults(func=cmd_evolve)


def cmd_evolve(args: Any) -> int:
    from rich.console import Console

    from formats.api import MsgbenchError
    from formats.registry import build_registry
    from payloads import evolution
    from reports.results import dumps, write_atomic

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
        print_tables(with_layer(data, getattr(args, "layer", "library")))
    err.print(f"evolution: {len(data['cells'])} cells in {data['duration_s']:.1f} s; wrote {path}")
    return 0


if __name__ == "__main__":
    from bench.cli import main

    sys.exit(main(["evolve", *sys.argv[1:]]))
