"""The client side of the request/response transports, run as one child job per codec × transport
(``bench.subproc.run_job("bench.transport.load", job, env=codec.process_env)``).

Per payload: a correctness gate (one real call; the reply must decode to the value a local round
trip gives), then closed-loop phases of fixed wall-clock duration (and at most ``max_calls``):

- ``warmup``     at the saturation concurrency, not recorded;
- ``latency``    concurrency 1: every call is encode → send → server decodes, touches a field,
                 encodes the reply → receive → decode; its p50/p99 is the end-to-end call latency;
- ``saturation`` concurrency ``concurrency``: calls/s at saturation (and the latencies under load);
- ``raw``        concurrency 1 on the ``raw`` echo method with the same bytes and no encode/decode at
                 either end: the transport's own cost for a message of that size.

Each phase records the client's and the server's CPU time (``/proc/<pid>/stat``), so CPU per call
is measured, not inferred.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bench.transport.common import RAW, proc_cpu_s, route
from bench.transport.stats import cpu_per_call_ns, latency_summary

HOST = "127.0.0.1"


class Meter:
    """CPU of this process and of the server process(es) between ``start`` and ``stop``."""

    def __init__(self, pids: list[int]):
        self.pids = [p for p in pids if p]

    def start(self) -> None:
        self.c0 = time.process_time()
        self.s0 = [proc_cpu_s(p) for p in self.pids]
        self.t0 = time.perf_counter()

    def stop(self) -> dict:
        elapsed = time.perf_counter() - self.t0
        client = time.process_time() - self.c0
        s1 = [proc_cpu_s(p) for p in self.pids]
        server = None if any(a is None or b is None for a, b in zip(self.s0, s1, strict=True)) else \
            sum(b - a for a, b in zip(self.s0, s1, strict=True))
        return {"elapsed_s": elapsed, "client_cpu_s": client, "server_cpu_s": server}


def phase_result(lat: list[int], meter: dict, concurrency: int) -> dict:
    out = latency_summary(lat, meter["elapsed_s"])
    out["concurrency"] = concurrency
    out["client_cpu_s"] = round(meter["client_cpu_s"], 4)
    out["server_cpu_s"] = None if meter["server_cpu_s"] is None else round(meter["server_cpu_s"], 4)
    total = None if meter["server_cpu_s"] is None else meter["client_cpu_s"] + meter["server_cpu_s"]
    out["cpu_per_call_ns"] = cpu_per_call_ns(total, len(lat))
    return out


def merged(slices: list[tuple[list[int], dict]], concurrency: int) -> dict:
    """One phase from several alternating slices: latencies pooled, wall and CPU times summed."""
    lat = [x for part, _ in slices for x in part]
    ms = [m for _, m in slices]
    server = None if any(m["server_cpu_s"] is None for m in ms) else sum(m["server_cpu_s"] for m in ms)
    meter = {"elapsed_s": sum(m["elapsed_s"] for m in ms), "client_cpu_s": sum(m["client_cpu_s"] for m in ms),
             "server_cpu_s": server}
    out = phase_result(lat, meter, concurrency)
    out["slices"] = len(slices)
    return out


# ---------------------------------------------------------------------------------------------
# async transports (aiohttp, grpc.aio): ``open`` returns (call(method, body) -> reply, close)


async def open_http(job: dict) -> tuple[Callable[[str, bytes], Awaitable[bytes]], Callable]:
    import aiohttp

    base = f"http://{HOST}:{job['port']}"
    headers = {"Content-Type": job.get("media_type") or "application/octet-stream"}
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=max(job["concurrency"], 1) + 4),
                                    headers=headers)

    async def call(method: str, body: bytes) -> bytes:
        url = f"{base}/raw" if method == RAW else f"{base}/rpc/{method}"
        async with session.post(url, data=body) as resp:
            data = await resp.read()
            if resp.status != 200:
                raise RuntimeError(f"HTTP {resp.status}: {data[:200].decode('utf-8', 'replace')}")
            return data

    return call, session.close


async def open_grpc(job: dict) -> tuple[Callable[[str, bytes], Awaitable[bytes]], Callable]:
    import grpc

    opts = [("grpc.max_receive_message_length", 64 * 2**20), ("grpc.max_send_message_length", 64 * 2**20)]
    channel = grpc.aio.insecure_channel(f"{HOST}:{job['port']}", options=opts)
    stubs: dict[str, Any] = {}

    async def call(method: str, body: bytes) -> bytes:
        stub = stubs.get(method)
        if stub is None:  # no (de)serializers: the codec's bytes are the gRPC message
            stub = stubs[method] = channel.unary_unary(f"/msgbench.Echo/{method}")
        return await stub(body)

    await asyncio.wait_for(channel.channel_ready(), 10)
    return call, channel.close


async def closed_loop_async(one: Callable[[], Awaitable[None]], concurrency: int, duration_s: float,
                            max_calls: int, meter: Meter | None) -> tuple[list[int], dict | None]:
    lat: list[int] = []
    deadline = time.perf_counter() + duration_s
    clock = time.perf_counter_ns

    async def worker() -> None:
        while time.perf_counter() < deadline and len(lat) < max_calls:
            t0 = clock()
            await one()
            lat.append(clock() - t0)

    if meter:
        meter.start()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return lat, meter.stop() if meter else None


async def run_async(job: dict, cases: list[dict], opener: Callable) -> list[dict]:
    call, close = await opener(job)
    out = []
    try:
        for case in cases:
            out.append(await measure_case_async(job, case, call))
    finally:
        res = close()
        if asyncio.iscoroutine(res):
            await res
    return out


async def measure_case_async(job: dict, case: dict, call: Callable) -> dict:
    name, enc, dec, native, body = case["payload"], case["encode"], case["decode"], case["native"], case["body"]
    route_key = case["route"]
    try:
        reply = await call(route_key, enc(native))
        case["check"](dec(reply))
    except Exception as e:
        return {"payload": name, "status": "failed", "error": f"correctness gate: {type(e).__name__}: {e}"[:400]}

    async def full() -> None:
        dec(await call(route_key, enc(native)))

    async def raw() -> None:
        await call(RAW, body)

    c, d, n, k = job["concurrency"], job["duration_s"], job["max_calls"], max(1, job.get("alternations", 4))
    meter = Meter([job.get("server_pid")])
    await closed_loop_async(full, c, job["warmup_s"], n, None)
    got: dict[str, list] = {"latency": [], "raw": []}
    for _ in range(k):  # latency and raw alternate in slices: load drift on a shared machine hits both alike
        for phase, fn in (("latency", full), ("raw", raw)):
            got[phase].append(await closed_loop_async(fn, 1, d / k, n // k, meter))
    sat = await closed_loop_async(full, c, d, n, meter)
    phases = {"latency": merged(got["latency"], 1), "saturation": phase_result(*sat, c), "raw": merged(got["raw"], 1)}
    return {"payload": name, "status": "ok", "bytes": len(body), "phases": phases}


# ---------------------------------------------------------------------------------------------
# Thrift: a blocking client per thread (Apache Thrift's Python client is synchronous)


def closed_loop_threads(make_one: Callable[[], tuple[Callable[[], None], Callable[[], None]]], concurrency: int,
                        duration_s: float, max_calls: int, meter: Meter | None) -> tuple[list[int], dict | None]:
    lat: list[int] = []
    lock = threading.Lock()
    errors: list[BaseException] = []
    clients = [make_one() for _ in range(concurrency)]
    barrier = threading.Barrier(concurrency + 1)
    deadline = [0.0]
    clock = time.perf_counter_ns

    def worker(one: Callable[[], None]) -> None:
        mine = []
        barrier.wait()
        try:
            while time.perf_counter() < deadline[0] and len(lat) + len(mine) < max_calls:
                t0 = clock()
                one()
                mine.append(clock() - t0)
        except BaseException as e:
            errors.append(e)
        with lock:
            lat.extend(mine)

    threads = [threading.Thread(target=worker, args=(one,), daemon=True) for one, _ in clients]
    for t in threads:
        t.start()
    if meter:
        meter.start()
    deadline[0] = time.perf_counter() + duration_s
    barrier.wait()
    for t in threads:
        t.join()
    m = meter.stop() if meter else None
    for _, close in clients:
        close()
    if errors:
        raise errors[0]
    return lat, m


def run_thrift(job: dict, cases: list[dict]) -> list[dict]:
    return [measure_case_thrift(job, case) for case in cases]


def measure_case_thrift(job: dict, case: dict) -> dict:
    from bench.transport.thrift_rpc import BinaryEchoClient

    name, enc, dec, native, body = case["payload"], case["encode"], case["decode"], case["native"], case["body"]
    route_key = case["route"]
    try:
        cl = BinaryEchoClient(HOST, job["port"])
        try:
            case["check"](dec(cl.call(route_key, enc(native))))
        finally:
            cl.close()
    except Exception as e:
        return {"payload": name, "status": "failed", "error": f"correctness gate: {type(e).__name__}: {e}"[:400]}

    def full() -> tuple[Callable[[], None], Callable[[], None]]:
        cl = BinaryEchoClient(HOST, job["port"])
        return (lambda: dec(cl.call(route_key, enc(native)))), cl.close

    def raw() -> tuple[Callable[[], None], Callable[[], None]]:
        cl = BinaryEchoClient(HOST, job["port"])
        return (lambda: cl.call(RAW, body)), cl.close

    c, d, n, k = job["concurrency"], job["duration_s"], job["max_calls"], max(1, job.get("alternations", 4))
    meter = Meter([job.get("server_pid")])
    closed_loop_threads(full, c, job["warmup_s"], n, None)
    got: dict[str, list] = {"latency": [], "raw": []}
    for _ in range(k):
        for phase, make in (("latency", full), ("raw", raw)):
            got[phase].append(closed_loop_threads(make, 1, d / k, n // k, meter))
    sat = closed_loop_threads(full, c, d, n, meter)
    phases = {"latency": merged(got["latency"], 1), "saturation": phase_result(*sat, c), "raw": merged(got["raw"], 1)}
    return {"payload": name, "status": "ok", "bytes": len(body), "phases": phases}


# ---------------------------------------------------------------------------------------------


def prepare_cases(job: dict) -> tuple[list[dict], list[dict]]:
    """Per payload: the prepared codec's encode/decode, the native value, its bytes and a checker."""
    from bench.subproc import load_codec, payloads_by_name
    from payloads.model import differences

    codec = load_codec(job["codec"], job.get("plugins"))
    cases, failed = [], []
    for p in payloads_by_name(job["payloads_file"], job.get("payloads")):
        try:
            codec.check_schema(p.schema)
            prepared = codec.prepare(p.schema)
            native = prepared.to_native(p.value)
            body = prepared.encode(native)
            expected = prepared.from_native(prepared.decode(body))
        except Exception as e:
            failed.append({"payload": p.name, "status": "unsupported" if "support" in str(e) else "failed",
                           "error": f"{type(e).__name__}: {e}"[:400]})
            continue

        def check(decoded: Any, exp=expected, fn=prepared.from_native) -> None:
            diffs = differences(exp, fn(decoded))
            if diffs:
                raise ValueError(f"reply differs from a local round trip: {diffs[0]}")

        cases.append({"payload": p.name, "route": route(p.name), "encode": prepared.encode, "decode": prepared.decode, "native": native,
                      "body": body, "check": check})
    return cases, failed


def handle_job(job: dict) -> dict:
    cases, failed = prepare_cases(job)
    t = job["transport"]
    if t == "thrift":
        rows = run_thrift(job, cases)
    elif t in ("http", "grpc"):
        rows = asyncio.run(run_async(job, cases, open_http if t == "http" else open_grpc))
    elif t == "nats":
        from bench.transport.pubsub import run_publisher

        rows = asyncio.run(run_publisher(job, cases))
    else:
        raise ValueError(f"unknown transport {t!r}")
    return {"rows": rows + failed}
