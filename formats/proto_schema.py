"""Protobuf (proto3) schemas generated at runtime from the common payload model.

:func:`build` turns a model :class:`~payloads.model.Record` into

- a ``FileDescriptorProto`` added to a *private* ``DescriptorPool`` (one pool per schema, under a
  package named after the record and a hash of the whole schema, so v1 and v2 of a record with
  the same name never clash), with message classes from ``message_factory.GetMessageClass``;
- the equivalent ``.proto`` text (:attr:`ProtoSchema.text`), which ``protoc`` accepts as is.

No ``protoc`` is needed at runtime. The mapping:

============== ======================================================================
model          proto3
============== ======================================================================
bool           ``bool``
int32 / int64  ``int32`` / ``int64``
float32        ``float``;  float64: ``double``
string / bytes ``string`` / ``bytes``
timestamp      ``int64`` (microseconds since the epoch, as in the model)
enum           ``enum``; proto3 needs the first value to be 0, so a synthetic
               ``<ENUM>_UNSPECIFIED = 0`` comes first (``<ENUM>_ZERO_UNSPECIFIED`` if the
               model has an ``UNSPECIFIED`` symbol itself) and the model's symbols get their
               ``EnumType.numbers`` (stable across versions, like field numbers), by default
               1..n in declaration order. Value names are prefixed with the enum's name in
               UPPER_SNAKE (``TripStatus.REQUESTED`` -> ``TRIP_STATUS_REQUESTED``) because
               proto enum values share their package's scope (two enums may both have
               ``ACTIVE``). Only the numbers travel on the wire.
list<T>        ``repeated T``
map<string,T>  ``map<string, T>``
record         ``message`` (one top-level message per record; message fields always have
               presence, so an optional record needs nothing extra)
optional       proto3 ``optional`` for scalars and enums (explicit presence: ``HasField``)
============== ======================================================================

Field numbers are the model's ``Field.id``. What proto3 cannot say directly is wrapped in a
generated message (named after the type: ``ListOfString``, ``MapOfInt32``, ``ListOfListOfStop``):

- a container inside a container (list of lists, map of lists, list of maps, map of maps):
  ``message ListOfX { repeated X items = 1; }`` / ``message MapOfX { map<string, X> entries = 1; }``;
- an *optional* list or map (a ``repeated``/``map`` field cannot be ``optional``, and an absent
  list must come back as ``None``, not ``[]``): the field's type is the wrapper message, whose
  presence carries the optional-ness. This costs two bytes per such field and is not wire
  compatible with a plain ``repeated`` field of the same number (an evolution step that makes a
  list optional is therefore a breaking change in this mapping).

Proto3 has no field defaults: an unset non-optional field reads as its zero value.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from dataclasses import dataclass, field
from typing import Any

from formats.api import UnsupportedSchema
from payloads.model import EnumType, ListType, MapType, Primitive, Record, Type, named_types, type_to_json

# model primitive -> (proto3 scalar keyword, FieldDescriptorProto.Type number)
SCALARS: dict[str, tuple[str, int]] = {
    "bool": ("bool", 8),
    "int32": ("int32", 5),
    "int64": ("int64", 3),
    "float32": ("float", 2),
    "float64": ("double", 1),
    "string": ("string", 9),
    "bytes": ("bytes", 12),
    "timestamp": ("int64", 3),
}
_TYPE_MESSAGE, _TYPE_ENUM, _TYPE_STRING = 11, 14, 9
_LABEL_OPTIONAL, _LABEL_REPEATED = 1, 3

SINGULAR, OPTIONAL, REPEATED, MAP = "singular", "optional", "repeated", "map"


@dataclass(frozen=True)
class ProtoField:
    """One field of a generated message.

    ``label``: ``singular`` (no presence unless ``elem`` is a message), ``optional`` (proto3
    ``optional`` scalar/enum), ``repeated`` or ``map`` (string keys). ``elem`` is the model type
    of one element: a primitive, an enum, a record, or a container that is carried by the
    wrapper message named ``ref``."""

    name: str
    number: int
    label: str
    elem: Type
    ref: str = ""  # message/enum name for records, enums and wrapped containers
    doc: str = ""

    @property
    def is_message(self) -> bool:
        return isinstance(self.elem, (Record, ListType, MapType))

    @property
    def is_enum(self) -> bool:
        return isinstance(self.elem, EnumType)


@dataclass(frozen=True)
class ProtoMessage:
    name: str
    fields: tuple[ProtoField, ...]
    source: Record | ListType | MapType  # the model type it carries (records or wrapped containers)
    doc: str = ""

    @property
    def is_wrapper(self) -> bool:
        return not isinstance(self.source, Record)


@dataclass(frozen=True)
class ProtoEnum:
    name: str
    model: EnumType
    values: tuple[tuple[str, int], ...]  # (proto value name, number), the synthetic 0 first


@dataclass
class ProtoSchema:
    record: Record
    package: str
    file_name: str
    messages: dict[str, ProtoMessage]  # dependencies first, the root record last
    enums: dict[str, ProtoEnum]
    text: str = ""
    file_proto: Any = None  # descriptor_pb2.FileDescriptorProto
    pool: Any = None  # the private DescriptorPool
    classes: dict[str, type] = field(default_factory=dict)  # message name -> generated class

    @property
    def root(self) -> type:
        return self.classes[self.record.name]

    def full_name(self, name: str) -> str:
        return f"{self.package}.{name}"


# ------------------------------------------------------------------------------------------------
# Names


def upper_snake(name: str) -> str:
    """``TripStatus`` -> ``TRIP_STATUS``, ``trip_status`` -> ``TRIP_STATUS``."""
    s = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name)
    return re.sub(r"[^A-Za-z0-9]+", "_", s).strip("_").upper() or "E"


def map_entry_name(field_name: str) -> str:
    """The nested entry message name protoc gives a ``map<>`` field (``stop_times`` -> ``StopTimesEntry``)."""
    out, up = [], True
    for ch in field_name:
        if ch == "_":
            up = True
            continue
        out.append(ch.upper() if up else ch)
        up = False
    return "".join(out) + "Entry"


def type_label(t: Type) -> str:
    """A name for a type, used to name wrapper messages (``ListOfListOfInt32``)."""
    if isinstance(t, Primitive):
        return t.kind[0].upper() + t.kind[1:]
    if isinstance(t, (EnumType, Record)):
        return t.name
    if isinstance(t, ListType):
        return "ListOf" + type_label(t.items)
    if isinstance(t, MapType):
        return "MapOf" + type_label(t.values)
    raise UnsupportedSchema(f"protobuf: unknown schema type {t!r}")


def schema_key(schema: Record) -> str:
    """A stable text identifying the whole schema (names, ids, types, optional-ness)."""
    return json.dumps(type_to_json(schema), sort_keys=True, default=repr)


def package_for(schema: Record) -> str:
    digest = hashlib.sha1(schema_key(schema).encode()).hexdigest()[:10]
    base = re.sub(r"[^a-z0-9_]", "_", schema.name.lower()) or "record"
    if base[0].isdigit():
        base = "r" + base
    return f"msgbench.{base}_{digest}"


# ------------------------------------------------------------------------------------------------
# Model -> messages/enums


def _collect(schema: Record) -> tuple[dict[str, ProtoMessage], dict[str, ProtoEnum]]:
    messages: dict[str, ProtoMessage] = {}
    enums: dict[str, ProtoEnum] = {}
    named = list(named_types(schema))
    taken = {nt.name for nt in named}
    wrappers: dict[str, Type] = {}

    def wrapper(t: ListType | MapType) -> str:
        name = type_label(t)
        prior = wrappers.get(name)
        if prior is not None:
            return name
        if name in taken:
            raise UnsupportedSchema(
                f"protobuf: the wrapper message {name} generated for {t.type_name} clashes with a record or "
                f"enum of the same name; rename that type"
            )
        wrappers[name] = t
        if isinstance(t, ListType):
            f = ProtoField("items", 1, REPEATED, *_elem(t.items))
        else:
            f = ProtoField("entries", 1, MAP, *_elem(t.values))
        messages[name] = ProtoMessage(name, (f,), t, f"msgbench wrapper: {t.type_name}")
        return name

    def _elem(t: Type) -> tuple[Type, str]:
        if isinstance(t, Primitive):
            return t, ""
        if isinstance(t, (EnumType, Record)):
            return t, t.name
        if isinstance(t, (ListType, MapType)):
            return t, wrapper(t)
        raise UnsupportedSchema(f"protobuf: unknown schema type {t!r}")

    for nt in named:
        if isinstance(nt, EnumType):
            prefix = upper_snake(nt.name)
            # protoc rejects value names equal "ignoring case, underscores and the enum prefix"
            seen = {s.replace("_", "").lower() for s in nt.symbols}
            zero_sym = next(c for c in ("UNSPECIFIED", "ZERO_UNSPECIFIED", "UNSET") + tuple(
                f"UNSPECIFIED{i}" for i in range(1, len(seen) + 2)) if c.replace("_", "").lower() not in seen)
            zero = f"{prefix}_{zero_sym}"
            values = ((zero, 0),) + tuple((f"{prefix}_{s}", n) for s, n in nt.symbol_numbers().items())
            enums[nt.name] = ProtoEnum(nt.name, nt, values)
            continue
        fields = []
        for f in nt.fields:
            t = f.type
            if isinstance(t, (ListType, MapType)):
                if f.optional:
                    fields.append(ProtoField(f.name, f.id, SINGULAR, t, wrapper(t), f.doc))
                elif isinstance(t, ListType):
                    fields.append(ProtoField(f.name, f.id, REPEATED, *_elem(t.items), f.doc))
                else:
                    fields.append(ProtoField(f.name, f.id, MAP, *_elem(t.values), f.doc))
            else:
                elem, ref = _elem(t)
                label = OPTIONAL if (f.optional and not isinstance(t, Record)) else SINGULAR
                fields.append(ProtoField(f.name, f.id, label, elem, ref, f.doc))
        messages[nt.name] = ProtoMessage(nt.name, tuple(fields), nt, nt.doc)
    return messages, enums


# ------------------------------------------------------------------------------------------------
# Descriptor


def _file_proto(ps: ProtoSchema) -> Any:
    from google.protobuf import descriptor_pb2

    fdp = descriptor_pb2.FileDescriptorProto(name=ps.file_name, package=ps.package, syntax="proto3")
    for e in ps.enums.values():
        ed = fdp.enum_type.add(name=e.name)
        for vname, num in e.values:
            ed.value.add(name=vname, number=num)

    def set_type(fd: Any, pf: ProtoField) -> None:
        if isinstance(pf.elem, Primitive):
            fd.type = SCALARS[pf.elem.kind][1]
        elif isinstance(pf.elem, EnumType):
            fd.type = _TYPE_ENUM
            fd.type_name = "." + ps.full_name(pf.ref)
        else:
            fd.type = _TYPE_MESSAGE
            fd.type_name = "." + ps.full_name(pf.ref)

    for m in ps.messages.values():
        md = fdp.message_type.add(name=m.name)
        synthetic: list[str] = []
        for pf in m.fields:
            fd = md.field.add(name=pf.name, number=pf.number)
            if pf.label == MAP:
                entry_name = map_entry_name(pf.name)
                entry = md.nested_type.add(name=entry_name)
                entry.options.map_entry = True
                entry.field.add(name="key", number=1, type=_TYPE_STRING, label=_LABEL_OPTIONAL)
                vf = entry.field.add(name="value", number=2, label=_LABEL_OPTIONAL)
                set_type(vf, pf)
                fd.label = _LABEL_REPEATED
                fd.type = _TYPE_MESSAGE
                fd.type_name = f".{ps.full_name(m.name)}.{entry_name}"
                continue
            fd.label = _LABEL_REPEATED if pf.label == REPEATED else _LABEL_OPTIONAL
            set_type(fd, pf)
            if pf.label == OPTIONAL:
                fd.proto3_optional = True
                synthetic.append(pf.name)
        # proto3 `optional` = a synthetic one-field oneof, declared after any real oneof
        for i, name in enumerate(synthetic):
            oneof = "_" + name
            while any(f.name == oneof for f in m.fields):
                oneof = "_" + oneof
            md.oneof_decl.add(name=oneof)
            for fd in md.field:
                if fd.name == name:
                    fd.oneof_index = i
    return fdp


# ------------------------------------------------------------------------------------------------
# .proto text


def _comment(text: str, indent: str) -> list[str]:
    return [f"{indent}// {line}".rstrip() for line in text.splitlines()] if text else []


def _type_text(pf: ProtoField) -> str:
    if isinstance(pf.elem, Primitive):
        return SCALARS[pf.elem.kind][0]
    return pf.ref


def proto_text(ps: ProtoSchema) -> str:
    lines = [
        f"// Generated by msgbench from the common payload model (record {ps.record.name}).",
        "// Field numbers are the model's field ids. timestamp = int64 microseconds since the epoch.",
        "// Enums: <ENUM>_UNSPECIFIED = 0 is synthetic (proto3 needs a zero first value); the model's",
        "// symbols keep the model's enum numbers (1..n in declaration order unless given). ListOf*/MapOf*",
        "// messages wrap what proto3 cannot say directly (nested containers, optional lists and maps).",
        'syntax = "proto3";',
        "",
        f"package {ps.package};",
    ]
    for e in ps.enums.values():
        lines.append("")
        lines += _comment(e.model.doc, "")
        lines.append(f"enum {e.name} {{")
        for vname, num in e.values:
            lines.append(f"  {vname} = {num};" + ("  // synthetic zero value, never written" if num == 0 else ""))
        lines.append("}")
    for m in ps.messages.values():
        lines.append("")
        lines += _comment(m.doc, "")
        lines.append(f"message {m.name} {{")
        for pf in m.fields:
            lines += _comment(pf.doc, "  ")
            t = _type_text(pf)
            if pf.label == MAP:
                decl = f"map<string, {t}>"
            elif pf.label == REPEATED:
                decl = f"repeated {t}"
            elif pf.label == OPTIONAL:
                decl = f"optional {t}"
            else:
                decl = t
            lines.append(f"  {decl} {pf.name} = {pf.number};")
        lines.append("}")
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------------------
# Entry points

_cache: dict[str, ProtoSchema] = {}
_lock = threading.Lock()


def describe(schema: Record) -> ProtoSchema:
    """The messages, enums and ``.proto`` text for ``schema`` (no descriptor pool, no classes)."""
    if not isinstance(schema, Record):
        raise UnsupportedSchema(f"protobuf: the top-level schema must be a record, got {schema!r:.80}")
    messages, enums = _collect(schema)
    package = package_for(schema)
    ps = ProtoSchema(schema, package, package.replace(".", "/") + ".proto", messages, enums)
    ps.text = proto_text(ps)
    return ps


def build(schema: Record) -> ProtoSchema:
    """:func:`describe` plus the descriptor in a private pool and the message classes (cached per
    distinct schema)."""
    key = schema_key(schema)
    with _lock:
        hit = _cache.get(key)
    if hit is not None:
        return hit
    from google.protobuf import descriptor_pool, message_factory

    ps = describe(schema)
    ps.file_proto = _file_proto(ps)
    pool = descriptor_pool.DescriptorPool()
    try:
        pool.Add(ps.file_proto)
        ps.classes = {
            name: message_factory.GetMessageClass(pool.FindMessageTypeByName(ps.full_name(name)))
            for name in ps.messages
        }
    except Exception as e:  # the descriptor was rejected: names the model allows but proto does not
        raise UnsupportedSchema(f"protobuf: cannot build a descriptor for record {schema.name}: {e}") from e
    ps.pool = pool
    with _lock:
        _cache.setdefault(key, ps)
    return _cache[key]
