"""Scaling sweep: encode/decode time and size as a function of how many records a message holds.

The message is a ``TripUpdatesBatch`` (the ``trip_updates_batch`` payload's schema) holding n trip
updates, n in 1, 10, 100, 1,000, 10,000 (quick: up to 1,000), the built-in updates repeated
cyclically past their 1,100. Per codec (each in its own child process, ``bench.subproc``):
``prepare`` once, ``to_native`` and a round-trip check per n outside timing, then encode and
decode of each n through ``bench.timing.run_cases`` with a small budget.

From the points, per codec and op, a weighted least-squares line ``time = fixed + per_record * n``
(and the same against encoded bytes: ``time = fixed + per_byte * bytes``). Weights are 1/time²,
i.e. relative errors are minimised, so n = 1 counts as much as n = 10,000 (an unweighted fit is
decided by the largest n alone and gives a meaningless fixed cost). ``fixed_ns`` is then the
per-message overhead (call, buffers, headers), ``per_record_ns``/``per_byte_ns`` the marginal cost.

Section data::

    {"counts": [...], "record": str, "plan": {...},
     "series": [{"codec", "op": "encode"|"decode", "points": [{"n", "median_ns", "ci95_ns", "bytes",
                 "rounds"}]}],
     "fits": [{"codec", "op", "fixed_ns", "per_record_ns", "per_byte_ns", "fixed_ns_bytes_fit",
               "max_rel_residual"}],
     "sizes": [{"codec", "n", "bytes"}], "errors": [...], "notes": [...], "duration_s"}
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from bench.timing import Case, Plan, run_cases

COUNTS_FULL = (1, 10, 100, 1000, 10000)
COUNTS_QUICK = (1, 10, 100, 1000)


# a count whose one encode call takes longer than this many figure budgets ends the sweep (noted)
MAX_CALL_BUDGETS = 12


def sweep_plan(mode: str) -> Plan:
    if mode == "quick":
        return Plan(budget_s=0.02, round_s=0.0005, min_rounds=3, max_rounds=100, warmup_rounds=1)
    return Plan(budget_s=0.1, round_s=0.001, min_rounds=5, max_rounds=500, warmup_rounds=1)


def wls_line(xs: Sequence[float], ys: Sequence[float]) -> tuple[float, float, float]:
    """Weighted (1/y²) least squares ``y = a + b x``; returns (a, b, max relative residual)."""
    pts = [(float(x), float(y)) for x, y in zip(xs, ys, strict=True) if y and y > 0]
    if len(pts) < 2:
        raise ValueError("need at least two points")
    ws = [1 / (y * y) for _, y in pts]
    sw = sum(ws)
    mx = sum(w * x for w, (x, _) in zip(ws, pts, strict=True)) / sw
    my = sum(w * y for w, (_, y) in zip(ws, pts, strict=True)) / sw
    sxx = sum(w * (x - mx) ** 2 for w, (x, _) in zip(ws, pts, strict=True))
    if sxx == 0:
        raise ValueError("all x equal")
    b = sum(w * (x - mx) * (y - my) for w, (x, y) in zip(ws, pts, strict=True)) / sxx
    a = my - b * mx
    worst = max(abs(a + b * x - y) / y for x, y in pts)
    return a, b, worst


def fit(points: list[dict]) -> dict:
    """Fixed and marginal costs from one series' points (``n``, ``bytes``, ``median_ns``)."""
    pts = [p for p in points if p.get("median_ns")]
    a, b, worst = wls_line([p["n"] for p in pts], [p["median_ns"] for p in pts])
    out = {"fixed_ns": round(a, 1), "per_record_ns": round(b, 2), "max_rel_residual": round(worst, 3)}
    if all(p.get("bytes") for p in pts):
        a2, c, _ = wls_line([p["bytes"] for p in pts], [p["median_ns"] for p in pts])
        out.update(per_byte_ns=round(c, 4), fixed_ns_bytes_fit=round(a2, 1))
    return out


def batch_value(n: int) -> Any:
    from payloads.catalog import find_payloads

    v = find_payloads(["trip_updates_batch"])[0].value
    ups = v["updates"]
    return {**v, "updates": [ups[i % len(ups)] for i in range(n)]}


def measure_codec(codec: Any, counts: Sequence[int], plan: Plan) -> dict:
    from payloads import taxi
    from payloads.model import differences

    schema = taxi.TRIP_UPDATES_BATCH
    codec.check_schema(schema)
    prepared = codec.prepare(schema)
    cases, sizes, errors = [], {}, []
    max_call_s = plan.budget_s * MAX_CALL_BUDGETS
    for i, n in enumerate(counts):
        value = batch_value(n)
        try:
            native = prepared.to_native(value)
            t0 = time.perf_counter()
            data = prepared.encode(native)
            cost = time.perf_counter() - t0
            diffs = differences(value, prepared.from_native(prepared.decode(data)))
            if diffs:
                raise ValueError(f"round trip differs: {diffs[0]}")
        except Exception as e:
            errors.append({"codec": codec.name, "n": n, "error": f"{type(e).__name__}: {e}"[:400]})
            continue
        sizes[n] = len(data)
        cases += [Case(f"n{n}-encode", prepared.encode, native, plan.budget_s),
                  Case(f"n{n}-decode", prepared.decode, data, plan.budget_s)]
        if cost > max_call_s and not plan.disabled:  # the larger counts would take minutes: sized from the cost
            errors += [{"codec": codec.name, "n": m, "error": f"not measured: one encode of n={n} took "
                        f"{cost * 1e3:.0f} ms (over {max_call_s * 1e3:.0f} ms), so n={m} is skipped"}
                       for m in counts[i + 1:]]
            break
    series = {op: [] for op in ("encode", "decode")}
    if not plan.disabled and cases:
        run_cases(cases, plan)
        for c in cases:
            n, op = int(c.key[1:].split("-")[0]), c.key.split("-")[1]
            if c.error or not c.result:
                errors.append({"codec": codec.name, "n": n, "op": op, "error": c.error or "not measured"})
                continue
            series[op].append({"n": n, "median_ns": c.result["median_ns"], "ci95_ns": c.result["ci95_ns"],
                               "bytes": sizes[n], "rounds": c.result["rounds"]})
    return {"series": [{"codec": codec.name, "op": op, "points": pts} for op, pts in series.items()],
            "sizes": [{"codec": codec.name, "n": n, "bytes": b} for n, b in sizes.items()], "errors": errors}


def handle_job(job: dict) -> dict:
    from bench.subproc import load_codec

    return measure_codec(load_codec(job["codec"], job.get("plugins")), job["counts"], Plan(**job["plan"]))


def produce(ctx: Any) -> dict:
    """The ``scaling`` section (``bench.runner.SectionContext``)."""
    from bench.subproc import per_codec

    if ctx.plan.disabled:  # an untimed run (tests, sizes only) skips the extra measurements
        return {"rows": [], "notes": ["not measured: untimed run"]}
    t0 = time.perf_counter()
    counts = list(COUNTS_QUICK if ctx.mode == "quick" else COUNTS_FULL)
    plan = sweep_plan(ctx.mode)
    job = {"counts": counts, "plan": plan.to_json(), "plugins": ctx.plugins}
    series, sizes, errors, fits = [], [], [], []
    for name, result, err in per_codec("bench.scaling", ctx.codecs, lambda c: {**job, "codec": c}, ctx.plugins,
                                       240.0, ctx.log):
        if err is not None:
            errors.append({"codec": name, "error": err})
            continue
        series += result["series"]
        sizes += result["sizes"]
        errors += result["errors"]
    for s in series:
        if len([p for p in s["points"] if p.get("median_ns")]) >= 2:
            fits.append({"codec": s["codec"], "op": s["op"], **fit(s["points"])})
    data = {
        "counts": counts,
        "record": "TripUpdatesBatch with n TripUpdate records",
        "plan": plan.to_json(),
        "series": series,
        "fits": fits,
        "sizes": sizes,
        "errors": errors,
        "notes": [
            "time = fixed + per_record × n fitted by least squares weighted 1/time² (relative error), so small and "
            "large n count alike; per_byte from the same fit against encoded bytes",
            "the built-in 1,100 trip updates are repeated cyclically for n > 1,100",
        ],
        "duration_s": round(time.perf_counter() - t0, 2),
    }
    ctx.log(f"scaling: {len(series)} series in {data['duration_s']:.1f} s")
    return data
