"""The codec contract: the one module a format plugin imports.

A *codec* is a format + library + variant, named ``format/variant`` (``protobuf/upb``,
``thrift/compact``, ``json/orjson``). A codec class declares what it can do
(:class:`Capabilities`) and turns a payload schema into a :class:`Prepared` object:

    prepared = codec.prepare(schema)            # all schema work happens here, never timed
    native = prepared.to_native(value)          # common model -> library objects (timed apart)
    data = prepared.encode(native)              # timed: native -> bytes
    back = prepared.decode(data)                # timed: bytes -> native, every field materialised
    value2 = prepared.from_native(back)         # library objects -> common model (timed apart)

``decode`` must return a value whose fields are all materialised: a lazy parser (protobuf's
upb) walks the parsed message inside ``decode``; its bare parse is offered as ``parse_lazy`` and
reported separately, never as "decode".

**Access (optional).** A codec whose format can read a few fields without materialising the
whole message (zero-copy: Cap'n Proto, FlatBuffers; lazy: protobuf upb) offers

    access = prepared.make_access(paths)        # paths: Sequence[tuple[str, ...]]; never timed
    values = access(data)                       # timed as "access": bytes -> list of values

``paths`` are model field names descending through nested records only (no list or map steps),
chosen by :func:`payloads.access.access_paths` (three top-level scalars spread over the record
and one scalar inside the first nested record). ``access(data)`` opens the bytes and returns the
model values at the paths, in order: enum -> symbol name, timestamp -> int microseconds, bytes ->
``bytes``, an absent optional field (or any field under an absent optional record) -> ``None``.
All schema work (name resolution, code generation) happens in ``make_access``, never in the
returned function. The harness checks ``access(data)`` against the payload's values before timing
it and reports it on its own, never mixed with ``decode``. A codec without ``make_access`` has no
access figure. Formats that must parse the whole message to reach any field (JSON, XML, Avro,
Thrift, MessagePack, CBOR, BSON, and protobuf's eager pure-Python backend) do not offer it: their
access would be decode plus a lookup, i.e. their decode figure, and offering it would only cost
measuring time — compare a zero-copy codec's access with their decode.

``prepare(writer_schema, reader_schema=..., policy=...)`` serves schema evolution: data encoded
with ``writer_schema`` is decoded by a reader built from ``reader_schema`` using the format's own
mechanism (Avro schema resolution, Protobuf/Thrift tags) and, for text formats, a reader
``policy`` (``"tolerant"`` or ``"strict"``).

All errors derive from :class:`MsgbenchError` and say what to do.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, runtime_checkable

from payloads.errors import MsgbenchError  # noqa: F401 - re-exported for plugins
from payloads.model import EnumType, ListType, MapType, Primitive, Record, Type, named_types

ALL_TYPE_KINDS = frozenset(
    ["bool", "int32", "int64", "float32", "float64", "string", "bytes", "timestamp", "enum", "list", "map", "record"]
)


class MissingDependency(MsgbenchError):
    def __init__(self, codec: str, module: str, pip_name: str):
        self.codec, self.module, self.pip_name = codec, module, pip_name
        super().__init__(f"codec {codec} needs the Python package {module!r}: pip install {pip_name}")


class UnknownCodec(MsgbenchError):
    def __init__(self, name: str, known: list[str]):
        self.name, self.known = name, known
        super().__init__(f"unknown codec or format {name!r}; known: {', '.join(known)} (see `msgbench list`)")


class UnsupportedSchema(MsgbenchError):
    """The codec cannot express this schema or value; the reason is reported, not crashed on."""


class PluginError(MsgbenchError):
    """A third-party codec failed to load, to register or to honour the contract."""


@dataclass(frozen=True)
class Capabilities:
    binary: bool
    needs_schema: bool
    types: frozenset[str] = ALL_TYPE_KINDS
    # How a reader deals with a writer's different schema: "schema-resolution" (Avro),
    # "tagged" (Protobuf/Thrift field ids), "tolerant"/"strict" (text formats' reader policies).
    evolution_modes: tuple[str, ...] = ()
    deterministic: bool = True  # the same value always encodes to the same bytes
    lazy_decode: bool = False  # offers Prepared.parse_lazy
    notes: tuple[str, ...] = ()


@runtime_checkable
class Prepared(Protocol):
    """What ``Codec.prepare`` returns. ``encode``/``decode`` are the only timed calls."""

    def to_native(self, value: Any) -> Any: ...

    def from_native(self, native: Any) -> Any: ...

    def encode(self, native: Any) -> bytes: ...

    def decode(self, data: bytes) -> Any: ...

    # OPTIONAL (not part of the runtime check): codecs that can read fields in place offer
    #     def make_access(self, paths: Sequence[tuple[str, ...]]) -> Callable[[bytes], list]: ...
    # (see the module docstring, "Access"); ``parse_lazy(data)`` likewise for lazy parsers.


class NativeIsModel:
    """Mixin for a prepared codec whose library reads and writes model values directly (the
    conversion is the identity; its work is inside the timed encode/decode)."""

    @staticmethod
    def to_native(value: Any) -> Any:
        return value

    @staticmethod
    def from_native(native: Any) -> Any:
        return native


@dataclass(frozen=True)
class SchemaText:
    """A generated schema a user can inspect or reuse (``.proto``, ``.avsc``, ``.thrift``, ``.xsd``)."""

    language: str
    extension: str
    text: str


class Codec:
    """Base class for codecs. Subclasses set the class attributes and implement ``prepare``."""

    name: ClassVar[str]  # "format/variant"
    format: ClassVar[str]  # "protobuf"
    library: ClassVar[str]  # the distribution whose version is reported, e.g. "protobuf"
    modules: ClassVar[tuple[str, ...]] = ()  # modules that must import; checked by ``check_available``
    pip_name: ClassVar[str] = ""  # what to pip install when a module is missing
    capabilities: ClassVar[Capabilities]
    description: ClassVar[str] = ""
    # Environment variables the codec's measuring process needs, set before anything is imported
    # (e.g. PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION=python). The harness measures every codec in a
    # worker process of its own, so a codec that crashes or hangs cannot take the run down.
    process_env: ClassVar[dict[str, str]] = {}

    def check_available(self) -> None:
        """Raise :class:`MissingDependency` with the pip command when a needed module is absent."""
        import importlib.util

        for mod in self.modules:
            if importlib.util.find_spec(mod) is None:
                raise MissingDependency(self.name, mod, self.pip_name or mod)

    def library_version(self) -> str:
        try:
            return importlib.metadata.version(self.library)
        except importlib.metadata.PackageNotFoundError:
            return "unknown"

    def backend(self) -> str:
        """Which implementation does the work (e.g. ``upb``, ``cybin``, ``C extension``)."""
        return "default"

    def slow_backend(self) -> bool:
        """True when a faster backend of this library exists but is not in use (report warns)."""
        return False

    def prepare(self, schema: Record, reader_schema: Record | None = None, policy: str | None = None) -> Prepared:
        raise NotImplementedError

    def schema_text(self, schema: Record) -> SchemaText | None:
        """The generated schema text, or None for schemaless formats."""
        return None

    def check_schema(self, schema: Record) -> None:
        """Raise :class:`UnsupportedSchema` if the schema uses a type kind this codec lacks."""
        missing = sorted(kinds_used(schema) - self.capabilities.types)
        if missing:
            raise UnsupportedSchema(f"{self.name} does not support type(s) {', '.join(missing)}")


def kinds_used(schema: Type) -> set[str]:
    """The type kinds (as in ``ALL_TYPE_KINDS``) appearing anywhere in ``schema``."""
    kinds: set[str] = set()

    def visit(t: Type) -> None:
        if isinstance(t, Primitive):
            kinds.add(t.kind)
        elif isinstance(t, EnumType):
            kinds.add("enum")
        elif isinstance(t, ListType):
            kinds.add("list")
            visit(t.items)
        elif isinstance(t, MapType):
            kinds.add("map")
            visit(t.values)

    for nt in named_types(schema):
        if isinstance(nt, Record):
            kinds.add("record")
            for f in nt.fields:
                visit(f.type)
        else:
            kinds.add("enum")
    return kinds


@dataclass
class SimplePrepared:
    """A ready-made ``Prepared`` from four callables (identity conversions by default)."""

    encode: Callable[[Any], bytes]
    decode: Callable[[bytes], Any]
    to_native: Callable[[Any], Any] = field(default=lambda v: v)
    from_native: Callable[[Any], Any] = field(default=lambda v: v)
    parse_lazy: Callable[[bytes], Any] | None = None
    make_access: Callable[[Sequence[tuple[str, ...]]], Callable[[bytes], list]] | None = None
