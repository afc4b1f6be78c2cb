"""Render a results document (see ``bench.results``) into one self-contained HTML page and a
markdown summary. Pure: the document is the only input; nothing is measured or imported from the
codecs. ``write_report`` is the only function that touches the disk.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from bench.results import check, write_atomic
from reports import analysis as A
from reports import charts
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


def _stats_view(st: dict | None) -> dict | None:
    m = A.median(st)
    if m is None:
        return None
    v = {"median": m, "text": A.fmt_ns(m), "iqr": None, "ci": None}
    if isinstance(st.get("iqr_ns"), (int, float)):
        v["iqr"] = A.fmt_ns(st["iqr_ns"])
    ci = st.get("ci95_ns")
    if isinstance(ci, (list, tuple)) and len(ci) == 2 and all(isinstance(x, (int, float)) for x in ci):
        v["ci"] = A.fmt_ns_range(ci[0], ci[1])
    return v


def _int_or(v: Any, default: int) -> int:
    return v if isinstance(v, int) and not isinstance(v, bool) and v >= 0 else default


def _row_view(r: dict, info: dict, front: set[str]) -> dict:
    size = r.get("size") if isinstance(r.get("size"), dict) else {}
    fid = [f for f in (r.get("fidelity") or []) if isinstance(f, dict)]
    return {
        "codec": str(r.get("codec")),
        "format": r.get("format") or info.get("format") or "",
        "library": " ".join(str(x) for x in (info.get("library"), info.get("library_version")) if x),
        "backend": info.get("backend") or "",
        "slow_backend": bool(info.get("slow_backend")),
        "plugin": str(info.get("source") or "").startswith(("plugin", "entry")),
        "source": info.get("source") or "",
        "status": r.get("status") or "failed",
        "verdict": r.get("verdict") or r.get("status") or "failed",
        "error": r.get("error"),
        "fidelity": fid,
        "fidelity_total": _int_or(r.get("fidelity_total"), len(fid)),
        "fidelity_paths": {str(k): _int_or(v, 0) for k, v in (r.get("fidelity_paths") or {}).items()}
        if isinstance(r.get("fidelity_paths"), dict) else {},
        "raw": size.get("raw"), "gzip": size.get("gzip"), "zstd": size.get("zstd"),
        "encode": _stats_view(r.get("encode")),
        "decode": _stats_view(r.get("decode")),
        "total": A.total_ns(r),
        "front": str(r.get("codec")) in front,
    }


def _mark_ties(raw: list[dict], views: list[dict]) -> None:
    """Mark, per op, the fastest codec and every codec not distinguishable from it ("same speed
    within noise": ``bench.stats.same_within_noise``, between-process test when measured in several
    processes, else overlapping CIs or Mann–Whitney on the rounds)."""
    from bench.stats import same_within_noise

    for op in ("encode", "decode"):
        timed = [(r[op], v) for r, v in zip(raw, views, strict=True)
                 if r.get("status") == "ok" and v.get(op) and isinstance(r.get(op), dict)]
        if len(timed) < 2:
            continue
        best, best_view = min(timed, key=lambda t: t[0]["median_ns"])
        best_view[op]["fastest"] = True
        for st, v in timed:
            if v is best_view:
                continue
            v[op]["tie"] = bool(same_within_noise(st, best))


def _charts(doc: dict, payloads: list[str], codecs: list[str], slugs: dict[str, str]) -> dict:
    by = {(r.get("codec"), r.get("payload")): r for r in doc.get("rows", [])}
    out: dict[str, list[dict]] = {"size": [], "time": [], "scatter": [], "relative": []}
    timed = A.has_timing(doc)
    ratio: dict[tuple[str, str], float] = {}
    for p in payloads:
        rows = [by[(c, p)] for c in codecs if (c, p) in by]
        if not rows:
            continue
        s = slugs[p]
        items = [{"codec": r["codec"], "status": r.get("status"), **(r.get("size") or {})}
                 if r.get("status") == "ok" else {"codec": r["codec"], "status": r.get("status")} for r in rows]
        cid = f"chart-size-{s}"
        out["size"].append({"id": cid, "svg": charts.size_chart(p, items, cid), "caption":
                            f"Bytes per message for payload {p}: raw encoding, gzip (level "
                            f"{_size_setting(doc, 'gzip_level', 6)}) and zstd (level {_size_setting(doc, 'zstd_level', 3)}). "
                            "Shorter is better."})
        if not timed:
            continue
        titems = [{"codec": r["codec"], "status": r.get("status"),
                   "encode": r.get("encode") if r.get("status") == "ok" and A.median(r.get("encode")) is not None
                   else None,
                   "decode": r.get("decode") if r.get("status") == "ok" and A.median(r.get("decode")) is not None
                   else None} for r in rows]
        cid = f"chart-time-{s}"
        svg, spread = charts.time_chart(p, titems, cid)
        out["time"].append({"id": cid, "svg": svg, "caption":
                            f"Median time per call to encode and to decode one {p} message (ns; shorter is "
                            f"better). Error bars: {spread} of the median."})
        pts = [{"codec": r["codec"], "size": A.raw_size(r), "time": A.total_ns(r), "lossy": r.get("verdict") == "lossy"}
               for r in rows if r.get("status") == "ok" and A.raw_size(r) and A.total_ns(r)]
        if pts:
            cid = f"chart-scatter-{s}"
            out["scatter"].append({"id": cid, "svg": charts.scatter_chart(p, pts, cid), "caption":
                                   f"Each codec's raw size against its encode + decode median for {p}. The "
                                   "dashed staircase joins the Pareto front (★): no other codec is both smaller and "
                                   "faster. Down and left is better; hollow markers are lossy."})
            best = min(pt["time"] for pt in pts)
            for pt in pts:
                ratio[(pt["codec"], p)] = pt["time"] / best
    if ratio:
        rc = [c for c in codecs if any((c, p) in ratio for p in payloads)]
        rp = [p for p in payloads if any((c, p) in ratio for c in codecs)]
        out["relative"].append({"id": "chart-relative", "svg": charts.relative_chart(rc, rp, ratio, "chart-relative"),
                                "caption": "Encode + decode median of each codec divided by the fastest codec's on "
                                "the same payload (1.00× = fastest; darker = slower). Codecs that failed a payload "
                                "show –."})
    return out


def _size_setting(doc: dict, key: str, default: int) -> int:
    sizes = (doc.get("run") or {}).get("sizes") or {}
    return sizes.get(key, default) if isinstance(sizes, dict) else default


def _warnings(doc: dict) -> list[str]:
    env = doc.get("environment") or {}
    out = [str(w) for w in (env.get("warnings") or [])]
    slow = [c for c in doc.get("codecs", []) if isinstance(c, dict) and c.get("slow_backend")]
    for c in slow:
        out.append(f"{c.get('name')} runs on a slow backend ({c.get('backend') or 'unknown'}): its timings show "
                   "that backend, not the format's best")
    run = doc.get("run") or {}
    if run.get("partial"):
        out.append("this run is partial (interrupted or still running): some codecs or payloads may be missing")
    if run.get("mode") in ("quick", "untimed"):
        out.append(f"run mode is {run.get('mode')!r}: fewer samples than a full run; treat timings as rough"
                   if run.get("mode") == "quick" else "run mode is 'untimed': sizes only, no timings")
    return out


def _environment(doc: dict) -> list[tuple[str, str]]:
    env = doc.get("environment") or {}
    run = doc.get("run") or {}
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
        ("run mode", str(run.get("mode") or "?") + (" — partial" if run.get("partial") else "")),
        ("started / finished", f"{run.get('started') or '?'} / {run.get('finished') or '—'}"),
        ("duration", f"{run['duration_s']:.1f} s" if isinstance(run.get("duration_s"), (int, float)) else "?"),
        ("tool", " ".join(str(x) for x in ((doc.get("tool") or {}).get("name"), (doc.get("tool") or {}).get("version"))
                          if x) or "msgbench"),
    ]
    if run.get("argv"):
        items.append(("command line", "msgbench " + " ".join(str(a) for a in run["argv"])))
    return items


def build_view(doc: dict, with_charts: bool = True) -> dict:
    """Everything the template shows, as plain data (strings are escaped by the template)."""
    doc = check(doc, "results document")
    payloads = A.payload_names(doc)
    codecs = A.codec_names(doc)
    info = A.codec_info(doc)
    slugs = A.unique_slugs(payloads)
    fronts = A.pareto_by_payload(doc)
    by = {(r.get("codec"), r.get("payload")): r for r in doc.get("rows", [])}
    pinfo = {p.get("name"): p for p in doc.get("payloads", []) if isinstance(p, dict)}
    tables = []
    for p in payloads:
        rows = [_row_view(by[(c, p)], info.get(c, {}), set(fronts.get(p, []))) for c in codecs if (c, p) in by]
        _mark_ties([by[(c, p)] for c in codecs if (c, p) in by], rows)
        pi = pinfo.get(p, {})
        tables.append({"payload": p, "slug": slugs[p], "rows": rows, "description": pi.get("description") or "",
                       "json_bytes": pi.get("json_bytes"), "notes": pi.get("notes") or []})
    answer = []
    for p in payloads:
        items = []
        for c in fronts.get(p, []):
            r = by[(c, p)]
            items.append({"codec": c, "bytes": A.raw_size(r), "time": A.total_ns(r), "lossy": r.get("verdict") == "lossy"})
        answer.append({"payload": p, "slug": slugs[p], "front": items})
    calc = A.calculator_data(doc)
    static = {p: [{"codec": it["codec"], "bytes": it["bytes"], **A.wire_cost(by[(it["codec"], p)])}
                  for it in calc["payloads"][p]] for p in payloads}
    env = _environment(doc)
    libraries = sorted(((k, v) for k, v in ((doc.get("environment") or {}).get("libraries") or {}).items()),
                       key=lambda kv: kv[0])
    failures = [r for r in doc.get("rows", []) if r.get("status") != "ok"]
    codec_problems = [c for c in doc.get("codecs", []) if isinstance(c, dict) and c.get("status") not in (None, "ok")]
    conversion = []
    for r in doc.get("rows", []):
        if any(A.median(r.get(k)) is not None for k in ("to_native", "from_native", "parse_lazy")):
            conversion.append({"codec": r.get("codec"), "payload": r.get("payload"),
                               **{k: A.median(r.get(k)) for k in ("to_native", "from_native", "parse_lazy", "decode")}})
    return {
        "question": QUESTION,
        "doc": doc,
        "payloads": payloads,
        "codecs": codecs,
        "codec_info": info,
        "timed": A.has_timing(doc),
        "answer": answer,
        "recommendations": A.recommendations(doc),
        "tables": tables,
        "charts": _charts(doc, payloads, codecs, slugs) if with_charts else {},
        "calc": calc,
        "calc_json": json_for_script(calc),
        "calc_static": static,
        "slugs": slugs,
        "warnings": _warnings(doc),
        "environment": env,
        "libraries": libraries,
        "codecs_env": [c for c in doc.get("codecs", []) if isinstance(c, dict)],
        "failures": failures,
        "codec_problems": codec_problems,
        "conversion": conversion,
        "payload_notes": [(p.get("name"), n) for p in doc.get("payloads", []) if isinstance(p, dict)
                          for n in (p.get("notes") or [])],
        "codec_notes": [(c.get("name"), n) for c in doc.get("codecs", []) if isinstance(c, dict)
                        for n in (c.get("notes") or [])],
        "sizes": {"gzip": _size_setting(doc, "gzip_level", 6), "zstd": _size_setting(doc, "zstd_level", 3)},
        "defaults": {"rate": A.DEFAULT_RATE, "link_gbps": A.DEFAULT_LINK_BPS / 1e9},
    }


def render_html(doc: dict) -> str:
    env = _env()
    view = build_view(doc)
    view["sections"] = render_sections(view["doc"], env)
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


def render_markdown(doc: dict) -> str:
    view = build_view(doc, with_charts=False)
    out = [f"## msgbench: {QUESTION}", ""]
    if view["warnings"]:
        out += [f"> ⚠ {_md(w)}" for w in view["warnings"]] + [""]
    out.append("**Pareto front per payload** (size vs encode+decode time; nothing else is both smaller and faster):")
    out.append("")
    for a in view["answer"]:
        if a["front"]:
            items = ", ".join(f"{_md(f['codec'])} ({A.fmt_bytes(f['bytes'])}, {A.fmt_ns(f['time'])}"
                              f"{', lossy' if f['lossy'] else ''})" for f in a["front"])
        else:
            items = "no timed results"
        out.append(f"- **{_md(a['payload'])}**: {items}")
    out += ["", "**Recommendations:**", ""]
    for r in view["recommendations"]:
        line = f"- **{_md(r.priority)}**: " + (f"**{_md(r.codec)}** — " if r.codec else "") + _md(r.summary)
        if r.evidence:
            line += f" — {_md('; '.join(r.evidence))}"
        out.append(line)
        out += [f"  - ⚠ {_md(c)}" for c in r.caveats]
    out += ["", "| codec | " + " | ".join(_md(p) for p in view["payloads"]) + " |",
            "|---|" + "---|" * len(view["payloads"])]
    by = {(t["payload"], r["codec"]): r for t in view["tables"] for r in t["rows"]}
    for c in view["codecs"]:
        cells = []
        for p in view["payloads"]:
            r = by.get((p, c))
            if r is None:
                cells.append("")
            elif r["status"] != "ok":
                cells.append(_md(r["status"]))
            else:
                enc = r["encode"]["text"] if r["encode"] else "–"
                dec = r["decode"]["text"] if r["decode"] else "–"
                cells.append(f"{A.fmt_bytes(r['raw'])} · enc {enc} · dec {dec}" + (" (lossy)" if r["verdict"] == "lossy"
                                                                                    else ""))
        out.append(f"| {_md(c)} | " + " | ".join(cells) + " |")
    out += ["", "_Cells: raw bytes · encode median · decode median (per message)._", ""]
    if view["failures"]:
        out.append("**Failures / unsupported:**")
        out.append("")
        for r in view["failures"]:
            out.append(f"- {_md(r.get('codec'))} × {_md(r.get('payload'))}: {_md(r.get('status'))} — "
                       f"{_md((r.get('error') or 'no reason recorded')[:200])}")
        out.append("")
    from reports.transport_view import sentences as transport_sentences

    if transport_sentences(doc):  # the transport section's answer, one line per transport and payload
        out += ["**Formats in the loop** (share of a call's p50 spent encoding and decoding):", ""]
        out += [f"- {_md(x)}" for x in transport_sentences(doc)] + [""]
    env = dict(view["environment"])
    out.append(f"_Environment: {_md(env.get('CPU', '?'))}; {_md(env.get('Python', '?'))}; "
               f"git {_md(env.get('git revision', '?')[:12])}; mode {_md(env.get('run mode', '?'))}; "
               f"duration {_md(env.get('duration', '?'))}._")
    return "\n".join(out) + "\n"


def write_report(doc: dict, out_dir: str | Path) -> dict[str, Path]:
    """Write ``out_dir/index.html`` and ``out_dir/summary.md`` atomically; return their paths."""
    out_dir = Path(out_dir)
    html = render_html(doc)
    md = render_markdown(doc)
    return {"html": write_atomic(out_dir / "index.html", html), "markdown": write_atomic(out_dir / "summary.md", md)}
