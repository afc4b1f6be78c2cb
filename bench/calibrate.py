"""Harness overhead check: the same call timed through the harness and through a bare timeit loop.

For one codec call (``prepared.encode(native)`` or ``prepared.decode(data)``) this measures, in the
same process and interleaved (harness, bare, bare, harness, ... so slow drift of a noisy machine
hits both alike):

- the harness: ``bench.timing.run_cases`` — pytest-benchmark with our ``Plan`` settings (inner
  loop, warmup, gc disabled, perf_counter), exactly as a results row is measured;
- a bare loop: ``timeit.Timer("_f(_a)", setup="_f = _fn; _a = _arg")`` (locals, gc disabled),
  ``number`` calls per repeat sized to ~``BARE_REPEAT_S``, per-call time = repeat time / number.

and reports the ratio of the medians of the pooled per-call samples (harness / bare; 1.00 = no
measurement overhead), the per-alternation ratios (their spread shows the machine's noise) and a
Mann–Whitney p-value between the two sample sets.

Run: the ``calibration`` section of ``msgbench run`` (the smallest payload of the run, every
codec, in a child process per codec), ``msgbench calibrate [--formats ...] [--payloads ...]``, or
``python -m bench.overhead`` (every core codec on trip_request and completed_trip).

Section data (``doc["sections"]["calibration"]``)::

    {"payload": str, "alternations": int, "budget_s": float, "plan": {...}, "notes": [...],
     "rows": [{"codec", "payload", "op", "harness_ns", "bare_ns", "ratio", "ratios": [...],
               "p_value", "harness_ci95_ns", "bare_ci95_ns", "inner_loops", "bare_number",
               "error"}], "errors": [{"codec", "error"}], "duration_s": float}
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import time
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.sizing import fmt_s, one_call_s, sized_count
from bench.timing import Case, Plan, run_cases
from reports.stats import mann_whitney_p, median_ci95

BARE_REPEAT_S = 0.002  # one bare repeat (timeit's "number" calls) lasts about this long
BARE_MIN_REPEATS = 5
# Above this per-call cost the harness overhead (well under a microsecond per round) is below 0.05 %
# of the figure: the call is not calibrated (40+ calls of a multi-second encode would take minutes)
CALIBRATE_MAX_CALL_S = 0.002
OPS = ("encode", "decode")


@dataclasses.dataclass(frozen=True)
class Settings:
    alternations: int  # harness/bare pairs, order alternating
    budget_s: float  # per side per alternation
    ops: tuple[str, ...]

    @classmethod
    def for_mode(cls, mode: str) -> Settings:
        if mode == "quick":
            return cls(alternations=3, budget_s=0.08, ops=("encode",))
        return cls(alternations=3, budget_s=0.15, ops=OPS)


def bare_samples(fn: Callable[[Any], Any], arg: Any, budget_s: float, repeat_s: float = BARE_REPEAT_S) -> tuple[list[float], int]:
    """Per-call ns samples from a plain timeit loop (``number`` calls per repeat); returns (samples, number)."""
    timer = timeit.Timer("_f(_a)", setup="_f = _fn; _a = _arg", globals={"_fn": fn, "_arg": arg})
    fn(arg)
    number = 1
    while True:  # like Timer.autorange, but to a round of ~repeat_s
        t = timer.timeit(number)
        if t >= repeat_s / 4 or number >= 1 << 22:
            break
        number *= 4
    per_call = t / number
    number = max(1, round(number * repeat_s / t)) if t > 0 else number
    # repeats sized from the measured cost: a call longer than repeat_s makes every repeat longer
    repeats = sized_count(max(repeat_s, per_call * number), budget_s, 5000, BARE_MIN_REPEATS)
    return [t * 1e9 / number for t in timer.repeat(repeats, number)], number


def calibrate_call(fn: Callable[[Any], Any], arg: Any, plan: Plan, settings: Settings) -> dict:
    """Harness vs bare loop on ``fn(arg)``, interleaved; see the module docstring. A call that costs
    more than ``CALIBRATE_MAX_CALL_S`` is not calibrated: the row says ``skipped`` and why."""
    cost = one_call_s(fn, arg)
    if cost > CALIBRATE_MAX_CALL_S:
        return {"harness_ns": None, "bare_ns": None, "ratio": None, "ratios": [], "one_call_ns": round(cost * 1e9),
                "skipped": f"one call takes {fmt_s(cost)}: the harness overhead (under a microsecond per round) is "
                           f"below {100 * 1e-6 / CALIBRATE_MAX_CALL_S:.2f} % of it; not calibrated"}
    hplan = dataclasses.replace(plan, budget_s=settings.budget_s, disabled=False)
    h_all: list[float] = []
    b_all: list[float] = []
    ratios = []
    inner = number = 0
    for i in range(settings.alternations):
        h_med = b_med = None
        for side in (("h", "b") if i % 2 == 0 else ("b", "h")):
            if side == "h":
                case = Case(f"calibrate{i}", fn, arg, settings.budget_s)
                run_cases([case], hplan)
                if case.error or not case.result:
                    raise RuntimeError(f"harness failed: {case.error or 'no result'}")
                xs = case.result["samples_ns"]
                inner = case.inner_loops
                h_all += xs
                h_med = case.result["median_ns"]
            else:
                xs, number = bare_samples(fn, arg, settings.budget_s)
                b_all += xs
                b_med = statistics.median(xs)
        ratios.append(round(h_med / b_med, 4) if b_med else None)
    h, b = statistics.median(h_all), statistics.median(b_all)
    return {
        "harness_ns": h,
        "bare_ns": b,
        "ratio": round(h / b, 4) if b else None,
        "ratios": ratios,
        "p_value": mann_whitney_p(h_all, b_all),
        "harness_ci95_ns": list(median_ci95(sorted(h_all))),
        "bare_ci95_ns": list(median_ci95(sorted(b_all))),
        "harness_rounds": len(h_all),
        "bare_repeats": len(b_all),
        "inner_loops": inner,
        "bare_number": number,
    }


def calibrate_codec(codec: Any, payload: Any, plan: Plan, settings: Settings) -> list[dict]:
    """Rows for one codec on one payload (prepare and the round trip happen before any timing)."""
    from bench.measure import gate

    base = {"codec": codec.name, "payload": payload.name}
    try:
        codec.check_schema(payload.schema)
        prepared = codec.prepare(payload.schema)
        native, data, _decoded, _diffs = gate(prepared, payload.value)
    except Exception as e:
        return [{**base, "op": op, "error": f"{type(e).__name__}: {e}"[:500]} for op in settings.ops]
    rows = []
    for op in settings.ops:
        fn, arg = (prepared.encode, native) if op == "encode" else (prepared.decode, data)
        try:
            rows.append({**base, "op": op, **calibrate_call(fn, arg, plan, settings), "error": None})
        except Exception as e:
            rows.append({**base, "op": op, "error": f"{type(e).__name__}: {e}"[:500]})
    return rows


# ------------------------------------------------------------------------------------------------
# child process


def handle_job(job: dict) -> dict:
    from bench.subproc import load_codec, payloads_by_name

    codec = load_codec(job["codec"], job.get("plugins"))
    plan = Plan(**job["plan"])
    settings = Settings(job["alternations"], job["budget_s"], tuple(job["ops"]))
    rows = []
    for p in payloads_by_name(job["payloads_file"], job["payloads"]):
        rows += calibrate_codec(codec, p, plan, settings)
    return {"rows": rows, "backend": codec.backend()}


def run_calibration(codecs: list[str], payloads: list, plan: Plan, settings: Settings, out_dir: Path,
                    plugins: bool | None, log: Callable[[str], None] = lambda m: None,
                    timeout_s: float = 180.0) -> dict:
    """One child per codec; returns the section dict (without duration)."""
    from bench.subproc import dump_payloads_for, per_codec

    pfile = dump_payloads_for(payloads, out_dir, "calibration")
    job = {"payloads_file": pfile, "payloads": [p.name for p in payloads], "plan": plan.to_json(),
           "alternations": settings.alternations, "budget_s": settings.budget_s, "ops": list(settings.ops),
           "plugins": plugins}
    rows, errors = [], []
    for name, result, err in per_codec("bench.calibrate", codecs, lambda c: {**job, "codec": c}, plugins,
                                       timeout_s, log):
        if err is not None:
            errors.append({"codec": name, "error": err})
            rows += [{"codec": name, "payload": p.name, "op": op, "error": err} for p in payloads
                     for op in settings.ops]
        else:
            rows += result["rows"]
    return {
        "payload": payloads[0].name if len(payloads) == 1 else [p.name for p in payloads],
        "alternations": settings.alternations,
        "budget_s": settings.budget_s,
        "bare_repeat_s": BARE_REPEAT_S,
        "plan": plan.to_json(),
        "rows": rows,
        "errors": errors,
        "notes": [
            "harness = bench.timing.run_cases (pytest-benchmark, the run's Plan); bare = timeit loop with "
            "locals, gc disabled; both in the same child process, interleaved; ratio = median / median",
            "the machine may be shared: the spread of the per-alternation ratios shows its noise",
        ],
    }


def small_payload(payloads: list) -> Any:
    """The run's small payload: trip_request if present, else the one with the fewest JSON bytes."""
    for p in payloads:
        if p.name == "trip_request":
            return p
    from bench.runner import payload_info

    sized = [(payload_info(p).get("json_bytes") or 1 << 62, i, p) for i, p in enumerate(payloads)]
    return min(sized)[2]


def produce(ctx: Any) -> dict:
    """The ``calibration`` section (``bench.runner.SectionContext``)."""
    if ctx.plan.disabled or not ctx.payloads or not ctx.codecs:
        return {"rows": [], "notes": ["not measured: untimed run or nothing to measure"]}
    settings = Settings.for_mode(ctx.mode)
    t0 = time.perf_counter()
    data = run_calibration(ctx.codecs, [small_payload(ctx.payloads)], ctx.plan, settings, ctx.out_dir,
                           ctx.plugins, ctx.log)
    data["duration_s"] = round(time.perf_counter() - t0, 2)
    skipped = sorted({f"{r['codec']} {r['op']}" for r in data["rows"] if r.get("skipped")})
    if skipped:
        data["notes"].append(f"not calibrated, one call too slow for the harness overhead to matter (over "
                             f"{fmt_s(CALIBRATE_MAX_CALL_S)}): " + ", ".join(skipped))
    ratios = [r["ratio"] for r in data["rows"] if isinstance(r.get("ratio"), (int, float))]
    if ratios:
        ctx.log(f"calibration: harness/bare {min(ratios):.3f}–{max(ratios):.3f} in {data['duration_s']:.1f} s")
    return data


# ------------------------------------------------------------------------------------------------
# CLI


def print_rows(rows: list[dict], console: Any = None) -> None:
    from rich.console import Console
    from rich.table import Table

    from reports.analysis import fmt_ns

    console = console or Console(width=max(130, Console().width))
    table = Table(title="harness vs bare timeit loop (ratio of medians; 1.00 = no overhead)", title_justify="left")
    for col in ("codec", "payload", "op", "harness", "bare", "ratio", "per alternation", "p"):
        table.add_column(col, justify="left" if col in ("codec", "payload", "op") else "right", no_wrap=True)
    notes: list[str] = []  # long reasons go below the table: no column is ever squeezed or cut
    for r in rows:
        reason = r.get("error") or r.get("skipped")
        if reason:
            notes.append(f"[{len(notes) + 1}] {r['codec']} {r['payload']} {r['op']}: "
                         + ("error: " if r.get("error") else "skipped: ") + str(reason))
            table.add_row(r["codec"], r["payload"], r["op"], "-", "-", "-", "", f"see [{len(notes)}]")
            continue
        ratio = r["ratio"]
        style = "green" if abs(ratio - 1) <= 0.05 else "yellow"
        table.add_row(r["codec"], r["payload"], r["op"], fmt_ns(r["harness_ns"]), fmt_ns(r["bare_ns"]),
                      f"[{style}]{ratio:.3f}[/{style}]", " ".join(f"{x:.2f}" for x in r["ratios"] if x),
                      f"{r['p_value']:.2g}")
    console.print(table)
    for note in notes:
        console.print(note, soft_wrap=True, highlight=False, markup=False)


def register_cli(sub: Any) -> None:
    p = sub.add_parser("calibrate", help="check the timing harness against a bare timeit loop (ratio of medians)")
    p.add_argument("--formats", nargs="+", metavar="NAME", help="codecs or formats (default: core + plugins)")
    p.add_argument("--payloads", nargs="+", metavar="NAME", help="built-in payloads (default: trip_request)")
    p.add_argument("--quick", action="store_true", help="the quick plan and fewer alternations")
    p.add_argument("--alternations", type=int, default=None, metavar="N", help="harness/bare pairs")
    p.add_argument("--json", action="store_true", help="print the rows as JSON")
    p.set_defaults(func=cmd_calibrate)


def cmd_calibrate(args: argparse.Namespace) -> int:
    import json
    import tempfile

    from formats.registry import build_registry
    from payloads.catalog import find_payloads

    plugins = False if getattr(args, "no_plugins", False) else None
    names = [e.name for e in build_registry(plugins).select(args.formats)]
    payloads = find_payloads(args.payloads or ["trip_request"])
    plan = Plan.quick() if args.quick else Plan.full()
    settings = Settings.for_mode("quick" if args.quick else "full")
    settings = dataclasses.replace(settings, ops=OPS)
    if args.alternations:
        settings = dataclasses.replace(settings, alternations=max(1, args.alternations))
    with tempfile.TemporaryDirectory(prefix="msgbench-calibrate-") as tmp:
        data = run_calibration(names, payloads, plan, settings, Path(tmp), plugins,
                               lambda m: print(m, file=sys.stderr))
    if args.json:
        print(json.dumps(data["rows"], indent=1))
    else:
        print_rows(data["rows"])
    return 0
