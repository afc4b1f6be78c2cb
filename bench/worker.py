"""The measuring task: one codec, many payloads, rows streamed back to the parent.

``bench.runner`` runs ``measure_task`` through ``formats.isolation`` once per codec and worker
process, with the codec's ``process_env`` applied before anything is imported. The task yields
``(kind, data)`` items: ``codec`` (metadata measured in this process, e.g. the protobuf backend),
``conformance`` (plugins only), then ``start`` and ``row`` per payload. A codec that raises is a
failed row; one that hangs or kills the process is a ``Died`` for the parent, which records the
remaining rows as failed and goes on with the next codec.
"""

from __future__ import annotations

import pickle
import traceback
from typing import Any


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


def measure_task(job: dict, start: int = 0):
    """Yield ``(kind, data)`` items for one codec (see the module docstring). ``start`` is unused:
    the runner does not restart a codec that died (its remaining rows fail)."""
    from bench.measure import empty_row, measure_row
    from bench.timing import Plan
    from formats.registry import build_registry

    try:
        codec = build_registry(job.get("plugins", True)).codec(job["codec"])
        codec.check_available()
        info = codec_info(codec)
    except Exception as e:
        yield "fatal", {"error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc(limit=8)}
        return
    yield "codec", info
    payloads = load_payloads(job["payloads_file"])
    if job.get("conformance"):
        verdict = conformance_verdict(codec)
        yield "conformance", verdict
        if not verdict["passed"]:
            reason = "fails the conformance kit, not timed: " + "; ".join(verdict["failures"][:3])
            for payload in payloads:
                yield "row", empty_row(codec.name, codec.format, payload.name, "failed", reason)
            return
    plan = Plan(**job["plan"])
    for payload in payloads:
        yield "start", {"payload": payload.name}
        try:
            row = measure_row(codec, payload, plan)
        except Exception as e:  # defensive: measure_row already guards codec faults
            row = empty_row(codec.name, codec.format, payload.name, "failed", f"harness error: {e}")
        yield "row", row
