"""The decision: one answer per priority, each with its number, the runner-up and the gap.

Pure functions over a results document. The rules are deliberately few so anyone can recompute
them from results.json (tests/test_report_decision.py does, with its own few lines):

- **Speed** compares codecs on one boundary for all: *typed model value → bytes* (``encode_typed``)
  and *bytes → typed model value* (``decode_typed``). Rows written before those figures existed
  fall back to library figure + conversion (``encode`` + ``to_native``, ``decode`` +
  ``from_native``). Encode and decode have separate winners.
- A codec competes in a group of payloads when it has an ``ok`` row with verdict ``exact`` and the
  figure on **every** payload of the group; its score is the geometric mean of the figure over the
  group (with the same payloads for everyone, this ranks exactly like the mean ratio to the best).
- **Sizes** are answered per size class (small / medium / large by the payload's compact-JSON
  size); neighbouring classes with the same pick are merged into one row ranked over their union.
  The trained-dictionary answer comes from the Batches section (``zstd-dict-per-message`` rows).
- **Safety with malformed input**: fewest hangs + crashes, then the lowest silent-garbage rate.
- The runner-up is the best codec of *another format* (the part of the codec name before ``/``),
  so the gap is between formats; every pick is named "Format (best implementation here)".

The helpers take the typed view of ``reports.results`` (``Results``, ``Row``, ``CodecInfo``) and index
it; ``answers``, ``pareto_typed``, ``format_spread`` and ``fault_flags``, which take a whole document
from outside, normalise it first.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from reports import analysis as A
from reports.results import CodecInfo, Results, Row, evolution_section, faults_section, normalise

SMALL_MAX = 1_000  # compact-JSON bytes: below this a payload is "small"
LARGE_MIN = 100_000  # at or above this, "large"
CLASSES = ("small", "medium", "large")
CLASS_TEXT = {"small": "small (< 1 kB as JSON)", "medium": "medium (1–100 kB as JSON)",
              "large": "large (≥ 100 kB as JSON)"}
CLOSE = 0.05  # a gap under 5% is called close: one run's noise can be that large

FORMAT_NAMES = {"json": "JSON", "xml": "XML", "avro": "Avro", "protobuf": "Protobuf", "thrift": "Thrift",
                "msgpack": "MessagePack", "cbor": "CBOR", "bson": "BSON", "capnp": "Cap'n Proto",
                "flatbuffers": "FlatBuffers"}


def format_of(codec: str) -> str:
    """The format part of a codec name (``protobuf/upb`` → ``protobuf``)."""
    return str(codec).split("/", 1)[0]


def format_name(codec: str) -> str:
    f = format_of(codec)
    return FORMAT_NAMES.get(f.lower(), f[:1].upper() + f[1:])


def pick_label(codec: str | None) -> str:
    """``Protobuf (protobuf/upb)``: the format, and the implementation that earned it here."""
    if not codec:
        return "no recommendation"
    return f"{format_name(codec)} ({codec})" if "/" in str(codec) else str(codec)


def pure_python(info: CodecInfo | None) -> bool:
    """Does this codec run a pure-Python implementation (say so wherever it appears)? ``None`` or an
    empty dict (a codec missing from the codec list) is not known to be."""
    if not info:
        return False
    text = info["backend"].lower().replace("_", "-").replace(" ", "-")
    return "pure-python" in text or text in ("python", "pure")


# ---------------------------------------------------------------------------------------------
# figures


speed_ns = A.speed_ns  # typed encode + decode (see reports.analysis.typed_ns)


def op_metric(op: str) -> A.Metric:
    """The figure the comparison uses for ``op`` as a metric: typed when recorded, else library-only."""
    return lambda row: A.op_ns(row, op)


zstd_size = A.zstd_size


def json_bytes_by_payload(doc: Results) -> dict[str, float]:
    """Compact-JSON size per payload: recorded ``json_bytes``, else the median raw size of its rows."""
    out: dict[str, float] = {}
    for p in doc["payloads"]:
        if p["json_bytes"] is not None:
            out[p["name"]] = float(p["json_bytes"])
    for name in A.payload_names(doc):
        if name not in out:
            sizes = sorted(s for s in (A.raw_size(r) for r in A.ok_rows(doc, name)) if s)
            if sizes:
                out[name] = float(sizes[len(sizes) // 2])
    return out


def size_class(json_bytes: float) -> str:
    return "small" if json_bytes < SMALL_MAX else ("large" if json_bytes >= LARGE_MIN else "medium")


def size_classes(doc: Results) -> dict[str, list[str]]:
    """``{class: [payload, ...]}`` for the classes present, in order small → large."""
    jb = json_bytes_by_payload(doc)
    out: dict[str, list[str]] = {}
    for c in CLASSES:
        ps = [p for p in A.payload_names(doc) if p in jb and size_class(jb[p]) == c]
        if ps:
            out[c] = ps
    return out


# ---------------------------------------------------------------------------------------------
# ranking


def _geomean(xs: Sequence[float]) -> float:
    return math.exp(sum(math.log(x) for x in xs) / len(xs))


def rank(doc: Results, metric: A.Metric, payloads: Sequence[str],
         candidates: set[str] | None = None) -> list[tuple[str, float, dict[str, float]]]:
    """``[(codec, geometric mean, {payload: value})]``, best first: codecs with an exact, measured
    figure on every payload of the group."""
    want = set(payloads)
    vals: dict[str, dict[str, float]] = {}
    for r in A.ok_rows(doc):
        if r["payload"] not in want or r["verdict"] != "exact":
            continue
        if candidates is not None and r["codec"] not in candidates:
            continue
        v = metric(r)
        if v is not None and v > 0:
            vals.setdefault(r["codec"], {})[r["payload"]] = float(v)
    out = [(c, _geomean(list(v.values())), v) for c, v in vals.items() if set(v) == want]
    out.sort(key=lambda x: (x[1], x[0]))
    return out


def runner_up(ranked: Sequence[tuple], pick: str) -> tuple | None:
    """The best entry of another format than ``pick``'s."""
    return next((x for x in ranked if format_of(x[0]) != format_of(pick)), None)


def wins(ranked: Sequence[tuple[str, float, dict]], codec: str) -> int:
    mine = dict((c, v) for c, _, v in ranked)[codec]
    return sum(all(v <= other[p] for _, _, other in ranked) for p, v in mine.items())


# ---------------------------------------------------------------------------------------------
# answers


@dataclass
class Answer:
    key: str
    priority: str  # "Fastest decode (bytes → typed value)"
    codec: str | None
    number: str = ""  # the pick's figure, with its unit
    scope: str = ""  # what the number is over ("geo-mean of 5 payloads", ...)
    runner_up: str | None = None
    runner_number: str = ""
    gap: str = ""  # "+14%", "2.3×", ...
    summary: str = ""  # one sentence
    evidence: list[str] = field(default_factory=list)
    caveats: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)  # red flags shown on the first screen
    ties: list[str] = field(default_factory=list)  # codecs within this run's noise of the pick
    value: float | None = None
    runner_value: float | None = None

    @property
    def pick(self) -> str:
        return pick_label(self.codec)

    @property
    def runner_pick(self) -> str:
        return pick_label(self.runner_up) if self.runner_up else "–"


def gap_text(best: float, other: float) -> str:
    """How much worse the runner-up is: ``+14%`` below 2×, else ``2.3×``."""
    if best <= 0:
        return "–"
    r = other / best
    if r < 1.01:
        return f"+{100 * (r - 1):.1f}%"
    return f"+{100 * (r - 1):.0f}%" if r < 2 else A.fmt_ratio(r)


Interval = Callable[[Row], tuple[float, float] | None]


def interval_of(op: str) -> Interval:
    """The 95% CI of the median of the figure ``op_metric(op)`` uses, when recorded."""

    def f(row: Row) -> tuple[float, float] | None:
        st = row[f"{op}_typed"]
        if st is None:
            st = row[op]
        ci = None if st is None else st["ci95_ns"]
        if ci is not None and all(x > 0 for x in ci):
            return float(ci[0]), float(ci[1])
        return None

    return f


def ties(doc: Results, interval: Interval, ranked: Sequence[tuple[str, float, dict]]) -> list[str]:
    """Codecs not distinguishable from the pick in this run: the geometric mean of their CI lower
    bounds is at or below the geometric mean of the pick's CI upper bounds."""
    rows = {(r["codec"], r["payload"]): r for r in A.ok_rows(doc)}

    def bounds(codec: str, vals: dict) -> tuple[float, float] | None:
        cis = [interval(rows[(codec, p)]) for p in vals]
        if not cis or any(c is None for c in cis):
            return None
        return _geomean([c[0] for c in cis]), _geomean([c[1] for c in cis])

    pick = bounds(ranked[0][0], ranked[0][2])
    if pick is None:
        return []
    out = []
    for c, _, vals in ranked[1:]:
        b = bounds(c, vals)
        if b is not None and b[0] <= pick[1]:
            out.append(c)
    return out


def _metric_answer(doc: Results, key: str, priority: str, metric: A.Metric, fmt: Callable[[Any], str],
                   payloads: Sequence[str], what: str, candidates: set[str] | None = None,
                   info: dict[str, CodecInfo] | None = None, interval: Interval | None = None) -> Answer:
    ranked = rank(doc, metric, payloads, candidates)
    if not ranked:
        return Answer(key, priority, None, summary="No codec has an exact, measured result on every payload "
                      f"of this group ({', '.join(payloads)}).")
    codec, score, vals = ranked[0]
    n = len(payloads)
    over = f"on {payloads[0]}" if n == 1 else f"geo-mean of {n} payloads"
    a = Answer(key, priority, codec, number=fmt(score), scope=over, value=score)
    ru = runner_up(ranked, codec)
    if ru is not None:
        a.runner_up, a.runner_value = ru[0], ru[1]
        a.runner_number = fmt(ru[1])
        a.gap = gap_text(score, ru[1])
    tied = ties(doc, interval, ranked) if interval is not None else []
    if tied:
        a.ties = tied
        a.caveats.append("not distinguishable in this run (95% CIs overlap): " + ", ".join(tied)
                         + "; compare runs (msgbench compare) before choosing on this alone")
    if ru is not None:
        if ru[0] in tied:
            a.gap += " ≈ tie"
        elif ru[1] / score - 1 < CLOSE:
            a.caveats.append(f"close: {ru[0]} is within {100 * CLOSE:.0f}%"
                             + (", about one run's noise" if fmt is A.fmt_ns else ""))
    w = wins(ranked, codec)
    a.summary = f"{what} on {w} of {n} payload{'s' if n != 1 else ''}" if n > 1 else what
    if ru is not None:
        a.summary += f"; next format: {pick_label(ru[0])} at {fmt(ru[1])} ({a.gap})"
    a.evidence = [f"{c}: {fmt(s)}" + ("" if n == 1 else " (" + ", ".join(f"{p} {fmt(v[p])}" for p in payloads) + ")")
                  for c, s, v in ranked]
    same = [x for x in ranked[1:] if format_of(x[0]) == format_of(codec)]
    if same:
        a.evidence.insert(0, f"other {format_name(codec)} implementations: "
                          + ", ".join(f"{c} {fmt(s)} ({gap_text(score, s)})" for c, s, _ in same))
    if key in ("encode", "decode"):  # the typed figure, and its two parts apart
        conv = "to_native" if key == "encode" else "from_native"
        for i, c in enumerate(x for x in (codec, a.runner_up) if x):
            rows = [r for r in A.ok_rows(doc) if r["codec"] == c and r["payload"] in set(payloads)]
            lib = [A.stat_ns(r[key]) for r in rows]
            cv = [A.stat_ns(r[conv]) for r in rows]
            if rows and all(lib) and all(cv):
                a.evidence.insert(i, f"{c} split: library {key} {fmt(_geomean(lib))} + conversion "
                                  f"{fmt(_geomean(cv))} (geo-means, timed apart)")
    for c in sorted({codec, a.runner_up} - {None}):
        if info is not None and pure_python(info.get(c)):
            a.caveats.append(f"{c} is a pure-Python implementation: its speed is the implementation's, "
                             "not the format's")
    return a


def _size_answers(doc: Results, key: str, priority: str, metric: A.Metric, what: str) -> list[Answer]:
    """One answer per size class, neighbouring classes with the same pick merged."""
    classes = size_classes(doc)
    if not classes:
        return [Answer(key, priority, None, summary="No sizes were recorded.")]
    groups: list[tuple[list[str], list[str]]] = []  # (class names, payloads)
    last_pick = None
    for c, ps in classes.items():
        ranked = rank(doc, metric, ps)
        pick = ranked[0][0] if ranked else None
        if groups and pick is not None and pick == last_pick:
            groups[-1][0].append(c)
            groups[-1][1].extend(ps)
        else:
            groups.append(([c], list(ps)))
        last_pick = pick
    out = []
    for names, ps in groups:
        if len(names) == len(classes) and len(classes) > 1:
            scope = "every size"
        else:
            scope = CLASS_TEXT[names[0]] if len(names) == 1 else " + ".join(names) + " messages"
        k = key if len(groups) == 1 else f"{key}_{'_'.join(names)}"
        a = _metric_answer(doc, k, f"{priority} · {scope}", metric, A.fmt_bytes, ps, what)
        out.append(a)
    return out


def _dictionary_answer(doc: Results) -> Answer | None:
    """Smallest per message with zstd and a trained dictionary (Batches section)."""
    data = doc["sections"].get("batches")
    rows = data.get("rows") if isinstance(data, dict) else data
    if not isinstance(rows, list):
        return None
    items = [(str(b.get("codec")), float(b["bytes"]), int(b.get("n") or 0)) for b in rows if isinstance(b, dict)
             and b.get("framing") == "zstd-dict-per-message" and isinstance(b.get("bytes"), (int, float))
             and not b.get("error") and b["bytes"] > 0]
    if not items:
        return None
    items.sort(key=lambda x: (x[1], x[0]))
    codec, b, n = items[0]
    per = f"{n:,} small messages, each alone" if n else "small messages, each alone"
    a = Answer("smallest_dict", "Smallest, zstd + trained dictionary", codec, number=A.fmt_bytes(b), scope=per, value=b)
    ru = runner_up(items, codec)
    if ru is not None:
        a.runner_up, a.runner_value, a.runner_number, a.gap = ru[0], ru[1], A.fmt_bytes(ru[1]), gap_text(b, ru[1])
    a.summary = ("from the Batches section: every message compressed on its own with a dictionary trained on "
                 "held-out messages")
    a.evidence = [f"{c}: {A.fmt_bytes(x)}" + (f" ({x / m:,.1f} B per message)" if m else "") for c, x, m in items]
    plain = {str(r.get("codec")): r.get("bytes") for r in rows if isinstance(r, dict)
             and r.get("framing") == "zstd-per-message" and isinstance(r.get("bytes"), (int, float))}
    if codec in plain:
        a.evidence.append(f"{codec} without the dictionary: {A.fmt_bytes(plain[codec])}")
    return a


def fault_totals(doc: Results) -> dict[str, dict]:
    """Per codec: trials, clean errors, silent garbage, hangs, crashes, memory errors."""
    data = faults_section(doc)
    out: dict[str, dict] = {}
    if data is None:
        return out
    for e in data["codecs"]:
        t = {"trials": 0, "clean_error": 0, "silent_garbage": 0, "hang": 0, "crash": 0,
             "memory_errors": e["memory_errors"]}
        for counts in e["kinds"].values():  # {outcome: count}: an outcome not seen may be absent
            for k in ("clean_error", "silent_garbage", "hang", "crash"):
                v = int(counts.get(k, 0))
                t[k] += v
                t["trials"] += v
        if data["memory_error_outcome"] != "clean_error":  # older results: a MemoryError was a "crash"
            moved = min(t["memory_errors"], t["crash"])
            t["crash"] -= moved
            t["clean_error"] += moved
        if t["trials"]:
            out[e["codec"]] = t
    return out


def fault_flags(doc: dict) -> list[str]:
    """One line per codec that hung or crashed on corrupted input (the denial-of-service risks)."""
    doc = normalise(doc)
    out = []
    for c, t in sorted(fault_totals(doc).items(),
                       key=lambda kv: (-(kv[1]["hang"] + kv[1]["crash"]), -kv[1]["memory_errors"], kv[0])):
        if not (t["hang"] or t["crash"] or t["memory_errors"]):
            continue
        parts = []
        if t["hang"]:
            parts.append(f"{t['hang']} hang{'s' if t['hang'] != 1 else ''}")
        if t["crash"]:
            parts.append(f"{t['crash']} crash{'es' if t['crash'] != 1 else ''}")
        if t["memory_errors"]:  # a clean MemoryError under the probe's 1 GiB limit; unlimited, memory exhaustion
            parts.append(f"{t['memory_errors']} allocation{'s' if t['memory_errors'] != 1 else ''} past 1 GiB "
                         "attempted")
        out.append(f"{c}: {', '.join(parts)} in {t['trials']} corrupted messages")
    return out


def _safety_answer(doc: Results) -> Answer | None:
    totals = fault_totals(doc)
    if not totals:
        return None

    def score(kv):
        c, t = kv
        return ((t["hang"] + t["crash"]) / t["trials"], t["memory_errors"] / t["trials"],
                t["silent_garbage"] / t["trials"], c)

    ranked = sorted(totals.items(), key=score)

    def num(t):
        return f"{t['hang'] + t['crash']} hangs/crashes"

    def garbage(t):
        return f"{100 * t['silent_garbage'] / t['trials']:.0f}% silent garbage"

    codec, t = ranked[0]
    a = Answer("safety", "Safest on corrupted input", codec, number=num(t), scope=garbage(t))
    ru = next(((c, x) for c, x in ranked if format_of(c) != format_of(codec)), None)
    if ru is not None:
        a.runner_up, a.runner_number = ru[0], f"{num(ru[1])}, {garbage(ru[1])}"
        bad = ru[1]["hang"] + ru[1]["crash"] - t["hang"] - t["crash"]
        more = 100 * (ru[1]["silent_garbage"] / ru[1]["trials"] - t["silent_garbage"] / t["trials"])
        a.gap = f"{bad:+d} hangs/crashes" if bad else f"{more:+.0f} pts silent garbage"
    a.summary = (f"fewest hangs and crashes, then least silent garbage, over {t['trials']} corrupted messages; "
                 "no format here has a checksum, so some bit flips decode by design: put a CRC on the "
                 "transport")
    a.evidence = [f"{c}: {x['hang']} hangs, {x['crash']} crashes, {x['memory_errors']} allocations past the limit, "
                  f"{garbage(x)}, {x['clean_error']} clean errors in {x['trials']} trials" for c, x in ranked]
    a.flags = fault_flags(doc)
    return a


def _evolution_answer(doc: Results) -> Answer | None:
    evo = evolution_section(doc)
    rec = A._evolution_rec(doc)  # the evolution verdict and its data are the evolution section's
    if rec is None or evo is None:
        return None
    a = Answer("evolution", rec.priority, rec.codec, summary=rec.summary, evidence=list(rec.evidence),
               caveats=list(rec.caveats))
    scores = A.evolution_scores(evo)
    if rec.codec:
        # the number and the gap are what decided the ranking (A._evolution_rec): silently wrong cells
        # first, then the ideal share of the safe changes' backward/forward cells; the overall count
        # rides along so a reader sees both
        s0 = scores[rec.codec]
        a.number, a.scope = _evolution_number(s0), _evolution_scope(s0)
        order = [e.split(":", 1)[0] for e in rec.evidence]
        other = next((c for c in order if format_of(c) != format_of(rec.codec)), None)
        if other:
            s1 = scores[other]
            a.runner_up = other
            a.runner_number = f"{_evolution_number(s1)}, {_evolution_scope(s1)}"
            a.gap = _evolution_gap(s0, s1)
    return a


def _evolution_number(s: dict) -> str:
    return f"{s['safe_good']}/{s['safe_cells']} ideal" if s["safe_cells"] else f"{s['good']}/{s['cells']} ideal"


def _evolution_scope(s: dict) -> str:
    # short: the first screen holds every answer at 1366x768 (the overall counts are in the why card)
    return f"on safe changes; {s['silent']} silent" if s["safe_cells"] else f"{s['silent']} silently wrong"


def _evolution_gap(s0: dict, s1: dict) -> str:
    """The first criterion of the ranking on which pick and runner-up differ."""
    if s0["silent"] != s1["silent"]:
        return f"{s0['silent'] - s1['silent']:+d} silent"
    r0, r1 = (s["safe_good"] / max(s["safe_cells"], 1) for s in (s0, s1))
    if r0 != r1:
        if s0["safe_cells"] == s1["safe_cells"]:
            d = s0["safe_good"] - s1["safe_good"]
            return f"{d:+d} ideal cell{'s' if abs(d) != 1 else ''}"  # on safe changes, as the numbers say
        return f"{100 * (r0 - r1):+.0f} pts ideal"
    return f"{s0['good'] - s1['good']:+d} ideal in all"


def answers(doc: dict) -> list[Answer]:
    """Every answer, in the order the decision table shows them."""
    doc = normalise(doc)
    info = A.codec_info(doc)
    out: list[Answer] = []
    payloads = A.payload_names(doc)
    timed = any(speed_ns(r) is not None for r in A.ok_rows(doc))
    if timed:
        out.append(_metric_answer(doc, "decode", "Fastest decode · bytes → typed value", op_metric("decode"),
                                  A.fmt_ns, payloads, "fastest decode", info=info, interval=interval_of("decode")))
        out.append(_metric_answer(doc, "encode", "Fastest encode · typed value → bytes", op_metric("encode"),
                                  A.fmt_ns, payloads, "fastest encode", info=info, interval=interval_of("encode")))
    out += _size_answers(doc, "smallest_raw", "Smallest, uncompressed", A.raw_size, "smallest")
    out += _size_answers(doc, "smallest_zstd", "Smallest after zstd", zstd_size, "smallest after zstd")
    d = _dictionary_answer(doc)
    if d is not None:
        out.append(d)
    s = _safety_answer(doc)
    if s is not None:
        out.append(s)
    e = _evolution_answer(doc)
    if e is not None:
        out.append(e)
    text = {c for c, i in info.items() if i["binary"] is False}  # None: the file does not say
    if timed:
        r = _metric_answer(doc, "readable", "Human-readable (text), fastest encode + decode", speed_ns,
                           A.fmt_ns, payloads, "fastest text format", text, info)
    else:
        r = _metric_answer(doc, "readable", "Human-readable (text), smallest", A.raw_size, A.fmt_bytes,
                           payloads, "smallest text format", text)
    if r.codec is None and not text:
        r.summary = "No text (non-binary) codec produced results in this run."
    out.append(r)
    return out


def pareto_typed(doc: dict) -> dict[str, list[str]]:
    """Pareto front per payload on raw size vs typed encode + decode time."""
    doc = normalise(doc)
    out = {}
    for p in A.payload_names(doc):
        pts = [(r["codec"], A.raw_size(r), speed_ns(r)) for r in A.ok_rows(doc, p)]
        out[p] = A.pareto_front([x for x in pts if x[1] is not None and x[2] is not None])
    return out


def codecs_by_format(codecs: Sequence[str]) -> list[str]:
    """Codec names grouped by format (formats in first-seen order, implementations in given order)."""
    order: list[str] = []
    for c in codecs:
        if format_of(c) not in order:
            order.append(format_of(c))
    return sorted(codecs, key=lambda c: order.index(format_of(c)))


def format_spread(doc: dict) -> list[dict]:
    """Per format with several implementations: best and worst typed enc+dec and raw size, per payload."""
    doc = normalise(doc)
    by_fmt: dict[str, list[str]] = {}
    for c in A.codec_names(doc):
        by_fmt.setdefault(format_of(c), []).append(c)
    out = []
    for cs in by_fmt.values():
        if len(cs) < 2:
            continue
        for p in A.payload_names(doc):
            rows = [r for r in A.ok_rows(doc, p) if r["codec"] in cs]
            t = sorted((speed_ns(r), r["codec"]) for r in rows if speed_ns(r))
            s = sorted((A.raw_size(r), r["codec"]) for r in rows if A.raw_size(r))
            if len(t) < 2 and len(s) < 2:
                continue
            out.append({"format": format_name(cs[0]), "payload": p, "codecs": cs,
                        "fastest": t[0] if t else None, "slowest": t[-1] if t else None,
                        "time_spread": t[-1][0] / t[0][0] if len(t) > 1 else None,
                        "smallest": s[0] if s else None, "largest": s[-1] if s else None,
                        "size_spread": s[-1][0] / s[0][0] if len(s) > 1 else None})
    return out
