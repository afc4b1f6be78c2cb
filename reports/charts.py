"""Charts as self-contained inline SVG strings (matplotlib, object API, no pyplot global state).

Every function takes plain data and returns SVG markup for inlining in HTML: no XML declaration, no
DOCTYPE, no external reference; element ids are prefixed with the chart id so several SVGs on one
page cannot clash. Text stays text (``svg.fonttype: none``): small, selectable, searchable.

Palette: Okabe–Ito (colour-blind safe); every mark also carries a text label or legend entry, so no
information is carried by colour alone.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Sequence
from typing import TypedDict

import matplotlib
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, NullFormatter

from reports.analysis import fmt_bytes_short, fmt_ns, fmt_ratio, pareto_front
from reports.results import Stats


class SizeItem(TypedDict):
    """One codec's bars in ``size_chart`` (sizes None when the row is not ok or was not measured)."""

    codec: str
    status: str
    raw: int | None
    gzip: int | None
    zstd: int | None


class TimeItem(TypedDict):
    """One codec's line in ``time_chart``: the compared figures and, when they are the typed ones,
    the library-only figures drawn beside them."""

    codec: str
    label: str
    status: str
    encode: Stats | None
    decode: Stats | None
    encode_lib: Stats | None
    decode_lib: Stats | None


class ScatterItem(TypedDict):
    codec: str
    size: float
    time: float
    lossy: bool


OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#F0E442", "#000000"]
SIZE_COLOURS = {"raw": "#0072B2", "gzip": "#E69F00", "zstd": "#009E73"}
OP_COLOURS = {"encode": "#0072B2", "decode": "#D55E00"}
OUTCOME_COLOURS = {
    "ok": "#009E73",
    "defaulted": "#56B4E9",
    "preserved-unknown": "#0072B2",
    "dropped": "#F0E442",
    "error": "#E69F00",
    "changed": "#D55E00",  # a different value, no error
    "lost": "#A3195B",  # nothing where a value was written, no error (a darker red-purple)
    "corrupted": "#D55E00",  # results written before changed/lost were told apart
    "unsupported": "#BBBBBB",
}
OUTCOME_LABELS = {"ok": "ok", "defaulted": "dflt", "preserved-unknown": "kept", "dropped": "drop",
                  "error": "err", "changed": "CHG", "lost": "LOST", "corrupted": "CORR",
                  "unsupported": "n/a"}
SILENT = ("changed", "lost", "corrupted")
DARK = {"#0072B2", "#009E73", "#D55E00", "#000000", "#CC79A7", "#A3195B"}
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]

RC = {
    "svg.fonttype": "none",
    "svg.hashsalt": "msgbench",
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Arial", "Helvetica"],
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#dddddd",
    "grid.linewidth": 0.6,
    "axes.axisbelow": True,
    "legend.frameon": False,
}

LOG_SPAN = 30.0  # use a log axis when values span more than this factor


def prepare() -> None:
    """Do the one-time set-up that must not run under a memory limit: OpenBLAS allocates its
    buffers at the first matrix product (matplotlib's first transform) and, when that fails,
    aborts the process instead of raising MemoryError; matplotlib maps its Agg and SVG backends and
    the font cache on first use. ``msgbench report`` calls this before ``bench.limits.limited``,
    so a tight ``--memory-limit`` ends in a one-line error whatever it interrupts."""
    import numpy

    square = numpy.eye(3) * 2.0
    numpy.linalg.inv(square)
    numpy.dot(square, numpy.ones((3, 500)))
    numpy.dot(numpy.ones((500, 3)), square)
    fig = _new(1.0, 1.0)
    ax = fig.add_subplot()
    ax.bar([0, 1], [1.0, 10.0])
    ax.set_yscale("log")
    ax.text(0, 1, "µs")
    fig.savefig(io.BytesIO(), format="svg")


def label(text: object, limit: int = 30) -> str:
    """User text for matplotlib: shortened to ``limit`` characters (the tables carry the full name), and
    no mathtext interpretation (``$`` would start a formula)."""
    text = str(text)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text.replace("$", r"\$")


def _needs_log(values: Sequence[float]) -> bool:
    vs = [v for v in values if v and v > 0]
    return bool(vs) and max(vs) / min(vs) > LOG_SPAN


_ID_RE = re.compile(r'\bid="([^"]+)"')
_REF_RE = re.compile(r'(url\(#|xlink:href="#|\bhref="#)([^")]+)')


def to_svg(fig: Figure, chart_id: str, title: str) -> str:
    """Serialise ``fig`` to inline SVG markup (ids prefixed with ``chart_id``)."""
    buf = io.StringIO()
    with matplotlib.rc_context(RC):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    svg = buf.getvalue()
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r'\s+xmlns(:xlink)?="[^"]*"', "", svg, count=2)
    svg = _ID_RE.sub(lambda m: f'id="{chart_id}-{m.group(1)}"', svg)
    svg = _REF_RE.sub(lambda m: f"{m.group(1)}{chart_id}-{m.group(2)}", svg)
    svg = svg.replace(' version="1.1">', ' version="1.1" role="img" aria-label="'
                      + title.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;") + '">', 1)
    return svg.strip()


def _new(width: float, height: float) -> Figure:
    # no constrained/tight layout: it costs a full extra draw per figure; margins are set by _margins
    with matplotlib.rc_context(RC):
        return Figure(figsize=(width, height))


def text_width_in(text: str, size_pt: float = 9.0) -> float:
    """Rough rendered width of ``text`` in inches (DejaVu Sans averages ~0.6 em per character)."""
    return len(str(text)) * size_pt * 0.6 / 72


def _margins(fig: Figure, left: float, right: float, top: float, bottom: float, wspace: float | None = None) -> None:
    """Fix the axes area by margins in inches (clamped so the plot keeps at least 40% of the figure)."""
    w, h = fig.get_size_inches()
    left = min(left, 0.45 * w)
    bottom = min(bottom, 0.5 * h)
    kw = {"left": left / w, "right": 1 - right / w, "top": 1 - top / h, "bottom": bottom / h}
    if wspace is not None:
        kw["wspace"] = wspace
    fig.subplots_adjust(**kw)


NS_FORMAT = FuncFormatter(lambda v, _pos: fmt_ns(v) if v > 0 else "0")
BYTES_FORMAT = FuncFormatter(lambda v, _pos: fmt_bytes_short(v) if v > 0 else "0")


def _axis_format(axis, formatter, log: bool) -> None:
    axis.set_major_formatter(formatter)
    if log:
        axis.set_minor_formatter(NullFormatter())


def _annotate_barh(ax, bars, texts: Sequence[str], log: bool) -> None:
    for bar, text in zip(bars, texts, strict=True):
        w = bar.get_width()
        if not w:
            continue
        ax.annotate(text, (w, bar.get_y() + bar.get_height() / 2), xytext=(3, 0), textcoords="offset points",
                    va="center", ha="left", fontsize=7.5)


def _pad_x(ax, values: Sequence[float], log: bool) -> None:
    """Leave room right of the longest bar for its label."""
    vs = [v for v in values if v and v > 0]
    if not vs:
        return
    if log:
        ax.set_xscale("log")
        ax.set_xlim(min(vs) / 2, max(vs) * 6)
    else:
        ax.set_xlim(0, max(vs) * 1.28)


def size_chart(payload: str, items: Sequence[SizeItem], chart_id: str) -> str:
    """Grouped horizontal bars raw / gzip / zstd per codec. ``items``: {codec, raw, gzip, zstd, status}."""
    n = max(1, len(items))
    title = f"Encoded size per codec — {payload}"
    with matplotlib.rc_context(RC):
        fig = _new(6.0, 1.25 + 0.5 * n)
        _margins(fig, 0.25 + max(text_width_in(label(it["codec"])) for it in items) if items else 1.0, 0.3,
                 0.35, 0.85)
        ax = fig.add_subplot()
        values = [it[k] for it in items for k in ("raw", "gzip", "zstd") if it[k]]
        log = _needs_log(values)
        h = 0.27
        ys = list(range(n))
        for i, key in enumerate(("raw", "gzip", "zstd")):
            vals = [it[key] or 0 for it in items]
            bars = ax.barh([y + (i - 1) * h for y in ys], vals, height=h, color=SIZE_COLOURS[key], label=key)
            _annotate_barh(ax, bars, [fmt_bytes_short(v) for v in vals], log)
        _pad_x(ax, values, log)
        for y, it in zip(ys, items, strict=True):
            if it["raw"] is None:
                ax.annotate(f"no data: {it['status']}", (0, y), xycoords=("axes fraction", "data"),
                            xytext=(4, 0), textcoords="offset points", va="center", fontsize=8, style="italic",
                            color="#444444")
        ax.set_yticks(ys, [label(it["codec"]) for it in items])
        ax.invert_yaxis()
        _axis_format(ax.xaxis, BYTES_FORMAT, log)
        ax.set_xlabel("bytes per message" + (" (log scale)" if log else ""))
        fig.suptitle(label(title, 70), x=0.01, y=1 - 0.06 / fig.get_size_inches()[1], ha="left", va="top",
                     fontsize=10, fontweight="bold")
        fig.legend(loc="lower center", ncols=3, fontsize=8)
        ax.grid(axis="y", visible=False)
        return to_svg(fig, chart_id, title)


def _err(stats: Stats) -> tuple[float, float, str]:
    """(lower, upper) error-bar extents around the median and which spread they show."""
    m = stats["median_ns"]
    ci = stats["ci95_ns"]
    if ci is not None:
        return max(0.0, m - ci[0]), max(0.0, ci[1] - m), "95% CI"
    q1, q3 = stats["q1_ns"], stats["q3_ns"]
    if q1 is not None and q3 is not None:
        return max(0.0, m - q1), max(0.0, q3 - m), "IQR"
    return 0.0, 0.0, ""


def _unit(ns: float) -> str:
    """The unit ``fmt_ns`` would print for ``ns`` (``ns``, ``µs``, ``ms``, ``s``)."""
    return fmt_ns(ns).rsplit(" ", 1)[-1]


def time_chart(payload: str, items: Sequence[TimeItem], chart_id: str) -> tuple[str, str]:
    """Encode and decode per codec as a dot plot: the compared (typed) median as a dot with its 95%
    CI as a thick band, the library-only median as a hollow diamond, each dot labelled with its
    time and, on a log axis, its ratio to the fastest (log-scale lengths hide big ratios).

    ``items``: ``TimeItem`` (encode/decode the compared figures, ``*_lib`` the library-only ones or None).
    Returns (svg, caption text describing the error bars and the unit).
    """
    n = max(1, len(items))
    title = f"Encode and decode time per message — {payload}"
    names = [label(it["label"] or it["codec"], 34) for it in items]
    widest = 0.0
    kinds: set[str] = set()
    with matplotlib.rc_context(RC):
        fig = _new(6.4, 1.3 + 0.36 * n)
        _margins(fig, 0.25 + max((text_width_in(t) for t in names), default=1.0), 0.2, 0.7, 0.5, wspace=0.22)
        axes = fig.subplots(1, 2, sharey=True)
        allvals = [st["median_ns"] for it in items for st in (it["encode"], it["decode"], it["encode_lib"],
                                                               it["decode_lib"]) if st]
        log = _needs_log(allvals)
        ys = list(range(n))
        for ax, op in zip(axes, ("encode", "decode"), strict=True):
            meds = [st["median_ns"] for it in items if (st := it[op])]
            best = min(meds) if meds else None
            dots, libs, bands = [], [], []  # drawn in one call each: fewer artists, faster SVG
            for y, it in zip(ys, items, strict=True):
                st, lib = (it["encode"], it["encode_lib"]) if op == "encode" else (it["decode"], it["decode_lib"])
                if lib:
                    libs.append((lib["median_ns"], y))
                if not st:
                    ax.annotate("no data", (0, y), xycoords=("axes fraction", "data"), xytext=(4, 0),
                                textcoords="offset points", va="center", fontsize=7.5, style="italic", color="#444444")
                    continue
                m = st["median_ns"]
                lo, hi, kind = _err(st)
                if kind:
                    kinds.add(kind)
                    widest = max(widest, (lo + hi) / 2 / m)
                    bands.append((y, m - lo, m + hi))
                dots.append((m, y))
                text = fmt_ns(m)
                if best and m / best >= 1.5:
                    text += f" · {fmt_ratio(m / best)}"
                right = max(m + hi, lib["median_ns"] if lib else 0)
                ax.annotate(text, (right, y), xytext=(5, 0), textcoords="offset points", va="center", fontsize=7.5)
            if libs:
                ax.plot([x for x, _ in libs], [y for _, y in libs], marker="D", markersize=4.5,
                        markerfacecolor="white", markeredgecolor="#666666", linestyle="none", zorder=2)
            if bands:
                ax.hlines([b[0] for b in bands], [b[1] for b in bands], [b[2] for b in bands],
                          color=OP_COLOURS[op], linewidth=6, alpha=0.35, zorder=2)
                ax.vlines([b[k] for b in bands for k in (1, 2)], [b[0] - 0.28 for b in bands for _ in (1, 2)],
                          [b[0] + 0.28 for b in bands for _ in (1, 2)], color="#222222", linewidth=0.9, zorder=3)
            if dots:
                ax.plot([x for x, _ in dots], [y for _, y in dots], marker="o", markersize=5, color=OP_COLOURS[op],
                        linestyle="none", zorder=4)
            if allvals:
                if log:
                    ax.set_xscale("log")
                    ax.set_xlim(min(allvals) / 2, max(allvals) * 30)
                else:
                    ax.set_xlim(0, max(allvals) * 1.45)
            _axis_format(ax.xaxis, NS_FORMAT, log)
            ax.set_xlabel("median per call" + (", log scale" if log else ""), fontsize=8)
            ax.set_title(op, loc="left", fontsize=9)
            ax.set_ylim(n - 0.4, -0.6)
            ax.grid(axis="y", visible=False)
        axes[0].set_yticks(ys, names)
        fig.suptitle(label(title, 70), x=0.01, y=1 - 0.06 / fig.get_size_inches()[1], ha="left", va="top",
                     fontsize=10, fontweight="bold")
        from matplotlib.lines import Line2D

        fig.legend(handles=[Line2D([], [], marker="o", color="#555555", linestyle="none", markersize=5,
                                   label="typed value ⇄ bytes (compared)"),
                            Line2D([], [], marker="D", markerfacecolor="white", markeredgecolor="#666666",
                                   linestyle="none", markersize=4.5, label="library call only")],
                   loc="upper right", ncols=2, fontsize=7.5, bbox_to_anchor=(1, 1 - 0.22 / fig.get_size_inches()[1]))
        if kinds:
            spread = (f"{' and '.join(sorted(kinds))} of the median as a shaded band with end ticks "
                      f"(at most ±{100 * widest:.1f}% of the median here"
                      + ("; where a band is not visible it is narrower than the dot)" if widest < 0.05 else ")"))
        else:
            spread = "no spread recorded"
        units = [u for u in ("ns", "µs", "ms", "s") if any(_unit(v) == u for v in allvals)] or ["ns"]
        return to_svg(fig, chart_id, title), f"{spread}. Times in {' and '.join(units)}, as on the axis"


def _place_labels(ax, points: Sequence[tuple[float, float]], texts: Sequence[str], size_pt: float,
                  lines: Sequence[tuple[float, float, float, float]] = ()) -> list[tuple]:
    """Offsets (dx, dy in points, ha) for point labels so they overlap neither each other nor the markers.

    Greedy: left to right, try right of the point, then left, then shifted up/down by a line.
    """
    fig = ax.figure
    px = fig.dpi / 72  # pixels per point
    disp = ax.transData.transform(points) if len(points) else []
    x_min, y_min, x_max, y_max = ax.bbox.extents
    marks = [(x - 5 * px, y - 5 * px, x + 5 * px, y + 5 * px) for x, y in disp]
    for x0, y0, x1, y1 in lines:  # axis-parallel segments (data coords) labels should not cross
        (a, b), (c, d) = ax.transData.transform([(x0, y0), (x1, y1)])
        marks.append((min(a, c) - 2 * px, min(b, d) - 2 * px, max(a, c) + 2 * px, max(b, d) + 2 * px))
    placed: list[tuple[float, float, float, float]] = []
    out: list[tuple] = [(6, 0, "left")] * len(texts)
    line = size_pt * 1.35 * px

    def free(box, own):
        for j, b in enumerate(marks + placed):
            if j == own:
                continue
            if box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3]:
                return False
        return box[0] >= x_min and box[2] <= x_max + 40 * px and box[1] >= y_min and box[3] <= y_max

    for i in sorted(range(len(texts)), key=lambda k: (disp[k][0], disp[k][1])):
        x, y = disp[i]
        w = text_width_in(texts[i], size_pt) * fig.dpi
        choice = None
        for k in (0, 1, -1, 2, -2, 3, -3, 4, -4):
            for side in (1, -1):
                x0 = x + 6 * px if side == 1 else x - 6 * px - w
                y0 = y + k * line - line / 2
                box = (x0, y0, x0 + w, y0 + line)
                if free(box, i):
                    choice = (box, (6 if side == 1 else -6, k * line / px, "left" if side == 1 else "right"))
                    break
            if choice:
                break
        if choice is None:
            box = (x + 6 * px, y - line / 2, x + 6 * px + w, y + line / 2)
            choice = (box, (6, 0, "left"))
        placed.append(choice[0])
        out[i] = choice[1]
    return out


def scatter_chart(payload: str, items: Sequence[ScatterItem], chart_id: str) -> str:
    """Size (bytes) vs encode+decode time, the Pareto front drawn as a staircase.

    ``items``: {codec, size, time, lossy}.
    """
    title = f"Size vs encode + decode time — {payload}"
    with matplotlib.rc_context(RC):
        fig = _new(6.0, 4.2)
        _margins(fig, 0.8, 0.3, 0.35, 0.5)
        ax = fig.add_subplot()
        pts = [(it["codec"], it["size"], it["time"]) for it in items]
        front = pareto_front(pts)
        times = [it["time"] for it in items]
        sizes = [it["size"] for it in items]
        ylog = _needs_log(sizes)
        if times:
            ax.set_xscale("log")
            ax.set_yscale("log" if ylog else "linear")
            ax.set_xlim(min(times) / 1.6, max(times) * 4)
            ax.set_ylim(*((min(sizes) / 1.6, max(sizes) * 1.6) if ylog else (0, max(sizes) * 1.15)))
        fpts = sorted((it["time"], it["size"]) for it in items if it["codec"] in front)
        xs, ys = [], []
        if fpts:
            for i, (t, s) in enumerate(fpts):
                if i:
                    xs.append(t)
                    ys.append(fpts[i - 1][1])
                xs.append(t)
                ys.append(s)
            ax.plot(xs, ys, color="#777777", linestyle="--", linewidth=1.1, zorder=1)
        texts = [label(it["codec"]) + (" (lossy)" if it["lossy"] else "") + (" ★" if it["codec"] in front else "")
                 for it in items]
        segments = [(xs[k], ys[k], xs[k + 1], ys[k + 1]) for k in range(len(xs) - 1)]
        offsets = _place_labels(ax, [(it["time"], it["size"]) for it in items], texts, 7.5, segments)
        for i, it in enumerate(items):
            on = it["codec"] in front
            colour = OKABE_ITO[i % len(OKABE_ITO)]
            ax.scatter([it["time"]], [it["size"]], s=60 if on else 36, marker=MARKERS[i % len(MARKERS)],
                       facecolors="none" if it["lossy"] else colour, edgecolors=colour, linewidths=1.4, zorder=3)
            dx, dy, ha = offsets[i]
            ax.annotate(texts[i], (it["time"], it["size"]), xytext=(dx, dy), textcoords="offset points", fontsize=7.5,
                        ha=ha, va="center", fontweight="bold" if on else "normal",
                        arrowprops={"arrowstyle": "-", "color": "#999999", "linewidth": 0.6,
                                    "shrinkA": 0, "shrinkB": 4} if dy else None)
        _axis_format(ax.xaxis, NS_FORMAT, True)
        _axis_format(ax.yaxis, BYTES_FORMAT, ylog)
        ax.set_xlabel("encode + decode median per message (log scale)")
        ax.set_ylabel("encoded size per message" + (" (log scale)" if ylog else ""))
        ax.set_title(label(title, 70), loc="left")
        return to_svg(fig, chart_id, title)


def relative_chart(codecs: Sequence[str], payloads: Sequence[str], ratio: dict[tuple[str, str], float],
                   chart_id: str) -> str:
    """Heat map: encode+decode time relative to the fastest codec on each payload (1.00× = fastest)."""
    title = "Encode + decode time relative to the fastest codec, per payload"
    nc, npl = max(1, len(codecs)), max(1, len(payloads))
    with matplotlib.rc_context(RC):
        left = 0.25 + max((text_width_in(label(c)) for c in codecs), default=1.0)
        bottom = 0.55 + 0.34 * max((text_width_in(label(p)) for p in payloads), default=0.5)
        fig = _new(min(10.0, left + 0.3 + 1.0 * npl), 0.5 + bottom + 0.32 * nc)
        _margins(fig, left, 0.15, 0.35, bottom)
        ax = fig.add_subplot()
        ax.grid(False)
        cmap = matplotlib.colormaps["cividis_r"]
        vmax = max([math.log10(v) for v in ratio.values()] + [1.0])
        data = [[math.log10(ratio[(c, p)]) if (c, p) in ratio else math.nan for p in payloads] for c in codecs]
        ax.imshow(data, cmap=cmap, vmin=0, vmax=vmax, aspect="auto")
        for i, c in enumerate(codecs):
            for j, p in enumerate(payloads):
                v = ratio.get((c, p))
                if v is None:
                    ax.text(j, i, "–", ha="center", va="center", fontsize=8, color="#444444")
                    continue
                shade = math.log10(v) / vmax if vmax else 0
                ax.text(j, i, fmt_ratio(v), ha="center", va="center", fontsize=8,
                        color="white" if shade > 0.55 else "black", fontweight="bold" if v == 1 else "normal")
        ax.set_xticks(range(len(payloads)), [label(p) for p in payloads], rotation=20, ha="right")
        ax.set_yticks(range(len(codecs)), [label(c) for c in codecs])
        ax.set_xlabel("payload (1.00× = the fastest codec on that payload)")
        fig.suptitle(label(title, 70), x=0.01, y=1 - 0.06 / fig.get_size_inches()[1], ha="left", va="top",
                     fontsize=10, fontweight="bold")
        for s in ax.spines.values():
            s.set_visible(False)
        return to_svg(fig, chart_id, title)


def evolution_chart(scenarios: Sequence[tuple[str, str]], codecs: Sequence[str], directions: Sequence[str],
                    outcome: dict[tuple[str, str, str], str], chart_id: str,
                    ideal: dict[tuple[str, str, str], bool | None] | None = None) -> str:
    """Categorical heat map per direction: scenario rows x codec columns, each cell labelled (with a
    ``*`` when ``ideal`` says the outcome is not what the ideal reader does)."""
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    title = "Schema evolution outcome per scenario and codec"
    ideal = ideal or {}
    present = set(outcome.values())
    # the legacy "corrupted" only when old results use it
    keys = [k for k in OUTCOME_COLOURS if k != "corrupted" or k in present]
    cmap = ListedColormap([OUTCOME_COLOURS[k] for k in keys] + ["#ffffff"])
    nd, ns_, nc = max(1, len(directions)), max(1, len(scenarios)), max(1, len(codecs))
    with matplotlib.rc_context(RC):
        left = 0.25 + max((text_width_in(label(t)) for _, t in scenarios), default=1.0)
        bottom = 0.6 + 0.5 * max((text_width_in(label(c), 7.5) for c in codecs), default=0.5)
        fig = _new(min(12.0, left + 0.3 + 0.62 * nc * nd), 0.6 + bottom + 0.32 * ns_)
        _margins(fig, left, 0.15, 0.5, bottom, wspace=0.06)
        axes = fig.subplots(1, nd, sharey=True, squeeze=False)[0]
        for ax, d in zip(axes, directions, strict=False):
            ax.grid(False)
            data = [[keys.index(outcome[(s, c, d)]) if outcome.get((s, c, d)) in keys else len(keys)
                     for c in codecs] for s, _ in scenarios]
            ax.imshow(data, cmap=cmap, vmin=-0.5, vmax=len(keys) + 0.5, aspect="auto")
            for i, (s, _) in enumerate(scenarios):
                for j, c in enumerate(codecs):
                    o = outcome.get((s, c, d))
                    colour = OUTCOME_COLOURS.get(o, "#ffffff")
                    text = OUTCOME_LABELS.get(o, "–" if o is None else str(o)[:8])
                    if o is not None and ideal.get((s, c, d)) is False:
                        text += "*"
                    ax.text(j, i, text, ha="center",
                            va="center", fontsize=7, color="white" if colour in DARK else "black",
                            fontweight="bold" if o in SILENT else "normal")
            ax.set_xticks(range(len(codecs)), [label(c) for c in codecs], rotation=35, ha="right", fontsize=7.5)
            ax.set_title(label(d), loc="left", fontsize=9)
            ax.set_xticks([x - 0.5 for x in range(1, len(codecs))], minor=True)
            ax.set_yticks([y - 0.5 for y in range(1, len(scenarios))], minor=True)
            ax.grid(which="minor", color="white", linewidth=1.5)
            ax.tick_params(which="minor", length=0)
            for sp in ax.spines.values():
                sp.set_visible(False)
        axes[0].set_yticks(range(len(scenarios)), [label(t) for _, t in scenarios])
        fig.legend(handles=[Patch(facecolor=OUTCOME_COLOURS[k], edgecolor="#888888",
                                  label=f"{OUTCOME_LABELS[k]} = {k}") for k in keys],
                   loc="lower center", ncols=min(len(keys), 8), fontsize=7, handlelength=1.2, columnspacing=0.8)
        fig.suptitle(label(title, 70), x=0.01, y=1 - 0.06 / fig.get_size_inches()[1], ha="left", va="top",
                     fontsize=10, fontweight="bold")
        return to_svg(fig, chart_id, title)


def _end_labels(ax, ends: Sequence[tuple[float, float, str]], size_pt: float = 7.0) -> None:
    """Label line ends right of their last point, pushed apart vertically so none overlap (a leader
    line joins a moved label to its point)."""
    if not ends:
        return
    ax.autoscale_view()
    px = ax.figure.dpi / 72
    gap = size_pt * 1.3 * px
    disp = [(ax.transData.transform((x, y))[1], i) for i, (x, y, _t) in enumerate(ends)]
    disp.sort()
    placed: list[float] = []
    for yd, _i in disp:
        placed.append(max(yd, placed[-1] + gap) if placed else yd)
    shift = max(0.0, placed[-1] - ax.bbox.y1 + gap / 2) if placed else 0.0  # keep inside the top edge
    for (yd, i), yp in zip(disp, placed, strict=True):
        x, y, text = ends[i]
        dy = (yp - shift - yd) / px
        ax.annotate(text, (x, y), xytext=(6, dy), textcoords="offset points", fontsize=size_pt, va="center",
                    ha="left", annotation_clip=False,
                    arrowprops={"arrowstyle": "-", "color": "#999999", "linewidth": 0.5, "shrinkA": 0,
                                "shrinkB": 2} if abs(dy) > 1 else None)


def scaling_chart(series: Sequence[dict], chart_id: str) -> str:
    """Log-log time vs number of messages, one panel per op (encode, decode)."""
    title = "Time vs number of messages (log-log)"
    ops = [op for op in ("encode", "decode") if any(s.get("op") == op for s in series)] or ["encode"]
    codecs: list[str] = []
    for s in series:
        if s.get("codec") not in codecs:
            codecs.append(s.get("codec"))
    with matplotlib.rc_context(RC):
        fig = _new(7.0, 3.8)
        _margins(fig, 0.8, 0.7, 0.55, 0.5, wspace=0.32)
        axes = fig.subplots(1, len(ops), sharey=True, squeeze=False)[0]
        all_ends: list[tuple] = []
        for ax, op in zip(axes, ops, strict=True):
            ends: list[tuple[float, float, str]] = []
            all_ends.append((ax, ends))
            for s in series:
                if s.get("op") != op:
                    continue
                pts = sorted((p["n"], p["median_ns"]) for p in s.get("points", [])
                             if isinstance(p, dict) and p.get("n") and p.get("median_ns"))
                if not pts:
                    continue
                i = codecs.index(s.get("codec"))
                ax.plot([p[0] for p in pts], [p[1] for p in pts], marker=MARKERS[i % len(MARKERS)],
                        color=OKABE_ITO[i % len(OKABE_ITO)], label=label(s.get("codec")), linewidth=1.3,
                        markersize=4)
                ends.append((pts[-1][0], pts[-1][1], fmt_ns(pts[-1][1])))
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.margins(x=0.08)
            _axis_format(ax.xaxis, FuncFormatter(lambda v, _p: f"{v:,.0f}" if v >= 1 else f"{v:g}"), True)
            _axis_format(ax.yaxis, NS_FORMAT, True)
            ax.set_xlabel("records per call (log scale)")
            ax.set_title(op, loc="left", fontsize=9)
        for ax, ends in all_ends:
            _end_labels(ax, ends)
        axes[0].set_ylabel("median time per call (log scale)")
        if any(ax.get_lines() for ax in axes):
            axes[-1].legend(fontsize=7.5, loc="upper left")
        fig.suptitle(label(title, 70), x=0.01, y=1 - 0.06 / fig.get_size_inches()[1], ha="left", va="top",
                     fontsize=10, fontweight="bold")
        return to_svg(fig, chart_id, title)
