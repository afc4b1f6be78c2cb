"""Deliberately faulty codecs: each misbehaves in one way so the harness's isolation is tested.

``fault/raises-prepare`` raises in ``prepare``; ``fault/raises-decode`` encodes fine but raises in
``decode``; ``fault/hangs`` never returns from ``encode``; ``fault/crashes`` kills its own
process with SIGSEGV in ``encode``. A file named by ``MSGBENCH_TEST_HANG_MARKER`` is created when
the hanging codec starts hanging (so a test can interrupt the run at that moment).

For the fault probe (``bench.faults``), format ``faultprobe``: ``faultprobe/crashes-on-garbage``
round-trips its own bytes but SIGSEGVs on any other input; ``faultprobe/hangs-on-short`` hangs on
input shorter than its last encoding (every truncated message) and raises on other garbage.
"""

from __future__ import annotations

import json
import os
import signal
import time
from typing import Any

from formats.api import Capabilities, Codec, SimplePrepared

PREPARE_ERROR = "raises-prepare double: schema work failed on purpose"
DECODE_ERROR = "raises-decode double: decoder failed on purpose"


def _enc(native: Any) -> bytes:
    return json.dumps(native, default=lambda b: b.hex()).encode()


class _Base(Codec):
    format = "fault"
    library = "msgbench-test-fault-doubles"
    capabilities = Capabilities(binary=False, needs_schema=False)

    def library_version(self) -> str:
        return "0.1.0"


class RaisesPrepare(_Base):
    name = "fault/raises-prepare"

    def prepare(self, schema, reader_schema=None, policy=None):
        raise RuntimeError(PREPARE_ERROR)


class RaisesDecode(_Base):
    name = "fault/raises-decode"

    def prepare(self, schema, reader_schema=None, policy=None):
        def decode(data: bytes) -> Any:
            raise ValueError(DECODE_ERROR)

        return SimplePrepared(encode=_enc, decode=decode)


class Hangs(_Base):
    name = "fault/hangs"

    def prepare(self, schema, reader_schema=None, policy=None):
        def encode(native: Any) -> bytes:
            marker = os.environ.get("MSGBENCH_TEST_HANG_MARKER")
            if marker:
                with open(marker, "w") as f:
                    f.write(str(os.getpid()))
            while True:
                time.sleep(0.05)

        return SimplePrepared(encode=encode, decode=json.loads)


class Crashes(_Base):
    name = "fault/crashes"

    def prepare(self, schema, reader_schema=None, policy=None):
        def encode(native: Any) -> bytes:
            os.kill(os.getpid(), signal.SIGSEGV)
            time.sleep(5)
            return b""

        return SimplePrepared(encode=encode, decode=json.loads)


class _ProbeBase(_Base):
    format = "faultprobe"

    def prepare(self, schema, reader_schema=None, policy=None):
        last: dict[str, bytes] = {}

        def encode(native: Any) -> bytes:
            last["data"] = _enc(native)
            return last["data"]

        return SimplePrepared(encode=encode, decode=lambda data: self.misbehave(data, last.get("data", b"")))

    def misbehave(self, data: bytes, valid: bytes) -> Any:
        raise NotImplementedError


class CrashesOnGarbage(_ProbeBase):
    name = "faultprobe/crashes-on-garbage"

    def misbehave(self, data: bytes, valid: bytes) -> Any:
        if data != valid:
            os.kill(os.getpid(), signal.SIGSEGV)
            time.sleep(5)
        return json.loads(data)


class HangsOnShort(_ProbeBase):
    name = "faultprobe/hangs-on-short"

    def misbehave(self, data: bytes, valid: bytes) -> Any:
        if len(data) < len(valid):
            while True:
                time.sleep(0.05)
        return json.loads(data)
