"""Peak memory of one encode and one decode, per codec and payload (tracemalloc, never while timing).

A separate pass after the timed rows, each codec in its own child process (``bench.subproc``) so
that tracing (which slows every allocation several-fold) never overlaps a timing. Per payload:
``prepare``, ``to_native`` and one untraced round trip (lazy initialisation, caches and
first-call allocations are not charged), then for each op ``REPEATS`` times: ``tracemalloc.start``,
``reset_peak``, one call, peak minus the traced size just before the call; the median is
recorded (the result object is alive at the peak, so it is included: that is what the caller
holds).

tracemalloc sees only memory allocated through Python's allocators (``PyMem_*``/``PyObject_*``,
which is what builds Python objects and ``bytes``). A C or Rust library that uses ``malloc``
directly for its own buffers (upb's arena, lxml/libxml2 trees, orjson's write buffer before the
final ``bytes``) is under-reported: compare those codecs' numbers with care.

Section data: ``{"rows": [{"codec", "payload", "backend", "encode_peak_bytes", "decode_peak_bytes",
"encoded_bytes", "error"}], "repeats", "errors", "notes", "duration_s"}``.
"""

from __future__ import annotations

import statistics
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

from bench.sizing import one_call_s, sized_count

REPEATS = 3
BUDGET_S = 1.0  # per figure: a call so slow that 3 traced calls take longer is traced fewer times
SLOW_GATE_S = 0.05  # a gate (round trip) slower than this doubles as the untraced warm-up call
TRACE_SLOWDOWN = 3.0  # tracemalloc makes an allocating call about this much slower (an estimate)
NOTES = [
    "peak bytes allocated during one call (median of 3, or fewer traced calls when one call is so slow that 3 "
    f"would take over {BUDGET_S:g} s), measured with tracemalloc in a separate pass, never while timing; "
    "includes the returned object",
    "tracemalloc sees only Python-allocator memory: C/Rust libraries that call malloc directly (upb arenas, "
    "libxml2 trees, internal write buffers) are under-reported — e.g. protobuf/upb's decode keeps its message "
    "in a upb arena, so its decode peak is close to nothing",
]


def peak_bytes(fn: Callable[[Any], Any], arg: Any, repeats: int = REPEATS,
               budget_s: float = BUDGET_S, warmed_cost_s: float | None = None) -> int:
    """Median over up to ``repeats`` traced calls of the tracemalloc peak above the baseline during
    ``fn(arg)``; fewer (at least one) when the traced calls would not fit in ``budget_s``.

    ``warmed_cost_s``: ``fn`` already ran untraced (the correctness gate) and took at most this long;
    then no extra untraced call is made."""
    if warmed_cost_s is None:
        cost = one_call_s(fn, arg)  # untraced first call: lazy initialisation is not the call's memory
    else:
        cost = warmed_cost_s
    repeats = sized_count(cost * TRACE_SLOWDOWN, budget_s, repeats, 1)
    peaks = []
    for _ in range(repeats):
        tracemalloc.start()
        try:
            base = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
            result = fn(arg)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        del result
        peaks.append(max(0, peak - base))
    return int(statistics.median(peaks))


def measure_codec(codec: Any, payloads: list, repeats: int = REPEATS) -> list[dict]:
    from bench.measure import gate

    rows = []
    for p in payloads:
        row: dict[str, Any] = {"codec": codec.name, "payload": p.name, "backend": codec.backend(), "error": None}
        try:
            codec.check_schema(p.schema)
            prepared = codec.prepare(p.schema)
            t0 = time.perf_counter()
            native, data, _decoded, _ = gate(prepared, p.value)
            gate_s = time.perf_counter() - t0
            row["encoded_bytes"] = len(data)
            # the gate ran encode and decode once, untraced: lazy set-up is done. When it was slow,
            # that call is the warm-up and its time sizes the traced repeats; when it was fast, a
            # warm-up call of its own measures the cost more precisely
            warmed = gate_s if gate_s > SLOW_GATE_S else None
            row["encode_peak_bytes"] = peak_bytes(prepared.encode, native, repeats, warmed_cost_s=warmed)
            row["decode_peak_bytes"] = peak_bytes(prepared.decode, data, repeats, warmed_cost_s=warmed)
        except Exception as e:
            row["error"] = f"{type(e).__name__}: {e}"[:500]
        rows.append(row)
    return rows


def handle_job(job: dict) -> dict:
    from bench.subproc import load_codec, payloads_by_name

    codec = load_codec(job["codec"], job.get("plugins"))
    return {"rows": measure_codec(codec, payloads_by_name(job["payloads_file"]), job.get("repeats", REPEATS))}


def produce(ctx: Any) -> dict:
    """The ``memory`` section (``bench.runner.SectionContext``)."""
    from bench.subproc import dump_payloads_for, per_codec

    if ctx.plan.disabled:  # an untimed run (tests, sizes only) skips the extra measurements
        return {"rows": [], "notes": ["not measured: untimed run"]}
    t0 = time.perf_counter()
    job = {"payloads_file": dump_payloads_for(ctx.payloads, ctx.out_dir, "memory"), "repeats": REPEATS,
           "plugins": ctx.plugins}
    rows, errors = [], []
    for name, result, err in per_codec("bench.memory", ctx.codecs, lambda c: {**job, "codec": c}, ctx.plugins,
                                       120.0, ctx.log):
        if err is not None:
            errors.append({"codec": name, "error": err})
            rows += [{"codec": name, "payload": p.name, "error": err} for p in ctx.payloads]
        else:
            rows += result["rows"]
    data = {"rows": rows, "repeats": REPEATS, "errors": errors, "notes": NOTES,
            "duration_s": round(time.perf_counter() - t0, 2)}
    ctx.log(f"memory: {len(rows)} rows in {data['duration_s']:.1f} s")
    return data
