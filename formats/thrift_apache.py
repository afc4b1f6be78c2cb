"""``thrift/apache-binary`` and ``thrift/apache-compact``: the Apache Thrift project's own Python
library (``thrift`` on PyPI) with its C accelerator ``thrift.protocol.fastbinary``.

There are no generated files: at ``prepare`` time every record of the model becomes a struct class
built in memory the way ``thrift --gen py:slots`` writes it — a ``TBase`` subclass with
``__slots__``, an ``__init__`` whose keyword defaults are the IDL defaults, and a ``thrift_spec``
tuple indexed by field id (``(id, TType, name, type args, default)``, ``None`` for unused ids;
``'UTF8'``/``'BINARY'`` tell string from binary, ``[Class, spec]`` nested structs, ``(etype, eargs,
False)`` lists, ``(ktype, kargs, vtype, vargs, False)`` maps), wired up with the library's own
``thrift.TRecursive.fix_spec``. The IDL (field ids, types, names, enum numbers, defaults) is the
same one :mod:`formats.thrift_schema` generates for thriftpy2 and exports with ``msgbench schema``,
so both Thrift libraries speak the same wire format (``tests/test_wire_compat.py`` proves it).

Timed calls, the library at its fastest honest setting:

- ``encode(obj)``: ``fastbinary.encode_binary(obj, [Class, spec])`` (``encode_compact`` for the
  compact protocol) — exactly the call ``TBinaryProtocolAccelerated``/``TBase.write`` makes
  (``oprot.trans.write(oprot._fast_encode(self, [self.__class__, self.thrift_spec]))``), without
  a throw-away ``TMemoryBuffer`` around the bytes it returns.
- ``decode(data)``: ``Class()`` filled by ``TBase.read`` on a fresh
  ``TBinaryProtocolAccelerated(TMemoryBuffer(data))`` (``TCompactProtocolAccelerated`` for
  compact), i.e. ``thrift.TSerialization.deserialize`` with the accelerated factory. The C decoder
  builds every nested struct, list and map: the result is fully materialised. A read past the end
  raises ``EOFError``; declared container sizes only size the first allocation up to what the
  buffer holds, so a huge count on a short message fails fast.

Native form, ``to_native``/``from_native``: as for thriftpy2 (the same generated converters, see
:mod:`formats.thrift_thriftpy2`): enum values are the model's enum numbers, float32 is a double,
an unset optional is ``None``, a required field missing from the bytes raises
:class:`~payloads.model.SchemaMismatch` (the library does not check ``required`` while decoding).

Library behaviour a reader should know (in ``capabilities.notes``): ``fastbinary`` decodes strings
with ``errors="replace"``, so invalid UTF-8 becomes U+FFFD without an error (thriftpy2's codec
decodes strictly); a field whose wire type differs from the reader's spec is skipped.

Without the C extension (``thrift`` installed from source without a compiler) the library falls
back to its pure-Python protocols: the codec still works, reports ``pure Python`` as its backend,
``slow_backend()`` is True (the report warns) and ``prepare`` issues a ``RuntimeWarning`` with the
reinstall command.
"""

from __future__ import annotations

import threading
import warnings
from typing import Any

from formats import thrift_schema as ts_mod
from formats.api import ALL_TYPE_KINDS, Capabilities, Codec, SchemaText, UnsupportedSchema
from formats.thrift_thriftpy2 import _Gen
from payloads.model import EnumType, ListType, MapType, Primitive, Record, Type, named_types

ACCELERATED = "C accelerator (fastbinary)"
PURE = "pure Python (thrift.protocol.fastbinary C extension missing)"


def fastbinary() -> Any:
    """The ``thrift.protocol.fastbinary`` module, or None when the C extension is not built."""
    try:
        from thrift.protocol import fastbinary as fb
    except ImportError:
        return None
    return fb


def _ttype_args(t: Type, classes: dict[str, type]) -> tuple[int, Any]:
    """(TType, type args) of model type ``t`` in a ``thrift_spec`` entry, as generated code has them."""
    from thrift.Thrift import TType

    if isinstance(t, Primitive):
        k = t.kind
        if k == "bool":
            return TType.BOOL, None
        if k == "int32":
            return TType.I32, None
        if k in ("int64", "timestamp"):
            return TType.I64, None
        if k in ("float32", "float64"):
            return TType.DOUBLE, None
        if k == "string":
            return TType.STRING, "UTF8"
        if k == "bytes":
            return TType.STRING, "BINARY"
    if isinstance(t, EnumType):
        return TType.I32, None
    if isinstance(t, Record):
        return TType.STRUCT, [classes[t.name], None]  # fix_spec fills in the spec
    if isinstance(t, ListType):
        et, ea = _ttype_args(t.items, classes)
        return TType.LIST, (et, ea, False)
    if isinstance(t, MapType):
        vt, va = _ttype_args(t.values, classes)
        return TType.MAP, (TType.STRING, "UTF8", vt, va, False)
    raise UnsupportedSchema(f"thrift (apache): unknown schema type {t!r}")


def _default_value(t: Type, value: Any) -> Any:
    """The IDL default of a field as generated code passes it (None when the IDL has none)."""
    if ts_mod._default_text(t, value, None) is None:  # type: ignore[arg-type]
        return None
    if isinstance(t, EnumType):
        return t.number_of(value)
    if isinstance(t, Primitive) and t.kind in ("float32", "float64"):
        return float(value)
    return value


def _struct_class(name: str, attrs: list[str], defaults: list[Any]) -> type:
    """A ``TBase`` subclass like ``thrift --gen py:slots`` writes: slots, keyword ``__init__``."""
    from thrift.protocol.TBase import TBase

    params = ", ".join(f"{a}=_d{i}" for i, a in enumerate(attrs))
    body = "".join(f"    self.{a} = {a}\n" for a in attrs) or "    pass\n"
    ns: dict[str, Any] = {f"_d{i}": d for i, d in enumerate(defaults)}
    exec(compile(f"def __init__(self{', ' if params else ''}{params}):\n{body}", f"<thrift struct {name}>", "exec"), ns)
    return type(name, (TBase,), {"__slots__": tuple(attrs), "__init__": ns["__init__"], "thrift_spec": None,
                                 "__module__": __name__})


class ApacheThriftSchema:
    """The struct classes for one model schema (duck-types the parts of ``ThriftSchema`` the
    converter generator uses: ``record``, ``module_name``, ``classes``, ``field_names``)."""

    def __init__(self, schema: Record):
        from thrift.TRecursive import fix_spec

        d = ts_mod.describe(schema)
        self.record, self.idl, self.module_name = schema, d.idl, d.module_name + "_apache"
        self.field_names = d.field_names
        records = [nt for nt in named_types(schema) if isinstance(nt, Record)]
        self.classes: dict[str, type] = {}
        for rec in records:
            attrs = [d.field_names[(rec.name, f.name)] for f in rec.fields]
            defaults = [_default_value(f.type, f.default) for f in rec.fields]
            self.classes[rec.name] = _struct_class(d.type_names[rec.name], attrs, defaults)
        for rec in records:
            size = max((f.id for f in rec.fields), default=0) + 1
            if size > 32768:
                raise UnsupportedSchema(f"thrift: field id {size - 1} of {rec.name} does not fit Thrift's i16 ids")
            spec: list[Any] = [None] * size
            for f in rec.fields:
                tt, args = _ttype_args(f.type, self.classes)
                spec[f.id] = (f.id, tt, d.field_names[(rec.name, f.name)], args, _default_value(f.type, f.default))
            self.classes[rec.name].thrift_spec = tuple(spec)
        fix_spec(list(self.classes.values()))

    @property
    def root(self) -> type:
        return self.classes[self.record.name]


_cache: dict[str, ApacheThriftSchema] = {}
_lock = threading.Lock()


def build(schema: Record) -> ApacheThriftSchema:
    """The struct classes for ``schema`` (cached per schema: v1 and v2 of a record never share one)."""
    key = ts_mod.schema_key(schema)
    with _lock:
        hit = _cache.get(key)
        if hit is None:
            hit = _cache[key] = ApacheThriftSchema(schema)
        return hit


class ApacheThriftPrepared:
    """The ``Prepared`` of the Apache Thrift codecs (see the module docstring)."""

    def __init__(self, writer: ApacheThriftSchema, reader: ApacheThriftSchema, protocol: str):
        self.writer, self.reader = writer, reader
        wns = _Gen(writer).generate()  # type: ignore[arg-type]
        rns = wns if reader is writer else _Gen(reader).generate()  # type: ignore[arg-type]
        self.to_native = wns[f"_to{list(writer.classes).index(writer.record.name)}"]
        self.from_native = rns[f"_from{list(reader.classes).index(reader.record.name)}"]
        self.encode, self.decode = _functions(writer.root, reader.root, protocol)


def _functions(writer_cls: type, reader_cls: type, protocol: str) -> tuple[Any, Any]:
    from thrift.protocol import TBinaryProtocol, TCompactProtocol
    from thrift.transport.TTransport import TMemoryBuffer

    fb = fastbinary()
    if protocol == "binary":
        accel, pure = TBinaryProtocol.TBinaryProtocolAccelerated, TBinaryProtocol.TBinaryProtocol
    else:
        accel, pure = TCompactProtocol.TCompactProtocolAccelerated, TCompactProtocol.TCompactProtocol
    if fb is None:
        def encode_pure(obj: Any) -> bytes:
            buf = TMemoryBuffer()
            obj.write(pure(buf))
            return buf.getvalue()

        def decode_pure(data: bytes) -> Any:
            obj = reader_cls()
            obj.read(pure(TMemoryBuffer(data)))
            return obj

        return encode_pure, decode_pure

    fast_encode = fb.encode_binary if protocol == "binary" else fb.encode_compact
    wargs = [writer_cls, writer_cls.thrift_spec]

    def encode(obj: Any) -> bytes:
        return fast_encode(obj, wargs)

    def decode(data: bytes) -> Any:
        obj = reader_cls()
        obj.read(accel(TMemoryBuffer(data)))
        return obj

    return encode, decode


class _ApacheThriftCodec(Codec):
    format = "thrift"
    library = "thrift"
    modules = ("thrift",)
    pip_name = "thrift"
    _protocol: str

    def backend(self) -> str:
        return ACCELERATED if fastbinary() is not None else PURE

    def slow_backend(self) -> bool:
        return fastbinary() is None

    def prepare(self, schema: Record, reader_schema: Record | None = None,
                policy: str | None = None) -> ApacheThriftPrepared:
        for s in (schema, reader_schema):
            if s is not None and not isinstance(s, Record):
                raise UnsupportedSchema(f"{self.name}: the top-level schema must be a record, got {s!r:.80}")
        if fastbinary() is None:
            warnings.warn(f"{self.name}: thrift.protocol.fastbinary is missing; using the pure-Python protocol "
                          "(reinstall thrift with a C++ compiler present: pip install --force-reinstall "
                          "--no-binary thrift thrift)", RuntimeWarning, stacklevel=2)
        writer = build(schema)
        reader = writer if reader_schema is None else build(reader_schema)
        return ApacheThriftPrepared(writer, reader, self._protocol)

    def schema_text(self, schema: Record) -> SchemaText:
        return SchemaText("thrift", ".thrift", ts_mod.describe(schema).idl)


_NOTES = (
    "the Apache Thrift library's C accelerator (thrift.protocol.fastbinary) with struct classes and thrift_spec "
    "tuples built from the model in memory (no generated files); the same IDL and wire format as thriftpy2's codecs",
    "float32 is widened to double (Thrift has no 32-bit float): exact values, 8 bytes each",
    "non-optional fields are `required`; the library does not enforce it when decoding, from_native does",
    "invalid UTF-8 in a string decodes to U+FFFD without an error (fastbinary decodes with errors='replace')",
    "encode calls fastbinary.encode_* directly (what the accelerated protocol's write does); decode is "
    "TBase.read on a fresh accelerated protocol over TMemoryBuffer",
)


class ApacheThriftBinaryCodec(_ApacheThriftCodec):
    name = "thrift/apache-binary"
    _protocol = "binary"
    description = "Thrift binary protocol via Apache Thrift's own library (TBinaryProtocolAccelerated, C fastbinary)"
    capabilities = Capabilities(binary=True, needs_schema=True, types=ALL_TYPE_KINDS, evolution_modes=("tagged",),
                                notes=_NOTES)


class ApacheThriftCompactCodec(_ApacheThriftCodec):
    name = "thrift/apache-compact"
    _protocol = "compact"
    description = "Thrift compact protocol via Apache Thrift's own library (TCompactProtocolAccelerated, C fastbinary)"
    capabilities = Capabilities(binary=True, needs_schema=True, types=ALL_TYPE_KINDS, evolution_modes=("tagged",),
                                notes=_NOTES)
