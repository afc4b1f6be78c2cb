"""Benchmark script (not a test): harness overhead for every core codec on a small and a medium payload.

    python -m bench.overhead [--quick] [--formats NAME ...] [--payloads NAME ...] [--json FILE]

Prints, per codec, payload and op (encode, decode), the harness median / bare timeit-loop median
(see ``bench.calibrate``). Each codec runs in its own child process with its ``process_env``. A
ratio within 1.00 ± 0.05 means the harness adds no measurable overhead; on a shared machine, run
it twice and look at the per-alternation spread before concluding anything.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import time
from pathlib import Path

from bench.calibrate import OPS, Settings, print_rows, run_calibration
from bench.timing import Plan

DEFAULT_PAYLOADS = ["trip_request", "completed_trip"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.overhead", description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="quick plan, 3 alternations")
    ap.add_argument("--formats", nargs="+", default=None, help="codecs (default: the core codecs)")
    ap.add_argument("--payloads", nargs="+", default=DEFAULT_PAYLOADS)
    ap.add_argument("--alternations", type=int, default=None)
    ap.add_argument("--json", type=Path, default=None, help="also write the rows to this file")
    args = ap.parse_args(argv)

    from formats.registry import CORE, build_registry
    from payloads.catalog import find_payloads

    names = [e.name for e in build_registry(False).select(args.formats)] if args.formats else list(CORE)
    payloads = find_payloads(args.payloads)
    plan = Plan.quick() if args.quick else Plan.full()
    settings = dataclasses.replace(Settings.for_mode("quick" if args.quick else "full"), ops=OPS)
    if args.alternations:
        settings = dataclasses.replace(settings, alternations=max(1, args.alternations))
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="msgbench-overhead-") as tmp:
        data = run_calibration(names, payloads, plan, settings, Path(tmp), False, lambda m: print(m, file=sys.stderr))
    print_rows(data["rows"])
    ratios = [r["ratio"] for r in data["rows"] if isinstance(r.get("ratio"), (int, float))]
    if ratios:
        print(f"ratio range {min(ratios):.3f}–{max(ratios):.3f} over {len(ratios)} figures; "
              f"{sum(abs(r - 1) <= 0.05 for r in ratios)} within ±5%; {time.perf_counter() - t0:.0f} s")
    if args.json:
        args.json.write_text(json.dumps(data, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
