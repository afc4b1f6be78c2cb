"""Report section ``transport``: formats in the loop (HTTP, gRPC, Thrift RPC, NATS pub/sub).

Per transport a chart of end-to-end latency (p50, p99, and the same bytes echoed with no format at
either end) and throughput at saturation by codec, a table with every figure, and per payload a
sentence giving the format's share of a call. Figures come from ``reports.transport_view``.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib

from reports import charts
from reports.analysis import fmt_bytes, fmt_int, fmt_ns
from reports.sections import NOTES, SectionContext, section
from reports.transport_view import (  # the _ helpers take the typed document ctx.doc already is
    LABELS,
    PUBSUB,
    RR,
    SHORT,
    _failures,
    _pubsub_items,
    _rr_items,
    _sentences,
    fmt_pct,
)

LAT_COLOURS = {"p50": "#0072B2", "p99": "#56B4E9", "raw": "#000000"}
RATE_COLOUR = "#009E73"


def loop_chart(title: str, items: Sequence[dict], chart_id: str, rate_label: str, with_raw: bool,
               latency_label: str = "latency per call") -> str:
    """Two panels sharing the rows (``codec · payload``): latency p50 bar with the p99 behind it (and the
    raw echo's p50 as a black tick), and throughput bars. ``items``: {label, p50, p99, raw_p50, rate}."""
    n = max(1, len(items))
    labels = [charts.label(it["label"], 40) for it in items]
    with matplotlib.rc_context(charts.RC):
        fig = charts._new(7.5, 1.45 + 0.34 * n)
        charts._margins(fig, 0.25 + max((charts.text_width_in(x) for x in labels), default=1.0), 0.3, 0.55, 0.8,
                        wspace=0.12)
        ax_l, ax_r = fig.subplots(1, 2, sharey=True)
        ys = list(range(n))
        p50 = [it.get("p50") or 0 for it in items]
        p99 = [it.get("p99") or 0 for it in items]
        lat_vals = [v for v in p50 + p99 if v]
        log = charts._needs_log(lat_vals)
        ax_l.barh(ys, p99, height=0.62, color=LAT_COLOURS["p99"], label="p99")
        bars = ax_l.barh(ys, p50, height=0.62, color=LAT_COLOURS["p50"], label="p50")
        for bar, a, b in zip(bars, p50, p99, strict=True):
            y = bar.get_y() + bar.get_height() / 2
            if a:
                ax_l.annotate(f"{fmt_ns(a)} / {fmt_ns(b)}", (max(a, b), y), xytext=(3, 0), textcoords="offset points",
                              va="center", fontsize=7)
            else:
                ax_l.annotate("no data", (0, y), xycoords=("axes fraction", "data"), xytext=(4, 0),
                              textcoords="offset points", va="center", fontsize=7.5, style="italic", color="#444444")
        if with_raw:
            raws = [(y, it.get("raw_p50")) for y, it in zip(ys, items, strict=True) if it.get("raw_p50")]
            if raws:
                ax_l.scatter([r for _, r in raws], [y for y, _ in raws], marker="|", s=160, color=LAT_COLOURS["raw"],
                             label="p50, same bytes, no format", zorder=3)
        charts._pad_x(ax_l, lat_vals, log)
        if lat_vals:  # room for the "p50 / p99" label right of the longest bar
            ax_l.set_xlim(*((min(lat_vals) / 2, max(lat_vals) * 40) if log else (0, max(lat_vals) * 1.75)))
        charts._axis_format(ax_l.xaxis, charts.NS_FORMAT, log)
        ax_l.set_xlabel(f"{latency_label}, p50 / p99" + (" (log scale)" if log else ""), fontsize=8)
        ax_l.set_title("latency", loc="left", fontsize=9)
        rates = [it.get("rate") or 0 for it in items]
        rb = ax_r.barh(ys, rates, height=0.62, color=RATE_COLOUR)
        charts._annotate_barh(ax_r, rb, [fmt_int(v) for v in rates], False)
        charts._pad_x(ax_r, rates, False)
        ax_r.set_xlabel(rate_label, fontsize=8)
        ax_r.set_title("throughput at saturation", loc="left", fontsize=9)
        for ax in (ax_l, ax_r):
            ax.grid(axis="y", visible=False)
        ax_l.set_yticks(ys, labels)
        ax_l.invert_yaxis()
        fig.suptitle(charts.label(title, 90), x=0.01, y=1 - 0.06 / fig.get_size_inches()[1], ha="left", va="top",
                     fontsize=10, fontweight="bold")
        fig.legend(loc="lower center", ncols=3, fontsize=8)
        return charts.to_svg(fig, chart_id, title)


def _n(v: float | None, f) -> tuple[str, float | None]:
    return (f(v) if v is not None else "–", v)


@section("transport", "Formats in the loop: HTTP, gRPC, Thrift RPC and pub/sub on loopback", order=35)
def render_transport(data: dict, ctx: SectionContext) -> str:
    doc = ctx.doc
    settings = data.get("settings") or {}
    rr, ps = _rr_items(doc), _pubsub_items(doc)
    blocks = []
    for t in RR + PUBSUB:
        info = next((x for x in data.get("transports") or [] if isinstance(x, dict) and x.get("name") == t), None)
        items = [it for it in (rr if t in RR else ps) if it["transport"] == t]
        if info is None and not items:
            continue
        block = {"name": t, "title": LABELS[t], "skip": None, "server": (info or {}).get("server"), "fig": "",
                 "table": ""}
        if info and info.get("status") != "ok":
            block["skip"] = info.get("detail") or "skipped"
        if items:
            for it in items:
                it["label"] = f"{it['codec']} · {it['payload']}"
            cid = f"chart-transport-{t}"
            if t in RR:
                conc = settings.get("concurrency")
                for it in items:
                    it["rate"] = it["sat_rate"]
                svg = loop_chart(f"{SHORT[t]} — latency and throughput by codec", items, cid,
                                 f"calls/s, {conc} in flight", True)
                cap = (f"Per codec and payload over {LABELS[t]} on 127.0.0.1. Left: end-to-end latency of one call "
                       "at concurrency 1 (client encode → server decode, read a field, encode → client decode), "
                       "p50 bar with p99 behind it; black tick: p50 of the same bytes echoed with no encode/decode. "
                       f"Right: completed calls per second with {conc} calls in flight (client and server share "
                       "the machine's cores).")
                rows = [[(it["codec"], None), (it["payload"], None), _n(it["bytes"], fmt_bytes), _n(it["p50"], fmt_ns),
                         _n(it["p99"], fmt_ns), _n(it["raw_p50"], fmt_ns), _n(it["sat_rate"], fmt_int),
                         _n(it["sat_p50"], fmt_ns), _n(it["sat_p99"], fmt_ns), _n(it["ser"], fmt_ns),
                         _n(it["share"], fmt_pct), _n(it["above_raw"], fmt_ns), _n(it["measured_share"], fmt_pct),
                         _n(it["cpu_call"], fmt_ns), _n(it["cpu_share"], fmt_pct)] for it in items]
                heads = [("codec", "text"), ("payload", "text"), ("bytes", "num"), ("p50", "num"), ("p99", "num"),
                         ("p50 no format (raw)", "num"), (f"calls/s at {conc} in flight", "num"),
                         ("p50 under load", "num"), ("p99 under load", "num"), ("encode + decode × 2", "num"),
                         ("format share of p50", "num"), ("p50 above raw", "num"),
                         ("(p50 − raw p50) / p50", "num"), ("CPU per call", "num"),
                         ("format share of CPU per call", "num")]
                block["table"] = ctx.table(heads, rows, "Latency at concurrency 1; throughput and latency under "
                                           "load at the saturation concurrency; encode + decode × 2 from the main "
                                           "run's medians (request and reply); p50 above raw = what the format "
                                           "added to the call as measured here (a cross-check of the share); "
                                           "CPU per call = client + server process CPU time / calls, less "
                                           "sensitive to a busy machine than latency")
            else:
                svg = loop_chart(f"{SHORT[t]} pub/sub — delivery latency and throughput by codec", items, cid,
                                 f"messages/s to {settings.get('subscribers')} subscribers", False, "delivery latency")
                cap = (f"Per codec and payload through nats-server on 127.0.0.1 with {settings.get('subscribers')} "
                       "subscribers. Left: delivery latency (before the publisher's encode → after a subscriber's "
                       "decode) at a fixed paced rate (table: paced rate), p50 bar with p99 behind it. Right: "
                       "messages per second published as fast as the slowest subscriber keeps up.")
                rows = [[(it["codec"], None), (it["payload"], None), _n(it["bytes"], fmt_bytes), _n(it["rate"], fmt_int),
                         _n(it["deliveries"], fmt_int), _n(it["lost"], fmt_int), _n(it["paced"], fmt_int),
                         _n(it["p50"], fmt_ns), _n(it["p99"], fmt_ns), _n(it["cpu_msg"], fmt_ns)] for it in items]
                heads = [("codec", "text"), ("payload", "text"), ("bytes", "num"), ("messages/s", "num"),
                         ("deliveries/s", "num"), ("lost", "num"), ("paced rate /s", "num"), ("delivery p50", "num"),
                         ("delivery p99", "num"), ("CPU per message", "num")]
                block["table"] = ctx.table(heads, rows, "Throughput with a bounded window ahead of the slowest "
                                           "subscriber; latency at the paced rate; CPU per message = publisher + "
                                           "subscribers + broker CPU time / messages published")
            block["fig"] = ctx.chart(cid, svg, cap)
        blocks.append(block)
    fails = [(str(r.get("transport")), str(r.get("codec")), str(r.get("payload")), str(r.get("status")),
              str(r.get("error") or "")) for r in _failures(doc)]
    return ctx.render(TRANSPORT, s=settings, sentences=_sentences(doc), blocks=blocks, fails=fails,
                      duration=data.get("duration_s"), notes=[str(n) for n in data.get("notes") or []])


TRANSPORT = """<div class="prose">
<p>How much of a call is the format once a real transport is in the way? Each codec's messages went through real
servers and a real broker on this machine's loopback (127.0.0.1): {{ s.warmup_s }} s warm-up, then
{{ s.duration_s }} s per measured phase (latency at concurrency 1, interleaved with a no-format echo of the same
bytes; throughput with {{ s.concurrency }} calls in flight){% if duration is number %}; the section took
{{ '%.0f' | format(duration) }} s{% endif %}. The format's share of a call is the codec's own encode + decode
medians from the main run (twice: request and reply) divided by the call's p50.</p>
{% for x in sentences %}<p class="answer-line">{{ x }}</p>{% endfor %}
</div>
{% for b in blocks %}<h3 id="transport-{{ b.name }}">{{ b.title }}</h3>
{% if b.skip %}<p class="warn">Skipped: {{ b.skip }}</p>{% endif %}
{% if b.server %}<p class="hint">Server: {{ b.server }}</p>{% endif %}
{{ b.fig }}{% if b.table %}<details><summary>All figures ({{ b.title }})</summary>{{ b.table }}</details>{% endif %}
{% endfor %}
{% if fails %}<h3>Not measured</h3><ul>{% for t, c, p, st, e in fails %}<li>{{ t }} · {{ c }} · {{ p }}: {{ st }} — <code>{{ e }}</code></li>{% endfor %}</ul>{% endif %}
""" + NOTES
