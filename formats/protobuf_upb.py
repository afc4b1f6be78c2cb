"""``protobuf/upb``: Google's protobuf runtime (upb C backend) with message classes generated from
the common model at runtime (see :mod:`formats.proto_schema` for the model -> proto3 mapping).

- ``to_native(value)``: builds the message objects with ``Cls(**fields)``, recursively (enums as
  numbers). Never ``json_format.ParseDict`` (~200x slower).
- ``encode(msg)``: ``msg.SerializeToString()``.
- ``decode(data)``: ``Cls.FromString(data)`` followed by a walk, generated per schema, that reads
  every field of every (sub)message, list element and map entry, so the result is fully
  materialised: upb parses into its arena and only builds the Python objects when touched.
- ``parse_lazy(data)``: the bare ``FromString`` (reported on its own, never as "decode").
- ``from_native(msg)``: the canonical model value (every field; unset optional -> ``None``; enum
  numbers -> symbols by the model's ``EnumType.numbers``; an unknown enum number, which proto3's
  open enums hand back as the bare int, and the unset 0 -> the enum's ``default`` symbol if it has
  one, else :class:`~payloads.model.SchemaMismatch`).

With ``reader_schema``, ``to_native``/``encode`` use the writer's classes and ``decode``/
``parse_lazy``/``from_native`` the reader's: both are generated from the model with the same field
numbers, which is how protobuf's tagged-field evolution is exercised.

The converters and the walk are Python source generated once per schema at ``prepare`` time and
compiled with ``exec`` (plain attribute reads, comprehensions and constructor calls, no per-field
dispatch at run time).
"""

from __future__ import annotations

import keyword
from collections.abc import Callable, Sequence
from typing import Any

from formats import proto_schema as ps_mod
from formats.api import ALL_TYPE_KINDS, Capabilities, Codec, SchemaText, UnsupportedSchema
from formats.native_convert import SymbolsByNumber
from payloads.model import EnumType, Record, SchemaMismatch, Type


def _symbols(enum):
    """number -> symbol; an unknown number maps to the enum's default symbol or raises."""
    return SymbolsByNumber(enum, zero="unset (0, the synthetic UNSPECIFIED value)")


def _backend() -> str:
    from google.protobuf.internal import api_implementation

    return str(api_implementation.Type())


def _attr(obj: str, name: str) -> str:
    if name.isidentifier() and not keyword.iskeyword(name):
        return f"{obj}.{name}"
    return f"getattr({obj}, {name!r})"


class _Gen:
    """Generates the to_native / from_native / walk functions for one :class:`ProtoSchema`."""

    def __init__(self, ps: ps_mod.ProtoSchema):
        self.ps = ps
        self.ns: dict[str, Any] = {"SchemaMismatch": SchemaMismatch}
        self.ids = {name: i for i, name in enumerate(ps.messages)}
        self.lines: list[str] = []
        for name, i in self.ids.items():
            self.ns[f"C{i}"] = ps.classes[name]
        for j, e in enumerate(ps.enums.values()):
            self.ns[f"N{j}"] = e.model.symbol_numbers()
            self.ns[f"S{j}"] = _symbols(e.model)
        self.enum_ids = {name: j for j, name in enumerate(ps.enums)}
        self.plain = self._plain_messages()

    def _plain_messages(self) -> set[str]:
        """Records whose model dict the message constructor takes as it is (upb builds the nested
        messages from dicts in C): no enums, no wrapped containers, only plain records below."""
        plain: set[str] = set()
        for name, m in self.ps.messages.items():  # dependencies first
            if m.is_wrapper:
                continue
            if all(not pf.is_enum and (not pf.is_message or pf.ref in plain) for pf in m.fields):
                plain.add(name)
        return plain

    def scalar_only(self, name: str) -> ps_mod.ProtoMessage | None:
        m = self.ps.messages[name]
        if all(pf.label in (ps_mod.SINGULAR, ps_mod.OPTIONAL) and not pf.is_message for pf in m.fields):
            return m
        return None

    # element conversions (one element of a field: scalar, enum, record or wrapped container)
    def to_elem(self, pf: ps_mod.ProtoField, x: str) -> str:
        if pf.is_enum:
            return f"N{self.enum_ids[pf.ref]}[{x}]"
        if pf.is_message:
            return x if pf.ref in self.plain else f"_to{self.ids[pf.ref]}({x})"
        return x

    def from_elem(self, pf: ps_mod.ProtoField, x: str) -> str:
        if pf.is_enum:
            return f"S{self.enum_ids[pf.ref]}[{x}]"
        if pf.is_message:
            return f"_from{self.ids[pf.ref]}({x})"
        return x

    def generate(self) -> dict[str, Any]:
        for name, i in self.ids.items():
            self._to(self.ps.messages[name], i)
            self._from(self.ps.messages[name], i)
            self._walk(self.ps.messages[name], i)
        src = "\n".join(self.lines) + "\n"
        exec(compile(src, f"<msgbench protobuf {self.ps.package}>", "exec"), self.ns)
        self.ns["__source__"] = src
        return self.ns

    def _to(self, m: ps_mod.ProtoMessage, i: int) -> None:
        L = self.lines
        if m.is_wrapper:
            pf = m.fields[0]
            if pf.label == ps_mod.REPEATED:
                body = f"[{self.to_elem(pf, 'e')} for e in v]" if self.to_elem(pf, "e") != "e" else "v"
                L += [f"def _to{i}(v):", f"    return C{i}(items={body})", ""]
            else:
                body = f"{{k: {self.to_elem(pf, 'e')} for k, e in v.items()}}" if self.to_elem(pf, "e") != "e" else "v"
                L += [f"def _to{i}(v):", f"    return C{i}(entries={body})", ""]
            return
        L.append(f"def _to{i}(v):")
        L.append("    g = v.get")
        args = []
        for n, pf in enumerate(m.fields):
            get = f"g({pf.name!r})"
            conv = self.to_elem(pf, "e")
            if conv == "e":  # scalars, lists/maps of scalars: the constructor takes them as they are
                expr = get
            elif pf.label == ps_mod.REPEATED:
                expr = f"[{conv} for e in ({get} or ())]"
            elif pf.label == ps_mod.MAP:
                expr = f"{{k: {conv} for k, e in ({get} or {{}}).items()}}"
            else:
                L.append(f"    x{n} = {get}")
                expr = f"None if x{n} is None else {self.to_elem(pf, f'x{n}')}"
            args.append((pf.name, expr))
        kw = ", ".join(f"{k}={e}" for k, e in args if k.isidentifier() and not keyword.iskeyword(k))
        odd = ", ".join(f"{k!r}: {e}" for k, e in args if not (k.isidentifier() and not keyword.iskeyword(k)))
        if odd:
            kw = (kw + ", " if kw else "") + f"**{{{odd}}}"
        L += [f"    return C{i}({kw})", ""]

    def _from(self, m: ps_mod.ProtoMessage, i: int) -> None:
        L = self.lines
        L.append(f"def _from{i}(m):")
        items = []
        for pf in m.fields:
            a = _attr("m", pf.name)
            conv = self.from_elem(pf, "e")
            if pf.label == ps_mod.REPEATED:
                expr = f"list({a})" if conv == "e" else f"[{conv} for e in {a}]"
            elif pf.label == ps_mod.MAP:
                expr = f"dict({a})" if conv == "e" else f"{{k: {conv} for k, e in {a}.items()}}"
            else:
                expr = self.from_elem(pf, a)
                src_field = m.source.get(pf.name) if isinstance(m.source, Record) else None
                if pf.label == ps_mod.OPTIONAL or (src_field is not None and src_field.optional):
                    expr = f"{expr} if m.HasField({pf.name!r}) else None"
            items.append(f"{pf.name!r}: {expr}")
            last = expr
        if m.is_wrapper:  # a wrapped container converts to the bare list/dict
            L += [f"    return {last}", ""]
        else:
            L += ["    return {" + ", ".join(items) + "}", ""]

    def _walk(self, m: ps_mod.ProtoMessage, i: int) -> None:
        """Read every field; recurse into messages, list elements and map values. A message with
        only scalar fields is read inline (a tuple of its fields) instead of through a call."""
        L = self.lines
        L.append(f"def _walk{i}(m):")
        plain = []

        def visit(pf: ps_mod.ProtoField, x: str) -> str:
            sub = self.scalar_only(pf.ref)
            if sub is None:
                return f"_walk{self.ids[pf.ref]}({x})"
            return "(" + "".join(_attr(x, f.name) + ", " for f in sub.fields) + ")"

        for pf in m.fields:
            a = _attr("m", pf.name)
            if pf.label == ps_mod.REPEATED:
                L.append(f"    for e in {a}: {visit(pf, 'e')}" if pf.is_message else f"    list({a})")
            elif pf.label == ps_mod.MAP:
                L.append(f"    for e in {a}.values(): {visit(pf, 'e')}" if pf.is_message else f"    dict({a})")
            elif pf.is_message:
                L.append(f"    x = {a}")
                L.append(f"    {visit(pf, 'x')}")
            else:
                plain.append(a)
        if plain:
            L.append(f"    ({', '.join(plain)},)")
        L += ["    return m", ""]


class ProtobufPrepared:
    """The ``Prepared`` of the protobuf codecs (see the module docstring)."""

    def __init__(self, writer: ps_mod.ProtoSchema, reader: ps_mod.ProtoSchema):
        self.writer, self.reader = writer, reader
        wns = _Gen(writer).generate()
        rns = wns if reader is writer else _Gen(reader).generate()
        wroot, rroot = writer.messages[writer.record.name], reader.messages[reader.record.name]
        wi, ri = list(writer.messages).index(wroot.name), list(reader.messages).index(rroot.name)
        self.to_native = wns[f"_to{wi}"]
        self.from_native = rns[f"_from{ri}"]
        walk = rns[f"_walk{ri}"]
        parse = reader.root.FromString
        self.parse_lazy = parse

        def decode(data: bytes) -> Any:
            return walk(parse(data))

        self.decode = decode
        self.source = wns["__source__"]
        self.make_access = self._make_access  # an instance attribute: protobuf/python removes it

    def _make_access(self, paths: Sequence[Sequence[str]]) -> Callable[[bytes], list]:
        """``FromString`` (upb's lazy parse) and a generated function reading only ``paths``."""
        return make_access(self.reader, self.parse_lazy, paths)

    @staticmethod
    def encode(msg: Any) -> bytes:
        return msg.SerializeToString()


def make_access(ps: ps_mod.ProtoSchema, parse: Callable[[bytes], Any],
                paths: Sequence[Sequence[str]]) -> Callable[[bytes], list]:
    """``access(data)``: ``parse(data)`` then read only the fields at ``paths`` (model field names
    through records), converted as ``from_native`` would (enum symbols, ``None`` for an unset
    optional scalar or an absent optional record). All name lookups are resolved here, in generated
    source: the returned function is a parse and a few attribute reads."""
    from payloads.access import check_paths, path_text

    check_paths(ps.record, paths)
    ns: dict[str, Any] = {"parse": parse}
    lines = ["def access(data):", "    m = parse(data)"]
    results = []
    for k, path in enumerate(paths):
        rec, obj, maybe_none = ps.record, "m", False
        for depth, name in enumerate(path):
            f = rec.field(name)
            expr = _attr(obj, name)
            if depth < len(path) - 1:  # a record step (messages have presence)
                if f.optional:
                    expr = f"({expr} if {obj}.HasField({name!r}) else None)"
                if maybe_none:
                    expr = f"(None if {obj} is None else {expr})"
                x = f"x{k}_{depth}"
                lines.append(f"    {x} = {expr}")
                rec, obj, maybe_none = f.type, x, maybe_none or f.optional
                continue
            if isinstance(f.type, EnumType):
                ns[f"S_{k}"] = _symbols(f.type)
                expr = f"S_{k}[{expr}]"
            if f.optional:
                expr = f"({expr} if {obj}.HasField({name!r}) else None)"
            if maybe_none:
                expr = f"(None if {obj} is None else {expr})"
            results.append(expr)
    lines.append("    return [" + ", ".join(results) + "]")
    src = "\n".join(lines) + "\n"
    exec(compile(src, f"<msgbench protobuf access {ps.package}: {', '.join(map(path_text, paths))}>", "exec"), ns)
    access = ns["access"]
    access.source = src  # type: ignore[attr-defined]
    return access


def check_supported(schema: Type) -> None:
    if not isinstance(schema, Record):
        raise UnsupportedSchema(f"protobuf: the top-level schema must be a record, got {schema!r:.80}")


class UpbCodec(Codec):
    name = "protobuf/upb"
    format = "protobuf"
    library = "protobuf"
    modules = ("google.protobuf",)
    pip_name = "protobuf"
    description = "Google protobuf (upb C backend), proto3 message classes generated from the model at runtime"
    capabilities = Capabilities(
        binary=True,
        needs_schema=True,
        types=ALL_TYPE_KINDS,
        evolution_modes=("tagged",),
        deterministic=False,
        lazy_decode=True,
        notes=(
            "decode = FromString + a generated walk reading every field (upb builds Python objects lazily); "
            "the bare FromString is reported as parse_lazy",
            "enums: a synthetic <ENUM>_UNSPECIFIED = 0 comes first, model symbols keep the model's enum numbers "
            "(1..n unless given); an unknown number reads as the enum's default symbol, else an error",
            "nested containers (list of lists, map of lists, ...) and optional lists/maps are wrapped in "
            "generated ListOf*/MapOf* messages",
            "proto3 has no field defaults: an unset non-optional field reads as 0 / '' / empty",
            "map entry order in the bytes varies between processes (SerializeToString without deterministic=True)",
        ),
    )

    def backend(self) -> str:
        return _backend()

    def slow_backend(self) -> bool:
        return _backend() == "python"

    def prepare(self, schema: Record, reader_schema: Record | None = None, policy: str | None = None) -> ProtobufPrepared:
        check_supported(schema)
        writer = ps_mod.build(schema)
        reader = writer
        if reader_schema is not None:
            check_supported(reader_schema)
            reader = ps_mod.build(reader_schema)
        return ProtobufPrepared(writer, reader)

    def schema_text(self, schema: Record) -> SchemaText:
        return SchemaText("proto3", ".proto", ps_mod.describe(schema).text)
