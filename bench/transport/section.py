"""The ``transport`` section (opt-in: ``msgbench run --sections transport`` or ``msgbench transport``).

For each transport and codec the section starts the server (or the NATS broker once, and N
subscribers per codec) as child services bound to 127.0.0.1 on kernel-chosen ports, runs the client
(or publisher) as a child job with the codec's ``process_env``, and stops everything. A missing
library or broker skips that transport with the command that installs it; a codec that fails its
correctness gate, crashes or hangs gets a failed row and the section goes on.

Section data::

    {"settings": {...}, "transports": [{"name", "label", "status": "ok"|"skipped", "detail", "server"}],
     "rows": [{"transport", "codec", "payload", "status", "error", "bytes", "media_type",
               "phases": {"latency"|"saturation"|"raw"|"throughput": {...figures...}}}],
     "notes": [...], "duration_s"}

Figures per phase (``bench.transport.stats.latency_summary``): ``calls``, ``elapsed_s``,
``calls_per_s``, ``p50_ns``, ``p90_ns``, ``p99_ns``, ``min_ns``, ``max_ns``, ``mean_ns``,
``samples_ns`` (a sorted subset), ``concurrency``, ``client_cpu_s``, ``server_cpu_s``,
``cpu_per_call_ns``; pub/sub phases also ``sent``, ``lost``, ``msgs_per_s``, ``deliveries_per_s``,
``cpu_per_msg_ns`` (publisher + subscribers + broker) and, for ``latency``, ``rate_per_s``.
The share of a call spent in the format is computed by the report from these figures and the main
run's encode/decode medians.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import sys
import time
from dataclasses import asdict, dataclass
from typing import Any

from bench.transport import LABELS, TRANSPORTS, media_type

DEFAULT_PAYLOADS = ("trip_request", "completed_trip")
PIP = {"http": ("aiohttp", "aiohttp"), "grpc": ("grpc", "grpcio"), "thrift": ("thrift", "thrift"),
       "nats": ("nats", "nats-py")}
APT_NATS = "apt-get install nats-server"


@dataclass
class Settings:
    warmup_s: float = 0.5
    duration_s: float = 2.0
    concurrency: int = 8
    subscribers: int = 2
    max_calls: int = 200_000
    transports: tuple[str, ...] = TRANSPORTS
    payloads: tuple[str, ...] | None = None  # None: DEFAULT_PAYLOADS present in the run, else the run's

    @classmethod
    def for_mode(cls, mode: str, options: dict | None = None) -> Settings:
        base = cls(warmup_s=0.2, duration_s=0.6) if mode in ("quick", "untimed") else cls()
        opts = {k: v for k, v in (options or {}).items() if v is not None and k in cls.__dataclass_fields__}
        for k in ("transports", "payloads"):
            if k in opts:
                opts[k] = tuple(opts[k])
        s = cls(**{**asdict(base), **opts})
        unknown = [t for t in s.transports if t not in TRANSPORTS]
        if unknown:
            from formats.api import MsgbenchError

            raise MsgbenchError(f"unknown transport(s) {', '.join(unknown)}; known: {', '.join(TRANSPORTS)}")
        return s


def nats_server_path() -> str | None:
    """``$MSGBENCH_NATS_SERVER`` if set (None when it is not an executable), else nats-server on PATH
    or where Debian puts it."""
    forced = os.environ.get("MSGBENCH_NATS_SERVER")
    if forced:
        return forced if os.access(forced, os.X_OK) else None
    return shutil.which("nats-server") or next((p for p in ("/usr/sbin/nats-server", "/usr/bin/nats-server")
                                                if os.access(p, os.X_OK)), None)


def missing(transport: str) -> str | None:
    """Why ``transport`` cannot run here (with the install command), or None."""
    mod, pip = PIP[transport]
    if importlib.util.find_spec(mod) is None:
        return f"Python package {pip} is not installed: pip install 'msgbench[transport]' (or pip install {pip})"
    if transport == "nats" and nats_server_path() is None:
        return f"the NATS broker is not installed: {APT_NATS} (Debian/Ubuntu), or put nats-server on PATH"
    return None


def applies(transport: str, codec: str) -> bool:
    """Thrift RPC carries only the Thrift codecs; every other transport carries every codec."""
    return transport != "thrift" or codec.split("/")[0] == "thrift"


def start_broker(timeout_s: float = 15.0) -> Any:
    """``nats-server`` on 127.0.0.1, a kernel-chosen port; returns the service (``ready`` = url)."""
    from formats.isolation import start_service

    state: dict[str, Any] = {}

    def ready(line: str) -> str | None:
        m = re.search(r"Listening for client connections on (127\.0\.0\.1:\d+)", line)
        if m:
            state["addr"] = m.group(1)
        if "Server is ready" in line and state.get("addr"):
            return f"nats://{state['addr']}"
        return None

    return start_service([nats_server_path(), "-a", "127.0.0.1", "-p", "-1"],
                         timeout_s=timeout_s, ready_match=ready)


def _fail_rows(transport: str, codec: str, payloads: list[str], status: str, error: str) -> list[dict]:
    return [{"transport": transport, "codec": codec, "payload": p, "status": status, "error": error}
            for p in payloads]


def run_cell(transport: str, codec: str, payloads: list[str], payloads_file: str, s: Settings,
             plugins: bool | None, broker: Any = None) -> tuple[list[dict], str | None]:
    """One codec over one transport: start its server(s), run the client job, stop them."""
    from bench.subproc import codec_env, run_job
    from formats.isolation import start_service

    env, err = codec_env(codec, plugins)
    if err is not None:
        return _fail_rows(transport, codec, payloads, "failed", err), None
    base = {"codec": codec, "payloads_file": payloads_file, "payloads": payloads, "plugins": plugins,
            "media_type": media_type(codec)}
    serve = [sys.executable, "-m", "bench.transport.serve"]
    services = []
    server_name = None
    try:
        if transport == "nats":
            for i in range(s.subscribers):
                services.append(start_service(serve + [json.dumps({**base, "kind": "sub", "index": i,
                                                                   "nats_url": broker.ready})], env))
            job = {**base, "nats_url": broker.ready, "broker_pid": broker.pid, "subscribers": s.subscribers}
        else:
            svc = start_service(serve + [json.dumps({**base, "kind": transport})], env)
            services.append(svc)
            server_name = svc.ready.get("server")
            job = {**base, "port": svc.ready["port"], "server_pid": svc.pid}
    except Exception as e:
        for svc in services:
            svc.stop()
        return _fail_rows(transport, codec, payloads, "failed", f"server did not start: {e}"[:500]), None
    job.update(transport=transport, warmup_s=s.warmup_s, duration_s=s.duration_s, concurrency=s.concurrency,
               max_calls=s.max_calls)
    budget = 60 + len(payloads) * (s.warmup_s + 3 * s.duration_s) * 4
    try:
        result, err = run_job("bench.transport.load", job, env, timeout_s=budget)
    finally:
        dead = [svc.stderr_tail() for svc in services if not svc.alive()]
        for svc in services:
            svc.stop()
    if err is not None:
        why = err + (f"; server died: {dead[0]}" if dead else "")
        return _fail_rows(transport, codec, payloads, "failed", why[:600]), server_name
    rows = []
    for r in result["rows"]:
        rows.append({"transport": transport, "codec": codec, "media_type": media_type(codec), **r})
    return rows, server_name


def _pick_payloads(run_payloads: list, s: Settings) -> list[str]:
    names = [p.name for p in run_payloads]
    if s.payloads:
        return [p for p in s.payloads if p in names]
    default = [p for p in DEFAULT_PAYLOADS if p in names]
    return default or names


def produce(ctx: Any) -> dict:
    """The ``transport`` section (``bench.runner.SectionContext``)."""
    from bench.subproc import dump_payloads_for

    t0 = time.perf_counter()
    s = Settings.for_mode(ctx.mode, getattr(ctx, "options", None))
    payloads = _pick_payloads(ctx.payloads, s)
    pfile = dump_payloads_for([p for p in ctx.payloads if p.name in payloads], ctx.out_dir, "transport")
    transports, rows = [], []
    for t in s.transports:
        info = {"name": t, "label": LABELS[t], "status": "ok", "detail": None, "server": None}
        transports.append(info)
        why = missing(t)
        if why:
            info.update(status="skipped", detail=why)
            ctx.log(f"transport: {t} skipped: {why}")
            continue
        codecs = [c for c in ctx.codecs if applies(t, c)]
        if not codecs:
            info.update(status="skipped", detail="no codec in this run travels over it"
                        + (" (Thrift RPC carries the thrift/* codecs)" if t == "thrift" else ""))
            continue
        broker = None
        if t == "nats":
            try:
                broker = start_broker()
            except Exception as e:
                info.update(status="skipped", detail=f"nats-server did not start: {e}"[:500])
                ctx.log(f"transport: nats skipped: {info['detail']}")
                continue
            info["server"] = f"nats-server on {broker.ready}"
        try:
            for c in codecs:
                t1 = time.perf_counter()
                cell, server = run_cell(t, c, payloads, pfile, s, ctx.plugins, broker)
                rows += cell
                info["server"] = info["server"] or server
                bad = [r for r in cell if r["status"] != "ok"]
                ctx.log(f"transport: {t} · {c}: {len(cell) - len(bad)}/{len(cell)} payloads in "
                        f"{time.perf_counter() - t1:.1f} s" + (f" — {bad[0]['error'][:120]}" if bad else ""))
        finally:
            if broker is not None:
                broker.stop()
    return {
        "settings": {**asdict(s), "payloads": payloads, "host": "127.0.0.1"},
        "transports": transports,
        "rows": rows,
        "notes": [
            "Client, server, broker and subscribers are separate processes on one machine (loopback); they share "
            "its cores with each other (and with anything else running), so saturation figures are per machine.",
            "A request/response call: the client encodes, sends, the server decodes, reads one field, encodes the "
            "decoded value back as the reply, the client decodes it; latency is timed around all of it.",
            "raw = the same bytes echoed with no encode/decode at either end: the transport's own cost.",
            "Thrift RPC is Apache Thrift's threaded TCP server and buffered binary-protocol client with a "
            "binary-payload method per payload (the thriftpy2 codec's bytes ride in one binary field).",
            "gRPC is grpcio's asyncio server and channel with a generic handler: every codec's bytes are the "
            "message (no protobuf wrapping).",
            "Pub/sub: one publisher, N subscribers (separate processes and connections) through nats-server; "
            "each message carries an 8-byte send time ahead of the codec's bytes.",
            "Latency here includes waiting for a core: on a busy machine p99 (and p50) move a lot between runs, "
            "while CPU per call moves less. Compare two runs before concluding from a difference.",
        ],
        "duration_s": round(time.perf_counter() - t0, 2),
    }


# ---------------------------------------------------------------------------------------------
# `msgbench transport`


def register_cli(sub: Any) -> None:
    p = sub.add_parser("transport", help="formats in the loop: HTTP, gRPC, Thrift RPC and NATS pub/sub on loopback "
                       "(a quick main run for the codecs' own costs, then the transport section)")
    p.add_argument("--formats", nargs="+", metavar="NAME", help="codecs or formats (default: the core codecs)")
    p.add_argument("--payloads", nargs="+", metavar="NAME", default=list(DEFAULT_PAYLOADS),
                   help="built-in payloads (default: trip_request completed_trip)")
    p.add_argument("--transports", nargs="+", choices=TRANSPORTS, default=None, help="default: all")
    p.add_argument("--duration", type=float, default=None, metavar="S", help="seconds per measured phase")
    p.add_argument("--warmup", type=float, default=None, metavar="S", help="seconds of warm-up per payload")
    p.add_argument("--concurrency", type=int, default=None, metavar="N",
                   help="calls in flight for the saturation phase (default 8)")
    p.add_argument("--subscribers", type=int, default=None, metavar="N", help="NATS subscribers (default 2)")
    p.add_argument("--full", action="store_true", help="full timing plan and 2 s phases (default: quick)")
    p.add_argument("--out", default="out/transport", help="output directory (default: out/transport)")
    p.add_argument("--no-report", action="store_true", help="write results.json only")
    p.set_defaults(func=cmd_transport)


def cmd_transport(args: Any) -> int:
    from pathlib import Path

    from bench.cli import _load_payloads, print_summary
    from bench.runner import RunOptions, run
    from bench.timing import Plan

    args.payload, args.schema, args.max_records = [], None, None
    opts = {"transports": args.transports, "duration_s": args.duration, "warmup_s": args.warmup,
            "concurrency": args.concurrency, "subscribers": args.subscribers}
    Settings.for_mode("full" if args.full else "quick", opts)  # bad options fail before anything runs
    out = Path(args.out)
    ro = RunOptions(formats=args.formats, payloads=_load_payloads(args, args.payloads), out_dir=out,
                    plan=Plan.full() if args.full else Plan.quick(), mode="full" if args.full else "quick",
                    sections=["transport"], plugins=False if args.no_plugins else None,
                    argv=sys.argv[1:], section_options={"transport": opts})
    doc = run(ro)
    print_summary(doc)
    print(summary_text(doc))
    if not args.no_report:
        from reports.render import write_report

        paths = write_report(doc, out)
        print(f"report:  {paths['html'].resolve()}")
    print(f"results: {out / 'results.json'}")
    return 0


def summary_text(doc: dict) -> str:
    """Plain-text table of the section for the terminal."""
    from reports.transport_view import build_rows, sentences

    data = (doc.get("sections") or {}).get("transport") or {}
    if "error" in data and "rows" not in data:
        return f"transport section failed: {data['error']}"
    lines = []
    for t in data.get("transports", []):
        if t.get("status") != "ok":
            lines.append(f"{t['name']}: skipped — {t.get('detail')}")
    for r in build_rows(doc):
        lines.append(r["text"])
    lines += sentences(doc)
    lines.append(f"transport section: {data.get('duration_s', 0):.1f} s")
    return "\n".join(lines)
