"""``capnp/packed`` and ``capnp/unpacked``: Cap'n Proto via pycapnp (the C++ library), with the
schema generated from the common model at runtime (see :mod:`formats.capnp_schema` for the mapping,
the dense-ordinal rule and what it means for evolution).

- ``to_native(value)``: the model value reshaped into the dict pycapnp's builder takes (camelCase
  names, enum symbols -> enumerant names, maps -> lists of ``{key, value}`` entries, optional
  scalars -> ``{"none": None}`` / ``{"value": x}``, ``None`` pointers left out). Cheap; no bytes.
- ``encode(native)``: ``Root.new_message(**native).to_bytes()`` (unpacked) or
  ``.to_bytes_packed()`` (packed). In Cap'n Proto building the message *is* the serialisation
  (the builder writes the wire layout into its segments), so building is inside the timed encode;
  timing ``to_bytes`` of a ready builder alone would time a memcpy.
- ``decode(data)``: ``Root.from_bytes(data)`` / ``from_bytes_packed(data)`` and ``to_dict()`` on
  the reader, which reads every field into Python objects (pycapnp's Cython walk of the C++
  reader): the native form, the same dict shape ``encode`` takes (so an intermediary can forward
  it). pycapnp's ``to_dict`` raises on an enumerant its schema does not know (a newer writer's
  symbol); then a walk of our own reads the raw enumerant number instead.
- ``from_native(native)``: the generated conversion to the model value (names, enum symbols, map
  entries, unions); reported apart from decode, as for every codec.
- ``make_access(paths)``: opens the bytes (``from_bytes`` / ``from_bytes_packed``) and reads only
  the fields at ``paths`` in place; the zero-copy read Cap'n Proto is built for (packed must
  unpack first, so it cannot be zero-copy).

The packed encoding compresses runs of zero bytes (Cap'n Proto's own, cheap, "packing"); both
are the same message, and each reads the other's after (un)packing (tests/test_zero_copy.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from formats import capnp_schema as cs_mod
from formats.api import ALL_TYPE_KINDS, Capabilities, Codec, SchemaText, UnsupportedSchema
from payloads.model import EnumType, ListType, MapType, Primitive, Record, SchemaMismatch, Type

_EMPTY = {"string": "", "bytes": b""}


class _Symbols(dict):
    """capnp enumerant name (or raw ordinal) -> model symbol; unknown -> the enum's default or error."""

    def __init__(self, enum: EnumType, mapping: dict[Any, str]):
        super().__init__(mapping)
        self.enum = enum

    def __missing__(self, key: Any) -> str:
        if self.enum.default is not None:
            return self.enum.default
        raise SchemaMismatch(f"<enum {self.enum.name}>", f"enumerant {key!r} is not a symbol of the model enum "
                             "(unset, a placeholder or a newer writer's symbol) and the enum has no default")


class _Conv:
    """Per-schema converters between the model value and pycapnp's dicts, built once at prepare."""

    def __init__(self, cs: cs_mod.CapnpSchema):
        self.cs = cs
        self.to_cache: dict[str, Any] = {}
        self.from_cache: dict[str, Any] = {}
        self.enum_from: dict[str, _Symbols] = {}
        self.enum_raw: dict[str, _Symbols] = {}
        self.fields = {name: {i.name: i for i in infos} for name, infos in cs.fields.items()}

    # --- model -> builder dict --------------------------------------------------------------
    def to(self, t: Type) -> Callable[[Any], Any] | None:
        if isinstance(t, Primitive):
            return None
        if isinstance(t, EnumType):
            return self.cs.enum_names[t.name].__getitem__
        if isinstance(t, ListType):
            c = self.to(t.items)
            return None if c is None else (lambda v: [c(e) for e in v])
        if isinstance(t, MapType):
            c = self.to(t.values)
            if c is None:
                return lambda v: [{"key": k, "value": e} for k, e in v.items()]
            return lambda v: [{"key": k, "value": c(e)} for k, e in v.items()]
        return self.to_record(t)

    def to_record(self, rec: Record) -> Callable[[Any], Any]:
        hit = self.to_cache.get(rec.name)
        if hit is not None:
            return hit
        specs: list[tuple[str, str, Any, bool]] = []

        def conv(v: dict) -> dict:
            out = {}
            for name, cname, c, union in specs:
                x = v.get(name)
                if x is None:
                    if union:
                        out[cname] = {"none": None}
                    continue  # null pointer
                if c is not None:
                    x = c(x)
                out[cname] = {"value": x} if union else x
            return out

        self.to_cache[rec.name] = conv
        for i in self.cs.fields[rec.name]:
            specs.append((i.name, i.cname, self.to(i.type), i.union))
        return conv

    # --- reader.to_dict() -> model ----------------------------------------------------------
    def symbols(self, t: EnumType) -> _Symbols:
        s = self.enum_from.get(t.name)
        if s is None:
            names = self.cs.enum_names[t.name]
            by_name: dict[Any, str] = {cname: sym for sym, cname in names.items()}
            by_name.update(self.cs.enum_symbols[t.name])  # raw enumerant numbers (our own walk)
            s = self.enum_from[t.name] = _Symbols(t, by_name)
            self.enum_raw[t.name] = _Symbols(t, dict(self.cs.enum_symbols[t.name]))
        return s

    def empty(self, t: Type) -> Any:
        """What a null (unset) pointer of a non-optional field reads as."""
        if isinstance(t, Primitive):
            return _EMPTY[t.kind]
        if isinstance(t, ListType):
            return []
        if isinstance(t, MapType):
            return {}
        # an unset struct pointer reads as the struct's defaults: ask pycapnp for them
        return self.frm(t)(self.cs.structs[t.name].new_message().as_reader().to_dict())

    def frm(self, t: Type) -> Callable[[Any], Any] | None:
        if isinstance(t, Primitive):
            return None
        if isinstance(t, EnumType):
            return self.symbols(t).__getitem__
        if isinstance(t, ListType):
            c = self.frm(t.items)
            return None if c is None else (lambda v: [c(e) for e in v])
        if isinstance(t, MapType):
            c = self.frm(t.values)
            empty = None if cs_mod._scalar_kind(t.values) else self.empty(t.values)
            if c is None:
                return lambda v: {e.get("key", ""): e.get("value", empty) for e in v}
            return lambda v: {e.get("key", ""): c(e["value"]) if "value" in e else empty for e in v}
        return self.from_record(t)

    def from_record(self, rec: Record) -> Callable[[Any], Any]:
        hit = self.from_cache.get(rec.name)
        if hit is not None:
            return hit
        specs: list[tuple[str, str, Any, int, Any]] = []
        UNION, SCALAR, POINTER = 0, 1, 2

        def conv(d: dict) -> dict:
            out = {}
            for name, cname, c, mode, empty in specs:
                if mode == UNION:
                    u = d[cname]
                    x = u.get("value", None)
                    out[name] = None if x is None else (x if c is None else c(x))
                elif mode == SCALAR:
                    x = d[cname]
                    out[name] = x if c is None else c(x)
                else:
                    x = d.get(cname)
                    out[name] = empty if x is None else (x if c is None else c(x))
            return out

        self.from_cache[rec.name] = conv
        for i in self.cs.fields[rec.name]:
            if i.union:
                specs.append((i.name, i.cname, self.frm(i.type), UNION, None))
            elif cs_mod._scalar_kind(i.type):
                specs.append((i.name, i.cname, self.frm(i.type), SCALAR, None))
            else:
                specs.append((i.name, i.cname, self.frm(i.type), POINTER, None if i.optional else _Lazy(self, i.type)))
        for n, s in enumerate(specs):  # resolve the empty values now that every record converter exists
            if isinstance(s[4], _Lazy):
                specs[n] = (*s[:4], s[4].value())
        return conv

    # --- in-place reads for make_access -----------------------------------------------------
    def plain(self, t: Type, x: Any) -> Any:
        """A pycapnp reader value of type ``t`` in to_dict() form, enums as raw enumerant numbers."""
        if isinstance(t, Record):
            return self.walker(t)(x)
        if isinstance(t, EnumType):
            return x.raw
        if isinstance(t, ListType):
            return [self.plain(t.items, e) for e in x]
        if isinstance(t, MapType):
            vt = t.values
            if cs_mod._scalar_kind(vt):
                return [{"key": e.key, "value": self.plain(vt, e.value)} for e in x]
            return [{"key": e.key, "value": self.plain(vt, e.value)} if e._has("value") else {"key": e.key}
                    for e in x]
        return x

    def walker(self, rec: Record) -> Callable[[Any], dict]:
        """Read a struct reader field by field (the fallback of ``to_dict``, and access)."""
        infos = self.cs.fields[rec.name]
        plain = self.plain

        def walk(r: Any) -> dict:
            out: dict[str, Any] = {}
            for i in infos:
                if i.union:
                    g = getattr(r, i.cname)
                    out[i.cname] = {"value": plain(i.type, g.value)} if g._which_str() == "value" else {"none": None}
                elif cs_mod._scalar_kind(i.type):
                    out[i.cname] = plain(i.type, getattr(r, i.cname))
                elif r._has(i.cname):
                    out[i.cname] = plain(i.type, getattr(r, i.cname))
            return out

        return walk

    def getter(self, root: Record, path: tuple[str, ...]) -> Callable[[Any], Any]:
        steps: list[tuple[str, bool]] = []  # (cname, may be null)
        rec: Type = root
        for n, name in enumerate(path):
            if not isinstance(rec, Record) or rec.get(name) is None:
                where = ".".join(path[:n]) or root.name
                raise UnsupportedSchema(f"capnp access: {where} has no field {name!r}")
            info = self.fields[rec.name][name]
            if n < len(path) - 1:
                if not isinstance(info.type, Record):
                    raise UnsupportedSchema(f"capnp access: {'.'.join(path[: n + 1])} is not a record; paths "
                                            "descend through nested records only")
                steps.append((info.cname, info.optional))
            rec = info.type
        t = info.type
        cname = info.cname
        final: Callable[[Any], Any] | None = None
        if isinstance(t, EnumType):
            self.symbols(t)
            final = self.enum_raw[t.name].__getitem__
        elif isinstance(t, (Record, ListType, MapType)):
            c = self.frm(t) or (lambda x: x)
            plain = self.plain

            def final(x: Any) -> Any:
                return c(plain(t, x))
        final_raw = isinstance(t, EnumType)
        union, optional, empty = info.union, info.optional, None
        if not union and not cs_mod._scalar_kind(t) and not optional:
            empty = self.empty(t)

        def get(r: Any) -> Any:
            for cn, nullable in steps:
                if nullable and not r._has(cn):
                    return None
                r = getattr(r, cn)
            if union:
                g = getattr(r, cname)
                if g._which_str() != "value":
                    return None
                x = g.value
            elif optional and not r._has(cname):
                return None
            elif empty is not None and not r._has(cname):
                return empty
            else:
                x = getattr(r, cname)
            if final is None:
                return x
            return final(x.raw) if final_raw else final(x)

        return get


class _Lazy:
    def __init__(self, conv: _Conv, t: Type):
        self.conv, self.t = conv, t

    def value(self) -> Any:
        return self.conv.empty(self.t)


class CapnpPrepared:
    """The ``Prepared`` of both Cap'n Proto codecs (see the module docstring)."""

    def __init__(self, writer: cs_mod.CapnpSchema, reader: cs_mod.CapnpSchema, packed: bool):
        self.writer, self.reader, self.packed = writer, reader, packed
        wconv = _Conv(writer)
        self._rconv = rconv = wconv if reader is writer else _Conv(reader)
        self.to_native = wconv.to_record(writer.record)
        wroot, rroot = writer.root, reader.root
        self.from_native = rconv.from_record(reader.record)
        walk = rconv.walker(reader.record)
        if packed:
            def encode(native: dict) -> bytes:
                return wroot.new_message(**native).to_bytes_packed()

            open_packed = rroot.from_bytes_packed

            def decode(data: bytes) -> Any:
                r = open_packed(data)
                try:
                    return r.to_dict()
                except RuntimeError:  # an enumerant this schema does not know: read raw numbers
                    return walk(r)
        else:
            def encode(native: dict) -> bytes:
                return wroot.new_message(**native).to_bytes()

            open_bytes = rroot.from_bytes

            def decode(data: bytes) -> Any:
                with open_bytes(data) as r:
                    try:
                        return r.to_dict()
                    except RuntimeError:  # an enumerant this schema does not know: read raw numbers
                        return walk(r)
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
        evolution_modes=("tagged",),
        deterministic=True,
        notes=(
            "schema generated from the model at runtime and loaded with pycapnp (no capnp compiler)",
            "ordinals are dense in ascending field-id order: only a field added with the highest id is a "
            "safe change; removing a field or adding a lower id shifts the layout of later fields",
            "optional scalars/enums: union { none; value }; optional Text/Data/List/struct: null pointer",
            "enums: @0 = unspecified, model number n = @n; unknown enumerants read as the enum's default, else an error",
            "encode builds the message (Cap'n Proto's builder is the serialiser); decode = open + to_dict() "
            "(every field materialised), conversion to the model apart; access reads only the asked fields in place",
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
