"""A binary-payload Thrift service, written against Apache Thrift's protocol API (no compiler)::

    service Echo { binary <payload>(1: binary body) }   // one method per payload, plus `raw`

The codec's bytes (thrift/binary or thrift/compact struct encodings made by thriftpy2) travel as
the method's single ``binary`` argument; the Thrift envelope itself is Apache Thrift's binary
protocol over a buffered TCP transport. This is what a generated ``Processor`` / ``Client`` pair
does for that IDL, spelled out.
"""

from __future__ import annotations

from collections.abc import Callable

from thrift.Thrift import TApplicationException, TMessageType, TType


def _read_body(iprot, field_id: int) -> bytes | None:
    body = None
    iprot.readStructBegin()
    while True:
        _, ftype, fid = iprot.readFieldBegin()
        if ftype == TType.STOP:
            break
        if fid == field_id and ftype == TType.STRING:
            body = iprot.readBinary()
        else:
            iprot.skip(ftype)
        iprot.readFieldEnd()
    iprot.readStructEnd()
    return body


def _write_body(oprot, struct: str, field_id: int, body: bytes) -> None:
    oprot.writeStructBegin(struct)
    oprot.writeFieldBegin("body" if field_id else "success", TType.STRING, field_id)
    oprot.writeBinary(body)
    oprot.writeFieldEnd()
    oprot.writeFieldStop()
    oprot.writeStructEnd()


class BinaryEchoProcessor:
    """Server side: method name → handler(bytes) -> bytes; errors go back as TApplicationException."""

    def __init__(self, handlers: dict[str, Callable[[bytes], bytes]]):
        self.handlers = handlers

    def process(self, iprot, oprot) -> bool:
        name, _, seqid = iprot.readMessageBegin()
        body = _read_body(iprot, 1)
        iprot.readMessageEnd()
        h = self.handlers.get(name)
        try:
            if h is None:
                raise TApplicationException(TApplicationException.UNKNOWN_METHOD, f"unknown method {name}")
            if body is None:
                raise TApplicationException(TApplicationException.PROTOCOL_ERROR, "missing body")
            reply = h(body)
        except Exception as e:
            x = e if isinstance(e, TApplicationException) else \
                TApplicationException(TApplicationException.INTERNAL_ERROR, f"{type(e).__name__}: {e}"[:300])
            oprot.writeMessageBegin(name, TMessageType.EXCEPTION, seqid)
            x.write(oprot)
        else:
            oprot.writeMessageBegin(name, TMessageType.REPLY, seqid)
            _write_body(oprot, f"{name}_result", 0, reply)
        oprot.writeMessageEnd()
        oprot.trans.flush()
        return True


class BinaryEchoClient:
    """Client side over one connection: ``call(method, body) -> reply bytes``."""

    def __init__(self, host: str, port: int):
        from thrift.protocol import TBinaryProtocol
        from thrift.transport import TSocket, TTransport

        self.transport = TTransport.TBufferedTransport(TSocket.TSocket(host, port))
        self.prot = TBinaryProtocol.TBinaryProtocolAccelerated(self.transport)
        self.transport.open()
        self.seqid = 0

    def call(self, method: str, body: bytes) -> bytes:
        p = self.prot
        self.seqid += 1
        p.writeMessageBegin(method, TMessageType.CALL, self.seqid)
        _write_body(p, f"{method}_args", 1, body)
        p.writeMessageEnd()
        p.trans.flush()
        _, mtype, _ = p.readMessageBegin()
        if mtype == TMessageType.EXCEPTION:
            x = TApplicationException()
            x.read(p)
            p.readMessageEnd()
            raise x
        reply = _read_body(p, 0)
        p.readMessageEnd()
        if reply is None:
            raise TApplicationException(TApplicationException.MISSING_RESULT, f"{method} returned no result")
        return reply

    def close(self) -> None:
        self.transport.close()
