"""The measuring process: one codec, many payloads, rows streamed back to the parent.

The parent (bench.runner) starts ``python -m bench.worker`` once per codec with the codec's
``process_env`` applied, writes a JSON job on stdin and reads lines ``MSGBENCH <kind> <json>`` from
stdout: ``codec`` (metadata measured in this process, e.g. the protobuf backend), then one ``row``
per payload. Everything else the codec or pytest prints goes to stderr. A codec that raises is a
failed row; one that hangs or kills this process is detected by the parent, which records the
remaining rows as failed and goes on with the next codec.
"""

from __future__ import annotations

import json
import pickle
import sys
import traceback
from typing import Any

from bench.subproc import private_channel

PREFIX = "MSGBENCH"


def codec_info(codec: Any) -> dict:
    caps = codec.capabilities
    return {
        "name": codec.name,
        "format": codec.format,
        "library": codec.library,
        "library_version": codec.library_version(),
        "backend": codec.backend(),
        "slow_backend": bool(codec.slow_backend()),
        "binary": caps.binary,
        "needs_schema": caps.needs_schema,
        "types": sorted(caps.types),
        "evolution_modes": list(caps.evolution_modes),
        "deterministic": caps.deterministic,
        "lazy_decode": caps.lazy_decode,
        "notes": list(caps.notes),
        "description": getattr(codec, "description", ""),
    }


def load_payloads(path: str) -> list:
    from payloads.catalog import Payload

    with open(path, "rb") as f:
        specs = pickle.load(f)
    out = []
    for s in specs:
        value = s["value"]
        out.append(Payload(s["name"], s["description"], s["schema"], (lambda v=value: v), s["source"],
                           tuple(s["notes"])))
    return out


def dump_payloads(payloads: list, path: str) -> None:
    specs = [
        {"name": p.name, "description": p.description, "schema": p.schema, "value": p.value, "source": p.source,
         "notes": list(p.notes)}
        for p in payloads
    ]
    with open(path, "wb") as f:
        pickle.dump(specs, f, protocol=pickle.HIGHEST_PROTOCOL)


def conformance_verdict(codec: Any) -> dict:
    """Run the conformance kit (formats.conformance) on a plugin codec before it is ever timed."""
    from formats.conformance import check_codec

    try:
        report = check_codec(codec, garbage_timeout=15.0)
    except Exception as e:  # the kit itself must not take the worker down
        return {"passed": False, "failed_rules": ["kit"], "failures": [f"kit error: {type(e).__name__}: {e}"]}
    failures = [f"rule {r.rule}: {r.message}" for r in report.failures()]
    return {"passed": report.passed, "failed_rules": report.failed_rules(), "failures": failures,
            "checks": len(report), "duration_s": round(report.duration_s, 2)}


def main() -> int:
    channel = private_channel()  # our copy of stdout; fd 1 then points at stderr for everyone else

    def emit(kind: str, data: Any) -> None:
        from bench.results import dumps

        channel.write(f"{PREFIX} {kind} {dumps(data).replace(chr(10), ' ')}\n")
        channel.flush()

    job = json.loads(sys.stdin.read())
    from bench.measure import empty_row, measure_row
    from bench.timing import Plan
    from formats.registry import build_registry

    try:
        codec = build_registry(job.get("plugins", True)).codec(job["codec"])
        codec.check_available()
        emit("codec", codec_info(codec))
    except Exception as e:
        emit("fatal", {"error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc(limit=8)})
        return 3
    payloads = load_payloads(job["payloads_file"])
    if job.get("conformance"):
        verdict = conformance_verdict(codec)
        emit("conformance", verdict)
        if not verdict["passed"]:
            reason = "fails the conformance kit, not timed: " + "; ".join(verdict["failures"][:3])
            for payload in payloads:
                emit("row", empty_row(codec.name, codec.format, payload.name, "failed", reason))
            return 0
    plan = Plan(**job["plan"])
    for payload in payloads:
        emit("start", {"payload": payload.name})
        try:
            row = measure_row(codec, payload, plan)
        except Exception as e:  # defensive: measure_row already guards codec faults
            row = empty_row(codec.name, codec.format, payload.name, "failed", f"harness error: {e}")
        emit("row", row)
    return 0


if __name__ == "__main__":
    sys.exit(main())
