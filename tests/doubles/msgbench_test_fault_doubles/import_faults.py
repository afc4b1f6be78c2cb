"""A plugin module whose *import* misbehaves, as ``MSGBENCH_TEST_IMPORT`` says: ``segv`` (the
interpreter dies with SIGSEGV), ``hang`` (never returns), ``exit`` (``sys.exit(3)``); unset, it
is an ordinary codec (``importfault/codec``)."""

from __future__ import annotations

import ctypes
import os
import sys
import time

from formats.api import Capabilities, Codec, SimplePrepared

_how = os.environ.get("MSGBENCH_TEST_IMPORT", "")
if _how == "segv":
    ctypes.string_at(0)
elif _how == "hang":
    time.sleep(3600)
elif _how == "exit":
    sys.exit(3)


class ImportFaultCodec(Codec):
    name = "importfault/codec"
    format = "importfault"
    library = "msgbench-test-fault-doubles"
    capabilities = Capabilities(binary=False, needs_schema=False)

    def library_version(self) -> str:
        return "0.1.0"

    def prepare(self, schema, reader_schema=None, policy=None):
        import json

        return SimplePrepared(lambda v: json.dumps(v, default=lambda b: b.hex()).encode(), json.loads)
