"""Formats in the loop: request/response and publish/subscribe over real transports on loopback.

Modules: ``stats`` (pure figures), ``serve`` (the servers and subscribers, run as child services),
``load`` (the clients and the publisher, run as a child job), ``section`` (the ``transport``
section and ``msgbench transport``: starts and stops everything, collects the figures).
"""

TRANSPORTS = ("http", "grpc", "thrift", "nats")
LABELS = {"http": "HTTP/1.1 (aiohttp)", "grpc": "gRPC (grpcio)", "thrift": "Thrift RPC (Apache Thrift TCP)",
          "nats": "NATS publish/subscribe"}
SHORT = {"http": "HTTP/1.1", "grpc": "gRPC", "thrift": "Thrift RPC", "nats": "NATS"}

MEDIA_TYPES = {
    "json": "application/json", "xml": "application/xml", "avro": "application/avro",
    "protobuf": "application/x-protobuf", "thrift": "application/vnd.apache.thrift.binary",
    "msgpack": "application/msgpack", "cbor": "application/cbor", "bson": "application/bson",
}


def media_type(codec: str) -> str:
    """The HTTP Content-Type a codec's body travels with (``application/octet-stream`` if unknown)."""
    if codec == "thrift/compact":
        return "application/vnd.apache.thrift.compact"
    return MEDIA_TYPES.get(codec.split("/")[0], "application/octet-stream")
