"""Pure computations behind the report: Pareto fronts, recommendations, wire-cost figures, formatting.

Everything here takes plain data (rows of a results document) and returns plain data; no I/O, no
HTML. The HTML and markdown renderers both build on these, so the page and the PR summary always
tell the same story.

Row and document helpers (``total_ns``, ``ok_rows``, ``codec_info``, ...) take the typed view of
``reports.results`` (``Results``, ``Row``: every key present) and index it; the entry points that
take a whole document from outside (``recommendations``, ``pareto_by_payload``, ``calculator_data``)
normalise it once first.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from reports.numbers import fmt_int, fmt_ns, median  # noqa: F401 - re-exported for the views
from reports.results import (
    CodecInfo,
    EvolutionCell,
    EvolutionSection,
    Results,
    Row,
    Stats,
    evolution_section,
    normalise,
)

DEFAULT_RATE = 10_000  # messages per second
DEFAULT_LINK_BPS = 1e9  # 1 Gbit/s

# evolution outcomes that leave the reader with a usable, correct value
SAFE_OUTCOMES = ("ok", "defaulted", "preserved-unknown")
# evolution outcomes where the reader got a wrong value and no error: a different value ("changed"),
# nothing where a value was written ("lost"), or either ("corrupted", results written before the two
# were told apart)
SILENT_OUTCOMES = ("changed", "lost", "corrupted")


def evolution_cell_good(cell: EvolutionCell) -> bool:
    """Did the reader get what it ideally should? The producer's ``ideal`` flag when recorded (it
    knows, e.g., that rejecting an unrepresentable value is right, and that an old reader dropping
    a field it does not know is compatible); otherwise a usable-value outcome."""
    if cell["ideal"] is not None:
        return cell["ideal"]
    return cell["outcome"] in SAFE_OUTCOMES


# ---------------------------------------------------------------------------------------------
# formatting (shared by HTML, markdown and chart labels)


def fmt_bytes(n: float | int | None) -> str:
    """Exact byte count with thousands separators: ``12,345 B``."""
    return "–" if n is None else f"{int(round(n)):,} B"


def fmt_bytes_short(n: float | int | None) -> str:
    """Compact byte count for chart labels: ``812 B``, ``12.3 kB``, ``1.20 MB``."""
    if n is None:
        return "–"
    if n < 1000:
        return f"{int(round(n))} B"
    if n < 1e6:
        return f"{n / 1e3:.3g} kB"
    return f"{n / 1e6:.3g} MB"


def fmt_ns_range(lo: float, hi: float) -> str:
    """``614–633 ns`` when both ends share a unit, else ``980 ns–1.02 µs``."""
    a, b = fmt_ns(lo), fmt_ns(hi)
    ua, ub = a.rsplit(" ", 1), b.rsplit(" ", 1)
    if len(ua) == 2 and len(ub) == 2 and ua[1] == ub[1]:
        return f"{ua[0]}–{b}"
    return f"{a}–{b}"


def fmt_ratio(x: float) -> str:
    return f"{x:.2f}×" if x < 10 else f"{x:.3g}×"


def fmt_sig3(x: float | None) -> str:
    """Three significant digits without exponent: ``0.0421``, ``4.10``, ``41.0``, ``1,234``.

    ``report.js`` has the same function (``sig3``) so server-rendered and updated cells match.
    """
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "–"
    if x == 0:
        return "0"
    if abs(x) < 0.001:
        return "< 0.001"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    digits = max(0, 2 - math.floor(math.log10(abs(x))))
    return f"{x:.{digits}f}"


def slug(text: str) -> str:
    """An HTML-id-safe slug (ASCII letters, digits, dashes) that stays unique enough for ids."""
    out = []
    for ch in str(text).lower():
        out.append(ch if ch.isascii() and ch.isalnum() else "-")
    s = "-".join(p for p in "".join(out).split("-") if p)
    return s[:40] or "x"


def unique_slugs(names: Iterable[str]) -> dict[str, str]:
    """Map each name to a slug unique among ``names`` (``a``, ``a-2``, ...)."""
    seen: dict[str, int] = {}
    out: dict[str, str] = {}
    for n in names:
        if n in out:
            continue
        base = slug(n)
        k = seen.get(base, 0) + 1
        seen[base] = k
        out[n] = base if k == 1 else f"{base}-{k}"
    return out


# ---------------------------------------------------------------------------------------------
# access to rows


def stat_ns(stats: Stats | None) -> float | None:
    """The median of a typed figure, or None when it was not measured."""
    return None if stats is None else float(stats["median_ns"])


def total_ns(row: Row) -> float | None:
    """encode + decode median of one row, or None when either is missing."""
    e, d = stat_ns(row["encode"]), stat_ns(row["decode"])
    return None if e is None or d is None else e + d


# op -> (typed figure, library figure, conversion figure)
_OP_FIGURES = {"encode": ("encode_typed", "encode", "to_native"), "decode": ("decode_typed", "decode", "from_native")}


def typed_ns(row: Row, op: str) -> float | None:
    """Median ns of ``op`` ("encode"/"decode") on the typed boundary (typed model value ⇄ bytes): the
    ``*_typed`` figure, or library + conversion medians for results that predate it, else None."""
    typed, lib_key, conv_key = _OP_FIGURES[op]
    t = stat_ns(row[typed])
    if t is not None:
        return t
    lib, conv = stat_ns(row[lib_key]), stat_ns(row[conv_key])
    return None if lib is None or conv is None else lib + conv


def op_ns(row: Row, op: str) -> float | None:
    """The figure comparisons use for ``op``: typed when recorded, else the library-only figure."""
    t = typed_ns(row, op)
    return t if t is not None else stat_ns(row[_OP_FIGURES[op][1]])


def speed_ns(row: Row) -> float | None:
    """Encode + decode as the comparisons count it (typed when recorded, else library-only)."""
    e, d = op_ns(row, "encode"), op_ns(row, "decode")
    return None if e is None or d is None else e + d


def raw_size(row: Row) -> int | None:
    return row["size"]["raw"]


def zstd_size(row: Row) -> int | None:
    return row["size"]["zstd"]


def ok_rows(doc: Results, payload: str | None = None) -> list[Row]:
    return [r for r in doc["rows"] if r["status"] == "ok" and (payload is None or r["payload"] == payload)]


def _names(listed: list, rows: list[Row], key: str) -> list[str]:
    """The names in the file's list, then those only its rows mention (they still count)."""
    names = [x["name"] for x in listed]
    names += [n for n in dict.fromkeys(r[key] for r in rows) if n not in names]
    return names


def payload_names(doc: Results) -> list[str]:
    return _names(doc["payloads"], doc["rows"], "payload")


def codec_names(doc: Results) -> list[str]:
    return _names(doc["codecs"], doc["rows"], "codec")


def codec_info(doc: Results) -> dict[str, CodecInfo]:
    return {c["name"]: c for c in doc["codecs"]}


def has_timing(doc: Results) -> bool:
    return any(total_ns(r) is not None for r in ok_rows(doc))


# ---------------------------------------------------------------------------------------------
# Pareto front


def pareto_front(points: Sequence[tuple[str, float, float]]) -> list[str]:
    """Names on the size-vs-time Pareto front, smallest first.

    ``points`` are ``(name, size, time)``; lower is better in both. A point is on the front unless
    another point is at least as small *and* at least as fast, and strictly better in one of the two
    (standard Pareto dominance: of two codecs with identical bytes, only the faster one stays).
    Exact duplicates (same size and time) are all kept.
    """
    front = []
    for name, s, t in points:
        dominated = any((s2 <= s and t2 <= t) and (s2 < s or t2 < t) for _, s2, t2 in points)
        if not dominated:
            front.append((s, t, name))
    front.sort()
    return [name for _, _, name in front]


def pareto_by_payload(doc: dict) -> dict[str, list[str]]:
    doc = normalise(doc)
    out = {}
    for p in payload_names(doc):
        pts = [(r["codec"], raw_size(r), total_ns(r)) for r in ok_rows(doc, p)]
        pts = [x for x in pts if x[1] is not None and x[2] is not None]
        out[p] = pareto_front(pts)
    return out


# ---------------------------------------------------------------------------------------------
# recommendations


@dataclass
class Recommendation:
    key: str  # "smallest_raw", ...
    priority: str  # "Smallest on the wire (raw)"
    codec: str | None  # None: no evidence to recommend anything
    summary: str  # one sentence with the numbers
    evidence: list[str] = field(default_factory=list)  # per payload figures
    caveats: list[str] = field(default_factory=list)


def _geomean(xs: Sequence[float]) -> float:
    return math.exp(sum(math.log(x) for x in xs) / len(xs))


Metric = Callable[[Row], float | None]


def _rank_by_metric(doc: Results, metric: Metric, candidates: set[str] | None = None
                    ) -> list[tuple[str, float, dict]]:
    """Rank codecs by the geometric mean, over payloads, of metric / best metric for that payload.

    Only codecs with a value on the largest number of payloads are ranked (a codec that fails on a
    payload cannot win by skipping it). Returns ``[(codec, geomean ratio, {payload: value})]``.
    """
    per_codec: dict[str, dict[str, float]] = {}
    best: dict[str, float] = {}
    for r in ok_rows(doc):
        if candidates is not None and r["codec"] not in candidates:
            continue
        v = metric(r)
        if v is None or v <= 0:
            continue
        per_codec.setdefault(r["codec"], {})[r["payload"]] = v
        best[r["payload"]] = min(best.get(r["payload"], v), v)
    if not per_codec:
        return []
    coverage = max(len(v) for v in per_codec.values())
    ranked = []
    for codec, vals in per_codec.items():
        if len(vals) < coverage:
            continue
        ranked.append((codec, _geomean([v / best[p] for p, v in vals.items()]), vals))
    ranked.sort(key=lambda x: (x[1], x[0]))
    return ranked


def _wins(ranked: list[tuple[str, float, dict]], codec: str) -> tuple[int, int]:
    vals = dict((c, v) for c, _, v in ranked)[codec]
    n = 0
    for p, v in vals.items():
        if all(v <= other.get(p, math.inf) for c, _, other in ranked):
            n += 1
    return n, len(vals)


def _metric_rec(doc: Results, key: str, priority: str, metric: Metric, fmt: Callable[[Any], str], unit_word: str,
                candidates: set[str] | None = None, extra: Callable[[Row], str] | None = None) -> Recommendation:
    exact = {r["codec"] for r in ok_rows(doc) if r["verdict"] == "exact"}
    pool = exact if candidates is None else candidates & exact
    ranked = _rank_by_metric(doc, metric, pool)
    if not ranked:
        return Recommendation(key, priority, None, "No codec has an exact round trip with this figure measured.")
    codec, ratio, vals = ranked[0]
    wins, n = _wins(ranked, codec)
    summary = (f"{unit_word} on {wins} of {n} payload{'s' if n != 1 else ''}; on average "
               f"{fmt_ratio(ratio)} the best per payload (geometric mean, exact codecs only)")
    if len(ranked) > 1:
        summary += f"; runner-up: {ranked[1][0]} at {fmt_ratio(ranked[1][1])}"
    evidence = [f"{p}: {fmt(v)}" for p, v in vals.items()]
    if extra is not None:
        rows = {r["payload"]: r for r in ok_rows(doc) if r["codec"] == codec}
        evidence = [f"{e}, {extra(rows[p])}" for e, p in zip(evidence, vals, strict=True)]
    caveats = []
    lossy_ranked = _rank_by_metric(doc, metric, None if candidates is None else candidates)
    if lossy_ranked and lossy_ranked[0][0] not in exact and lossy_ranked[0][0] != codec:
        lc = lossy_ranked[0][0]
        caveats.append(f"{lc} does better ({fmt_ratio(lossy_ranked[0][1])} of the best overall) but does not "
                       "round-trip every payload exactly (see fidelity notes)")
    return Recommendation(key, priority, codec, summary, evidence, caveats)


def evolution_scores(evo: EvolutionSection) -> dict[str, dict]:
    """Per codec: counts of outcomes over all cells (every direction, roundtrips included), and over
    the backward/forward cells of the safe scenarios only. A cell's outcome is the worse of the
    values it tried and, for tag-based codecs, the library's (not msgbench's adapter's)."""
    safe = set(evo["safe_scenarios"])

    def blank() -> dict:
        return {"cells": 0, "good": 0, "silent": 0, "changed": 0, "lost": 0, "corrupted": 0, "safe_cells": 0,
                "safe_good": 0, "error": 0, "multi_value": 0}

    out: dict[str, dict] = {}
    for c in evo["codecs"]:
        out[c] = blank()
    for cell in evo["cells"]:
        s = out.setdefault(cell["codec"], blank())
        outcome = cell["outcome"]
        if outcome == "unsupported":
            continue
        good = evolution_cell_good(cell)
        s["cells"] += 1
        s["good"] += good
        s["silent"] += outcome in SILENT_OUTCOMES
        s["changed"] += outcome == "changed"
        s["lost"] += outcome == "lost"
        s["corrupted"] += outcome == "corrupted"
        s["error"] += outcome == "error"
        s["multi_value"] += bool(cell["values"])
        if cell["scenario"] in safe and cell["direction"] in ("backward", "forward"):
            s["safe_cells"] += 1
            s["safe_good"] += good
    return out


def _silent_parts(v: dict) -> str:
    return ", ".join(f"{v[k]} {k}" for k in ("changed", "lost", "corrupted") if v[k])


def _silent_text(v: dict) -> str:
    parts = _silent_parts(v)
    return f"{v['silent']} silent" + (f" ({parts})" if parts else "")


# What a format's evolution results assume, stated on the recommendation (format -> condition).
EVOLUTION_CONDITIONS = {
    "avro": "the reader needs the writer's schema (a schema registry, or a container-file header); Avro data "
            "cannot be read without it.",
}


def _evolution_rec(doc: Results) -> Recommendation | None:
    evo = evolution_section(doc)
    if evo is None:
        return None
    scores = {c: s for c, s in evolution_scores(evo).items() if s["cells"]}
    key, priority = "evolution", "Safest schema evolution"
    if not scores:
        return Recommendation(key, priority, None, "No evolution outcomes were recorded.")
    ranked = sorted(scores.items(), key=lambda kv: (
        kv[1]["silent"], -kv[1]["safe_good"] / max(kv[1]["safe_cells"], 1), -kv[1]["good"] / kv[1]["cells"], kv[0]))
    codec, s = ranked[0]
    summary = ""
    if s["safe_cells"]:
        summary = (f"ideal outcome in {s['safe_good']} of {s['safe_cells']} backward/forward cells of the "
                   "compatible-by-design changes; ")
    summary += (f"ideal in {s['good']} of {s['cells']} evolution cells overall; "
                 f"{s['silent']} cell{'s' if s['silent'] != 1 else ''} with a wrong value and no error "
                 "(roundtrips through an old intermediary included)")
    if any(v["multi_value"] for v in scores.values()):
        summary += "; a cell that tried several values counts the worse"
    condition = EVOLUTION_CONDITIONS.get(codec.split("/")[0].split(" ")[0])
    if condition:
        summary += ". Condition: " + condition
    evidence = [f"{c}: safe changes {v['safe_good']}/{v['safe_cells']}, overall {v['good']}/{v['cells']} ideal, "
                f"{_silent_text(v)}, {v['error']} errors" for c, v in ranked]
    caveats = [f"{c} silently corrupts data in {v['silent']} cell{'s' if v['silent'] != 1 else ''} (a wrong value, "
               f"no error: {_silent_parts(v)})" for c, v in ranked if v["silent"]]
    return Recommendation(key, priority, codec, summary, evidence, caveats)


def recommendations(doc: dict) -> list[Recommendation]:
    """Generated advice for common priorities, each with the numbers behind it."""
    doc = normalise(doc)
    recs = [
        _metric_rec(doc, "smallest_raw", "Smallest on the wire (uncompressed)", raw_size, fmt_bytes, "smallest"),
        _metric_rec(doc, "smallest_zstd", "Smallest on the wire (zstd-compressed)", zstd_size, fmt_bytes,
                    "smallest after zstd"),
    ]
    if has_timing(doc):
        recs.append(_metric_rec(doc, "fastest", "Fastest encode + decode", total_ns, fmt_ns, "fastest"))
    evo = _evolution_rec(doc)
    if evo is not None:
        recs.append(evo)
    info = codec_info(doc)
    text = {r["codec"] for r in ok_rows(doc) if r["codec"] in info and info[r["codec"]]["binary"] is False}
    metric, fmt, word = (total_ns, fmt_ns, "fastest text format") if has_timing(doc) else \
        (raw_size, fmt_bytes, "smallest text format")
    rec = _metric_rec(doc, "readable", "Human-readable (text format)", metric, fmt, word, text,
                      extra=(lambda r: fmt_bytes(raw_size(r))) if metric is total_ns else None)
    if rec.codec is None and not text:
        rec.summary = "No text (non-binary) codec produced results in this run."
    recs.append(rec)
    return recs


# ---------------------------------------------------------------------------------------------
# "What it costs on the wire"


def wire_cost(row: Row, rate: float = DEFAULT_RATE, link_bps: float = DEFAULT_LINK_BPS) -> dict:
    """CPU-seconds per second spent encoding + decoding (typed figures when recorded), and share of
    the link, at ``rate`` msg/s.

    The same formulas run in the page's JavaScript (keep them in step with ``report.js``).
    """
    t = speed_ns(row)
    raw = raw_size(row)
    z = zstd_size(row)
    return {
        "cpu": None if t is None else rate * t / 1e9,
        "link_pct": None if raw is None else rate * raw * 8 / link_bps * 100,
        "link_pct_zstd": None if z is None else rate * z * 8 / link_bps * 100,
    }


def calculator_data(doc: dict) -> dict:
    """The numbers the in-page calculator needs (embedded as JSON).

    With a ``transport`` section, ``transports`` lists the transports measured and each item's
    ``per_call`` holds the measured CPU per message sent over each (ns; see
    ``reports.transport_view.per_call_cpu``)."""
    from reports.transport_view import SHORT, per_call_cpu

    doc = normalise(doc)
    transports, per_call = per_call_cpu(doc)
    out: dict = {"rate": DEFAULT_RATE, "link_bps": DEFAULT_LINK_BPS, "payloads": {},
                 "transports": [{"name": t, "label": SHORT.get(t, t)} for t in transports]}
    for p in payload_names(doc):
        items = []
        for r in ok_rows(doc, p):
            items.append({"codec": r["codec"], "bytes": raw_size(r), "zstd": zstd_size(r),
                          "enc_ns": op_ns(r, "encode"), "dec_ns": op_ns(r, "decode"),
                          "per_call": per_call.get(p, {}).get(r["codec"], {})})
        out["payloads"][p] = items
    return out
