"""The transport section: pure figures on synthetic samples, then real servers (aiohttp, grpcio,
Apache Thrift) and a real NATS broker on 127.0.0.1 with short, bounded runs; the report's section
and the wire-cost calculator's measured per-call column."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.subproc import dump_payloads_for
from bench.transport import media_type
from bench.transport.section import Settings, applies, missing, run_cell, start_broker
from bench.transport.stats import cpu_per_call_ns, latency_summary, percentile
from payloads.catalog import find_payloads
from reports import transport_view as V

ROOT = Path(__file__).resolve().parents[1]
SHORT = Settings(warmup_s=0.05, duration_s=0.15, concurrency=4, subscribers=2, max_calls=2000)


# ---------------------------------------------------------------------------------------------
# pure figures


def test_percentile_is_nearest_rank_on_real_samples():
    xs = list(range(1, 101))
    assert percentile(xs, 50) == 50 and percentile(xs, 99) == 99 and percentile(xs, 100) == 100
    assert percentile([7], 99) == 7
    with pytest.raises(ValueError):
        percentile([], 50)


def test_latency_summary_counts_rate_and_keeps_a_bounded_sorted_subset():
    samples = [1000 * (i % 10 + 1) for i in range(1000)]  # 1..10 µs, 100 of each
    s = latency_summary(samples, elapsed_s=0.5, keep=50)
    assert s["calls"] == 1000 and s["calls_per_s"] == 2000.0
    assert s["p50_ns"] == 5000 and s["p99_ns"] == 10000 and s["min_ns"] == 1000
    assert len(s["samples_ns"]) == 50 and s["samples_ns"] == sorted(s["samples_ns"])
    assert latency_summary([], 1.0)["calls"] == 0


def test_cpu_per_call_and_share():
    assert cpu_per_call_ns(0.5, 1000) == 500_000.0
    assert cpu_per_call_ns(None, 10) is None and cpu_per_call_ns(1.0, 0) is None
    assert V.serialization_ns(10.0, 30.0) == 80.0  # request + reply, each encoded and decoded once
    assert V.share(80.0, 400.0) == 0.2 and V.share(500.0, 400.0) == 1.0 and V.share(1.0, 0) is None


def test_share_sentence_names_each_codec_in_order():
    s = V.share_sentence("grpc", "completed_trip", [("protobuf/upb", 0.031), ("xml/lxml", 0.42), ("x", None)])
    assert s == ("Over gRPC on loopback, the format is 3 % of a call for protobuf/upb and 42 % for xml/lxml "
                 "(payload completed_trip).")
    assert "not known" in V.share_sentence("http", "p", [("a", None)])


def _doc(section: dict) -> dict:
    stats = lambda ns: {"median_ns": ns}  # noqa: E731
    return {"schema_version": 1, "codecs": [], "payloads": [{"name": "p"}], "sections": {"transport": section},
            "rows": [{"codec": "a/x", "payload": "p", "status": "ok", "verdict": "exact", "encode": stats(10_000),
                      "decode": stats(15_000), "size": {"raw": 100}},
                     {"codec": "b/y", "payload": "p", "status": "ok", "verdict": "exact", "encode": stats(1_000),
                      "decode": stats(1_500), "size": {"raw": 80}}]}


def _rr_row(codec: str, p50: float, cpu: float) -> dict:
    ph = {"calls": 100, "p50_ns": p50, "p99_ns": 2 * p50, "calls_per_s": 1e9 / p50, "cpu_per_call_ns": cpu,
          "concurrency": 1}
    return {"transport": "grpc", "codec": codec, "payload": "p", "status": "ok", "bytes": 100,
            "phases": {"latency": ph, "saturation": {**ph, "concurrency": 4}, "raw": {**ph, "p50_ns": p50 / 2}}}


SYNTH = {"settings": {"concurrency": 4, "subscribers": 2, "warmup_s": 0.1, "duration_s": 1},
         "transports": [{"name": "grpc", "label": "gRPC", "status": "ok", "server": "grpcio"},
                        {"name": "nats", "label": "NATS", "status": "skipped",
                         "detail": "the NATS broker is not installed: apt-get install nats-server"}],
         "rows": [_rr_row("a/x", 100_000, 150_000), _rr_row("b/y", 50_000, 60_000),
                  {"transport": "grpc", "codec": "<script>", "payload": "p", "status": "failed",
                   "error": "server did not start: <b>boom</b>"}],
         "notes": ["a note"], "duration_s": 12.0}


def test_view_joins_section_with_the_main_runs_medians():
    doc = _doc(SYNTH)
    items = {it["codec"]: it for it in V.rr_items(doc)}
    assert items["a/x"]["ser"] == 50_000 and items["a/x"]["share"] == 0.5
    assert items["b/y"]["share"] == 0.1 and items["b/y"]["above_raw"] == 25_000
    assert items["b/y"]["measured_share"] == 0.5  # raw echo p50 is half the call's p50
    assert items["b/y"]["cpu_share"] == 5_000 / 60_000
    assert V.sentences(doc) == ["Over gRPC on loopback, the format is 10 % of a call for b/y and 50 % for a/x "
                                "(payload p)."]
    transports, per_call = V.per_call_cpu(doc)
    assert transports == ["grpc"] and per_call["p"]["a/x"]["grpc"] == 150_000


def test_report_section_and_calculator_use_the_measured_figures():
    from reports.analysis import calculator_data
    from reports.render import render_html

    doc = _doc(SYNTH)
    calc = calculator_data(doc)
    assert calc["transports"] == [{"name": "grpc", "label": "gRPC"}]
    assert {it["codec"]: it["per_call"] for it in calc["payloads"]["p"]}["b/y"] == {"grpc": 60_000}
    html = render_html(doc)
    assert 'id="chart-transport-grpc"' in html and "the format is 10 % of a call for b/y" in html
    assert 'data-cell="call-grpc"' in html
    # the default 10,000 msg/s × 60 µs of measured CPU per call = 0.6 cores
    assert 'data-cell="call-grpc" data-sort="0.6">0.600<' in html
    assert "Skipped: the NATS broker is not installed: apt-get install nats-server" in html
    assert "&lt;script&gt; · p: failed" in html  # results text is escaped
    assert "&lt;b&gt;boom&lt;/b&gt;" in html
    from reports.render import render_markdown

    assert "- Over gRPC on loopback, the format is 10 % of a call for b/y and 50 % for a/x" in render_markdown(doc)


# ---------------------------------------------------------------------------------------------
# real servers and broker on loopback


@pytest.fixture(scope="module")
def pfile(tmp_path_factory):
    return dump_payloads_for(find_payloads(["trip_request"]), tmp_path_factory.mktemp("transport"), "t")


ODD = "orders.v2/ü x"  # a user's payload name: dots (NATS tokens), a slash and a space (URL path)


@pytest.fixture(scope="module")
def odd_pfile(tmp_path_factory):
    from payloads.catalog import Payload

    p = find_payloads(["trip_request"])[0]
    odd = Payload(ODD, p.description, p.schema, lambda: p.value, "file", ())
    return dump_payloads_for([odd], tmp_path_factory.mktemp("odd"), "odd")


def _check_ok(rows: list[dict], transport: str, phases: tuple[str, ...], payload: str = "trip_request") -> None:
    assert [r["status"] for r in rows] == ["ok"], rows
    r = rows[0]
    assert r["transport"] == transport and r["payload"] == payload and r["bytes"] > 0
    for key in phases:
        ph = r["phases"][key]
        assert ph["calls"] > 0 and 0 < ph["p50_ns"] <= ph["p99_ns"], (key, ph)


@pytest.mark.parametrize("transport,codec", [("http", "json/orjson"), ("grpc", "protobuf/upb"),
                                             ("thrift", "thrift/binary")])
def test_request_response_over_a_real_server(transport, codec, pfile, odd_pfile):
    assert missing(transport) is None, missing(transport)
    # HTTP carries a payload named like a user's file: dots, a slash, a space and non-ASCII in the URL
    payload, path = (ODD, odd_pfile) if transport == "http" else ("trip_request", pfile)
    rows, server = run_cell(transport, codec, [payload], path, SHORT, False)
    _check_ok(rows, transport, ("latency", "saturation", "raw"), payload)
    ph = rows[0]["phases"]
    assert ph["latency"]["concurrency"] == 1 and ph["saturation"]["concurrency"] == 4
    assert ph["latency"]["cpu_per_call_ns"] > 0 and ph["latency"]["server_cpu_s"] is not None
    assert rows[0]["media_type"] == media_type(codec) and server


def _listeners(port: int) -> list[str]:
    """Local addresses of the TCP sockets listening on ``port`` (IPv4 and IPv6), from /proc."""
    lines = Path("/proc/net/tcp").read_text().splitlines()[1:] + Path("/proc/net/tcp6").read_text().splitlines()[1:]
    return [f[1] for f in (ln.split() for ln in lines) if f[3] == "0A" and int(f[1].split(":")[1], 16) == port]


def test_servers_and_broker_listen_on_loopback_only_and_are_gone_afterwards(pfile):
    from formats.isolation import start_service

    services = []
    for kind, codec in (("http", "json/orjson"), ("grpc", "json/orjson"), ("thrift", "thrift/binary")):
        job = {"kind": kind, "codec": codec, "payloads_file": pfile, "payloads": ["trip_request"], "plugins": False}
        services.append((kind, start_service([sys.executable, "-m", "bench.transport.serve", json.dumps(job)])))
    if missing("nats") is None:
        broker = start_broker()
        services.append(("nats", broker))
    try:
        for kind, svc in services:
            port = svc.ready["port"] if kind != "nats" else int(svc.ready.rsplit(":", 1)[1])
            # 127.0.0.1 only (grpcio binds it as the IPv4-mapped ::ffff:127.0.0.1): no wildcard 0.0.0.0 / ::
            loopback = {f"0100007F:{port:04X}", f"0000000000000000FFFF00000100007F:{port:04X}"}
            found = _listeners(port)
            assert len(found) == 1 and found[0] in loopback, (kind, found)
    finally:
        for _, svc in services:
            svc.stop()
    assert not any(svc.alive() for _, svc in services)


def test_a_server_that_cannot_start_gives_failed_rows_with_the_reason(tmp_path):
    rows, _ = run_cell("http", "json/orjson", ["trip_request"], str(tmp_path / "missing.pkl"), SHORT, False)
    assert rows[0]["status"] == "failed" and "server did not start" in rows[0]["error"]
    assert "missing.pkl" in rows[0]["error"]


def test_thrift_rpc_carries_only_thrift_codecs():
    assert applies("thrift", "thrift/compact") and not applies("thrift", "json/orjson")
    assert applies("grpc", "xml/lxml") and applies("nats", "avro/fastavro")


def test_missing_broker_is_a_clear_skip_with_the_install_command(monkeypatch):
    monkeypatch.setenv("MSGBENCH_NATS_SERVER", "/nonexistent/nats-server")
    why = missing("nats")
    assert why is not None and "apt-get install nats-server" in why


def test_publish_subscribe_through_a_real_nats_broker(odd_pfile):
    why = missing("nats")
    if why:
        pytest.skip(why)
    broker = start_broker()
    try:
        assert broker.ready.startswith("nats://127.0.0.1:")
        rows, _ = run_cell("nats", "avro/fastavro", [ODD], odd_pfile, SHORT, False, broker)
    finally:
        broker.stop()
    _check_ok(rows, "nats", ("throughput", "latency"), ODD)
    thr = rows[0]["phases"]["throughput"]
    assert thr["lost"] == 0 and thr["decode_errors"] == 0 and thr["msgs_per_s"] > 0
    assert thr["calls"] == 2 * thr["sent"]  # every message delivered to both subscribers
    assert rows[0]["phases"]["latency"]["rate_per_s"] > 0 and thr["broker_cpu_s"] is not None
    assert not broker.alive()


def test_msgbench_transport_end_to_end(tmp_path):
    """The command: a quick main run for one codec, HTTP only, results + report with the section."""
    out = tmp_path / "out"
    env = {**os.environ, "MSGBENCH_NO_PLUGINS": "1"}
    p = subprocess.run([sys.executable, "-m", "bench.cli", "transport", "--formats", "json/orjson", "--payloads",
                        "trip_request", "--transports", "http", "--duration", "0.2", "--warmup", "0.05",
                        "--out", str(out)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert p.returncode == 0, p.stderr[-2000:]
    assert "Over HTTP/1.1 on loopback, the format is" in p.stdout
    doc = json.loads((out / "results.json").read_text())
    sec = doc["sections"]["transport"]
    assert [t["name"] for t in sec["transports"]] == ["http"] and sec["rows"][0]["status"] == "ok"
    assert 'id="chart-transport-http"' in (out / "index.html").read_text()
    bad = subprocess.run([sys.executable, "-m", "bench.cli", "transport", "--transports", "carrier-pigeon"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "msgbench: error:" in bad.stderr


@pytest.mark.browser
def test_calculators_measured_column_follows_the_rate_in_a_browser(tmp_path):
    chromium = "/usr/bin/chromium"
    if not os.path.exists(chromium):
        pytest.skip(f"{chromium} not found: install Debian's chromium package to run the browser tests")
    sync_api = pytest.importorskip("playwright.sync_api")
    from reports.render import write_report

    html = write_report(_doc(SYNTH), tmp_path)["html"]
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium, args=["--headless", "--no-sandbox", "--disable-gpu"])
        try:
            page = b.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(html.resolve().as_uri())
            cells = page.locator('[data-cell="call-grpc"]')
            assert cells.all_text_contents() == ["1.50", "0.600"]  # 10,000 msg/s × 150 µs and × 60 µs
            page.fill("#calc-rate", "20000")
            assert cells.all_text_contents() == ["3.00", "1.20"]
            assert not errors, errors
        finally:
            b.close()


def test_the_broker_never_outlives_msgbench_even_when_it_is_killed(tmp_path):
    import signal
    import time

    if missing("nats"):
        pytest.skip(missing("nats"))
    code = ("import sys, time; from bench.transport.section import start_broker; b = start_broker(); "
            "print(b.pid, flush=True); time.sleep(60)")
    parent = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        broker_pid = int(parent.stdout.readline())
        assert Path(f"/proc/{broker_pid}").exists()
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and _running(broker_pid):
        time.sleep(0.05)
    assert not _running(broker_pid), "nats-server outlived the process that started it"


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
