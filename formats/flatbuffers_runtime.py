"""``flatbuffers/python``: FlatBuffers with the official ``flatbuffers`` Python runtime, tables laid
out from the common model at prepare time (see :mod:`formats.flatbuffers_schema`).

Why no ``flatc``-generated code: the Python that ``flatc --python`` emits is accessor classes
calling the same runtime (``Builder.Prepend*Slot``, ``Table.Offset``/``Indirect``/``String``),
one method call per field plus generic checks; the object API (``--gen-object-api``) unpacks
through those accessors again. Building the writer and reader closures here from the same layout
does the same work with fewer calls (one int field read as flatc's generated accessor reads it,
``Table(buf, pos)`` + ``Table.Offset`` + ``Table.Get``, took ~9x the vtable lookup and
``struct.unpack_from`` used here, measured on completed_trip), needs no compiler at run time (so the codec is always
available where ``pip install flatbuffers`` is) and never writes generated code anywhere.
``flatc`` is still used by the tests as an independent reader of the bytes (``flatc --json``
with the exported ``.fbs``).

- Native form: the plain model value (FlatBuffers' Python runtime has no object model of its own
  besides generated code), so ``to_native``/``from_native`` are the identity.
- ``encode(value)``: a ``flatbuffers.Builder`` builds every string, vector and table bottom-up
  with the runtime's ``Create*``/``StartVector``/``Prepend*Slot``/``EndObject`` calls, then
  ``Finish`` + ``Output``: building *is* FlatBuffers' serialisation.
- ``decode(data)``: reads every field of every table (vtable lookups and ``struct.unpack_from``
  on the bytes, vectors of scalars in one ``unpack_from``) into the model value: fully
  materialised. Every length is checked against the buffer, so corrupt bytes raise.
- ``make_access(paths)``: follows the vtables to the asked fields only: FlatBuffers' zero-copy read.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable, Sequence
from typing import Any

from formats import flatbuffers_schema as fbs
from formats.api import ALL_TYPE_KINDS, Capabilities, Codec, NativeIsModel, SchemaText, UnsupportedSchema
from formats.native_convert import SymbolsByNumber
from payloads.model import EnumType, ListType, MapType, Primitive, Record, Type

_U32 = struct.Struct("<I").unpack_from
_I32 = struct.Struct("<i").unpack_from
_U16 = struct.Struct("<H").unpack_from
FMT = {"bool": "?", "int32": "i", "int64": "q", "timestamp": "q", "float32": "f", "float64": "d"}
SIZE = {"?": 1, "i": 4, "q": 8, "f": 4, "d": 8}
SLOT = {"?": "PrependBoolSlot", "i": "PrependInt32Slot", "q": "PrependInt64Slot",
        "f": "PrependFloat32Slot", "d": "PrependFloat64Slot"}
PREPEND = {"?": "PrependBool", "i": "PrependInt32", "q": "PrependInt64", "f": "PrependFloat32", "d": "PrependFloat64"}
ZERO = {"?": False, "i": 0, "q": 0, "f": 0.0, "d": 0.0}


class CorruptBuffer(ValueError):
    """The bytes are not a FlatBuffer of this schema (an offset or length points outside them)."""


def _fmt(t: Type) -> str:
    return "i" if isinstance(t, EnumType) else FMT[t.kind]  # type: ignore[union-attr]


def _empty_table() -> bytes:
    import flatbuffers

    b = flatbuffers.Builder(64)
    b.StartObject(0)
    b.Finish(b.EndObject())
    return bytes(b.Output())


def _scalar_default(f: Any) -> Any:
    """The value FlatBuffers stores as the field's default (what an absent field reads as)."""
    t = f.type
    if isinstance(t, EnumType):
        return t.number_of(f.default) if f.default in t.symbols else 0
    d = fbs._default_text(t, f.default)
    if d is None:
        return ZERO[FMT[t.kind]]
    if t.kind == "bool":
        return f.default
    return float(f.default) if t.kind in ("float32", "float64") else int(f.default)


class _Layout:
    """Writer and reader closures for one :class:`~formats.flatbuffers_schema.FbsSchema`."""

    def __init__(self, fs: fbs.FbsSchema):
        import flatbuffers

        self.fs = fs
        self.Builder = flatbuffers.Builder
        self.writers: dict[str, Any] = {}
        self.readers: dict[str, Any] = {}
        self.specs: dict[str, dict[str, tuple[int, Any, Any]]] = {}  # table -> field -> (voff, read, absent)
        self.empty = _empty_table()
        self.empty_pos = _U32(self.empty, 0)[0]
        self.syms: dict[str, SymbolsByNumber] = {}

    def symbols(self, t: EnumType) -> SymbolsByNumber:
        if t.name not in self.syms:
            self.syms[t.name] = SymbolsByNumber(t, zero="unset (0)")
        return self.syms[t.name]

    # --- writing ----------------------------------------------------------------------------
    def ptr_writer(self, t: Type) -> Callable[[Any, Any], int]:
        B = self.Builder
        if isinstance(t, Primitive):
            return B.CreateString if t.kind == "string" else B.CreateByteVector
        if isinstance(t, Record):
            return self.table_writer(t)
        if isinstance(t, MapType):
            entry = self.table_writer(self.fs.entries[t.values.type_name])
            return self._offset_vector(lambda b, kv: entry(b, {"key": kv[0], "value": kv[1]}), items=True)
        items = t.items  # type: ignore[union-attr]
        if fbs.is_scalar(items):
            c = _fmt(items)
            size, pre = SIZE[c], getattr(B, PREPEND[c])
            num = self.symbols(items).enum.number_of if isinstance(items, EnumType) else None
            start, end = B.StartVector, B.EndVector

            def scalars(b: Any, v: list) -> int:
                start(b, size, len(v), size)
                if num is None:
                    for x in reversed(v):
                        pre(b, x)
                else:
                    for x in reversed(v):
                        pre(b, num(x))
                return end(b)

            return scalars
        if fbs.needs_box(items):
            box = self.fs.boxes[items.type_name]
            inner = box.fields[0].name
            boxw = self.table_writer(box)
            return self._offset_vector(lambda b, x: boxw(b, {inner: x}))
        return self._offset_vector(self.ptr_writer(items))

    def _offset_vector(self, elem: Callable[[Any, Any], int], items: bool = False) -> Callable[[Any, Any], int]:
        B = self.Builder
        start, end, pre = B.StartVector, B.EndVector, B.PrependUOffsetTRelative

        def vector(b: Any, v: Any) -> int:
            offs = [elem(b, x) for x in (v.items() if items else v)]
            start(b, 4, len(offs), 4)
            for o in reversed(offs):
                pre(b, o)
            return end(b)

        return vector

    def table_writer(self, rec: Record) -> Callable[[Any, Any], int]:
        hit = self.writers.get(rec.name)
        if hit is not None:
            return hit
        B = self.Builder
        pointers: list[tuple[str, int, Any]] = []
        scalars: list[tuple[str, int, Any, Any, Any, bool]] = []
        nslots = max((f.id for f in rec.fields), default=0)
        start, end, slot_off = B.StartObject, B.EndObject, B.PrependUOffsetTRelativeSlot
        copysign = math.copysign

        def write(b: Any, v: dict) -> int:
            offs = []
            for name, slot, w in pointers:
                x = v.get(name)
                if x is not None:
                    offs.append((slot, w(b, x)))
            start(b, nslots)
            for name, slot, pre, d, num, isfloat in scalars:
                x = v.get(name)
                if x is None:
                    continue
                if num is not None:
                    x = num(x)
                if isfloat and x == 0 and copysign(1.0, x) < 0:
                    pre(b, slot, x, None)  # -0.0 == 0.0: written, or the sign would be lost
                else:
                    pre(b, slot, x, d)
            for slot, o in offs:
                slot_off(b, slot, o, 0)
            return end(b)

        self.writers[rec.name] = write
        for f in sorted(rec.fields, key=lambda f: -_width(f.type)):  # widest first: least padding
            if fbs.is_scalar(f.type):
                c = _fmt(f.type)
                num = f.type.number_of if isinstance(f.type, EnumType) else None
                d = None if f.optional else _scalar_default(f)
                scalars.append((f.name, f.id - 1, getattr(B, SLOT[c]), d, num, c in "fd"))
            else:
                pointers.append((f.name, f.id - 1, self.ptr_writer(f.type)))
        return write

    # --- reading ----------------------------------------------------------------------------
    def reader(self, t: Type) -> Callable[[Any, int], Any]:
        """A function reading a value of type ``t`` whose field (or vector element) is at ``p``."""
        if fbs.is_scalar(t):
            unpack = struct.Struct("<" + _fmt(t)).unpack_from
            if isinstance(t, EnumType):
                syms = self.symbols(t)
                return lambda buf, p: syms[unpack(buf, p)[0]]
            return lambda buf, p: unpack(buf, p)[0]
        if isinstance(t, Primitive):  # string / bytes: a uoffset to [u32 length][bytes]
            text = t.kind == "string"

            def blob(buf: Any, p: int) -> Any:
                p += _U32(buf, p)[0]
                n = _U32(buf, p)[0]
                p += 4
                if p + n > len(buf):
                    raise CorruptBuffer(f"a {t.kind} of {n} bytes at {p} runs past the end ({len(buf)} bytes)")
                return buf[p:p + n].decode() if text else bytes(buf[p:p + n])

            return blob
        if isinstance(t, Record):
            table = self.table_reader(t)
            return lambda buf, p: table(buf, p + _U32(buf, p)[0])
        if isinstance(t, MapType):
            entry = self.table_reader(self.fs.entries[t.values.type_name])
            vec = self._offset_vector_reader(lambda buf, p: entry(buf, p + _U32(buf, p)[0]))
            return lambda buf, p: {e["key"]: e["value"] for e in vec(buf, p)}
        items = t.items  # type: ignore[union-attr]
        if fbs.is_scalar(items):
            c = _fmt(items)
            size = SIZE[c]
            syms = self.symbols(items) if isinstance(items, EnumType) else None
            unpack_from = struct.unpack_from

            def scalars(buf: Any, p: int) -> list:
                p += _U32(buf, p)[0]
                n = _U32(buf, p)[0]
                if p + 4 + n * size > len(buf):
                    raise CorruptBuffer(f"a vector of {n} x {size} bytes at {p} runs past the end ({len(buf)} bytes)")
                vals = unpack_from(f"<{n}{c}", buf, p + 4)
                return list(vals) if syms is None else [syms[x] for x in vals]

            return scalars
        if fbs.needs_box(items):
            box = self.fs.boxes[items.type_name]
            inner = box.fields[0].name
            boxr = self.table_reader(box)
            return self._offset_vector_reader(lambda buf, p: boxr(buf, p + _U32(buf, p)[0])[inner])
        return self._offset_vector_reader(self.reader(items))

    @staticmethod
    def _offset_vector_reader(elem: Callable[[Any, int], Any]) -> Callable[[Any, int], list]:
        def vector(buf: Any, p: int) -> list:
            p += _U32(buf, p)[0]
            n = _U32(buf, p)[0]
            p += 4
            if p + 4 * n > len(buf):
                raise CorruptBuffer(f"a vector of {n} offsets at {p} runs past the end ({len(buf)} bytes)")
            return [elem(buf, q) for q in range(p, p + 4 * n, 4)]

        return vector

    def absent(self, f: Any) -> Callable[[], Any]:
        """What a field missing from its table reads as (its default, ``None`` if optional)."""
        t = f.type
        if f.optional:
            return lambda: None
        if fbs.is_scalar(t):
            d = _scalar_default(f)
            if isinstance(t, EnumType):
                syms = self.symbols(t)
                return lambda: syms[d]
            return lambda: d
        if isinstance(t, Primitive):
            e = "" if t.kind == "string" else b""
            return lambda: e
        if isinstance(t, ListType):
            return lambda: []
        if isinstance(t, MapType):
            return lambda: {}
        table = self.table_reader(t)
        return lambda: table(self.empty, self.empty_pos)

    def table_reader(self, rec: Record) -> Callable[[Any, int], dict]:
        hit = self.readers.get(rec.name)
        if hit is not None:
            return hit
        specs: list[tuple[str, int, Any, Any]] = []

        def read(buf: Any, pos: int) -> dict:
            vt = pos - _I32(buf, pos)[0]
            if vt < 0:  # unpack_from would count a negative offset from the end
                raise CorruptBuffer(f"the vtable of the table at {pos} lies before the start of the buffer")
            vtsize = _U16(buf, vt)[0]
            out = {}
            for name, voff, r, absent in specs:
                o = _U16(buf, vt + voff)[0] if voff < vtsize else 0
                out[name] = r(buf, pos + o) if o else absent()
            return out

        self.readers[rec.name] = read
        self.specs[rec.name] = {}
        for f in rec.fields:
            spec = (f.name, 4 + 2 * (f.id - 1), self.reader(f.type), self.absent(f))
            specs.append(spec)
            self.specs[rec.name][f.name] = spec[1:]
        return read

    def getter(self, rec: Record, path: tuple[str, ...], full: tuple[str, ...]) -> Callable[[Any, int], Any]:
        f = rec.get(path[0])
        if f is None:
            raise UnsupportedSchema(f"flatbuffers access: {rec.name} has no field {path[0]!r} (path {'.'.join(full)})")
        self.table_reader(rec)
        voff, read, absent = self.specs[rec.name][f.name]
        if len(path) == 1:
            def leaf(buf: Any, pos: int) -> Any:
                vt = pos - _I32(buf, pos)[0]
                o = _U16(buf, vt + voff)[0] if voff < _U16(buf, vt)[0] else 0
                return read(buf, pos + o) if o else absent()

            return leaf
        if not isinstance(f.type, Record):
            raise UnsupportedSchema(f"flatbuffers access: {f.name} in {'.'.join(full)} is not a record; paths "
                                    "descend through nested records only")
        sub = self.getter(f.type, path[1:], full)
        optional, empty, empty_pos = f.optional, self.empty, self.empty_pos

        def step(buf: Any, pos: int) -> Any:
            vt = pos - _I32(buf, pos)[0]
            o = _U16(buf, vt + voff)[0] if voff < _U16(buf, vt)[0] else 0
            if not o:
                return None if optional else sub(empty, empty_pos)
            q = pos + o
            return sub(buf, q + _U32(buf, q)[0])

        return step


def _width(t: Type) -> int:
    return SIZE[_fmt(t)] if fbs.is_scalar(t) else 4


class FlatbuffersPrepared(NativeIsModel):
    """The ``Prepared`` of ``flatbuffers/python`` (see the module docstring)."""

    def __init__(self, writer: fbs.FbsSchema, reader: fbs.FbsSchema):
        self.writer, self.reader = writer, reader
        wl = _Layout(writer)
        self._rl = rl = wl if reader is writer else _Layout(reader)
        root_w = wl.table_writer(writer.record)
        root_r = rl.table_reader(reader.record)
        # One Builder reused through Clear(), as FlatBuffers recommends for repeated serialisation:
        # its buffer keeps the largest size seen, so later messages skip the grow-and-copy steps.
        # (Not thread-safe: one prepared object per thread.)
        b = wl.Builder(1024)
        clear, finish, output = b.Clear, b.Finish, b.Output

        def encode(value: dict) -> bytes:
            clear()
            finish(root_w(b, value))
            return bytes(output())

        def decode(data: bytes) -> dict:
            return root_r(data, _U32(data, 0)[0])

        self.encode, self.decode = encode, decode

    def make_access(self, paths: Sequence[tuple[str, ...]]) -> Callable[[bytes], list]:
        getters = [self._rl.getter(self.reader.record, tuple(p), tuple(p)) for p in paths]

        def access(data: bytes) -> list:
            pos = _U32(data, 0)[0]
            return [g(data, pos) for g in getters]

        return access


class FlatbuffersCodec(Codec):
    name = "flatbuffers/python"
    format = "flatbuffers"
    library = "flatbuffers"
    modules = ("flatbuffers",)
    pip_name = "flatbuffers"
    description = "FlatBuffers, official Python runtime (Builder), tables laid out from the model (no flatc needed)"
    capabilities = Capabilities(
        binary=True,
        needs_schema=True,
        types=ALL_TYPE_KINDS,
        evolution_modes=("tagged",),
        deterministic=True,
        notes=(
            "pure Python: the official flatbuffers runtime has no C extension",
            "vtable slot = model field id - 1 (free ids: deprecated placeholders); optional scalars are "
            "FlatBuffers optional scalars (= null)",
            "a non-optional scalar equal to its default is not written (FlatBuffers' rule)",
            "no vector of vectors: list/map/bytes elements are wrapped in one-field tables",
            "encode = Builder + Finish (building is the serialisation); decode reads every field; access reads "
            "only the asked fields in place",
        ),
    )

    def backend(self) -> str:
        return "pure Python (official flatbuffers runtime; no C extension exists)"

    def prepare(self, schema: Record, reader_schema: Record | None = None,
                policy: str | None = None) -> FlatbuffersPrepared:
        writer = fbs.describe(schema)
        reader = writer if reader_schema is None else fbs.describe(reader_schema)
        return FlatbuffersPrepared(writer, reader)

    def schema_text(self, schema: Record) -> SchemaText:
        return SchemaText("flatbuffers", ".fbs", fbs.describe(schema).text)
