"""Optional report sections: a small registry keyed like ``doc["sections"]``.

To add a section, write a function ``render(data, ctx) -> str`` and register it::

    from reports.sections import section

    @section("gc_pauses", "Garbage-collector pauses", order=70)
    def render_gc(data, ctx):
        return ctx.render("<p>{{ n }} pauses</p>", n=len(data))

Put it in a module named ``reports/section_<anything>.py``: such modules are imported
automatically, so nothing else needs to change. ``ctx.render`` uses an autoescaping jinja2
environment (never mark results text safe); ``ctx.chart`` wraps a chart SVG in a captioned figure.
A section present in the results but not registered is shown as escaped raw JSON; a renderer that
raises is reported in place and never breaks the rest of the report.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup

from reports import charts
from reports.analysis import (
    SILENT_OUTCOMES,
    evolution_cell_good,
    fmt_bytes,
    fmt_int,
    fmt_ns,
    fmt_ratio,
    unique_slugs,
)
from reports.results import EvolutionCell, Results, evolution_view, faults_view


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    render: Callable[[Any, SectionContext], str]
    order: int = 100


SECTIONS: dict[str, Section] = {}
IGNORED: set[str] = {"comparison"}  # rendered elsewhere (or not at all) by design


def section(key: str, title: str, order: int = 100) -> Callable:
    """Register ``fn(data, ctx) -> html`` for ``doc["sections"][key]``."""

    def deco(fn: Callable) -> Callable:
        if key in SECTIONS and SECTIONS[key].render is not fn:
            raise ValueError(f"report section {key!r} registered twice: {SECTIONS[key].render.__module__} "
                             f"and {fn.__module__}")
        SECTIONS[key] = Section(key, title, fn, order)
        return fn

    return deco


_loaded = False


def load_section_modules() -> None:
    """Import every ``reports/section_*.py`` once (they register themselves)."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    import reports

    for mod in pkgutil.iter_modules(reports.__path__):
        if mod.name.startswith("section_"):
            importlib.import_module(f"reports.{mod.name}")


@dataclass
class SectionContext:
    """What a section renderer gets: the whole (checked, typed) document and helpers that escape by
    construction."""

    doc: Results
    env: Any  # jinja2.Environment with autoescape
    key: str = ""
    charts: list[str] = field(default_factory=list)  # ids of the charts rendered (for tests / TOC)

    def render(self, source: str, **values: Any) -> Markup:
        return Markup(self.env.from_string(source).render(**values))

    def chart(self, chart_id: str, svg: str, caption: str) -> Markup:
        self.charts.append(chart_id)
        return self.render(CHART_FIGURE, id=chart_id, svg=Markup(svg), caption=caption)

    def table(self, headers: list[tuple[str, str]], rows: list[list[tuple[Any, Any]]], caption: str = "",
              foot: list[list[Any]] | None = None) -> Markup:
        """A sortable table. ``headers``: (label, "num"|"text"); cells: (display, sort value or None)."""
        return self.render(TABLE, headers=headers, rows=rows, caption=caption, foot=foot or [])


CHART_FIGURE = """<figure class="chart" id="{{ id }}"><div class="svg-wrap">{{ svg }}</div><figcaption>{{ caption }}</figcaption></figure>"""

TABLE = """<div class="table-wrap"><table class="sortable">
{%- if caption %}<caption>{{ caption }}</caption>{% endif %}
<thead><tr>{% for h, kind in headers %}<th scope="col" data-type="{{ kind }}"><button type="button">{{ h }}</button></th>{% endfor %}</tr></thead>
<tbody>{% for row in rows %}<tr>{% for shown, key in row %}<td{% if key is not none %} data-sort="{{ key }}"{% endif %}{% if headers[loop.index0][1] == 'num' %} class="num"{% endif %}>{{ shown }}</td>{% endfor %}</tr>
{% endfor %}</tbody>
{%- if foot %}<tfoot>{% for row in foot %}<tr>{% for c in row %}<td{% if not loop.first %} class="num"{% endif %}>{{ c }}</td>{% endfor %}</tr>{% endfor %}</tfoot>{% endif %}
</table></div>"""


def render_sections(doc: Results, env: Any) -> list[dict]:
    """Every section present in ``doc["sections"]``, known ones in registry order, then unknown ones.

    ``doc`` is the checked document (``reports.results.check``). Returns
    ``[{"key", "title", "html", "error", "charts"}]``.
    """
    load_section_modules()
    present = doc["sections"]
    out = []
    known = sorted((s for k, s in SECTIONS.items() if k in present), key=lambda s: (s.order, s.key))
    for s in known:
        data = present[s.key]
        ctx = SectionContext(doc, env, s.key)
        if isinstance(data, dict) and "error" in data and len(set(data) - {"error", "traceback", "duration_s"}) == 0:
            html = ctx.render('<p class="warn">This measurement failed: <code>{{ e }}</code></p>'
                              "{% if tb %}<details><summary>traceback</summary><pre>{{ tb }}</pre></details>{% endif %}",
                              e=data["error"], tb=data.get("traceback"))
            out.append({"key": s.key, "title": s.title, "html": html, "error": data["error"], "charts": []})
            continue
        try:
            html = Markup(s.render(data, ctx))
            err = None
        except Exception as e:  # a broken renderer or malformed data must not kill the report
            err = f"{type(e).__name__}: {e}"
            html = ctx.render('<p class="warn">Could not render this section ({{ e }}); its raw data:</p>'
                              "<details><summary>raw data</summary><pre>{{ raw }}</pre></details>",
                              e=err, raw=_raw_json(data))
        out.append({"key": s.key, "title": s.title, "html": html, "error": err, "charts": ctx.charts})
    for key, data in present.items():
        if key in SECTIONS or key in IGNORED:
            continue
        ctx = SectionContext(doc, env, str(key))
        html = ctx.render("<p>This results file has a section the report does not know how to draw; "
                          "its raw data:</p><details><summary>{{ key }} (raw JSON)</summary><pre>{{ raw }}</pre>"
                          "</details>", key=key, raw=_raw_json(data))
        out.append({"key": str(key), "title": f"Other measurement: {key}", "html": html, "error": None,
                    "charts": []})
    return out


def _raw_json(data: Any) -> str:
    try:
        return json.dumps(data, indent=1, default=repr)[:200_000]
    except (TypeError, ValueError):
        return repr(data)[:200_000]


# ---------------------------------------------------------------------------------------------
# built-in sections


def _names(xs: list[str]) -> str:
    xs = list(xs)
    if not xs:
        return "none"
    return xs[0] if len(xs) == 1 else ", ".join(xs[:-1]) + " and " + xs[-1]


@section("evolution", "Schema evolution", order=10)
def render_evolution(data: dict, ctx: SectionContext) -> str:
    data = evolution_view(data)  # the checked document has it typed already; cheap when so
    scenarios = [(s["id"], s["title"] or s["id"], s["description"]) for s in data["scenarios"]]
    codecs = list(data["codecs"])
    directions = list(data["directions"])
    cells = data["cells"]
    for c in cells:  # cells naming codecs/scenarios/directions not declared still show up
        for lst, k in ((codecs, "codec"), (directions, "direction")):
            if c[k] not in lst:
                lst.append(c[k])
        if c["scenario"] not in [s[0] for s in scenarios]:
            scenarios.append((c["scenario"], c["scenario"], ""))
    grid = {(c["scenario"], c["codec"], c["direction"]): c for c in cells}
    safe = [s for s in scenarios if s[0] in set(data["safe_scenarios"])]

    # plain-language summary: the producer's own sentences when it wrote them (it knows what each
    # scenario's ideal outcome is), else derived here from the cells
    summary = list(data["summary"])
    if not summary and safe:
        good, bad = [], []
        for c in codecs:
            cs = [grid.get((s[0], c, d)) for s in safe for d in ("backward", "forward")]
            cs = [x for x in cs if x is not None]
            (good if cs and all(evolution_cell_good(x) for x in cs) else bad).append(c)
        summary.append(f"Full backward and forward compatibility on the scenarios meant to be compatible "
                       f"({_names([s[1] for s in safe])}): {_names(good) if good else 'none'}.")
        if bad:
            summary.append(f"Not ideal on at least one of them: {_names(bad)}.")
    elif not summary:
        summary.append("The results do not mark any scenario as compatible-by-design, so there is no "
                       "'safe changes' verdict; read the matrices below.")
    title_of = {s[0]: s[1] for s in scenarios}
    silent = [c for c in cells if c["outcome"] in SILENT_OUTCOMES]
    corr_items = [(SILENT_WORDS.get(c["outcome"], c["outcome"]),
                   f"{c['codec']} — {title_of.get(c['scenario'], c['scenario'])} "
                   f"({c['direction']}): {c['detail'] or 'wrong value, no error'}") for c in silent]

    svg = charts.evolution_chart([(s[0], s[1]) for s in scenarios], codecs, directions,
                                 {k: v["outcome"] for k, v in grid.items()}, "chart-evolution",
                                 ideal={k: v["ideal"] for k, v in grid.items()})
    fig = ctx.chart("chart-evolution", svg, "Outcome of each schema change per codec and direction "
                    "(backward: new reader, old data; forward: old reader, new data; roundtrips: through an "
                    "intermediary of the other version). Labels: ok; dflt = field took its default; kept = "
                    "unknown data preserved; drop = unknown data ignored; err = decoding raised; CHG = changed, a "
                    "different value without an error; LOST = nothing where a value was written, without an "
                    "error; n/a = not supported; * = not what the ideal reader does. A cell that tried several "
                    "values shows the worse; for Protobuf and Thrift it shows what the library returned.")
    slugs = unique_slugs(directions)
    matrices = ctx.render(EVOLUTION_MATRICES, directions=directions, scenarios=scenarios, codecs=codecs,
                          grid=grid, slugs=slugs, about=data["direction_text"], mark=_mark, adapter_of=_adapter_of)
    full_rows = [[(title_of.get(c["scenario"], c["scenario"]), None), (c["codec"], None),
                  (c["direction"], None), (_mark(c), None),
                  (_adapter_of(c), None), (c["detail"], None)]
                 for c in cells]
    full = ctx.table([("scenario", "text"), ("codec", "text"), ("direction", "text"), ("outcome", "text"),
                      ("msgbench adapter", "text"), ("detail", "text")], full_rows)
    grouped: dict[str, list[str]] = {}  # columns that follow the same rules share one line
    for k, v in data["reader_rules"].items():
        if k in codecs:
            grouped.setdefault(v, []).append(k)
    rules_items = [(", ".join(names), text) for text, names in grouped.items()]
    if data["roundtrip_rule"] is not None:
        rules_items.append(("roundtrips", data["roundtrip_rule"]))
    return ctx.render(EVOLUTION, summary=summary, corr=corr_items, fig=fig, matrices=matrices, full=full,
                      scenarios=scenarios, safe={s[0] for s in safe}, rules=rules_items)


SILENT_WORDS = {"changed": "changed", "lost": "lost", "corrupted": "corrupted"}


def _star(ideal: bool | None, unrecorded: str = "") -> str:
    """``*`` when the verdict is not ideal; ``unrecorded`` when the results do not say."""
    return unrecorded if ideal is None else "" if ideal else "*"


def _mark(c: EvolutionCell) -> str:
    """``changed*`` (``*``: not ideal); ``ok / changed*`` when the cell tried several values."""
    if c["values"]:
        return " / ".join(f"{v['outcome']}{_star(v['ideal'], '*')}" for v in c["values"])
    return f"{c['outcome']}{_star(c['ideal'])}"


def _adapter_of(c: EvolutionCell) -> str:
    """The adapter layer's outcome when it differs from the library's (else '')."""
    a = c["adapter"]
    if a is None:
        return ""
    if c["values"]:
        shown = " / ".join(f"{x['outcome']}{_star(x['ideal'], '*')}"
                           for x in (v["adapter"] or v for v in c["values"]))
    else:
        shown = f"{a['outcome']}{_star(a['ideal'], '*')}"
    return shown if shown != _mark(c) else ""


EVOLUTION = """<div class="prose">{% for s in summary %}<p>{{ s }}</p>{% endfor %}
{% if corr %}<p class="danger"><strong>Silent wrong values</strong> (decoded without an error — the dangerous case): <em>changed</em> = a different value, <em>lost</em> = nothing (empty, zero, absent or a default) where a value was written:</p>
<ul class="danger-list">{% for kind, c in corr %}<li><strong class="o-{{ kind }}-text">{{ kind }}</strong>: {{ c }}</li>{% endfor %}</ul>
{% else %}<p>No cell shows a wrong value without an error.</p>{% endif %}</div>
{{ fig }}
<h3>Scenarios</h3><dl class="scenarios">{% for id, title, desc in scenarios %}<dt>{{ title }}{% if id in safe %} <span class="tag">meant to be compatible</span>{% endif %}</dt><dd>{{ desc }}</dd>{% endfor %}</dl>
<h3>How to read the matrices</h3><ul class="evo-legend">
<li><strong>*</strong> = not what the ideal reader does. <strong>a / b</strong> = the outcome for each value tried (e.g. one that fits the other side's type and one that does not); the cell's colour is the worse.</li>
<li>The first line is what the <strong>library</strong> returned; a second line <strong>adapter: …</strong> is what msgbench's converter made of it, where that differs.</li>
{% for name, text in rules %}<li><strong>{{ name }}</strong>: {{ text }}</li>{% endfor %}</ul>
{{ matrices }}
<details><summary>Every cell with its detail (table)</summary>{{ full }}</details>"""

EVOLUTION_MATRICES = """{% for d in directions %}<h3 id="evolution-{{ slugs[d] }}">Direction: {{ d }}{% if about.get(d) %} <small>({{ about[d] }})</small>{% endif %}</h3>
<div class="table-wrap"><table class="matrix"><thead><tr><th scope="col">scenario</th>{% for c in codecs %}<th scope="col">{{ c }}</th>{% endfor %}</tr></thead><tbody>
{% for sid, title, desc in scenarios %}<tr><th scope="row" title="{{ desc }}">{{ title }}</th>{% for c in codecs %}{% set cell = grid.get((sid, c, d)) %}
{% if cell %}{% set ad = adapter_of(cell) %}<td class="o-{{ cell.outcome }}{% if cell.ideal is false %} not-ideal{% endif %}" title="{{ cell.brief or '' }}{% if cell.brief %} — {% endif %}{{ cell.detail or '' }}">{{ mark(cell) }}{% if ad %}<br><small class="adapter">adapter: {{ ad }}</small>{% endif %}</td>{% else %}<td class="o-none">–</td>{% endif %}{% endfor %}</tr>
{% endfor %}</tbody></table></div>{% endfor %}"""


FAULT_KINDS = ("truncated", "bitflip", "random", "oversized_length", "bomb")
FAULT_RESULTS = ("clean_error", "silent_garbage", "hang", "crash")


@section("faults", "Malformed input (fault probes)", order=20)
def render_faults(data: dict, ctx: SectionContext) -> str:
    data = faults_view(data)  # the checked document has it typed already; cheap when so
    entries = data["codecs"]
    kinds = list(FAULT_KINDS)
    for e in entries:
        for k in e["kinds"]:
            if k not in kinds:
                kinds.append(k)
    rows, totals, detail_rows = [], dict.fromkeys(FAULT_RESULTS, 0), []
    totals_extra = [0, 0]  # corrupted bytes that decoded to the original value; MemoryErrors (clean, but allocated)
    worst = []
    for e in entries:
        sums = dict.fromkeys(FAULT_RESULTS, 0)
        for k in kinds:
            counts = e["kinds"].get(k, {})  # {outcome: count}: a kind or outcome not probed is absent
            for res in FAULT_RESULTS:
                sums[res] += int(counts.get(res, 0))
            detail_rows.append([(e["codec"], None), (k, None)]
                               + [(fmt_int(counts.get(r)), counts.get(r)) for r in FAULT_RESULTS])
        n = sum(sums.values())
        for res in FAULT_RESULTS:
            totals[res] += sums[res]
        bad = sums["silent_garbage"] + sums["hang"] + sums["crash"]
        if bad:
            worst.append((bad, e["codec"]))
        unchanged = sum(int(v) for v in e["unchanged"].values())
        mem = e["memory_errors"]
        totals_extra[0] += unchanged
        totals_extra[1] += mem
        rows.append([(e["codec"], None)] + [(fmt_int(sums[r]), sums[r]) for r in FAULT_RESULTS]
                    + [(fmt_int(n), n), (f"{100 * sums['clean_error'] / n:.1f} %" if n else "–",
                                         sums["clean_error"] / n if n else None),
                       (fmt_int(unchanged), unchanged), (fmt_int(mem), mem)])
    heads = [("codec", "text"), ("clean error", "num"), ("silent garbage", "num"), ("hang", "num"),
             ("crash", "num"), ("trials", "num"), ("clean-error rate", "num"),
             ("garbage equal to original", "num"), ("allocation attempted (clean MemoryError)", "num")]
    grand = sum(totals.values())
    foot = [["total"] + [fmt_int(totals[r]) for r in FAULT_RESULTS] + [fmt_int(grand),
            f"{100 * totals['clean_error'] / grand:.1f} %" if grand else "–",
            fmt_int(totals_extra[0]), fmt_int(totals_extra[1])]]
    table = ctx.table(heads, rows, "Outcomes of decoding corrupted input, summed over fault kinds", foot)
    detail = ctx.table([("codec", "text"), ("fault kind", "text")] + [(r.replace("_", " "), "num")
                                                                       for r in FAULT_RESULTS], detail_rows)
    examples = [(e["codec"], e["examples"]) for e in entries]
    worst.sort(reverse=True)
    from reports.decision import fault_flags

    return ctx.render(FAULTS, trials=data["trials_per_kind"], kinds=kinds, table=table, detail=detail,
                      examples=[x for x in examples if x[1]], worst=[w for _, w in worst],
                      flags=fault_flags(ctx.doc))


FAULTS = """<p>Each codec decoded {{ trials if trials is not none else 'some' }} corrupted messages per fault kind
({{ kinds | join(', ') }}). A <em>clean error</em> is what you want; <em>silent garbage</em> (decoding
"succeeds" with a wrong value), a hang or a crash are what to worry about. A <code>MemoryError</code> under the
1 GiB limit is a clean error for the caller, but the decoder tried to allocate what an untrusted size asked for:
counted apart as <em>allocation attempted</em>. <em>bomb</em> inputs are small structure-aware messages that make
a decoder loop or allocate (huge counts of zero-size elements, overlong varints, deep nesting).
{% if not worst %}No codec returned garbage, hung or crashed.{% endif %}</p>
{% if flags %}<p class="danger"><strong>Hangs and crashes</strong> (a denial-of-service risk for a service that
decodes untrusted input):</p><ul class="danger-list">{% for f in flags %}<li>{{ f }}</li>{% endfor %}</ul>
{% elif worst %}<p>No codec hung or crashed.</p>{% endif %}
{% if worst %}<p>Silent garbage (a wrong value, no error) is expected to some degree: none of these formats carries a
checksum, so a flipped bit inside a value decodes by design. Put a checksum (CRC) on the transport.</p>{% endif %}
{{ table }}
<details><summary>Per fault kind</summary>{{ detail }}</details>
{% if examples %}<details><summary>Examples</summary><ul>{% for c, xs in examples %}{% for x in xs %}<li><code>{{ x }}</code></li>{% endfor %}{% endfor %}</ul></details>{% endif %}"""


@section("calibration", "Timer calibration (harness vs bare loop)", order=30)
def render_calibration(data: list | dict, ctx: SectionContext) -> str:
    data, notes = _rows_and_notes(data)
    items = [c for c in data if isinstance(c, dict)] if isinstance(data, list) else []
    rows = [[(c.get("codec"), None), (c.get("payload"), None), (c.get("op") or "", None),
             (fmt_ns(c.get("harness_ns")), c.get("harness_ns")),
             (fmt_ns(c.get("bare_ns")), c.get("bare_ns")),
             (fmt_ratio(c["ratio"]) if isinstance(c.get("ratio"), (int, float)) else "–", c.get("ratio"))]
            for c in items]
    ratios = [c["ratio"] for c in items if isinstance(c.get("ratio"), (int, float))]
    if ratios:
        sentence = (f"The harness median was {fmt_ratio(min(ratios))}–{fmt_ratio(max(ratios))} the median of a "
                    "bare timeit-style loop on the same call (1.00× = no measurement overhead).")
        if max(ratios) > 1.1:
            sentence += " Ratios above 1.10× mean the figures above include noticeable harness overhead."
    else:
        sentence = "No calibration figures were recorded."
    table = ctx.table([("codec", "text"), ("payload", "text"), ("op", "text"), ("harness median", "num"),
                       ("bare loop median", "num"), ("ratio", "num")], rows)
    return ctx.render("<p>{{ s }}</p>{{ t }}" + NOTES, s=sentence, t=table, notes=notes)


@section("scaling", "Scaling with message count", order=40)
def render_scaling(data: dict, ctx: SectionContext) -> str:
    series = [s for s in data.get("series", []) if isinstance(s, dict)]
    svg = charts.scaling_chart(series, "chart-scaling")
    fig = ctx.chart("chart-scaling", svg, "Median time to encode / decode one message holding n records, by n "
                    "(both axes log scale). A slope of 1 means linear cost; a flatter start shows fixed per-call "
                    "overhead. Labels at the line ends give the largest n's time.")
    counts = data.get("counts") or []
    fits = [f for f in data.get("fits") or [] if isinstance(f, dict)]

    def num(v, f):
        return (f(v) if isinstance(v, (int, float)) else "–", v if isinstance(v, (int, float)) else None)

    table = ctx.table([("codec", "text"), ("op", "text"), ("fixed cost per call", "num"), ("per record", "num"),
                       ("per byte", "num"), ("worst relative residual", "num")],
                      [[(f.get("codec"), None), (f.get("op"), None), num(f.get("fixed_ns"), fmt_ns),
                        num(f.get("per_record_ns"), fmt_ns), num(f.get("per_byte_ns"), lambda v: f"{v:.3g} ns"),
                        num(f.get("max_rel_residual"), lambda v: f"{100 * v:.0f} %")] for f in fits],
                      "Least-squares fit time = fixed + per record × n (weighted by 1/time²)") if fits else ""
    return ctx.render("<p>Message counts measured: {{ counts | join(', ') }}.</p>{{ fig }}{{ t }}" + NOTES,
                      counts=counts, fig=fig, t=table, notes=[str(n) for n in data.get("notes") or []])


@section("batches", "Batches of messages", order=50)
def render_batches(data: list | dict, ctx: SectionContext) -> str:
    data, notes = _rows_and_notes(data)
    items = [b for b in data if isinstance(b, dict)] if isinstance(data, list) else []

    def num(v, f):
        return (f(v) if isinstance(v, (int, float)) else "–", v if isinstance(v, (int, float)) else None)

    rows = [[(b.get("codec"), None), (b.get("framing"), None), num(b.get("n"), fmt_int), num(b.get("bytes"), fmt_bytes),
             num(b.get("zstd_bytes"), fmt_bytes), num(b.get("encode_ns"), fmt_ns), num(b.get("decode_ns"), fmt_ns),
             num(b.get("mb_per_s"), lambda v: f"{v:,.1f}"), num(b.get("msgs_per_s"), fmt_int)] for b in items]
    table = ctx.table([("codec", "text"), ("framing", "text"), ("messages", "num"), ("bytes", "num"),
                       ("zstd bytes", "num"), ("encode (batch)", "num"), ("decode (batch)", "num"),
                       ("MB/s (enc+dec)", "num"), ("messages/s (enc+dec)", "num")], rows,
                      "A batch of n messages framed in one buffer; times are per batch")
    return ctx.render("{{ t }}" + NOTES, t=table, notes=notes)


@section("memory", "Peak memory", order=60)
def render_memory(data: list | dict, ctx: SectionContext) -> str:
    data, notes = _rows_and_notes(data)
    items = [m for m in data if isinstance(m, dict)] if isinstance(data, list) else []
    rows = [[(m.get("codec"), None), (m.get("payload"), None),
             (fmt_bytes(m.get("encode_peak_bytes")), m.get("encode_peak_bytes")),
             (fmt_bytes(m.get("decode_peak_bytes")), m.get("decode_peak_bytes"))] for m in items]
    table = ctx.table([("codec", "text"), ("payload", "text"), ("encode peak", "num"), ("decode peak", "num")], rows,
                      "Peak memory allocated during one encode / decode (bytes)")
    return ctx.render("{{ t }}" + NOTES, t=table, notes=notes)


NOTES = """{% if notes %}<ul class="hint">{% for n in notes %}<li>{{ n }}</li>{% endfor %}</ul>{% endif %}"""


def _rows_and_notes(data: Any) -> tuple[Any, list[str]]:
    """Sections produced by bench (calibration, batches, memory) are ``{"rows": [...], "notes": [...]}``."""
    if isinstance(data, dict):
        return data.get("rows") or [], [str(n) for n in data.get("notes") or []]
    return data, []
