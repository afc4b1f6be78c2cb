"""``capnp/packed`` and ``capnp/unpacked``: Cap'n Proto via pycapnp (the C++ library), with the
schema generated from the common model at runtime (see :mod:`formats.capnp_schema` for the mapping,
the dense-ordinal rule and what it means for evolution).

- Native form: the plain model value (``to_native``/``from_native`` are the identity). pycapnp's
  own object model is the builder/reader over the message's bytes, so there is no separate
  "message object" to build outside the timed region: building the message *is* the
  serialisation in Cap'n Proto.
- ``encode(value)``: ``Root.new_message()`` filled field by field by writers generated per
  schema at ``prepare`` (``_set_by_field``/``_init_by_field`` with the schema's field objects, the
  fastest calls pycapnp offers: a name lookup through ``getattr`` costs ~7x more), then
  ``to_bytes()`` (unpacked) or ``to_bytes_packed()`` (packed).
- ``decode(data)``: ``Root.from_bytes(data)`` / ``from_bytes_packed(data)`` and a generated walk
  reading every field (``_get_by_field``) into the model value: fully materialised. (On
  completed_trip, pycapnp's ``to_dict()`` alone took ~5x this walk, and ``new_message(**dict)``
  ~7x the generated writer; ``to_dict`` also raises on an enumerant its schema does not know,
  where the walk reads the raw number and maps it like every other codec.)
- ``make_access(paths)``: opens the bytes (``from_bytes`` / ``from_bytes_packed``) and reads only
  the fields at ``paths`` in place: the zero-copy read Cap'n Proto is built for (packed must
  unpack the whole message first, so it cannot be zero-copy).

The packed encoding compresses runs of zero bytes (Cap'n Proto's own, cheap, "packing"); both
are the same message, and each reads the other's after (un)packing (tests/test_zero_copy.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from formats import capnp_schema as cs_mod
from formats.api import ALL_TYPE_KINDS, Capabilities, Codec, NativeIsModel, SchemaText, UnsupportedSchema
from formats.native_convert import SymbolsByNumber
from payloads.model import EnumType, ListType, MapType, Primitive, Record, Type


def _scalar(t: Type) -> bool:
    return cs_mod._scalar_kind(t)


class _Conv:
    """Per-schema writers (model value -> builder) and readers (reader -> model value), built once."""

    def __init__(self, cs: cs_mod.CapnpSchema):
        self.cs = cs
        self.writers: dict[str, Any] = {}
        self.readers: dict[str, Any] = {}
        self.syms: dict[str, SymbolsByNumber] = {}
        self.fields = {name: {i.name: i for i in infos} for name, infos in cs.fields.items()}
        self.entry_structs = {tn: getattr(cs.module, en) for tn, en in cs.entry_names.items()}

    def struct_schema(self, rec: Record) -> Any:
        return self.cs.structs[rec.name].schema

    def symbols(self, t: EnumType) -> SymbolsByNumber:
        s = self.syms.get(t.name)
        if s is None:
            s = self.syms[t.name] = SymbolsByNumber(
                t, dict(self.cs.enum_symbols[t.name]),
                unknown=lambda key: f"enumerant {key!r} is not a symbol of the model enum (unset, a placeholder or "
                                    "a newer writer's symbol) and the enum has no default")
        return s

    # --- model -> builder -------------------------------------------------------------------
    def elem_setter(self, t: Type) -> Callable[[Any, int, Any], None] | None:
        """How to put one value of type ``t`` into list builder slot ``i`` (None: ``lst[i] = x``)."""
        if isinstance(t, Primitive):
            return None
        if isinstance(t, EnumType):
            names = self.cs.enum_names[t.name]  # a list element takes the enumerant's name, not its number

            def enum_elem(lst: Any, i: int, x: Any) -> None:
                lst[i] = names[x]

            return enum_elem
        if isinstance(t, Record):
            w = self.record_writer(t)
            return lambda lst, i, x: w(lst[i], x)
        if isinstance(t, MapType):
            fill = self.entries_filler(t)
            return lambda lst, i, x: fill(lst.init(i, len(x)), x)
        fill = self.list_filler(t)  # type: ignore[arg-type]
        return lambda lst, i, x: fill(lst.init(i, len(x)), x)

    def list_filler(self, t: ListType) -> Callable[[Any, list], None]:
        put = self.elem_setter(t.items)

        def fill(lst: Any, v: list) -> None:
            if put is None:
                for i, x in enumerate(v):
                    lst[i] = x
            else:
                for i, x in enumerate(v):
                    put(lst, i, x)

        return fill

    def entries_filler(self, t: MapType) -> Callable[[Any, dict], None]:
        ef = self.entry_structs[t.values.type_name].schema.fields
        kf, vf = ef["key"], ef["value"]
        set_value = self.field_setter(vf, t.values)

        def fill(lst: Any, v: dict) -> None:
            for i, (k, x) in enumerate(v.items()):
                e = lst[i]
                e._set_by_field(kf, k)
                set_value(e, x)

        return fill

    def field_setter(self, f: Any, t: Type) -> Callable[[Any, Any], None]:
        """How to set struct field ``f`` (a pycapnp field object) of type ``t`` to a model value."""
        if isinstance(t, Primitive):
            return lambda b, x: b._set_by_field(f, x)
        if isinstance(t, EnumType):
            ords = self.cs.enum_ordinals[t.name]
            return lambda b, x: b._set_by_field(f, ords[x])
        if isinstance(t, Record):
            w = self.record_writer(t)
            return lambda b, x: w(b._init_by_field(f), x)
        if isinstance(t, MapType):
            fill = self.entries_filler(t)
            return lambda b, x: fill(b._init_by_field(f, len(x)), x)
        if isinstance(t.items, Primitive):  # type: ignore[union-attr]
            return lambda b, x: b._set_by_field(f, x)  # pycapnp copies a list of scalars/text in one call
        fill = self.list_filler(t)  # type: ignore[arg-type]
        return lambda b, x: fill(b._init_by_field(f, len(x)), x)

    def record_writer(self, rec: Record) -> Callable[[Any, dict], None]:
        hit = self.writers.get(rec.name)
        if hit is not None:
            return hit
        specs: list[tuple[str, Any, Any]] = []

        def write(b: Any, v: dict) -> None:
            for name, setter, group in specs:
                x = v.get(name)
                if group is None:
                    if x is not None:
                        setter(b, x)
                elif x is None:
                    b._get_by_field(group)._set("none", None)
                else:
                    setter(b._get_by_field(group), x)

        self.writers[rec.name] = write
        fields = self.struct_schema(rec).fields
        for i in self.cs.fields[rec.name]:
            f = fields[i.cname]
            if i.union:
                vf = f.schema.fields["value"]
                specs.append((i.name, self.field_setter(vf, i.type), f))
            else:
                specs.append((i.name, self.field_setter(f, i.type), None))
        return write

    # --- reader -> model --------------------------------------------------------------------
    def value_reader(self, t: Type) -> Callable[[Any], Any] | None:
        """Converts a pycapnp reader value of type ``t`` to the model value (None: as it is)."""
        if isinstance(t, Primitive):
            return None
        if isinstance(t, EnumType):
            syms = self.symbols(t)
            return lambda x: syms[x.raw]
        if isinstance(t, Record):
            return self.record_reader(t)
        if isinstance(t, ListType):
            c = self.value_reader(t.items)
            if c is None:
                return list
            return lambda v: [c(e) for e in v]
        ef = self.entry_structs[t.values.type_name].schema.fields
        kf, vf = ef["key"], ef["value"]
        c = self.value_reader(t.values)
        if c is None:
            return lambda v: {e._get_by_field(kf): e._get_by_field(vf) for e in v}
        return lambda v: {e._get_by_field(kf): c(e._get_by_field(vf)) for e in v}

    def record_reader(self, rec: Record) -> Callable[[Any], dict]:
        hit = self.readers.get(rec.name)
        if hit is not None:
            return hit
        specs: list[tuple[str, Any, Any, int, Any]] = []
        PLAIN, OPTIONAL, UNION = 0, 1, 2

        def read(r: Any) -> dict:
            out = {}
            for name, f, c, mode, vf in specs:
                if mode == PLAIN:  # scalars, and pointers that read as empty when null
                    x = r._get_by_field(f)
                elif mode == OPTIONAL:
                    if not r._has_by_field(f):
                        out[name] = None
                        continue
                    x = r._get_by_field(f)
                else:
                    g = r._get_by_field(f)
                    if g._which_str() != "value":
                        out[name] = None
                        continue
                    x = g._get_by_field(vf)
                out[name] = x if c is None else c(x)
            return out

        self.readers[rec.name] = read
        fields = self.struct_schema(rec).fields
        for i in self.cs.fields[rec.name]:
            f = fields[i.cname]
            c = self.value_reader(i.type)
            if i.union:
                specs.append((i.name, f, c, UNION, f.schema.fields["value"]))
            else:
                specs.append((i.name, f, c, OPTIONAL if i.optional else PLAIN, None))
        return read

    # --- in-place reads for make_access -----------------------------------------------------
    def getter(self, root: Record, path: tuple[str, ...]) -> Callable[[Any], Any]:
        rec: Type = root
        steps: list[tuple[Any, bool]] = []
        info = None
        for n, name in enumerate(path):
            if not isinstance(rec, Record) or rec.get(name) is None:
                where = ".".join(path[:n]) or root.name
                raise UnsupportedSchema(f"capnp access: {where} has no field {name!r}")
            info = self.fields[rec.name][name]
            f = self.struct_schema(rec).fields[info.cname]
            if n < len(path) - 1:
                if not isinstance(info.type, Record):
                    raise UnsupportedSchema(f"capnp access: {'.'.join(path[: n + 1])} is not a record; paths "
                                            "descend through nested records only")
                steps.append((f, info.optional))
            rec = info.type
        assert info is not None
        c = self.value_reader(info.type)
        union, optional = info.union, info.optional and not info.union
        vf = f.schema.fields["value"] if union else None

        def get(r: Any) -> Any:
            for sf, nullable in steps:
                if nullable and not r._has_by_field(sf):
                    return None
                r = r._get_by_field(sf)
            if union:
                g = r._get_by_field(f)
                if g._which_str() != "value":
                    return None
                x = g._get_by_field(vf)
            elif optional and not r._has_by_field(f):
                return None
            else:
                x = r._get_by_field(f)
            return x if c is None else c(x)

        return get


class CapnpPrepared(NativeIsModel):
    """The ``Prepared`` of both Cap'n Proto codecs (see the module docstring)."""

    def __init__(self, writer: cs_mod.CapnpSchema, reader: cs_mod.CapnpSchema, packed: bool):
        self.writer, self.reader, self.packed = writer, reader, packed
        wconv = _Conv(writer)
        self._rconv = rconv = wconv if reader is writer else _Conv(reader)
        write = wconv.record_writer(writer.record)
        read = rconv.record_reader(reader.record)
        new_message = writer.root.new_message
        if packed:
            def encode(value: dict) -> bytes:
                msg = new_message()
                write(msg, value)
                return msg.to_bytes_packed()

            open_packed = reader.root.from_bytes_packed

            def decode(data: bytes) -> Any:
                return read(open_packed(data))
        else:
            def encode(value: dict) -> bytes:
                msg = new_message()
                write(msg, value)
                return msg.to_bytes()

            open_bytes = reader.root.from_bytes

            def decode(data: bytes) -> Any:
                with open_bytes(data) as r:
                    return read(r)
        self.encode, self.decode = encode, decode

    def make_access(self, paths: Sequence[tuple[str, ...]]) -> Callable[[bytes], list]:
        """A function that opens the bytes and returns the model values at ``paths``."""
        getters = [self._rconv.getter(self.reader.record, tuple(p)) for p in paths]
        root = self.reader.root
        if self.packed:
            open_packed = root.from_bytes_packed

            def access(data: bytes) -> list:
                r = open_packed(data)
                return [g(r) for g in getters]
        else:
            open_bytes = root.from_bytes

            def access(data: bytes) -> list:
                with open_bytes(data) as r:
                    return [g(r) for g in getters]
        return access


class _CapnpCodec(Codec):
    format = "capnp"
    library = "pycapnp"
    modules = ("capnp",)
    pip_name = "pycapnp"
    packed: bool = False
    capabilities = Capabilities(
        binary=True,
        needs_schema=True,
        types=ALL_TYPE_KINDS,
        # Cap'n Proto matches fields by ordinal, and the ordinal fixes the field's place in the layout
        evolution_modes=("ordinal",),
        deterministic=True,
        notes=(
            "schema generated from the model at runtime and loaded with pycapnp (no capnp compiler)",
            "ordinals are dense in ascending field-id order: only a field added with the highest id is a "
            "safe change; removing a field or adding a lower id shifts the layout of later fields",
            "optional scalars/enums: union { none; value }; optional Text/Data/List/struct: null pointer",
            "enums: @0 = unspecified, model number n = @n; unknown enumerants read as the enum's default, else an error",
            "native form = the model value: encode builds the message (Cap'n Proto's builder is the serialiser); "
            "decode = open + a walk reading every field into the model value; access reads only the asked fields",
        ),
    )

    def backend(self) -> str:
        try:
            import capnp

            v = getattr(capnp, "__version__", "") or self.library_version()
        except Exception:  # pragma: no cover
            v = "?"
        return f"C++ libcapnp (pycapnp {v}), {'packed' if self.packed else 'unpacked'}"

    def prepare(self, schema: Record, reader_schema: Record | None = None, policy: str | None = None) -> CapnpPrepared:
        writer = cs_mod.build(schema)
        reader = writer if reader_schema is None else cs_mod.build(reader_schema)
        return CapnpPrepared(writer, reader, self.packed)

    def schema_text(self, schema: Record) -> SchemaText:
        return SchemaText("capnp", ".capnp", cs_mod.describe(schema).text)


class CapnpUnpackedCodec(_CapnpCodec):
    name = "capnp/unpacked"
    packed = False
    description = "Cap'n Proto (pycapnp, C++), standard unpacked encoding, schema generated from the model"


class CapnpPackedCodec(_CapnpCodec):
    name = "capnp/packed"
    packed = True
    description = "Cap'n Proto (pycapnp, C++), packed encoding (zero bytes run-length packed), schema generated from the model"
