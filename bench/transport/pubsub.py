"""Publish/subscribe through a NATS broker (``nats-server`` on loopback, started by the section).

One publisher (a child job, ``bench.transport.load``) and N subscribers (child services,
``bench.transport.serve`` kind ``sub``), each its own process and NATS connection. Every message is
framed as 8 bytes of CLOCK_MONOTONIC send time (taken before encoding; the clock is shared by all
processes on the machine) followed by the codec's bytes; a subscriber decodes the body and touches a
field, and its delivery latency is the time from before the publisher's encode to after its decode.

Per payload:

- ``throughput``: the publisher publishes as fast as it can for ``duration_s`` (at most
  ``max_calls`` messages), keeping at most ``WINDOW`` messages ahead of the slowest subscriber
  (subscribers report progress every ``ACK_EVERY`` messages), so the broker never drops a slow
  consumer; messages/s = messages published / time until the last subscriber decoded the last one.
- ``latency``: paced at ``PACED_RATE`` messages/s (a quarter of the measured throughput if that is
  lower, so the subscribers are never near saturation) for ``duration_s``; p50/p99 of the delivery
  latency over all subscribers.

Control messages (reset, report) go over ``msgbench.ctl.<i>`` request/reply; data over
``msgbench.data.<route>`` (``bench.transport.serve.route``), progress over ``msgbench.ack.<i>``.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

from bench.transport.stats import cpu_per_call_ns, latency_summary

WINDOW = 1000
ACK_EVERY = 100
PACED_RATE = 1000.0  # messages/s for the latency phase (lower when a codec's throughput is below 4x this)


def now_ns() -> int:
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC)


def make_decoders(job: dict) -> tuple[dict[str, Callable[[bytes], Any]], dict[str, Callable[[bytes], None]]]:
    """Per route: the per-message work (decode, touch a field) and the gate's check (the decoded
    message equals what a local round trip of the payload gives; raises otherwise)."""
    from bench.subproc import load_codec, payloads_by_name
    from bench.transport.common import route, touch
    from payloads.model import differences

    codec = load_codec(job["codec"], job.get("plugins"))
    work, checks = {}, {}
    for p in payloads_by_name(job["payloads_file"], job.get("payloads")):
        try:
            prepared = codec.prepare(p.schema)
            expected = prepared.from_native(prepared.decode(prepared.encode(prepared.to_native(p.value))))
        except Exception:
            continue  # the publisher reports the payload as failed/unsupported

        def handle(body: bytes, dec=prepared.decode, name=p.schema.fields[0].name) -> Any:
            return touch(dec(body), name)

        def check(body: bytes, dec=prepared.decode, conv=prepared.from_native, exp=expected) -> None:
            diffs = differences(exp, conv(dec(body)))
            if diffs:
                raise ValueError(f"delivered message differs from a local round trip: {diffs[0]}")

        work[route(p.name)], checks[route(p.name)] = handle, check
    return work, checks


def run_subscriber(job: dict) -> None:
    asyncio.run(_subscriber(job, *make_decoders(job)))


async def _subscriber(job: dict, decoders: dict[str, Callable[[bytes], Any]],
                      checks: dict[str, Callable[[bytes], None]]) -> None:
    import nats

    idx = job["index"]
    nc = await nats.connect(job["nats_url"], allow_reconnect=False, name=f"msgbench-sub-{idx}",
                            pending_size=256 * 2**20)
    st: dict[str, Any] = {}

    def reset(verify: bool = False) -> None:
        st.update(n=0, lat=[], errors=0, error=None, last_ns=None, cpu0=time.process_time(), verify=verify)

    reset()

    async def on_data(msg: Any) -> None:
        data = msg.data
        sent = int.from_bytes(data[:8], "little")
        try:
            key = msg.subject.rsplit(".", 1)[1]
            if st["verify"]:  # the correctness gate's message: compared in full, not timed
                checks[key](data[8:])
            decoders[key](data[8:])
        except Exception as e:
            st["errors"] += 1
            st["error"] = st["error"] or f"{type(e).__name__}: {e}"[:300]
        t = now_ns()
        st["lat"].append(t - sent)
        st["last_ns"] = t
        st["n"] += 1
        if st["n"] % ACK_EVERY == 0:
            await nc.publish(f"msgbench.ack.{idx}", str(st["n"]).encode())

    async def on_ctl(msg: Any) -> None:
        cmd = json.loads(msg.data)
        if cmd["op"] == "reset":
            reset(bool(cmd.get("verify")))
            await msg.respond(b"{}")
            return
        deadline = time.monotonic() + cmd.get("wait_s", 10.0)
        while st["n"] < cmd["expect"] and time.monotonic() < deadline:
            await asyncio.sleep(0.002)
        await msg.respond(json.dumps({"received": st["n"], "errors": st["errors"], "error": st["error"],
                                      "last_ns": st["last_ns"], "cpu_s": time.process_time() - st["cpu0"],
                                      "lat": st["lat"]}).encode())

    await nc.subscribe("msgbench.data.*", cb=on_data, pending_msgs_limit=10 * WINDOW)
    await nc.subscribe(f"msgbench.ctl.{idx}", cb=on_ctl)
    await nc.flush()
    from formats.isolation import announce_ready

    announce_ready({"index": idx})
    await asyncio.Event().wait()


# ---------------------------------------------------------------------------------------------
# publisher (runs inside bench.transport.load's child job)


async def run_publisher(job: dict, cases: list[dict]) -> list[dict]:
    import nats

    nc = await nats.connect(job["nats_url"], allow_reconnect=False, name="msgbench-pub")
    n_subs = job["subscribers"]
    acks = [0] * n_subs
    progressed = asyncio.Event()

    async def on_ack(msg: Any) -> None:
        i = int(msg.subject.rsplit(".", 1)[1])
        acks[i] = max(acks[i], int(msg.data))
        progressed.set()

    await nc.subscribe("msgbench.ack.*", cb=on_ack)
    out = []
    try:
        for case in cases:
            out.append(await _publish_case(nc, job, case, acks, progressed))
    finally:
        await nc.drain()
    return out


async def _ctl(nc: Any, n_subs: int, cmd: dict, timeout: float = 20.0) -> list[dict]:
    replies = await asyncio.gather(*(nc.request(f"msgbench.ctl.{i}", json.dumps(cmd).encode(), timeout=timeout)
                                     for i in range(n_subs)))
    return [json.loads(r.data) for r in replies]


async def _blast(nc: Any, subject: str, frame: Callable[[], bytes], duration_s: float, max_msgs: int,
                 acks: list[int], progressed: asyncio.Event) -> tuple[int, int]:
    """Publish as fast as the window allows; returns (messages sent, start ns)."""
    for i in range(len(acks)):
        acks[i] = 0
    sent = 0
    t0 = now_ns()
    deadline = time.perf_counter() + duration_s
    while sent < max_msgs and time.perf_counter() < deadline:
        if sent - min(acks) >= WINDOW:
            progressed.clear()
            await nc.flush()
            try:
                await asyncio.wait_for(progressed.wait(), 5.0)
            except TimeoutError:
                raise RuntimeError(f"subscribers stopped making progress after {min(acks)} of {sent} messages") from None
            continue
        await nc.publish(subject, frame())
        sent += 1
        if sent % 64 == 0:
            await asyncio.sleep(0)  # let the ack callbacks run
    await nc.flush()
    return sent, t0


async def _paced(nc: Any, subject: str, frame: Callable[[], bytes], rate: float, duration_s: float,
                 max_msgs: int) -> int:
    sent = 0
    start = time.perf_counter()
    while sent < max_msgs:
        due = start + sent / rate
        now = time.perf_counter()
        if due - start > duration_s:
            break
        if due > now:
            await asyncio.sleep(due - now)
        await nc.publish(subject, frame())
        sent += 1
        if sent % 16 == 0:
            await nc.flush()
    await nc.flush()
    return sent


async def _publish_case(nc: Any, job: dict, case: dict, acks: list[int], progressed: asyncio.Event) -> dict:
    from bench.transport.common import proc_cpu_s

    name, enc, native = case["payload"], case["encode"], case["native"]
    subject = f"msgbench.data.{case['route']}"
    n_subs, d, max_msgs = job["subscribers"], job["duration_s"], job["max_calls"]
    broker = job.get("broker_pid")

    def frame() -> bytes:
        return now_ns().to_bytes(8, "little") + enc(native)

    # correctness gate: every subscriber decodes one real message to the value a local round trip gives
    await _ctl(nc, n_subs, {"op": "reset", "verify": True})
    await nc.publish(subject, frame())
    reps = await _ctl(nc, n_subs, {"op": "report", "expect": 1, "wait_s": 5.0})
    bad = [r for r in reps if r["received"] != 1 or r["errors"]]
    if bad:
        return {"payload": name, "status": "failed",
                "error": f"correctness gate: subscriber got {bad[0]['received']} message(s), "
                         f"{bad[0]['errors']} decode error(s) {bad[0].get('error') or ''}".strip()[:400]}
    phases: dict[str, dict] = {}
    # warm-up (not recorded), then throughput at saturation
    await _blast(nc, subject, frame, job["warmup_s"], max_msgs, acks, progressed)
    await _ctl(nc, n_subs, {"op": "report", "expect": 0, "wait_s": 0})
    await _ctl(nc, n_subs, {"op": "reset"})
    c0, b0 = time.process_time(), proc_cpu_s(broker)
    sent, t0 = await _blast(nc, subject, frame, d, max_msgs, acks, progressed)
    reps = await _ctl(nc, n_subs, {"op": "report", "expect": sent})
    phases["throughput"] = _pubsub_phase(reps, sent, t0, time.process_time() - c0, b0, proc_cpu_s(broker), n_subs)
    # latency at a fixed rate, well below saturation
    msgs_s = phases["throughput"].get("msgs_per_s") or PACED_RATE
    rate = max(20.0, min(PACED_RATE, msgs_s / 4))
    await _ctl(nc, n_subs, {"op": "reset"})
    c0, b0 = time.process_time(), proc_cpu_s(broker)
    t0 = now_ns()
    sent = await _paced(nc, subject, frame, rate, d, max_msgs)
    reps = await _ctl(nc, n_subs, {"op": "report", "expect": sent})
    phases["latency"] = _pubsub_phase(reps, sent, t0, time.process_time() - c0, b0, proc_cpu_s(broker), n_subs)
    phases["latency"]["rate_per_s"] = round(rate, 1)
    return {"payload": name, "status": "ok", "bytes": len(case["body"]), "subscribers": n_subs, "phases": phases}


def _pubsub_phase(reps: list[dict], sent: int, t0: int, pub_cpu: float, b0: float | None, b1: float | None,
                  n_subs: int) -> dict:
    lat = [x for r in reps for x in r["lat"]]
    last = max((r["last_ns"] or 0) for r in reps)
    elapsed = max(1e-9, (last - t0) / 1e9) if last else 0.0
    out = latency_summary(lat, elapsed)
    received = [r["received"] for r in reps]
    cpu = pub_cpu + sum(r["cpu_s"] for r in reps) + ((b1 - b0) if b0 is not None and b1 is not None else 0.0)
    out.update(
        sent=sent, received_min=min(received), lost=sum(max(0, sent - n) for n in received),
        decode_errors=sum(r["errors"] for r in reps),
        msgs_per_s=round(sent / elapsed, 1) if elapsed and min(received) >= sent else None,
        deliveries_per_s=round(sum(received) / elapsed, 1) if elapsed else None,
        publisher_cpu_s=round(pub_cpu, 4), subscribers_cpu_s=round(sum(r["cpu_s"] for r in reps), 4),
        broker_cpu_s=None if b0 is None or b1 is None else round(b1 - b0, 4),
        cpu_per_msg_ns=cpu_per_call_ns(cpu, sent),
    )
    out.pop("calls_per_s", None)
    out["subscribers"] = n_subs
    return out
