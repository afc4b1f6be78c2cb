"""The serving side of the transport section, run as a child service (``bench.subproc.start_service``)::

    python -m bench.transport.serve '<job json>'

``job["kind"]``: ``http`` (aiohttp), ``grpc`` (grpcio, generic handler, raw bytes), ``thrift`` (Apache
Thrift's threaded TCP server, a binary-payload method) or ``sub`` (a NATS subscriber). Servers bind
127.0.0.1 on a port the kernel picks and announce it; they exit when msgbench closes their stdin.

Per payload the server decodes the request with the codec, touches a field (reads the record's
first field) and encodes the decoded value back as the reply; the ``raw`` method echoes the bytes
untouched (the transport's own cost, no format). Routes (``<route>`` = :func:`route` of the payload
name): HTTP ``POST /rpc/<route>`` and ``POST /raw``; gRPC ``/msgbench.Echo/<route>`` and
``/msgbench.Echo/raw``; Thrift method ``<route>`` / ``raw`` taking and returning one ``binary`` field.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

from bench.transport.common import RAW, Handler, route, touch  # noqa: F401 - the shared names


def make_handlers(job: dict) -> dict[str, Handler]:
    """``{payload name: decode → touch → encode, "raw": echo}`` for the job's codec (all schema work here)."""
    from bench.subproc import load_codec, payloads_by_name

    handlers: dict[str, Handler] = {RAW: lambda body: body}
    if not job.get("codec"):
        return handlers
    codec = load_codec(job["codec"], job.get("plugins"))
    for p in payloads_by_name(job["payloads_file"], job.get("payloads")):
        prepared = codec.prepare(p.schema)
        first = p.schema.fields[0].name

        def handle(body: bytes, enc=prepared.encode, dec=prepared.decode, name=first) -> bytes:
            native = dec(body)
            touch(native, name)
            return enc(native)

        handlers[route(p.name)] = handle
    return handlers


# ---------------------------------------------------------------------------------------------


def serve_http(handlers: dict[str, Handler], job: dict) -> None:
    import asyncio

    from aiohttp import web

    media = job.get("media_type") or "application/octet-stream"

    async def rpc(request: web.Request) -> web.Response:
        h = handlers.get(request.match_info["payload"])
        if h is None:
            return web.Response(status=404, text="no such payload")
        body = await request.read()
        try:
            reply = h(body)
        except Exception as e:
            return web.Response(status=400, text=f"{type(e).__name__}: {e}"[:300])
        return web.Response(body=reply, content_type=media)

    async def raw(request: web.Request) -> web.Response:
        return web.Response(body=await request.read(), content_type="application/octet-stream")

    async def main() -> None:
        app = web.Application(client_max_size=64 * 2**20)
        app.router.add_post("/raw", raw)
        app.router.add_post("/rpc/{payload}", rpc)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
        await site.start()
        port = runner.addresses[0][1]
        from formats.isolation import announce_ready

        announce_ready({"port": port, "server": "aiohttp"})
        await asyncio.Event().wait()

    asyncio.run(main())


def serve_grpc(handlers: dict[str, Handler], job: dict) -> None:
    import asyncio

    import grpc

    def method(h: Handler) -> Callable:
        async def call(request: bytes, context: Any) -> bytes:
            try:
                return h(request)
            except Exception as e:
                await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"{type(e).__name__}: {e}"[:300])

        return call

    # no request_deserializer / response_serializer: the codec's bytes are the message
    generic = grpc.method_handlers_generic_handler(
        "msgbench.Echo", {name: grpc.unary_unary_rpc_method_handler(method(h)) for name, h in handlers.items()})
    opts = [("grpc.max_receive_message_length", 64 * 2**20), ("grpc.max_send_message_length", 64 * 2**20)]

    async def main() -> None:
        server = grpc.aio.server(options=opts)
        server.add_generic_rpc_handlers((generic,))
        port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        from formats.isolation import announce_ready

        announce_ready({"port": port, "server": f"grpcio {grpc.__version__} (asyncio)"})
        await server.wait_for_termination()

    asyncio.run(main())


def serve_thrift(handlers: dict[str, Handler], job: dict) -> None:
    from thrift.protocol import TBinaryProtocol
    from thrift.server import TServer
    from thrift.transport import TSocket, TTransport

    from bench.transport.thrift_rpc import BinaryEchoProcessor

    sock = TSocket.TServerSocket(host="127.0.0.1", port=0)
    sock.listen()
    port = sock.handle.getsockname()[1]
    sock.listen = lambda: None  # already listening: TServer.serve() must not open a second socket
    server = TServer.TThreadedServer(BinaryEchoProcessor(handlers), sock, TTransport.TBufferedTransportFactory(),
                                     TBinaryProtocol.TBinaryProtocolAcceleratedFactory(), daemon=True)
    from importlib.metadata import version

    from formats.isolation import announce_ready

    announce_ready({"port": port, "server": f"thrift {version('thrift')} TThreadedServer, TBinaryProtocolAccelerated"})
    server.serve()


def serve_subscriber(handlers: dict[str, Handler], job: dict) -> None:
    from bench.transport.pubsub import run_subscriber

    run_subscriber(job)


SERVERS = {"http": serve_http, "grpc": serve_grpc, "thrift": serve_thrift, "sub": serve_subscriber}


def main(argv: list[str]) -> int:
    job = json.loads(argv[1])
    handlers = make_handlers(job) if job["kind"] != "sub" else {}
    SERVERS[job["kind"]](handlers, job)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
