"""results.json: the versioned contract between measuring (bench) and rendering (reports).

Layout (``schema_version`` 1)::

    {
      "schema_version": 1,
      "tool": {"name": "msgbench", "version": "..."},
      "run": {"started": iso, "finished": iso|null, "partial": bool, "mode": "quick"|"full",
              "argv": [...], "duration_s": float},
      "environment": {...},                 # bench.environment.capture()
      "codecs": [{"name", "format", "library", "library_version", "backend", "slow_backend",
                  "source", "binary", "needs_schema", "status": "ok"|"unavailable"|"failed",
                  "error": str|null, "notes": [...]}],
      "payloads": [{"name", "description", "source", "json_bytes", "notes": [...]}],
      "rows": [{                            # one per codec x payload
          "codec", "format", "payload",
          "status": "ok" | "failed" | "unsupported",
          "verdict": "exact" | "lossy" | "failed" | "unsupported",
          "fidelity": [{"path", "expected", "actual"}],   # the exact loss when lossy (the first 20)
          "fidelity_total": int, "fidelity_paths": {path: n},  # when lossy: every changed value, per path ([*])
          "error": str|null,                               # why failed / unsupported
          "size": {"raw": int, "gzip": int, "zstd": int},
          "encode": Stats|null, "decode": Stats|null,       # the library call alone
          "encode_typed": Stats|null, "decode_typed": Stats|null,  # typed model value <-> bytes: what compares codecs
          "to_native": Stats|null, "from_native": Stats|null, "parse_lazy": Stats|null,
          "access": Stats|null,           # codecs with make_access (zero-copy/lazy); never part of decode
          "access_paths": ["trip_id", "driver.id", ...],   # the fields access read (when offered)
          "access_error": str             # only when the access check failed (then access is null)
      }],
      "sections": {...}                     # optional extra measurements: evolution, faults, ...
    }

``Stats`` = ``{"median_ns", "iqr_ns", "q1_ns", "q3_ns", "min_ns", "mean_ns", "rounds",
"inner_loops", "ci95_ns": [lo, hi], "samples_ns": [...], "processes": [{"median_ns", "rounds"}, ...]}``;
all per single call, in nanoseconds. A figure is measured in several worker processes: median,
IQR and samples pool their rounds, ``processes`` keeps each one's median (what ``compare`` tests),
and ``ci95_ns`` is the wider of the pooled rounds' CI and the between-process interval
(``reports.stats.combine``). ``validate_shape`` below is the typed contract readers rely on.

Readers call :func:`load`, which rejects a corrupted file or one written by a newer msgbench
with a clear :class:`ResultsError`. Writers call :func:`write_atomic` (temp file + rename).
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any, TypedDict

from payloads.errors import MsgbenchError

SCHEMA_VERSION = 1


class ResultsError(MsgbenchError):
    pass


def _default(o: Any) -> Any:
    if isinstance(o, (bytes, bytearray)):
        return {"$bytes_hex": bytes(o).hex()}
    if isinstance(o, (set, frozenset, tuple)):
        return list(o)
    if isinstance(o, float):
        return repr(o)
    return repr(o)


def dumps(doc: dict) -> str:
    return json.dumps(doc, indent=1, default=_default, allow_nan=True)


def _create_temp(directory: Path, name: str) -> tuple[int, Path]:
    """A new, empty temp file next to the target, created with mode 0666 so that the kernel
    applies the user's umask (and any default ACL) exactly as for a file the user writes;
    ``tempfile.mkstemp`` would create it 0600, and the rename would keep that mode."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        tmp = directory / f".{name}.{secrets.token_hex(6)}.tmp"
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"cannot create a temp file for {name} in {directory}")


def write_atomic(path: str | os.PathLike, text: str | bytes) -> Path:
    """Write ``text`` to ``path`` via a temp file in the same directory and an atomic rename, so a
    reader never sees a half-written file and an interrupted write leaves the old file intact.
    The file gets the mode of any new file the user writes (0666 minus the umask, e.g. 0644)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode() if isinstance(text, str) else text
    fd, tmp = _create_temp(path.parent, path.name)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


def save(doc: dict, path: str | os.PathLike) -> Path:
    doc = dict(doc)
    doc["schema_version"] = SCHEMA_VERSION
    return write_atomic(path, dumps(doc))


def load(path: str | os.PathLike) -> dict:
    path = Path(path)
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ResultsError(f"{path}: no such results file (run `msgbench run` first)") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ResultsError(f"{path}: cannot read results file: {e}") from None
    try:
        doc = json.loads(raw)
    except json.JSONDecodeError as e:
        raise ResultsError(
            f"{path}: not a valid results file (JSON error at line {e.lineno}, column {e.colno}: {e.msg}); "
            "it may be truncated or corrupted — re-run `msgbench run`"
        ) from None
    return check(doc, str(path))


def check(doc: Any, where: str = "results") -> dict:
    if not isinstance(doc, dict) or "schema_version" not in doc:
        raise ResultsError(f"{where}: not a msgbench results file (no schema_version key)")
    v = doc["schema_version"]
    if not isinstance(v, int):
        raise ResultsError(f"{where}: schema_version must be an integer, got {v!r}")
    if v > SCHEMA_VERSION:
        raise ResultsError(
            f"{where}: written by a newer msgbench (results schema_version {v}, this one reads up to "
            f"{SCHEMA_VERSION}); upgrade msgbench to render it"
        )
    if v < 1:
        raise ResultsError(f"{where}: unsupported results schema_version {v}")
    for key in ("rows", "codecs", "payloads"):
        if not isinstance(doc.get(key), list):
            raise ResultsError(f"{where}: missing or malformed {key!r} list")
    problem = validate_shape(doc)
    if problem:
        raise ResultsError(f"{where}: {problem}; the file was edited or damaged — re-run `msgbench run` "
                           "or fix that entry")
    return normalise(doc)


# ------------------------------------------------------------------------------------------------
# The typed contract: every field a reader relies on has the type it expects, and sizes are bounded
# (a hand-edited file with 10,000 distinct codec names must not make the report take gigabytes).

MAX_ITEMS = 200_000  # rows, cells, samples per list
MAX_NAMES = 500  # distinct codecs / payloads / scenarios
MAX_TEXT = 100_000  # characters in one string

_NUM = (int, float)
_STATS_NUM = ("median_ns", "iqr_ns", "q1_ns", "q3_ns", "min_ns", "mean_ns")
TIME_KEYS = ("encode", "decode", "to_native", "from_native", "parse_lazy", "access", "encode_typed", "decode_typed")


def _kind(v: Any) -> str:
    return "null" if v is None else type(v).__name__


def _is_num(v: Any) -> bool:
    return isinstance(v, _NUM) and not isinstance(v, bool)


class _Bad(Exception):
    pass


def _need(cond: bool, path: str, what: str, v: Any) -> None:
    if not cond:
        shown = repr(v)
        raise _Bad(f"{path}: expected {what}, got {_kind(v)} {shown[:40]}")


def _opt_str(d: dict, key: str, path: str) -> None:
    v = d.get(key)
    _need(v is None or (isinstance(v, str) and len(v) <= MAX_TEXT), f"{path}.{key}", "a string or null", v)


def _list(v: Any, path: str, limit: int = MAX_ITEMS) -> list:
    _need(isinstance(v, list), path, "a list", v)
    _need(len(v) <= limit, path, f"at most {limit:,} items", f"{len(v):,} items")
    return v


def _stats(v: Any, path: str) -> None:
    if v is None:
        return
    _need(isinstance(v, dict), path, "timing figures (an object) or null", v)
    _need(_is_num(v.get("median_ns")) and v["median_ns"] >= 0, f"{path}.median_ns", "a number >= 0",
          v.get("median_ns"))
    for k in _STATS_NUM[1:]:
        if k in v:
            _need(v[k] is None or _is_num(v[k]), f"{path}.{k}", "a number", v[k])
    if v.get("ci95_ns") is not None:
        ci = v["ci95_ns"]
        _need(isinstance(ci, list) and len(ci) == 2 and all(_is_num(x) for x in ci), f"{path}.ci95_ns",
              "[low, high] numbers", ci)
    if "samples_ns" in v:
        xs = _list(v["samples_ns"], f"{path}.samples_ns")
        _need(all(_is_num(x) for x in xs), f"{path}.samples_ns", "numbers", next((x for x in xs if not _is_num(x)),
                                                                                  None))
    if "processes" in v:
        for i, p in enumerate(_list(v["processes"], f"{path}.processes", 1000)):
            _need(isinstance(p, dict) and _is_num(p.get("median_ns")), f"{path}.processes[{i}].median_ns",
                  "a number", p.get("median_ns") if isinstance(p, dict) else p)
    if "rounds" in v:
        _need(v["rounds"] is None or _is_num(v["rounds"]), f"{path}.rounds", "a number", v["rounds"])


def _row(r: Any, path: str) -> None:
    _need(isinstance(r, dict), path, "an object", r)
    for k in ("codec", "payload"):
        _need(isinstance(r.get(k), str) and 0 < len(r[k]) <= 500, f"{path}.{k}", "a non-empty string", r.get(k))
    for k in ("format", "status", "verdict", "error"):
        _opt_str(r, k, path)
    size = r.get("size")
    if size is not None:
        _need(isinstance(size, dict), f"{path}.size", "an object or null", size)
        for k, v in size.items():
            _need(v is None or (_is_num(v) and v >= 0), f"{path}.size.{k}", "a byte count", v)
    for k in TIME_KEYS:
        _stats(r.get(k), f"{path}.{k}")
    fid = r.get("fidelity")
    if fid is not None:
        for i, f in enumerate(_list(fid, f"{path}.fidelity", 10_000)):
            _need(isinstance(f, dict) and isinstance(f.get("path"), str), f"{path}.fidelity[{i}].path", "a string",
                  f.get("path") if isinstance(f, dict) else f)
    if "fidelity_total" in r:
        _need(r["fidelity_total"] is None or _is_num(r["fidelity_total"]), f"{path}.fidelity_total", "a number",
              r["fidelity_total"])
    ap = r.get("access_paths")
    if ap is not None:
        _need(isinstance(ap, list) and len(ap) <= 1000 and all(isinstance(x, str) for x in ap),
              f"{path}.access_paths", "a list of strings", ap)
    _opt_str(r, "access_error", path)
    if r.get("fidelity_paths") is not None:
        _need(isinstance(r["fidelity_paths"], dict) and all(_is_num(n) for n in r["fidelity_paths"].values()),
              f"{path}.fidelity_paths", "{path: count}", r["fidelity_paths"])


def _named(items: Any, path: str) -> None:
    for i, c in enumerate(_list(items, path, MAX_NAMES * 4)):
        _need(isinstance(c, dict), f"{path}[{i}]", "an object", c)
        _need(isinstance(c.get("name"), str) and 0 < len(c["name"]) <= 500, f"{path}[{i}].name", "a non-empty string",
              c.get("name"))
        for k, v in c.items():
            if isinstance(v, str):
                _need(len(v) <= MAX_TEXT, f"{path}[{i}].{k}", f"at most {MAX_TEXT:,} characters", f"{len(v):,}")
        for k in ("json_bytes",):
            if c.get(k) is not None:
                _need(_is_num(c[k]) and c[k] >= 0, f"{path}[{i}].{k}", "a byte count", c[k])
        if "notes" in c:
            _need(isinstance(c["notes"], list) and all(isinstance(n, str) for n in c["notes"]), f"{path}[{i}].notes",
                  "a list of strings", c["notes"])


def _evolution(e: Any, path: str) -> None:
    if not isinstance(e, dict) or "cells" not in e:
        return
    cells = _list(e["cells"], f"{path}.cells")
    names: dict[str, set] = {"codec": set(), "scenario": set(), "direction": set()}
    for i, c in enumerate(cells):
        _need(isinstance(c, dict), f"{path}.cells[{i}]", "an object", c)
        for k in ("scenario", "codec", "direction", "outcome"):
            _need(isinstance(c.get(k), str) and len(c[k]) <= 500, f"{path}.cells[{i}].{k}", "a string", c.get(k))
        _opt_str(c, "detail", f"{path}.cells[{i}]")
        for k in names:
            names[k].add(c[k])
    for k, seen in names.items():
        _need(len(seen) <= MAX_NAMES, f"{path}.cells", f"at most {MAX_NAMES} distinct {k} names", f"{len(seen):,}")
    for k in ("codecs", "directions", "safe_scenarios", "summary"):
        if k in e:
            _need(isinstance(e[k], list) and all(isinstance(x, str) for x in e[k]) and len(e[k]) <= MAX_NAMES * 4,
                  f"{path}.{k}", "a list of strings", e[k])
    if "scenarios" in e:
        for i, sc in enumerate(_list(e["scenarios"], f"{path}.scenarios", MAX_NAMES)):
            _need(isinstance(sc, dict) and isinstance(sc.get("id"), str), f"{path}.scenarios[{i}].id", "a string",
                  sc.get("id") if isinstance(sc, dict) else sc)


def _faults(f: Any, path: str) -> None:
    if not isinstance(f, dict) or "codecs" not in f:
        return
    for i, c in enumerate(_list(f["codecs"], f"{path}.codecs", MAX_NAMES)):
        _need(isinstance(c, dict) and isinstance(c.get("codec"), str), f"{path}.codecs[{i}].codec", "a string",
              c.get("codec") if isinstance(c, dict) else c)
        kinds = c.get("kinds") or {}
        _need(isinstance(kinds, dict), f"{path}.codecs[{i}].kinds", "an object", kinds)
        for k, counts in kinds.items():
            _need(isinstance(counts, dict) and all(_is_num(n) for n in counts.values()),
                  f"{path}.codecs[{i}].kinds.{k}", "{outcome: count}", counts)
        for k in ("memory_errors", "skipped"):
            if k in c:
                _need(_is_num(c[k]), f"{path}.codecs[{i}].{k}", "a number", c[k])
        if "examples" in c:
            _need(isinstance(c["examples"], list) and all(isinstance(x, str) for x in c["examples"]),
                  f"{path}.codecs[{i}].examples", "a list of strings", c["examples"])


def validate_shape(doc: dict) -> str | None:
    """The first place where ``doc`` breaks the contract, as ``path: expected ..., got ...``; None if
    it holds. Unknown extra keys are allowed (newer minor additions); sections other than evolution
    and faults are checked by their renderers."""
    try:
        for key in ("run", "environment", "tool"):
            v = doc.get(key)
            _need(v is None or isinstance(v, dict), key, "an object", v)
        env = doc.get("environment") or {}
        for key in ("load_average", "load_average_end"):
            v = env.get(key)
            _need(v is None or (isinstance(v, list) and all(_is_num(x) for x in v)), f"environment.{key}",
                  "a list of numbers", v)
        for key in ("python", "git", "libraries", "busy", "cpu"):
            v = env.get(key)
            _need(v is None or isinstance(v, dict), f"environment.{key}", "an object", v)
        _need(v is None or isinstance(env.get("warnings"), (list, type(None))), "environment.warnings", "a list",
              env.get("warnings"))
        run = doc.get("run") or {}
        for key in ("duration_s",):
            _need(run.get(key) is None or _is_num(run.get(key)), f"run.{key}", "a number", run.get(key))
        for key in ("sections",):
            v = doc.get(key)
            # a section's own shape is its renderer's business (a broken one is shown as broken)
            _need(v is None or isinstance(v, dict), key, "an object of sections", v)
        _named(doc["codecs"], "codecs")
        _named(doc["payloads"], "payloads")
        rows = _list(doc["rows"], "rows")
        for i, r in enumerate(rows):
            _row(r, f"rows[{i}]")
        for k in ("codec", "payload"):
            distinct = {r[k] for r in rows}
            _need(len(distinct) <= MAX_NAMES, "rows", f"at most {MAX_NAMES} distinct {k} names", f"{len(distinct):,}")
        sections = doc.get("sections") or {}
        _evolution(sections.get("evolution"), "sections.evolution")
        _faults(sections.get("faults"), "sections.faults")
    except _Bad as e:
        return str(e)
    return None


def guarded(where: str, fn: Any, *args: Any, debug: bool = False) -> Any:
    """Run a reader (render, compare) on a checked document. The contract pins what readers rely
    on; content it does not pin that still trips a reader becomes a one-line :class:`ResultsError`
    naming the file (the traceback with ``--debug``), never a traceback from inside a renderer."""
    try:
        return fn(*args)
    except (MsgbenchError, MemoryError):  # a memory limit is the caller's to name, not a bad file
        raise
    except Exception as e:
        if debug:
            raise
        msg = " ".join(f"{type(e).__name__}: {e}".split())[:200]
        err = ResultsError(f"{where}: cannot read this results file ({msg}); it was probably edited by hand — "
                           "re-run `msgbench run`, or use --debug for the traceback")
        err.original = e  # a caller's limit may know better (bench.limits: out of memory under --memory-limit)
        raise err from None


# ------------------------------------------------------------------------------------------------
# The typed view readers index. ``check``/``load`` return the document in this shape: every key
# below is present with its type (optional ones as None, empty lists or dicts), so renderers write
# ``row["size"]["raw"]`` and ``codec["backend"]``, never ``(r.get("size") or {}).get("raw")``. Older
# files (fields added since) and hand-trimmed ones get the same defaults. ``sections.evolution`` and
# ``sections.faults`` (checked by the contract above) are typed too (EvolutionSection, FaultsSection);
# other sections keep their own shapes and each one's renderer checks its own.


class ProcessFigure(TypedDict):
    median_ns: float
    rounds: int | None


class Stats(TypedDict):
    median_ns: float
    iqr_ns: float | None
    q1_ns: float | None
    q3_ns: float | None
    min_ns: float | None
    mean_ns: float | None
    rounds: int | None
    inner_loops: int | None
    ci95_ns: list[float] | None
    samples_ns: list[float]
    processes: list[ProcessFigure]


class Size(TypedDict):
    raw: int | None
    gzip: int | None
    zstd: int | None


class Row(TypedDict):
    codec: str
    format: str
    payload: str
    status: str  # "ok" | "failed" | "unsupported"
    verdict: str  # "exact" | "lossy" | "failed" | "unsupported"
    error: str | None
    fidelity: list[dict[str, Any]]  # {"path", "expected", "actual"}
    fidelity_total: int
    fidelity_paths: dict[str, int]
    size: Size
    encode: Stats | None
    decode: Stats | None
    encode_typed: Stats | None
    decode_typed: Stats | None
    to_native: Stats | None
    from_native: Stats | None
    parse_lazy: Stats | None
    access: Stats | None
    access_paths: list[str]
    access_error: str


class CodecInfo(TypedDict):
    name: str
    format: str
    library: str
    library_version: str
    backend: str
    slow_backend: bool
    source: str
    binary: bool | None  # None: the file does not say (neither counted as text nor as binary)
    needs_schema: bool
    status: str  # "ok" | "unavailable" | "failed"
    error: str | None
    notes: list[str]


class PayloadInfo(TypedDict):
    name: str
    description: str
    source: str
    json_bytes: int | None
    notes: list[str]


class RunInfo(TypedDict):
    started: str | None
    finished: str | None
    partial: bool
    mode: str
    argv: list[str]
    duration_s: float | None
    sizes: dict[str, Any]


class EvolutionVerdict(TypedDict):
    """One layer's verdict on a cell (the library's, or msgbench's adapter's)."""

    outcome: str
    detail: str
    ideal: bool | None  # None: not recorded (results written before the producer knew)


class EvolutionValue(TypedDict):
    """One value a multi-value cell tried (``label``: which one), with the adapter's verdict when it
    differs from the library's."""

    label: str
    outcome: str
    detail: str
    ideal: bool | None
    adapter: EvolutionVerdict | None


class EvolutionCell(TypedDict):
    scenario: str
    codec: str
    direction: str
    outcome: str  # the library's (the worse over ``values`` when several were tried)
    detail: str
    ideal: bool | None  # None: not recorded; readers then judge by the outcome
    adapter: EvolutionVerdict | None  # only when the adapter's verdict differs from the library's
    values: list[EvolutionValue]  # [] when the cell tried one value
    brief: str  # one line over ``values`` ("" for a single-value cell)


class EvolutionScenario(TypedDict):
    id: str
    title: str  # "" when not recorded (readers show the id)
    description: str


class EvolutionSection(TypedDict):
    """``sections.evolution`` (bench.evolution): one cell per scenario x codec x direction."""

    scenarios: list[EvolutionScenario]
    codecs: list[str]
    directions: list[str]
    direction_text: dict[str, str]
    cells: list[EvolutionCell]
    safe_scenarios: list[str]
    summary: list[str]  # the producer's plain-language sentences ([] in older results)
    reader_rules: dict[str, str]
    roundtrip_rule: str | None


class FaultCodec(TypedDict):
    codec: str
    kinds: dict[str, dict[str, float]]  # fault kind -> {outcome: count}; outcomes not seen may be absent
    unchanged: dict[str, float]  # fault kind -> corrupted inputs that decoded to the original value
    memory_errors: int
    skipped: int
    examples: list[str]
    error: str | None  # the probe itself failed for this codec


class FaultsSection(TypedDict):
    """``sections.faults`` (bench.faults): decoding corrupted input, per codec and fault kind."""

    trials_per_kind: int | None
    payloads: list[str]
    memory_error_outcome: str  # "clean_error" since MemoryError stopped counting as a crash; "" before
    codecs: list[FaultCodec]


class Results(TypedDict):
    schema_version: int
    tool: dict[str, Any]
    run: RunInfo
    environment: dict[str, Any]
    codecs: list[CodecInfo]
    payloads: list[PayloadInfo]
    rows: list[Row]
    sections: dict[str, Any]


def _text(v: Any, default: str = "") -> str:
    return v if isinstance(v, str) else default


def _text_or_none(v: Any) -> str | None:
    return v if isinstance(v, str) else None


def _str_items(v: Any) -> list[str]:
    """The strings of a list (other items dropped); [] for anything but a list."""
    return [x for x in v if isinstance(x, str)] if isinstance(v, list) else []


def _num_or_none(v: Any) -> Any:
    return v if _is_num(v) else None


def _stats_view(v: Any) -> Stats | None:
    if not isinstance(v, dict) or not _is_num(v.get("median_ns")):
        return None
    out: dict[str, Any] = dict(v)
    for k in ("iqr_ns", "q1_ns", "q3_ns", "min_ns", "mean_ns", "rounds", "inner_loops"):
        out[k] = _num_or_none(v.get(k))
    ci = v.get("ci95_ns")
    out["ci95_ns"] = list(ci) if isinstance(ci, list) and len(ci) == 2 and all(_is_num(x) for x in ci) else None
    out["samples_ns"] = [x for x in v.get("samples_ns") or [] if _is_num(x)]
    out["processes"] = [{"median_ns": p["median_ns"], "rounds": _num_or_none(p.get("rounds"))}
                        for p in v.get("processes") or [] if isinstance(p, dict) and _is_num(p.get("median_ns"))]
    return out  # type: ignore[return-value]


def _row_view(r: dict, formats: dict[str, str]) -> Row:
    out: dict[str, Any] = dict(r)
    size = r.get("size") if isinstance(r.get("size"), dict) else {}
    out["size"] = {**size, **{k: _num_or_none(size.get(k)) for k in ("raw", "gzip", "zstd")}}
    out["format"] = _text(r.get("format")) or formats.get(r["codec"], "")
    out["status"] = _text(r.get("status")) or "failed"
    out["verdict"] = _text(r.get("verdict")) or out["status"]
    out["error"] = _text_or_none(r.get("error"))
    out["fidelity"] = [f for f in r.get("fidelity") or [] if isinstance(f, dict)]
    out["fidelity_total"] = int(r["fidelity_total"]) if _is_num(r.get("fidelity_total")) else len(out["fidelity"])
    out["fidelity_paths"] = {str(k): int(n) for k, n in (r.get("fidelity_paths") or {}).items()}
    for k in TIME_KEYS:
        out[k] = _stats_view(r.get(k))
    out["access_paths"] = list(r.get("access_paths") or [])
    out["access_error"] = _text(r.get("access_error"))
    return out  # type: ignore[return-value]


def _codec_view(c: dict) -> CodecInfo:
    out: dict[str, Any] = dict(c)
    for k in ("format", "library", "library_version", "backend", "source"):
        out[k] = "" if c.get(k) is None else str(c[k])
    for k in ("slow_backend", "needs_schema"):
        out[k] = bool(c.get(k))
    out["binary"] = c["binary"] if isinstance(c.get("binary"), bool) else None  # unknown stays unknown
    out["status"] = _text(c.get("status")) or "ok"
    out["error"] = _text_or_none(c.get("error"))
    out["notes"] = list(c.get("notes") or [])
    return out  # type: ignore[return-value]


def codec_defaults(name: str) -> CodecInfo:
    """The typed entry of a codec the file names only in its rows (every field at its default)."""
    return _codec_view({"name": name})


def _payload_view(p: dict) -> PayloadInfo:
    out: dict[str, Any] = dict(p)
    out["description"] = _text(p.get("description"))
    out["source"] = _text(p.get("source"))
    out["json_bytes"] = _num_or_none(p.get("json_bytes"))
    out["notes"] = list(p.get("notes") or [])
    return out  # type: ignore[return-value]


def _run_view(run: dict) -> RunInfo:
    out: dict[str, Any] = dict(run)
    out["started"] = _text_or_none(run.get("started"))
    out["finished"] = _text_or_none(run.get("finished"))
    out["partial"] = bool(run.get("partial"))
    out["mode"] = _text(run.get("mode"))
    out["argv"] = [str(a) for a in run.get("argv") or [] if isinstance(a, (str, int, float))] \
        if isinstance(run.get("argv"), list) else []
    out["duration_s"] = _num_or_none(run.get("duration_s"))
    out["sizes"] = run.get("sizes") if isinstance(run.get("sizes"), dict) else {}
    return out  # type: ignore[return-value]


def _strs(v: Any) -> list[str]:
    return [str(x) for x in v] if isinstance(v, list) else []


def _str_or_empty(v: Any) -> str:
    return "" if v is None else str(v)


def _ideal(v: Any) -> bool | None:
    return v if isinstance(v, bool) else None


def _verdict_view(v: Any) -> EvolutionVerdict | None:
    if not isinstance(v, dict):
        return None
    out: dict[str, Any] = dict(v)
    out["outcome"] = _str_or_empty(v.get("outcome"))
    out["detail"] = _str_or_empty(v.get("detail"))
    out["ideal"] = _ideal(v.get("ideal"))
    return out  # type: ignore[return-value]


def _evolution_cell_view(c: dict) -> EvolutionCell:
    out: dict[str, Any] = dict(_verdict_view(c) or {})
    for k in ("scenario", "codec", "direction"):
        out[k] = _str_or_empty(c.get(k))
    out["adapter"] = _verdict_view(c.get("adapter"))
    values = []
    for v in c.get("values") or [] if isinstance(c.get("values"), list) else []:
        if isinstance(v, dict):
            vv: dict[str, Any] = dict(_verdict_view(v) or {})
            vv["label"] = _str_or_empty(v.get("label"))
            vv["adapter"] = _verdict_view(v.get("adapter"))
            values.append(vv)
    out["values"] = values
    out["brief"] = _str_or_empty(c.get("brief"))
    return out  # type: ignore[return-value]


def evolution_view(e: dict) -> EvolutionSection:
    """``sections.evolution`` in its typed shape (unknown extra keys kept). Idempotent; defensive,
    so that a renderer can also call it on a section the contract did not check."""
    out: dict[str, Any] = dict(e)
    scenarios = []
    for sc in e.get("scenarios") or [] if isinstance(e.get("scenarios"), list) else []:
        if isinstance(sc, dict):
            scenarios.append({**sc, "id": _str_or_empty(sc.get("id")), "title": _str_or_empty(sc.get("title")),
                              "description": _str_or_empty(sc.get("description"))})
    out["scenarios"] = scenarios
    for k in ("codecs", "directions", "safe_scenarios"):
        out[k] = _strs(e.get(k))
    out["summary"] = _str_items(e.get("summary"))
    for k in ("direction_text", "reader_rules"):
        out[k] = {str(a): b for a, b in e[k].items() if isinstance(b, str)} if isinstance(e.get(k), dict) else {}
    out["roundtrip_rule"] = _text_or_none(e.get("roundtrip_rule"))
    out["cells"] = [_evolution_cell_view(c) for c in e.get("cells") or [] if isinstance(c, dict)] \
        if isinstance(e.get("cells"), list) else []
    return out  # type: ignore[return-value]


def _counts(v: Any) -> dict[str, float]:
    return {str(k): n for k, n in v.items() if _is_num(n)} if isinstance(v, dict) else {}


def _fault_codec_view(c: dict) -> FaultCodec:
    out: dict[str, Any] = dict(c)
    out["codec"] = _str_or_empty(c.get("codec"))
    out["kinds"] = {str(k): _counts(v) for k, v in c["kinds"].items()} if isinstance(c.get("kinds"), dict) else {}
    out["unchanged"] = _counts(c.get("unchanged"))
    for k in ("memory_errors", "skipped"):
        out[k] = int(c[k]) if _is_num(c.get(k)) else 0
    out["examples"] = _str_items(c.get("examples"))
    out["error"] = _text_or_none(c.get("error"))
    return out  # type: ignore[return-value]


def faults_view(f: dict) -> FaultsSection:
    """``sections.faults`` in its typed shape (unknown extra keys kept). Idempotent and defensive."""
    out: dict[str, Any] = dict(f)
    out["trials_per_kind"] = _num_or_none(f.get("trials_per_kind"))
    out["payloads"] = _strs(f.get("payloads"))
    out["memory_error_outcome"] = _text(f.get("memory_error_outcome"))
    out["codecs"] = [_fault_codec_view(c) for c in f.get("codecs") or [] if isinstance(c, dict)] \
        if isinstance(f.get("codecs"), list) else []
    return out  # type: ignore[return-value]


def _sections_view(sections: dict) -> dict[str, Any]:
    """The sections with evolution and faults typed when they hold measurements (a section that
    failed, ``{"error", "traceback"}``, stays as written: the report shows it as failed)."""
    out = dict(sections)
    if isinstance(out.get("evolution"), dict) and "cells" in out["evolution"]:
        out["evolution"] = evolution_view(out["evolution"])
    if isinstance(out.get("faults"), dict) and "codecs" in out["faults"]:
        out["faults"] = faults_view(out["faults"])
    return out


def evolution_section(doc: Results) -> EvolutionSection | None:
    """The normalised document's evolution measurements, None when it has none."""
    e = doc["sections"].get("evolution")
    return e if isinstance(e, dict) and "cells" in e else None  # type: ignore[return-value]


def faults_section(doc: Results) -> FaultsSection | None:
    """The normalised document's fault-probe measurements, None when it has none."""
    f = doc["sections"].get("faults")
    return f if isinstance(f, dict) and "codecs" in f else None  # type: ignore[return-value]


def normalise(doc: dict) -> Results:
    """The validated document in the typed shape readers index (a new top-level dict and new
    rows/codecs/payloads/sections dict, evolution and faults typed; other sections and sample lists
    are shared, not copied). Idempotent."""
    codecs = [_codec_view(c) for c in doc["codecs"]]
    formats = {c["name"]: c["format"] for c in codecs}
    return {  # type: ignore[typeddict-item]
        **doc,
        "tool": doc.get("tool") if isinstance(doc.get("tool"), dict) else {},
        "run": _run_view(doc.get("run") if isinstance(doc.get("run"), dict) else {}),
        "environment": doc.get("environment") if isinstance(doc.get("environment"), dict) else {},
        "codecs": codecs,
        "payloads": [_payload_view(p) for p in doc["payloads"]],
        "rows": [_row_view(r, formats) for r in doc["rows"]],
        "sections": _sections_view(doc["sections"]) if isinstance(doc.get("sections"), dict) else {},
    }
