"""Record two identical back-to-back runs for the compare tests (run by hand, not by the suite).

    python tests/data/aa_runs/record.py [--quick]

Runs ``msgbench run`` twice (full plan unless --quick: six core codecs × trip_request and
completed_trip, no sections, no report) and keeps what ``msgbench compare`` reads — the rows'
encode/decode figures with their per-process medians, 200 evenly thinned rounds, sizes — plus the
environment, in A.json and B.json beside this file. The tests then check the statistics on these
recorded samples, never on live timing.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
CODECS = ["json/orjson", "xml/lxml", "avro/fastavro", "protobuf/upb", "thrift/binary", "thrift/compact"]
PAYLOADS = ["trip_request", "completed_trip"]
KEEP_ROUNDS = 200


def _thin(fig: dict | None) -> dict | None:
    if not isinstance(fig, dict):
        return None
    xs = fig.get("samples_ns") or []
    step = max(1.0, len(xs) / KEEP_ROUNDS)
    kept = [xs[int(i * step)] for i in range(min(len(xs), KEEP_ROUNDS))]
    return {k: fig[k] for k in ("median_ns", "iqr_ns", "ci95_ns", "rounds", "processes") if k in fig} | {
        "samples_ns": kept}


def _trim(doc: dict) -> dict:
    env = doc["environment"]
    rows = [{k: r.get(k) for k in ("codec", "format", "payload", "status", "verdict", "size")}
            | {"encode": _thin(r.get("encode")), "decode": _thin(r.get("decode"))} for r in doc["rows"]]
    return {"schema_version": doc["schema_version"], "run": doc["run"],
            "environment": {k: env.get(k) for k in ("machine_id", "hostname", "cpu_model", "python", "libraries",
                                                     "warnings", "load_average", "load_average_end", "busy")},
            "codecs": doc["codecs"], "payloads": [], "rows": rows}


def main() -> int:
    quick = "--quick" in sys.argv
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("A", "B"):
            out = Path(tmp) / name
            cmd = [sys.executable, "-m", "bench.cli", "run", "--formats", *CODECS, "--payloads", *PAYLOADS,
                   "--sections", "--no-report", "--out", str(out), *(["--quick"] if quick else [])]
            subprocess.run(cmd, check=True)
            doc = json.loads((out / "results.json").read_text())
            (HERE / f"{name}.json").write_text(json.dumps(_trim(doc), separators=(",", ":")) + "\n")
            print(f"recorded {HERE / (name + '.json')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
