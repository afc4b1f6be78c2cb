"""``pickle/example``: a complete, minimal msgbench format plugin.

Python's pickle (protocol 5) as a codec. It is a realistic baseline ("what does Python's own
serializer cost?") and small enough to read in one go; it is NOT a wire format to use between
services that do not trust each other: unpickling can run code chosen by the sender. The decoder
below refuses every global (``find_class`` raises), which blocks that attack for plain data.

Everything a plugin needs comes from ``formats.api``:

- class attributes: ``name`` ("format/variant", equal to the entry-point name), ``format``,
  ``library`` (the distribution whose version is reported), ``modules``, ``pip_name``,
  ``description`` and ``capabilities``;
- ``prepare(schema, reader_schema=None, policy=None)`` does the schema work (none here) and
  returns an object with ``to_native``/``from_native`` (not timed as encode/decode) and
  ``encode``/``decode`` (the timed calls).
"""

from __future__ import annotations

import io
import pickle
import platform
from typing import Any

from formats.api import ALL_TYPE_KINDS, Capabilities, Codec, SimplePrepared, UnsupportedSchema
from payloads.model import Record, validate

__version__ = "0.1.0"


class _DataOnlyUnpickler(pickle.Unpickler):
    """Plain data only: any class or function reference in the stream is refused."""

    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"refusing to load global {module}.{name}: plain data only")


class PickleCodec(Codec):
    name = "pickle/example"
    format = "pickle"
    library = "python"  # no distribution: library_version() is overridden below
    modules = ("pickle",)
    pip_name = ""
    description = "Python pickle protocol 5 with a data-only unpickler (example plugin; not for untrusted peers)"
    capabilities = Capabilities(
        binary=True,
        needs_schema=False,
        types=ALL_TYPE_KINDS,
        evolution_modes=(),  # no reader policy: it returns exactly what was written
        deterministic=True,
        notes=("Python-only and unsafe with untrusted senders; a baseline, not a recommendation",),
    )

    def library_version(self) -> str:
        return platform.python_version()

    def backend(self) -> str:
        return "C (_pickle)" if pickle.Pickler is not pickle._Pickler else "pure Python"

    def prepare(self, schema: Record, reader_schema: Record | None = None, policy: str | None = None) -> SimplePrepared:
        self.check_schema(schema)  # raises UnsupportedSchema for kinds we do not claim
        if reader_schema is not None and reader_schema != schema:
            raise UnsupportedSchema(f"{self.name} has no schema evolution: it returns exactly what was written")

        dumps = pickle.dumps

        def encode(native: Any) -> bytes:
            return dumps(native, protocol=5)

        def decode(data: bytes) -> Any:
            return _DataOnlyUnpickler(io.BytesIO(data)).load()

        def from_native(native: Any) -> Any:
            # pickle returns whatever the bytes describe: check it is a value of this schema,
            # so garbage that happens to unpickle is an error, not a wrong answer.
            validate(schema, native)
            return native

        return SimplePrepared(encode=encode, decode=decode, from_native=from_native)
