"""Pure view of the ``transport`` section (``bench.transport.section``) joined with the main run's
rows: per-call figures, the share of a call spent in the format, plain sentences, and the measured
per-call CPU the wire-cost calculator uses. No I/O; reads only the results document.

The public functions take a whole document from any caller (the report, ``msgbench transport``'s
terminal summary, the calculator, tests) and normalise it once (``reports.results.normalise``,
idempotent); the private ``_`` helpers take the typed ``Results`` and index it (the report's own
modules, which hold a checked document, call those directly).
"""

from __future__ import annotations

from collections.abc import Sequence

from reports.numbers import fmt_int, fmt_ns, median
from reports.results import Results, normalise

SECTION = "transport"
RR = ("http", "grpc", "thrift")  # request/response transports, in report order
PUBSUB = ("nats",)
SHORT = {"http": "HTTP/1.1", "grpc": "gRPC", "thrift": "Thrift RPC", "nats": "NATS"}
LABELS = {"http": "HTTP/1.1 request/response (aiohttp server and client)",
          "grpc": "gRPC unary calls (grpcio, asyncio)",
          "thrift": "Thrift RPC (Apache Thrift threaded TCP server, binary protocol)",
          "nats": "Publish/subscribe through NATS (nats-server, nats-py)"}


def section_data(doc: dict) -> dict:
    return _section_data(normalise(doc))


def _section_data(doc: Results) -> dict:
    data = doc["sections"].get(SECTION)  # the section's own shape is checked here, not by the contract
    return data if isinstance(data, dict) else {}


def _num(x: object) -> float | None:
    return float(x) if isinstance(x, (int, float)) and not isinstance(x, bool) else None


def codec_costs(doc: dict) -> dict[tuple[str, str], tuple[float | None, float | None]]:
    """(codec, payload) -> (encode median ns, decode median ns) from the main run's ok rows."""
    return _codec_costs(normalise(doc))


def _codec_costs(doc: Results) -> dict[tuple[str, str], tuple[float | None, float | None]]:
    return {(r["codec"], r["payload"]): (median(r["encode"]), median(r["decode"]))
            for r in doc["rows"] if r["status"] == "ok"}


def serialization_ns(encode_ns: float | None, decode_ns: float | None, messages: int = 2) -> float | None:
    """Format cost on a call's path from the codec's own medians: each of ``messages`` messages is
    encoded once and decoded once (a request/response call carries two: the request and the reply)."""
    if encode_ns is None or decode_ns is None:
        return None
    return messages * (encode_ns + decode_ns)


def share(part_ns: float | None, whole_ns: float | None) -> float | None:
    """``part / whole`` clipped to [0, 1]; None when either is missing or ``whole`` is not positive."""
    if part_ns is None or whole_ns is None or whole_ns <= 0:
        return None
    return max(0.0, min(1.0, part_ns / whole_ns))


def fmt_pct(x: float | None) -> str:
    if x is None:
        return "–"
    p = 100 * x
    if p == 0:
        return "0 %"
    return f"{p:.1f} %" if p < 1 else f"{p:.0f} %"


def share_sentence(transport: str, payload: str, shares: Sequence[tuple[str, float | None]]) -> str:
    """"Over gRPC on loopback, the format is 3 % of a call for protobuf/upb and 41 % for xml/lxml
    (payload completed_trip)." Codecs in the given order; those without a figure are left out."""
    label = SHORT.get(transport, transport)
    items = [(c, s) for c, s in shares if s is not None]
    if not items:
        return (f"Over {label} on loopback, no codec has both a measured call latency and its own encode/decode "
                f"medians for payload {payload}, so the format's share of a call is not known.")
    parts = [f"{fmt_pct(s)} of a call for {c}" if i == 0 else f"{fmt_pct(s)} for {c}"
             for i, (c, s) in enumerate(items)]
    text = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return f"Over {label} on loopback, the format is {text} (payload {payload})."


def _phase(r: dict, key: str) -> dict:
    ph = (r.get("phases") or {}).get(key)
    return ph if isinstance(ph, dict) else {}


def rr_items(doc: dict) -> list[dict]:
    """One item per ok request/response row, with the figures the report shows."""
    return _rr_items(normalise(doc))


def _rr_items(doc: Results) -> list[dict]:
    costs = _codec_costs(doc)
    out = []
    for r in _section_data(doc).get("rows") or []:
        if not isinstance(r, dict) or r.get("transport") not in RR or r.get("status") != "ok":
            continue
        lat, sat, raw = _phase(r, "latency"), _phase(r, "saturation"), _phase(r, "raw")
        codec, payload = str(r.get("codec")), str(r.get("payload"))
        enc, dec = costs.get((codec, payload), (None, None))
        p50, raw50 = _num(lat.get("p50_ns")), _num(raw.get("p50_ns"))
        ser = serialization_ns(enc, dec)
        out.append({
            "transport": r["transport"], "codec": codec, "payload": payload, "bytes": _num(r.get("bytes")),
            "p50": p50, "p99": _num(lat.get("p99_ns")), "calls": _num(lat.get("calls")),
            "sat_rate": _num(sat.get("calls_per_s")), "sat_p50": _num(sat.get("p50_ns")),
            "sat_p99": _num(sat.get("p99_ns")), "concurrency": _num(sat.get("concurrency")),
            "raw_p50": raw50, "raw_p99": _num(raw.get("p99_ns")),
            "cpu_call": _num(lat.get("cpu_per_call_ns")), "raw_cpu_call": _num(raw.get("cpu_per_call_ns")),
            "ser": ser, "share": share(ser, p50),
            "above_raw": None if p50 is None or raw50 is None else p50 - raw50,
            "measured_share": None if p50 is None or raw50 is None else share(p50 - raw50, p50),
            "cpu_share": share(ser, _num(lat.get("cpu_per_call_ns"))),
        })
    return out


def pubsub_items(doc: dict) -> list[dict]:
    return _pubsub_items(normalise(doc))


def _pubsub_items(doc: Results) -> list[dict]:
    out = []
    for r in _section_data(doc).get("rows") or []:
        if not isinstance(r, dict) or r.get("transport") not in PUBSUB or r.get("status") != "ok":
            continue
        thr, lat = _phase(r, "throughput"), _phase(r, "latency")
        out.append({
            "transport": r["transport"], "codec": str(r.get("codec")), "payload": str(r.get("payload")),
            "bytes": _num(r.get("bytes")), "subscribers": _num(r.get("subscribers")),
            "rate": _num(thr.get("msgs_per_s")), "deliveries": _num(thr.get("deliveries_per_s")),
            "lost": _num(thr.get("lost")), "sent": _num(thr.get("sent")),
            "p50": _num(lat.get("p50_ns")), "p99": _num(lat.get("p99_ns")), "paced": _num(lat.get("rate_per_s")),
            "cpu_msg": _num(lat.get("cpu_per_msg_ns")), "sat_cpu_msg": _num(thr.get("cpu_per_msg_ns")),
        })
    return out


def failures(doc: dict) -> list[dict]:
    return _failures(normalise(doc))


def _failures(doc: Results) -> list[dict]:
    return [r for r in _section_data(doc).get("rows") or [] if isinstance(r, dict) and r.get("status") != "ok"]


def sentences(doc: dict) -> list[str]:
    """Per request/response transport and payload, the format's share of a call, smallest first."""
    return _sentences(normalise(doc))


def _sentences(doc: Results) -> list[str]:
    items = _rr_items(doc)
    out = []
    for t in RR:
        for p in dict.fromkeys(it["payload"] for it in items if it["transport"] == t):
            rows = sorted((it for it in items if it["transport"] == t and it["payload"] == p),
                          key=lambda it: (it["share"] is None, it["share"] or 0))
            out.append(share_sentence(t, p, [(it["codec"], it["share"]) for it in rows]))
    return out


def build_rows(doc: dict) -> list[dict]:
    """Terminal lines (``text``) for ``msgbench transport``."""
    doc = normalise(doc)
    out = []
    for it in _rr_items(doc):
        out.append({"text": f"{SHORT[it['transport']]:<10} {it['codec']:<16} {it['payload']:<16} "
                            f"p50 {fmt_ns(it['p50']):>9}  p99 {fmt_ns(it['p99']):>9}  raw p50 {fmt_ns(it['raw_p50']):>9}  "
                            f"{fmt_int(it['sat_rate'])} calls/s at {fmt_int(it['concurrency'])} in flight  "
                            f"format {fmt_pct(it['share'])} of a call"})
    for it in _pubsub_items(doc):
        out.append({"text": f"{SHORT[it['transport']]:<10} {it['codec']:<16} {it['payload']:<16} "
                            f"{fmt_int(it['rate'])} msg/s to {fmt_int(it['subscribers'])} subscribers, "
                            f"lost {fmt_int(it['lost'])}; delivery p50 {fmt_ns(it['p50'])} p99 {fmt_ns(it['p99'])} "
                            f"at {fmt_int(it['paced'])} msg/s"})
    for r in _failures(doc):
        out.append({"text": f"{SHORT.get(str(r.get('transport')), r.get('transport'))} {r.get('codec')} "
                            f"{r.get('payload')}: {r.get('status')}: {r.get('error')}"})
    return out


def per_call_cpu(doc: dict) -> tuple[list[str], dict[str, dict[str, dict[str, float]]]]:
    """For the wire-cost calculator: the transports measured, and payload -> codec -> transport ->
    measured CPU per message sent over it (ns, all processes on the path: client + server for a
    request/response call, publisher + subscribers + broker for pub/sub)."""
    return _per_call_cpu(normalise(doc))


def _per_call_cpu(doc: Results) -> tuple[list[str], dict[str, dict[str, dict[str, float]]]]:
    out: dict[str, dict[str, dict[str, float]]] = {}
    seen: list[str] = []
    for it in _rr_items(doc):
        if it["cpu_call"] is not None:
            out.setdefault(it["payload"], {}).setdefault(it["codec"], {})[it["transport"]] = it["cpu_call"]
            seen.append(it["transport"])
    for it in _pubsub_items(doc):
        if it["cpu_msg"] is not None:
            out.setdefault(it["payload"], {}).setdefault(it["codec"], {})[it["transport"]] = it["cpu_msg"]
            seen.append(it["transport"])
    return [t for t in RR + PUBSUB if t in seen], out
