"""``thrift/binary`` and ``thrift/compact``: thriftpy2 with struct classes generated from the model
at runtime (see :mod:`formats.thrift_schema` for the model -> IDL mapping).

- ``to_native(value)``: the generated struct objects, built recursively with keyword arguments
  (enum values as their ints, float32 as a double, bytes as ``binary``).
- ``encode(obj)`` / ``decode(data)``: one struct, no message envelope.
- ``from_native(obj)``: the canonical model value (enum ints -> symbols, unset optional ->
  ``None``); a *required* field that the bytes did not carry raises
  :class:`~payloads.model.SchemaMismatch` (thriftpy2 does not check ``required`` itself), an
  unknown enum number maps to the enum's ``default`` symbol or raises.

``thrift/binary`` uses thriftpy2's Cython binary protocol (``TCyBinaryProtocol``), not
``thriftpy2.utils.serialize``/``deserialize``, whose default is the pure-Python protocol (~17x
slower). Encoding writes into a fresh ``TCyMemoryBuffer``. Decoding reads through a fresh
``TCyBufferedTransport`` over an ``io.BytesIO``: thriftpy2's ``TCyMemoryBuffer`` does not raise
when a read runs past the end of its data (it returns fewer bytes, leaving the rest of the value
as zeros or stale memory), so a truncated or garbage message would "decode" and a garbage list
length could make it build millions of elements; the buffered transport raises
``TTransportException`` at the end of the data instead. Strings are decoded strictly (invalid
UTF-8 raises, as in protobuf) rather than handed back as ``bytes``. Nothing mutable is shared
between calls.

``thrift/compact`` uses ``TCompactProtocol``: thriftpy2 has no compiled compact protocol, so it is
pure Python (reported as its backend; no faster one exists to warn about). It reads/writes an
``io.BytesIO`` directly (the protocol only calls ``read``/``write``; thriftpy2's ``TMemoryBuffer``
adds a seek/tell per read). A read past the end gives fewer bytes, which the protocol's
``struct.unpack``/``ord`` turn into an exception at the latest at the struct's missing stop byte.

With ``reader_schema`` the writer's classes build and encode and the reader's classes decode
(Thrift field ids and types decide what is kept, skipped or missing).
"""

from __future__ import annotations

import io
from typing import Any

from formats import thrift_schema as ts_mod
from formats.api import ALL_TYPE_KINDS, Capabilities, Codec, SchemaText, UnsupportedSchema
from formats.native_convert import SymbolsByNumber
from payloads.model import EnumType, ListType, MapType, Primitive, Record, SchemaMismatch, Type


def _cybin_available() -> bool:
    try:
        from thriftpy2.protocol import cybin  # noqa: F401
        from thriftpy2.transport.buffered import cybuffered  # noqa: F401
        from thriftpy2.transport.memory import cymemory  # noqa: F401
    except Exception:
        return False
    return True


def _missing_required(obj: Any, record: str, names: tuple[str, ...]) -> None:
    absent = [n for n in names if getattr(obj, n, None) is None]
    # thriftpy2 leaves a field None both when the bytes lack its id and when they carry the id with
    # another wire type (it skips such a field): the struct cannot tell the two apart
    raise SchemaMismatch(f"<{record}>", f"required field(s) {', '.join(absent)} not read: absent from the Thrift "
                         "bytes, or present with a different wire type, which thriftpy2 skips (left None)")


class _Gen:
    """Generates to_native / from_native functions for one :class:`ThriftSchema`."""

    def __init__(self, ts: ts_mod.ThriftSchema):
        self.ts = ts
        self.ns: dict[str, Any] = {"_missing_required": _missing_required}
        self.rec_ids = {name: i for i, name in enumerate(ts.classes)}
        for name, i in self.rec_ids.items():
            self.ns[f"C{i}"] = ts.classes[name]
        self.enum_ids: dict[str, int] = {}
        self.lines: list[str] = []
        self.depth = 0

    def _enum(self, t: EnumType) -> int:
        j = self.enum_ids.get(t.name)
        if j is None:
            j = self.enum_ids[t.name] = len(self.enum_ids)
            self.ns[f"N{j}"] = t.symbol_numbers()
            self.ns[f"S{j}"] = SymbolsByNumber(t)
        return j

    def conv(self, t: Type, x: str, to: bool) -> str:
        """Expression converting ``x`` (never None) of type ``t``; returns ``x`` when nothing to do."""
        if isinstance(t, Primitive):
            return x
        if isinstance(t, EnumType):
            return f"{'N' if to else 'S'}{self._enum(t)}[{x}]"
        if isinstance(t, Record):
            return f"{'_to' if to else '_from'}{self.rec_ids[t.name]}({x})"
        self.depth += 1
        e = f"e{self.depth}"
        try:
            if isinstance(t, ListType):
                inner = self.conv(t.items, e, to)
                return x if inner == e else f"[{inner} for {e} in {x}]"
            if isinstance(t, MapType):
                inner = self.conv(t.values, e, to)
                return x if inner == e else f"{{k{self.depth}: {inner} for k{self.depth}, {e} in {x}.items()}}"
        finally:
            self.depth -= 1
        raise UnsupportedSchema(f"thrift: unknown schema type {t!r}")

    def generate(self) -> dict[str, Any]:
        for rec in (r for r in self._records()):
            self._to(rec)
            self._from(rec)
        src = "\n".join(self.lines) + "\n"
        exec(compile(src, f"<msgbench thrift {self.ts.module_name}>", "exec"), self.ns)
        self.ns["__source__"] = src
        return self.ns

    def _records(self) -> list[Record]:
        from payloads.model import named_types

        return [nt for nt in named_types(self.ts.record) if isinstance(nt, Record)]

    def _to(self, rec: Record) -> None:
        i = self.rec_ids[rec.name]
        L = self.lines
        L += [f"def _to{i}(v):", "    g = v.get"]
        args = []
        for n, f in enumerate(rec.fields):
            tname = self.ts.field_names[(rec.name, f.name)]
            get = f"g({f.name!r})"
            conv = self.conv(f.type, f"x{n}", True)
            if conv == f"x{n}":
                args.append(f"{tname}={get}")
            else:
                L.append(f"    x{n} = {get}")
                args.append(f"{tname}=None if x{n} is None else {conv}")
        L += [f"    return C{i}({', '.join(args)})", ""]

    def _from(self, rec: Record) -> None:
        i = self.rec_ids[rec.name]
        L = self.lines
        L.append(f"def _from{i}(o):")
        items, required = [], []
        for n, f in enumerate(rec.fields):
            tname = self.ts.field_names[(rec.name, f.name)]
            a = f"o.{tname}"
            if not f.optional:
                required.append(tname)
            conv = self.conv(f.type, f"x{n}", False)
            if conv == f"x{n}":
                items.append(f"{f.name!r}: {a}")
            else:
                L.append(f"    x{n} = {a}")
                items.append(f"{f.name!r}: None if x{n} is None else {conv}")
        if required:
            cond = " or ".join(f"o.{r} is None" for r in required)
            L.append(f"    if {cond}:")
            L.append(f"        _missing_required(o, {rec.name!r}, {tuple(required)!r})")
        L += ["    return {" + ", ".join(items) + "}", ""]


class ThriftPrepared:
    """The ``Prepared`` of the thrift codecs; ``encode``/``decode`` are set by the codec."""

    def __init__(self, writer: ts_mod.ThriftSchema, reader: ts_mod.ThriftSchema):
        self.writer, self.reader = writer, reader
        wns = _Gen(writer).generate()
        rns = wns if reader is writer else _Gen(reader).generate()
        self.to_native = wns[f"_to{list(writer.classes).index(writer.record.name)}"]
        self.from_native = rns[f"_from{list(reader.classes).index(reader.record.name)}"]
        self.source = wns["__source__"]
        self.encode: Any = None
        self.decode: Any = None


def _binary_functions(reader_cls: type) -> tuple[Any, Any]:
    from thriftpy2.protocol.cybin import TCyBinaryProtocol
    from thriftpy2.transport.buffered.cybuffered import TCyBufferedTransport
    from thriftpy2.transport.memory.cymemory import TCyMemoryBuffer

    BytesIO = io.BytesIO

    def encode(obj: Any) -> bytes:
        buf = TCyMemoryBuffer()
        TCyBinaryProtocol(buf).write_struct(obj)
        return buf.getvalue()

    def decode(data: bytes) -> Any:
        obj = reader_cls()
        TCyBinaryProtocol(TCyBufferedTransport(BytesIO(data)), strict_decode=True).read_struct(obj)
        return obj

    return encode, decode


def _pure_binary_functions(reader_cls: type) -> tuple[Any, Any]:
    from thriftpy2.protocol.binary import TBinaryProtocol

    return _pure_functions(reader_cls, lambda t: TBinaryProtocol(t, strict_decode=True))


def _pure_functions(reader_cls: type, make: Any) -> tuple[Any, Any]:
    BytesIO = io.BytesIO

    def encode(obj: Any) -> bytes:
        out = BytesIO()
        make(out).write_struct(obj)
        return out.getvalue()

    def decode(data: bytes) -> Any:
        obj = reader_cls()
        make(BytesIO(data)).read_struct(obj)
        return obj

    return encode, decode


def _compact_functions(reader_cls: type) -> tuple[Any, Any]:
    from thriftpy2.protocol.compact import TCompactProtocol

    return _pure_functions(reader_cls, lambda t: TCompactProtocol(t, strict_decode=True))


class _ThriftCodec(Codec):
    format = "thrift"
    library = "thriftpy2"
    modules = ("thriftpy2",)
    pip_name = "thriftpy2"

    def _functions(self, reader_cls: type) -> tuple[Any, Any]:
        raise NotImplementedError

    def prepare(self, schema: Record, reader_schema: Record | None = None, policy: str | None = None) -> ThriftPrepared:
        if not isinstance(schema, Record):
            raise UnsupportedSchema(f"{self.name}: the top-level schema must be a record, got {schema!r:.80}")
        writer = ts_mod.build(schema)
        reader = writer if reader_schema is None else ts_mod.build(reader_schema)
        p = ThriftPrepared(writer, reader)
        p.encode, p.decode = self._functions(reader.root)
        return p

    def schema_text(self, schema: Record) -> SchemaText:
        return SchemaText("thrift", ".thrift", ts_mod.describe(schema).idl)


_COMMON_NOTES = (
    "float32 is widened to double (Thrift has no 32-bit float): exact values, 8 bytes each",
    "non-optional fields are `required`; thriftpy2 does not enforce it, from_native does",
    "enum values are the model's enum numbers (1..n unless given); an unknown number reads as the enum's "
    "default symbol, else an error",
)


class ThriftBinaryCodec(_ThriftCodec):
    name = "thrift/binary"
    description = "Thrift binary protocol via thriftpy2's Cython protocol (cybin), IDL generated from the model"
    capabilities = Capabilities(
        binary=True,
        needs_schema=True,
        types=ALL_TYPE_KINDS,
        evolution_modes=("tagged",),
        notes=_COMMON_NOTES
        + (
            "decode reads through TCyBufferedTransport so truncated data raises (TCyMemoryBuffer reads past "
            "the end silently)",
        ),
    )

    def backend(self) -> str:
        return "cybin" if _cybin_available() else "pure-python"

    def slow_backend(self) -> bool:
        return not _cybin_available()

    def _functions(self, reader_cls: type) -> tuple[Any, Any]:
        if _cybin_available():
            return _binary_functions(reader_cls)
        return _pure_binary_functions(reader_cls)


class ThriftCompactCodec(_ThriftCodec):
    name = "thrift/compact"
    description = "Thrift compact protocol via thriftpy2 (pure Python: thriftpy2 has no compiled compact protocol)"
    capabilities = Capabilities(
        binary=True,
        needs_schema=True,
        types=ALL_TYPE_KINDS,
        evolution_modes=("tagged",),
        notes=_COMMON_NOTES
        + (
            "thriftpy2 has no compiled compact protocol: TCompactProtocol is pure Python, so its speed is "
            "thriftpy2's, not the compact format's: thrift/apache-compact (Apache Thrift's C accelerator) writes "
            "the same bytes",
        ),
    )

    def backend(self) -> str:
        return "pure-python (no compiled compact protocol in thriftpy2)"

    def slow_backend(self) -> bool:
        return False  # no faster compact protocol exists in thriftpy2

    def _functions(self, reader_cls: type) -> tuple[Any, Any]:
        return _compact_functions(reader_cls)
