"""Compare two runs: which differences are real and which are noise.

    msgbench compare A/results.json B/results.json [--out DIR] [--threshold 3] [--alpha 0.01]

For every codec × payload present in both runs and every figure (encode, decode, raw size), the
change from A to B in percent and whether it is *beyond noise*:

- timings: Welch's t-test on the logarithms of the per-process medians (``processes``: every
  figure is measured in several worker processes, see ``reports.stats``) gives p < ``alpha``
  (default 0.01) **and** the medians differ by more than ``threshold`` percent (default 3%) — a
  tiny but consistent shift is not worth a reader's attention, and a large but inconsistent one is
  noise (``method: "welch-processes"``). The unit of a run is the process, not the round: rounds
  in one process share its memory layout, hash seed and CPU state, so testing rounds (Mann–Whitney
  over ``samples_ns``) called drift between two identical runs a change (7 of 24 timings, p down
  to 1e-62). Results measured in a single process (older files, ``--processes 1``) fall back to
  that test (``method: "mann-whitney (one process: between-process noise unknown)"``), and
  without samples to non-overlapping 95% CIs (``method: "ci95"``);
- sizes are exact: any change is real.

Rows present in only one run are listed; results from different machines (``machine_id``),
Python versions, run modes or library versions are labelled (per codec when its library version
or backend changed), because then a difference may be the environment's, not the code's.

``compare(doc_a, doc_b)`` is pure (no I/O) and reads the typed view of ``reports.results`` (it
normalises both documents first); ``write_outputs`` writes ``OUT/compare.json`` and a
small self-contained ``OUT/compare.html`` (all text escaped, no external references).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from reports.results import Results, Row, Stats, normalise
from reports.stats import ci_overlap, mann_whitney_p, welch_log_p

THRESHOLD_PCT = 3.0
ALPHA = 0.01
TIME_FIGURES = ("encode", "decode")
FIGURES = (*TIME_FIGURES, "size_raw")


def _meta(doc: Results) -> dict:
    env = doc["environment"]  # free-form (bench.environment.capture): its keys may be missing
    run = doc["run"]
    return {
        "machine_id": env.get("machine_id"),
        "hostname": env.get("hostname"),
        "cpu_model": env.get("cpu_model"),
        "python": (env.get("python") or {}).get("version"),
        "git": (env.get("git") or {}).get("revision"),
        "started": run["started"],
        "mode": run["mode"] or None,
        "warnings": [str(w) for w in env.get("warnings") or []],
    }


def _codec_versions(doc: Results) -> dict[str, dict]:
    return {c["name"]: {"library": c["library"], "library_version": c["library_version"], "backend": c["backend"]}
            for c in doc["codecs"]}


def _processes_per_figure(doc: Results) -> int | None:
    """How many worker processes measured the run's figures (1 for older results); None if unknown."""
    for r in doc["rows"]:
        if r["encode"] is not None:
            return max(1, len(_process_medians(r["encode"])))
    return None


def _process_medians(fig: Stats) -> list[float]:
    return [float(p["median_ns"]) for p in fig["processes"] if p["median_ns"] > 0]


def _time_figure(sa: Stats | None, sb: Stats | None, threshold: float, alpha: float) -> dict:
    if sa is None or sb is None or not sa["median_ns"]:
        missing = [x for x, s in (("A", sa), ("B", sb)) if s is None]
        return {"a": None if sa is None else sa["median_ns"], "b": None if sb is None else sb["median_ns"],
                "change_pct": None, "p_value": None, "method": None, "significant": False,
                "verdict": f"not measured in {' and '.join(missing)}"}
    ma, mb = float(sa["median_ns"]), float(sb["median_ns"])
    change = (mb - ma) / ma * 100
    xa, xb = sa["samples_ns"], sb["samples_ns"]
    pa, pb = _process_medians(sa), _process_medians(sb)
    welch = welch_log_p(pa, pb)
    if welch is not None:
        p = welch
        differs, method = p < alpha, "welch-processes"
    elif len(xa) >= 2 and len(xb) >= 2:
        p = mann_whitney_p(xa, xb)
        differs, method = p < alpha, "mann-whitney (one process: between-process noise unknown)"
    else:
        p = None
        differs = sa["ci95_ns"] is not None and sb["ci95_ns"] is not None and not ci_overlap(sa, sb)
        method = "ci95"
    significant = bool(differs and abs(change) > threshold)
    verdict = ("slower" if change > 0 else "faster") if significant else "same within noise"
    return {"a": ma, "b": mb, "change_pct": round(change, 2), "p_value": p, "method": method,
            "processes": [len(pa), len(pb)], "significant": significant, "verdict": verdict}


def _size_figure(ra: Row, rb: Row) -> dict:
    a, b = ra["size"]["raw"], rb["size"]["raw"]
    if a is None or b is None:
        return {"a": a, "b": b, "change_pct": None, "p_value": None, "method": None, "significant": False,
                "verdict": "not measured"}
    change = (b - a) / a * 100 if a else (0.0 if b == a else None)
    verdict = "same" if a == b else ("larger" if b > a else "smaller")
    return {"a": a, "b": b, "change_pct": round(change, 2) if change is not None else None, "p_value": None,
            "method": "exact", "significant": a != b, "verdict": verdict}


def compare(doc_a: dict, doc_b: dict, threshold_pct: float = THRESHOLD_PCT, alpha: float = ALPHA) -> dict:
    """Compare two results documents (see the module docstring). Pure."""
    doc_a, doc_b = normalise(doc_a), normalise(doc_b)
    ma, mb = _meta(doc_a), _meta(doc_b)
    labels = []
    if ma["machine_id"] != mb["machine_id"]:
        labels.append(f"different machines: A {ma['hostname'] or '?'} ({ma['machine_id']}, {ma['cpu_model'] or '?'}) "
                      f"vs B {mb['hostname'] or '?'} ({mb['machine_id']}, {mb['cpu_model'] or '?'}): timing "
                      "differences include the hardware")
    if ma["python"] != mb["python"]:
        labels.append(f"different Python versions: A {ma['python']} vs B {mb['python']}")
    if ma["mode"] != mb["mode"]:
        labels.append(f"different run modes: A {ma['mode']} vs B {mb['mode']}")
    for side, m in (("A", ma), ("B", mb)):
        labels += [f"run {side}: {w}" for w in m["warnings"]]
    for side, doc in (("A", doc_a), ("B", doc_b)):
        n = _processes_per_figure(doc)
        if n == 1:
            labels.append(f"run {side} measured each figure in one worker process: the noise between processes "
                          "is unknown, so small differences may be called changes (rerun with --processes 3 or more)")
    la = doc_a["environment"].get("libraries") or {}
    lb = doc_b["environment"].get("libraries") or {}
    library_changes = [{"library": k, "a": la.get(k), "b": lb.get(k)} for k in sorted(set(la) | set(lb))
                       if la.get(k) != lb.get(k)]
    if library_changes:
        labels.append("different library versions: " + ", ".join(
            f"{c['library']} {c['a'] or '—'} → {c['b'] or '—'}" for c in library_changes))
    ca, cb = _codec_versions(doc_a), _codec_versions(doc_b)
    codec_changes = {}
    for name in set(ca) & set(cb):
        diffs = [f"{k} {ca[name][k] or '—'} → {cb[name][k] or '—'}" for k in ("library_version", "backend")
                 if ca[name][k] != cb[name][k]]
        if diffs:
            codec_changes[name] = "; ".join(diffs)

    ra = {(r["codec"], r["payload"]): r for r in doc_a["rows"]}
    rb = {(r["codec"], r["payload"]): r for r in doc_b["rows"]}
    rows = []
    for key in [k for k in ra if k in rb]:
        a, b = ra[key], rb[key]
        status = None
        if a["status"] != b["status"]:
            status = f"status {a['status']} → {b['status']}"
        for fig in FIGURES:
            res = _size_figure(a, b) if fig == "size_raw" else _time_figure(a[fig], b[fig], threshold_pct, alpha)
            rows.append({"codec": key[0], "payload": key[1], "figure": fig, **res, "status_change": status,
                         "codec_change": codec_changes.get(key[0])})
    only_a = [{"codec": k[0], "payload": k[1], "status": ra[k]["status"]} for k in ra if k not in rb]
    only_b = [{"codec": k[0], "payload": k[1], "status": rb[k]["status"]} for k in rb if k not in ra]
    timed = [r for r in rows if r["figure"] in TIME_FIGURES and r["change_pct"] is not None]
    return {
        "a": ma,
        "b": mb,
        "threshold_pct": threshold_pct,
        "alpha": alpha,
        "same_machine": ma["machine_id"] == mb["machine_id"],
        "labels": labels,
        "library_changes": library_changes,
        "codec_changes": [{"codec": k, "change": v} for k, v in sorted(codec_changes.items())],
        "rows": rows,
        "only_in_a": only_a,
        "only_in_b": only_b,
        "summary": {
            "compared_rows": len({(r["codec"], r["payload"]) for r in rows}),
            "timed_figures": len(timed),
            "significant_timings": sum(r["significant"] for r in timed),
            "slower": sum(r["verdict"] == "slower" for r in timed),
            "faster": sum(r["verdict"] == "faster" for r in timed),
            "size_changes": sum(r["significant"] for r in rows if r["figure"] == "size_raw"),
            "only_in_a": len(only_a),
            "only_in_b": len(only_b),
        },
    }


# ------------------------------------------------------------------------------------------------
# output


def _fmt(fig: str, v: Any) -> str:
    from reports.analysis import fmt_int, fmt_ns

    if v is None:
        return "–"
    return fmt_int(v) + " B" if fig == "size_raw" else fmt_ns(v)


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{x:+.1f}%"


def _p(x: float | None) -> str:
    return "–" if x is None else f"{x:.2g}"


HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>msgbench: run comparison</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:1.5rem;color:#1b1b1b;max-width:70rem}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}th,td{padding:.25rem .6rem;border-bottom:1px solid #ddd;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.slower td,tr.larger td{background:#fde8e6}tr.faster td,tr.smaller td{background:#e6f4ea}
.warn{background:#fff4d6;border-left:4px solid #e0a800;padding:.4rem .8rem}
.muted{color:#666}
</style></head><body>
<h1>Run comparison</h1>
<p>A: {{ a.hostname or '?' }} · {{ a.started or '?' }} · mode {{ a.mode or '?' }} · git {{ (a.git or '?')[:12] }}<br>
B: {{ b.hostname or '?' }} · {{ b.started or '?' }} · mode {{ b.mode or '?' }} · git {{ (b.git or '?')[:12] }}</p>
<p>A timing change is <strong>beyond noise</strong> when Welch's t-test on the per-process medians (each figure is
measured in several worker processes; the process, not the round, is the unit of a run) gives
p &lt; {{ alpha }} and the medians differ by more than {{ threshold }}%; sizes are exact. Results measured in
one process fall back to the Mann–Whitney test on the rounds, which cannot see the noise between processes.
{{ s.significant_timings }} of {{ s.timed_figures }} timings changed beyond noise ({{ s.slower }} slower,
{{ s.faster }} faster); {{ s.size_changes }} size change(s).</p>
{% if labels %}<div class="warn"><ul>{% for l in labels %}<li>{{ l }}</li>{% endfor %}</ul></div>{% endif %}
<table><thead><tr><th>codec</th><th>payload</th><th>figure</th><th>A</th><th>B</th><th>change</th><th>p</th><th>verdict</th><th>note</th></tr></thead><tbody>
{% for r in rows %}<tr class="{{ r.verdict if r.significant else '' }}"><td>{{ r.codec }}</td><td>{{ r.payload }}</td><td>{{ r.figure }}</td>
<td class="num">{{ fmt(r.figure, r.a) }}</td><td class="num">{{ fmt(r.figure, r.b) }}</td><td class="num">{{ pct(r.change_pct) }}</td>
<td class="num">{{ p(r.p_value) }}</td><td>{{ r.verdict }}</td><td class="muted">{{ [r.status_change, r.codec_change] | select | join('; ') }}</td></tr>
{% endfor %}</tbody></table>
{% if only_a or only_b %}<h2>Rows in one run only</h2><ul>
{% for r in only_a %}<li>only in A: {{ r.codec }} × {{ r.payload }} ({{ r.status }})</li>{% endfor %}
{% for r in only_b %}<li>only in B: {{ r.codec }} × {{ r.payload }} ({{ r.status }})</li>{% endfor %}</ul>{% endif %}
</body></html>
"""


def render_html(result: dict) -> str:
    import jinja2

    env = jinja2.Environment(autoescape=True)
    return env.from_string(HTML).render(
        a=result["a"], b=result["b"], alpha=result["alpha"], threshold=result["threshold_pct"], s=result["summary"],
        labels=result["labels"], rows=result["rows"], only_a=result["only_in_a"], only_b=result["only_in_b"],
        fmt=_fmt, pct=_pct, p=_p)


def write_outputs(result: dict, out_dir: Path) -> dict[str, Path]:
    from reports.results import dumps, write_atomic

    return {"json": write_atomic(Path(out_dir) / "compare.json", dumps(result) + "\n"),
            "html": write_atomic(Path(out_dir) / "compare.html", render_html(result))}


def print_result(result: dict, console: Any = None) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = console or Console(width=max(120, Console().width))
    for label in result["labels"]:
        console.print(f"[yellow]⚠ {escape(label)}[/yellow]")
    table = Table(title=f"A → B (beyond noise: between-process Welch p < {result['alpha']} and |change| > "
                        f"{result['threshold_pct']}%; sizes exact)", title_justify="left")
    for col in ("codec", "payload", "figure", "A", "B", "change", "p", "verdict"):
        table.add_column(col, justify="right" if col in ("A", "B", "change", "p") else "left", no_wrap=True)
    style = {"slower": "red", "larger": "red", "faster": "green", "smaller": "green"}
    for r in result["rows"]:
        verdict = r["verdict"]
        if r["significant"]:
            verdict = f"[bold {style.get(verdict, 'yellow')}]{escape(verdict)}[/]"
        else:
            verdict = escape(verdict)
        notes = "; ".join(x for x in (r.get("status_change"), r.get("codec_change")) if x)
        table.add_row(escape(str(r["codec"])), escape(str(r["payload"])), r["figure"], _fmt(r["figure"], r["a"]),
                      _fmt(r["figure"], r["b"]), _pct(r["change_pct"]), _p(r["p_value"]),
                      verdict + (f" ({escape(notes)})" if notes else ""))
    console.print(table)
    for side, key in (("A", "only_in_a"), ("B", "only_in_b")):
        for r in result[key]:
            console.print(f"[yellow]only in {side}: {escape(str(r['codec']))} × {escape(str(r['payload']))} "
                          f"({escape(str(r['status']))})[/yellow]")
    s = result["summary"]
    console.print(f"{s['significant_timings']} of {s['timed_figures']} timings changed beyond noise "
                  f"({s['slower']} slower, {s['faster']} faster); {s['size_changes']} size change(s); "
                  f"{s['only_in_a']} row(s) only in A, {s['only_in_b']} only in B")


def _load(path: Path) -> dict:
    from reports.results import load

    return load(path / "results.json" if path.is_dir() else path)


def register_cli(sub: Any) -> None:
    p = sub.add_parser("compare", help="compare two results.json: which differences are beyond noise")
    p.add_argument("a", type=Path, help="results.json of run A (or its directory)")
    p.add_argument("b", type=Path, help="results.json of run B (or its directory)")
    p.add_argument("--out", type=Path, default=Path("out"), help="where compare.json/.html go (default: out)")
    p.add_argument("--threshold", type=float, default=THRESHOLD_PCT, metavar="PCT",
                   help=f"smallest change in %% that counts (default {THRESHOLD_PCT})")
    p.add_argument("--alpha", type=float, default=ALPHA, metavar="P",
                   help=f"significance level of the between-process test (default {ALPHA})")
    from bench.limits import add_limit_args

    add_limit_args(p)
    p.set_defaults(func=cmd_compare)


def cmd_compare(args: argparse.Namespace) -> int:
    from bench.limits import limited
    from reports.results import guarded

    where = f"{args.a} or {args.b}"
    with limited(args, f"comparing {where}"):
        a, b = _load(args.a), _load(args.b)
        result = guarded(where, compare, a, b, args.threshold, args.alpha, debug=getattr(args, "debug", False))
        guarded(where, print_result, result, debug=getattr(args, "debug", False))
        paths = guarded(where, write_outputs, result, args.out, debug=getattr(args, "debug", False))
    print(f"comparison: {paths['json']}", file=sys.stderr)
    print(f"page:       {paths['html'].resolve()}", file=sys.stderr)
    return 0
