"""``json/stdlib``: the standard library's :mod:`json` module (the baseline every team already has).

Encoding uses one pre-built :class:`json.JSONEncoder` (compact separators, UTF-8 output, no ASCII
escaping) and decoding one pre-built :class:`json.JSONDecoder`; ``json.dumps`` with keyword
arguments would build a new encoder on every call. The C accelerator (``_json``) is used when
present, which is reported as the backend.

Native form: JSON-ready dicts/lists; bytes become base64 text in ``to_native`` and are restored in
``from_native`` (both outside the timed region). NaN and infinities are written as the
non-standard tokens ``NaN``/``Infinity`` (Python's default); other JSON parsers may reject them.

``from_native`` reads what other JSON writers send, as json/orjson does: float32 text rounded to
float32 (out of range is an error), whole floats (``5.0``) in integer fields, base64 with line
breaks, URL-safe or unpadded (:mod:`formats.native_convert`).
"""

from __future__ import annotations

import base64
import platform
from typing import Any

from formats.api import ALL_TYPE_KINDS, Capabilities, Codec, SimplePrepared
from formats.native_convert import POLICIES, check_policy, decode_base64_text, make_from_native, make_to_native
from payloads.model import Record, SchemaMismatch


def _b64encode(b: bytes) -> str:
    return base64.b64encode(b).decode("ascii")


def _b64decode(s: Any) -> bytes:
    if type(s) is not str:
        raise SchemaMismatch("", f"expected base64 text for a bytes field, got {type(s).__name__}")
    try:
        return decode_base64_text(s)
    except ValueError as e:
        raise SchemaMismatch("", str(e)) from None


class StdlibJsonCodec(Codec):
    name = "json/stdlib"
    format = "json"
    library = "python"
    modules = ("json",)
    pip_name = ""
    description = "Python's json module with pre-built JSONEncoder/JSONDecoder; bytes as base64"
    capabilities = Capabilities(
        binary=False,
        needs_schema=False,
        types=ALL_TYPE_KINDS,
        evolution_modes=POLICIES,
        deterministic=True,
        notes=(
            "bytes are carried as base64 strings (converted in to_native/from_native)",
            "NaN/Infinity are written as non-standard JSON tokens",
        ),
    )

    def library_version(self) -> str:
        return platform.python_version()

    def backend(self) -> str:
        import json.decoder
        import json.encoder

        c = json.encoder.c_make_encoder is not None and json.decoder.c_scanstring is not None
        return "C accelerator (_json)" if c else "pure Python"

    def slow_backend(self) -> bool:
        return self.backend() == "pure Python"

    def prepare(self, schema: Record, reader_schema: Record | None = None, policy: str | None = None) -> SimplePrepared:
        import json

        self.check_schema(schema)
        reader = reader_schema or schema
        if reader_schema is not None:
            self.check_schema(reader_schema)
        pol = check_policy(self.name, policy)
        encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=True, check_circular=False)
        decoder = json.JSONDecoder()
        enc = encoder.encode
        dec = decoder.decode

        def encode(native: Any) -> bytes:
            return enc(native).encode("utf-8")

        def decode(data: bytes) -> Any:
            return dec(data.decode("utf-8"))

        return SimplePrepared(
            encode=encode,
            decode=decode,
            to_native=make_to_native(schema, _b64encode),
            from_native=make_from_native(reader, pol, _b64decode, json_numbers=True),
        )
