"""Render a results document (see ``reports.results``) into one self-contained HTML page and a
markdown summary. Pure: the document is the only input; nothing is measured or imported from the
codecs. ``write_report`` is the only function that touches the disk.

The public entry points (``build_view``, ``render_html``, ``render_markdown``, ``write_report``)
take a document from outside, validate and normalise it once (``reports.results.check``) and hand
the typed view (``Results``) to the helpers below, which index it directly.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from reports import analysis as A
from reports import charts
from reports import decision as D
from reports.results import CodecInfo, Results, Row, Stats, check, codec_defaults, write_atomic
from reports.sections import CHART_FIGURE, render_sections

HERE = Path(__file__).parent
QUESTION = "Which message format should go on the wire?"


def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(HERE)),
        autoescape=True,  # every string from the results is escaped; only our own markup is Markup
        undefined=jinja2.ChainableUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["ns"] = A.fmt_ns
    env.filters["bytes"] = A.fmt_bytes
    env.filters["int"] = A.fmt_int
    return env


def json_for_script(data: Any) -> Markup:
    """JSON safe inside ``<script type="application/json">``: no ``<``, ``>`` or ``&`` can appear."""
    text = json.dumps(data, ensure_ascii=True, allow_nan=False, default=str)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)


# ---------------------------------------------------------------------------------------------
# view model


def _stats_view(st: Stats | None) -> dict | None:
    if st is None:
        return None
    m = float(st["median_ns"])
    v = {"median": m, "text": A.fmt_ns(m), "iqr": None, "ci": None}
    if st["iqr_ns"] is not None:
        v["iqr"] = A.fmt_ns(st["iqr_ns"])
    if st["ci95_ns"] is not None:
        v["ci"] = A.fmt_ns_range(st["ci95_ns"][0], st["ci95_ns"][1])
    return v


def _codec_infos(doc: Results, names: list[str]) -> dict[str, CodecInfo]:
    """Every codec in ``names`` (those that only appear in rows too, with the contract's defaults)."""
    info = {c["name"]: c for c in doc["codecs"]}
    info.update((n, codec_defaults(n)) for n in names if n not in info)
    return info


def _row_view(r: Row, info: CodecInfo, front: set[str]) -> dict:
    """One summary-table row; ``*_typed`` are the comparison figures, ``encode``/``decode`` library-only."""
    size = r["size"]
    return {
        "codec": r["codec"],
        "format": r["format"],
        "library": " ".join(x for x in (info["library"], info["library_version"]) if x),
        "backend": info["backend"],
        "slow_backend": info["slow_backend"],
        "plugin": info["source"].startswith(("plugin", "entry")),
        "source": info["source"],
        "status": r["status"],
        "verdict": r["verdict"],
        "error": r["error"],
        "fidelity": r["fidelity"],
        "fidelity_total": r["fidelity_total"],
        "fidelity_paths": r["fidelity_paths"],
        "raw": size["raw"], "gzip": size["gzip"], "zstd": size["zstd"],
        "encode": _stats_view(r["encode"]),
        "decode": _stats_view(r["decode"]),
        "encode_typed": _stats_view(r["encode_typed"]),
        "decode_typed": _stats_view(r["decode_typed"]),
        "access": _stats_view(r["access"]),
        "access_paths": r["access_paths"][:20],
        "access_error": r["access_error"][:300],
        "pure_python": D.pure_python(info),
        "total": A.speed_ns(r),
        "front": r["codec"] in front,
    }


def _mark_ties(raw: list[Row], views: list[dict]) -> None:
    """Mark, per op, the fastest codec and every codec not distinguishable from it ("same speed
    within noise": ``reports.stats.same_within_noise``, between-process test when measured in several
    processes, else overlapping CIs or Mann–Whitney on the rounds)."""
    from reports.stats import same_within_noise

    for op in ("encode", "decode", "encode_typed", "decode_typed"):
        timed = [(r[op], v) for r, v in zip(raw, views, strict=True) if r["status"] == "ok" and r[op] is not None]
        if len(timed) < 2:
            continue
        best, best_view = min(timed, key=lambda t: t[0]["median_ns"])
        best_view[op]["fastest"] = True
        for st, v in timed:
            if v is best_view:
                continue
            v[op]["tie"] = bool(same_within_noise(st, best))


def _chart_label(codec: str, info: dict[str, CodecInfo]) -> str:
    return f"{codec} (pure Python)" if D.pure_python(info[codec]) else codec


def _charts(doc: Results, payloads: list[str], codecs: list[str], slugs: dict[str, str],
            info: dict[str, CodecInfo]) -> dict:
    by = {(r["codec"], r["payload"]): r for r in doc["rows"]}
    out: dict[str, list[dict]] = {"size": [], "time": [], "scatter": [], "relative": []}
    timed = A.has_timing(doc)
    ratio: dict[tuple[str, str], float] = {}
    for p in payloads:
        rows = [by[(c, p)] for c in codecs if (c, p) in by]
        if not rows:
            continue
        s = slugs[p]
        items: list[charts.SizeItem] = [
            {**r["size"], "codec": _chart_label(r["codec"], info), "status": r["status"]} if r["status"] == "ok"
            else {"codec": _chart_label(r["codec"], info), "status": r["status"], "raw": None, "gzip": None,
                  "zstd": None}
            for r in rows]
        cid = f"chart-size-{s}"
        out["size"].append({"id": cid, "svg": charts.size_chart(p, items, cid), "caption":
                            f"Bytes per message for payload {p}: raw encoding, gzip (level "
                            f"{_size_setting(doc, 'gzip_level', 6)}) and zstd (level {_size_setting(doc, 'zstd_level', 3)}). "
                            "Shorter is better."})
        if not timed:
            continue

        titems: list[charts.TimeItem] = []
        for r in rows:
            ok = r["status"] == "ok"
            typed = {"encode": r["encode_typed"] if ok else None, "decode": r["decode_typed"] if ok else None}
            lib = {"encode": r["encode"] if ok else None, "decode": r["decode"] if ok else None}
            titems.append({"codec": r["codec"], "label": _chart_label(r["codec"], info), "status": r["status"],
                           # the compared figure is the typed one; library-only when typed was not recorded
                           "encode": typed["encode"] or lib["encode"], "decode": typed["decode"] or lib["decode"],
                           "encode_lib": lib["encode"] if typed["encode"] else None,
                           "decode_lib": lib["decode"] if typed["decode"] else None})
        cid = f"chart-time-{s}"
        svg, spread = charts.time_chart(p, titems, cid)
        out["time"].append({"id": cid, "svg": svg, "caption":
                            f"Median time per call to encode and to decode one {p} message; further left is better. "
                            "Dots: typed model value ⇄ bytes (the comparison); hollow diamonds: the library call "
                            f"alone. Labels: time · ratio to the fastest. Error bars: {spread}."})
        pts: list[charts.ScatterItem] = [
            {"codec": _chart_label(r["codec"], info), "size": A.raw_size(r), "time": A.speed_ns(r),
             "lossy": r["verdict"] == "lossy"}
            for r in rows if r["status"] == "ok" and A.raw_size(r) and A.speed_ns(r)]
        if pts:
            cid = f"chart-scatter-{s}"
            out["scatter"].append({"id": cid, "svg": charts.scatter_chart(p, pts, cid), "caption":
                                   f"Each codec's raw size against its typed encode + decode median for {p}. The "
                                   "dashed staircase joins the Pareto front (★): no other codec is both smaller and "
                                   "faster. Down and left is better; hollow markers are lossy."})
            best = min(pt["time"] for pt in pts)
            for r in rows:
                if r["status"] == "ok" and A.raw_size(r) and A.speed_ns(r):
                    ratio[(_chart_label(r["codec"], info), p)] = A.speed_ns(r) / best
    if ratio:
        labels = [_chart_label(c, info) for c in codecs]
        rc = [c for c in labels if any((c, p) in ratio for p in payloads)]
        rp = [p for p in payloads if any((c, p) in ratio for c in labels)]
        out["relative"].append({"id": "chart-relative", "svg": charts.relative_chart(rc, rp, ratio, "chart-relative"),
                                "caption": "Typed encode + decode median of each codec divided by the fastest "
                                "codec's on the same payload (1.00× = fastest; darker = slower). Codecs that failed "
                                "a payload show –."})
    return out


def takeaways(doc: Results, codecs: list[str], info: dict[str, CodecInfo]) -> dict[str, str]:
    """One sentence per chart group, computed from the (checked) data; ``info``: ``_codec_infos``."""
    out: dict[str, str] = {}
    jb = D.json_bytes_by_payload(doc)
    sized = [p for p in A.payload_names(doc) if p in jb and any(A.raw_size(r) for r in A.ok_rows(doc, p))]
    if sized:
        big, small = max(sized, key=lambda p: jb[p]), min(sized, key=lambda p: jb[p])
        rows = [r for r in A.ok_rows(doc, big) if A.raw_size(r)]
        raw = min(rows, key=lambda r: A.raw_size(r))
        zs = sorted((D.zstd_size(r), r["codec"]) for r in rows if D.zstd_size(r))
        text = f"On the largest payload ({big}), {raw['codec']} is smallest raw ({A.fmt_bytes(A.raw_size(raw))})"
        if len(zs) > 1:
            text += (f"; after zstd {zs[0][1]} is smallest ({A.fmt_bytes(zs[0][0])}) and the codecs are within "
                     f"{100 * (zs[-1][0] / zs[0][0] - 1):.0f}% of each other")
        grow = [r["codec"] for r in A.ok_rows(doc, small) if D.zstd_size(r) and A.raw_size(r)
                and D.zstd_size(r) > A.raw_size(r)]
        if grow and small != big:
            text += (f". On the smallest ({small}), zstd without a dictionary makes {len(grow)} of "
                     f"{len(A.ok_rows(doc, small))} codecs' messages larger")
        out["size"] = text + "."
    ans = {a.key: a for a in D.answers(doc)}
    if A.has_timing(doc) and ans.get("decode") and ans["decode"].codec and ans.get("encode") and ans["encode"].codec:
        dec, enc = ans["decode"], ans["encode"]
        text = (f"Bytes → typed value: {dec.pick} decodes fastest ({dec.summary.split(';')[0]}); "
                f"typed value → bytes: {enc.pick} encodes fastest ({enc.summary.split(';')[0]})")
        worst = None
        for p in A.payload_names(doc):
            rows = [r for r in A.ok_rows(doc, p) if A.speed_ns(r)]
            if len(rows) > 1:
                lo, hi = min(rows, key=A.speed_ns), max(rows, key=A.speed_ns)
                x = A.speed_ns(hi) / A.speed_ns(lo)
                if worst is None or x > worst[0]:
                    worst = (x, hi["codec"], lo["codec"], p)
        if worst:
            pp = " — a pure-Python implementation, not the format" if D.pure_python(info[worst[1]]) else ""
            text += (f". The widest gap: {worst[1]}{pp} takes {A.fmt_ratio(worst[0])} as long as {worst[2]} "
                     f"on {worst[3]}")
        for c in codecs:
            if c != (worst or (0, None))[1] and D.pure_python(info[c]):
                rs = [(A.speed_ns(r), r["payload"]) for r in A.ok_rows(doc) if r["codec"] == c and A.speed_ns(r)]
                best = {p: min((A.speed_ns(r) for r in A.ok_rows(doc, p) if A.speed_ns(r)), default=None)
                        for p in A.payload_names(doc)}
                if rs:
                    g = math.exp(sum(math.log(t / best[p]) for t, p in rs) / len(rs))
                    text += (f". {c} is a pure-Python implementation (not the format): on average "
                             f"{A.fmt_ratio(g)} the fastest")
        out["time"] = text + "."
    fronts = D.pareto_typed(doc)
    if fronts and any(fronts.values()):
        count: dict[str, int] = {}
        for f in fronts.values():
            for c in f:
                count[c] = count.get(c, 0) + 1
        n = len([f for f in fronts.values() if f])
        order = sorted(count.items(), key=lambda kv: (-kv[1], kv[0]))
        out["scatter"] = ("On the size-vs-speed front: " + ", ".join(f"{c} ({k} of {n} payloads)" for c, k in order)
                          + ". Every other codec is beaten on both size and speed by one of these.")
    if A.has_timing(doc):
        near = []
        for c in codecs:
            rs = [r for r in A.ok_rows(doc) if r["codec"] == c and A.speed_ns(r)]
            best = {p: min((A.speed_ns(r) for r in A.ok_rows(doc, p) if A.speed_ns(r)), default=None)
                    for p in A.payload_names(doc)}
            if rs and len(rs) == len(A.payload_names(doc)) and all(A.speed_ns(r) <= 2 * best[r["payload"]] for r in rs):
                near.append(c)
        out["relative"] = (f"Within 2× of the fastest on every payload: {', '.join(near)}." if near else
                           "No codec is within 2× of the fastest on every payload.")
    return out


def _size_setting(doc: Results, key: str, default: int) -> int:
    return doc["run"]["sizes"].get(key, default)  # ``sizes`` is the run's free-form settings dict


def _warnings(doc: Results) -> list[str]:
    env = doc["environment"]  # free-form (bench/environment.py)
    out = [str(w) for w in (env.get("warnings") or [])]
    for c in doc["codecs"]:
        if c["slow_backend"]:
            out.append(f"{c['name']} runs on a slow backend ({c['backend'] or 'unknown'}): its timings show "
                       "that backend, not the format's best")
    for c in doc["codecs"]:
        if D.pure_python(c) and not c["slow_backend"]:
            out.append(f"{c['name']} is a pure-Python implementation ({c['backend']}): its speed is that "
                       "implementation's, not the format's")
    run = doc["run"]
    if run["partial"]:
        out.append("this run is partial (interrupted or still running): some codecs or payloads may be missing")
    if run["mode"] in ("quick", "untimed"):
        out.append(f"run mode is {run['mode']!r}: fewer samples than a full run; treat timings as rough"
                   if run["mode"] == "quick" else "run mode is 'untimed': sizes only, no timings")
    return out


def _by_format(codecs: list[str]) -> list[list[str]]:
    out: dict[str, list[str]] = {}
    for c in codecs:
        out.setdefault(D.format_of(c), []).append(c)
    return list(out.values())


def _environment(doc: Results) -> list[tuple[str, str]]:
    env = doc["environment"]  # free-form (bench/environment.py): its inner keys may be absent
    run = doc["run"]
    tool = doc["tool"]
    py = env.get("python") or {}
    git = env.get("git") or {}
    mem = env.get("memory_total_bytes")
    items = [
        ("machine", f"{env.get('hostname') or '?'} (id {env.get('machine_id') or '?'}), {env.get('platform') or '?'}"),
        ("CPU", f"{env.get('cpu_model') or '?'}, {env.get('cpu_count') or '?'} logical cores"
                + (f", governor {env['cpu_governor']}" if env.get("cpu_governor") else "")
                + (f", {env['cpu_freq_khz'] / 1e6:.2f} GHz at start" if env.get("cpu_freq_khz") else "")),
        ("memory", f"{mem / 2**30:.1f} GiB" if isinstance(mem, (int, float)) else "?"),
        ("load average at start", ", ".join(f"{x:.2f}" for x in env.get("load_average") or []) or "?"),
        ("load average at end", ", ".join(f"{x:.2f}" for x in env.get("load_average_end") or []) or "?"),
        ("Python", " ".join(str(x) for x in (py.get("implementation"), py.get("version"), py.get("compiler")) if x)
         or "?"),
        ("git revision", (git.get("revision") or "unknown") + (" (uncommitted changes)" if git.get("dirty") else "")),
        ("run mode", (run["mode"] or "?") + (" — partial" if run["partial"] else "")),
        ("started / finished", f"{run['started'] or '?'} / {run['finished'] or '—'}"),
        ("duration", f"{run['duration_s']:.1f} s" if run["duration_s"] is not None else "?"),
        ("tool", " ".join(str(x) for x in (tool.get("name"), tool.get("version")) if x) or "msgbench"),
    ]
    if run["argv"]:
        items.append(("command line", "msgbench " + " ".join(run["argv"])))
    return items


def _checked(doc: dict) -> Results:
    """The one way a document from outside enters the renderer: validated, in the typed view."""
    return check(doc, "results document")


def build_view(doc: dict, with_charts: bool = True) -> dict:
    """Everything the template shows, as plain data (strings are escaped by the template)."""
    return _build_view(_checked(doc), with_charts)


def _build_view(doc: Results, with_charts: bool = True) -> dict:
    payloads = A.payload_names(doc)
    codecs = D.codecs_by_format(A.codec_names(doc))
    info = _codec_infos(doc, codecs)
    slugs = A.unique_slugs(payloads)
    fronts = D.pareto_typed(doc)
    by = {(r["codec"], r["payload"]): r for r in doc["rows"]}
    pinfo = {p["name"]: p for p in doc["payloads"]}
    tables = []
    for p in payloads:
        rows = [_row_view(by[(c, p)], info[c], set(fronts.get(p, []))) for c in codecs if (c, p) in by]
        _mark_ties([by[(c, p)] for c in codecs if (c, p) in by], rows)
        pi = pinfo.get(p)  # None for a payload only named by rows
        tables.append({"payload": p, "slug": slugs[p], "rows": rows, "description": pi["description"] if pi else "",
                       "json_bytes": pi["json_bytes"] if pi else None, "notes": pi["notes"] if pi else []})
    answer = []
    for p in payloads:
        items = []
        for c in fronts.get(p, []):
            r = by[(c, p)]
            items.append({"codec": c, "bytes": A.raw_size(r), "time": A.speed_ns(r), "lossy": r["verdict"] == "lossy"})
        answer.append({"payload": p, "slug": slugs[p], "front": items})
    calc = A.calculator_data(doc)
    static = {p: [{"codec": it["codec"], "bytes": it["bytes"], **A.wire_cost(by[(it["codec"], p)])}
                  for it in calc["payloads"][p]] for p in payloads}
    env = _environment(doc)
    libraries = sorted(((k, v) for k, v in (doc["environment"].get("libraries") or {}).items()),
                       key=lambda kv: kv[0])
    failures = [r for r in doc["rows"] if r["status"] != "ok"]
    codec_problems = [c for c in doc["codecs"] if c["status"] != "ok"]
    conversion = []
    for r in doc["rows"]:
        if r["to_native"] or r["from_native"] or r["parse_lazy"]:
            conversion.append({"codec": r["codec"], "payload": r["payload"], "to_native": A.median(r["to_native"]),
                               "from_native": A.median(r["from_native"]), "parse_lazy": A.median(r["parse_lazy"]),
                               "decode": A.median(r["decode"])})
    return {
        "question": QUESTION,
        "doc": doc,
        "payloads": payloads,
        "codecs": codecs,
        "codec_info": info,
        "timed": A.has_timing(doc),
        "answer": answer,
        "answers": D.answers(doc),
        "formats": [(D.format_name(cs[0]), cs) for cs in _by_format(codecs)],
        "spread": D.format_spread(doc),
        "pure_python": [c for c in codecs if D.pure_python(info[c])],
        "takeaways": takeaways(doc, codecs, info) if with_charts else {},
        "tables": tables,
        "charts": _charts(doc, payloads, codecs, slugs, info) if with_charts else {},
        "calc": calc,
        "calc_json": json_for_script(calc),
        "calc_static": static,
        "slugs": slugs,
        "warnings": _warnings(doc),
        "environment": env,
        "libraries": libraries,
        "codecs_env": doc["codecs"],
        "failures": failures,
        "codec_problems": codec_problems,
        "conversion": conversion,
        "payload_notes": [(p["name"], n) for p in doc["payloads"] for n in p["notes"]],
        "codec_notes": [(c["name"], n) for c in doc["codecs"] for n in c["notes"]],
        "sizes": {"gzip": _size_setting(doc, "gzip_level", 6), "zstd": _size_setting(doc, "zstd_level", 3)},
        "defaults": {"rate": A.DEFAULT_RATE, "link_gbps": A.DEFAULT_LINK_BPS / 1e9},
    }


def render_html(doc: dict) -> str:
    return _render_html(_checked(doc))


def _render_html(doc: Results) -> str:
    env = _env()
    view = _build_view(doc)
    view["sections"] = render_sections(doc, env)
    sec_slugs = A.unique_slugs(s["key"] for s in view["sections"])
    for s in view["sections"]:
        s["slug"] = sec_slugs[s["key"]]
    figure = env.from_string(CHART_FIGURE)
    view["chart_figure_render"] = lambda c: Markup(figure.render(id=c["id"], svg=Markup(c["svg"]), caption=c["caption"]))
    view["css"] = Markup((HERE / "report.css").read_text(encoding="utf-8"))
    view["js"] = Markup((HERE / "report.js").read_text(encoding="utf-8").replace("</", "<\\/"))
    return env.get_template("report.html.j2").render(A=A, Markup=Markup, **view)


# ---------------------------------------------------------------------------------------------
# markdown


def _md(text: Any) -> str:
    """Escape text for a GitHub markdown table cell (HTML is live in GitHub markdown)."""
    s = str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    for ch in "\\|*_`[]":
        s = s.replace(ch, "\\" + ch)
    return s.replace("\n", " ")


MD_WIDTH = 100


def _wrap(text: str, indent: str = "  ") -> list[str]:
    """Markdown lines of at most ``MD_WIDTH`` characters (list-item continuations indented)."""
    import textwrap

    return textwrap.wrap(text, MD_WIDTH, subsequent_indent=indent, break_long_words=True,
                         break_on_hyphens=False) or [""]


def render_markdown(doc: dict) -> str:
    """The PR summary: the decision first, red flags and caveats, then short per-payload tables."""
    return _render_markdown(_checked(doc))


def _render_markdown(doc: Results) -> str:
    view = _build_view(doc, with_charts=False)
    out = [f"## msgbench: {QUESTION}", ""]
    out += _wrap("Full report with charts and the evidence for each answer: `index.html` next to this file "
                 "(`msgbench report results.json` rebuilds it). What changed against a base run: "
                 "`msgbench compare BASE/results.json results.json`.", "")
    out.append("")
    if view["warnings"]:
        for w in view["warnings"]:
            out += _wrap(f"> ⚠ {_md(w)}", "> ")
        out.append("")
    out += ["### The answer, per priority", ""]
    for r in view["answers"]:
        pick = f"**{_md(r.pick)}**" if r.codec else "no recommendation"
        num = f", {_md(r.number)}" + (f" ({_md(r.scope)})" if r.scope else "") if r.number else ""
        out += _wrap(f"- {_md(r.priority)}: {pick}{num}")
        if r.runner_up:
            out += _wrap(f"  - runner-up: {_md(r.runner_pick)} {_md(r.runner_number)} (gap {_md(r.gap)})", "    ")
        elif not r.codec:
            out += _wrap(f"  - {_md(r.summary)}", "    ")
        for f in r.flags:
            out += _wrap(f"  - ⚠ {_md(f)}", "    ")
        for c in r.caveats:
            out += _wrap(f"  - ⚠ {_md(c)}", "    ")
    out += ["", "Speed compares typed model value ⇄ bytes for every codec (library call + conversion);",
            "the library call alone is in the HTML report.", ""]
    if view["pure_python"]:
        out += _wrap("Pure-Python implementations (their speed is the implementation's, not the format's): "
                     + ", ".join(_md(c) for c in view["pure_python"]) + ".", "")
        out.append("")
    for t in view["tables"]:
        out += [f"**{_md(t['payload'])}**" + (f" ({A.fmt_bytes(t['json_bytes'])} as JSON)" if t["json_bytes"]
                                              else ""), "",
                "| codec | raw | zstd | encode | decode |", "|---|---:|---:|---:|---:|"]
        for r in t["rows"]:
            name = _md(r["codec"]) + (" (pure Python)" if r["pure_python"] else "")
            if r["status"] != "ok":
                out.append(f"| {name} | {_md(r['status'])} | | | |")
                continue
            enc = r["encode_typed"] or r["encode"]
            dec = r["decode_typed"] or r["decode"]
            out.append(f"| {name}{' (lossy)' if r['verdict'] == 'lossy' else ''} | {A.fmt_bytes(r['raw'])} | "
                       f"{A.fmt_bytes(r['zstd'])} | {enc['text'] if enc else '–'} | {dec['text'] if dec else '–'} |")
        out.append("")
        for n in t["notes"]:
            out += _wrap(f"- note on {_md(t['payload'])}: {_md(n)}")
        if t["notes"]:
            out.append("")
    out += _wrap("_Encode/decode: median per message, typed model value ⇄ bytes (library-only figures are in "
                 "the HTML report)._", "")
    out.append("")
    if view["failures"]:
        out += ["**Failures / unsupported:**", ""]
        for r in view["failures"]:
            out += _wrap(f"- {_md(r['codec'])} × {_md(r['payload'])}: {_md(r['status'])} — "
                         f"{_md((r['error'] or 'no reason recorded')[:200])}")
        out.append("")
    from reports.transport_view import _sentences as transport_sentences  # typed: doc is checked

    loop = transport_sentences(doc)
    if loop:  # the transport section's answer, one line per transport and payload
        out += ["**Formats in the loop** (share of a call's p50 spent encoding and decoding):", ""]
        out += [f"- {_md(x)}" for x in loop] + [""]
    env = dict(view["environment"])
    out += _wrap(f"_Environment: {_md(env['CPU'])}; {_md(env['Python'])}; "
                 f"git {_md(env['git revision'][:12])}; mode {_md(env['run mode'])}; "
                 f"duration {_md(env['duration'])}._", "")
    if env.get("command line"):
        out += _wrap(f"_Command: `{env['command line'].replace('`', '')}`_", "")
    return "\n".join(out) + "\n"


def write_report(doc: dict, out_dir: str | Path) -> dict[str, Path]:
    """Write ``out_dir/index.html`` and ``out_dir/summary.md`` atomically; return their paths."""
    out_dir = Path(out_dir)
    doc = _checked(doc)  # once for both pages
    html = _render_html(doc)
    md = _render_markdown(doc)
    return {"html": write_atomic(out_dir / "index.html", html), "markdown": write_atomic(out_dir / "summary.md", md)}
