"""A JSON codec (orjson) whose ``encode`` can be made slower on purpose, for run-comparison tests.

``MSGBENCH_TEST_SLOW_US=N`` (read when ``prepare`` runs): every encode busy-waits N µs after
encoding (a busy wait, not ``time.sleep``, whose timer slack would add ~50 µs of its own).
``MSGBENCH_TEST_CRASH=1``: encode kills its own process with SIGKILL (a crashing codec).
Otherwise it is plain ``orjson.dumps`` / ``orjson.loads`` on the schema-guided JSON values.
"""

from __future__ import annotations

import os
import signal
import time
from typing import Any

from formats.api import Capabilities, Codec, SimplePrepared


class SlowJson(Codec):
    name = "slowdouble/json"
    format = "slowdouble"
    library = "msgbench-test-slowdouble"
    capabilities = Capabilities(binary=False, needs_schema=False)

    def library_version(self) -> str:
        return "0.1.0"

    def prepare(self, schema, reader_schema=None, policy=None):
        import orjson

        from formats.json_orjson import make_from_native, make_to_native

        dumps = orjson.dumps
        slow_s = float(os.environ.get("MSGBENCH_TEST_SLOW_US", "0") or 0) / 1e6
        crash = os.environ.get("MSGBENCH_TEST_CRASH") == "1"
        clock = time.perf_counter

        def encode(native: Any) -> bytes:
            if crash:
                os.kill(os.getpid(), signal.SIGKILL)
            data = dumps(native)
            if slow_s:
                end = clock() + slow_s
                while clock() < end:
                    pass
            return data

        return SimplePrepared(encode=encode, decode=orjson.loads, to_native=make_to_native(schema),
                              from_native=make_from_native(schema, "tolerant"))
