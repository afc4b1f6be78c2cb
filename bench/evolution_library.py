"""What a tag-based library itself handed back, before msgbench's adapter touched it.

The evolution matrix judges two layers for Protobuf and Thrift (DESIGN.md harness rule 6):

- the **library** layer: the decoded protobuf message / thriftpy2 struct read field by field as a
  user of the library would read it (``msg.field``, ``HasField`` for fields with presence,
  ``obj.field``), with no policy added: an enum number the reader's enum does not have stays the
  bare number (:class:`UnknownNumber`), a required Thrift field the bytes did not fill stays
  ``None``, a protobuf field that is unset reads as its zero value;
- the **adapter** layer: what msgbench's ``from_native`` made of it (an unknown enum number mapped
  to the model's enum default, msgbench's own required-field check for Thrift).

:func:`library_view` builds the first from the reader's model schema and the native object (duck
typed, so this module imports no codec); it returns ``None`` for native forms that are plain
Python already (dicts from the text formats and fastavro), which have one layer only.
:func:`unknown_fields` says which unknown fields a protobuf message kept.
"""

from __future__ import annotations

from typing import Any

from payloads.model import EnumType, ListType, MapType, Record, Type


class UnknownNumber(int):
    """An enum number the reader's enum does not have, as the library returned it (an int)."""

    enum: str = ""

    def __new__(cls, value: int, enum: str) -> UnknownNumber:
        obj = super().__new__(cls, value)
        obj.enum = enum
        return obj

    def __repr__(self) -> str:
        return f"{int(self)} (a bare number, not a {self.enum} symbol)"

    def to_json(self) -> int:
        return int(self)


def is_protobuf(native: Any) -> bool:
    return hasattr(native, "DESCRIPTOR") and hasattr(native, "ListFields") and hasattr(native, "HasField")


def is_thrift(native: Any) -> bool:
    return hasattr(type(native), "thrift_spec")


def library_view(schema: Record, native: Any) -> Any:
    """``native`` (a protobuf message or thriftpy2 struct of ``schema``) as plain values, read the
    way the library presents them; ``None`` when ``native`` is not such an object."""
    if not (is_protobuf(native) or is_thrift(native)):
        return None
    return _view(schema, native)


def _attr_name(obj: Any, name: str) -> str:
    if hasattr(obj, name):
        return name
    return name + "_" if hasattr(obj, name + "_") else name  # thrift: reserved names get a "_"


def _view(t: Type, x: Any) -> Any:
    if x is None:
        return None
    if isinstance(t, Record):
        out = {}
        pb = is_protobuf(x)
        for f in t.fields:
            name = _attr_name(x, f.name)
            if pb:
                fd = x.DESCRIPTOR.fields_by_name.get(name)
                if fd is None:
                    out[f.name] = None
                    continue
                if fd.has_presence and not x.HasField(name):
                    out[f.name] = None
                    continue
            out[f.name] = _view(f.type, getattr(x, name, None))
        return out
    if isinstance(t, EnumType):
        if isinstance(x, str):
            return x
        symbol = {n: s for s, n in t.symbol_numbers().items()}.get(int(x))
        if symbol is not None:
            return symbol
        # 0 is protobuf's "unset" (the synthetic UNSPECIFIED): nothing was read, not a kept number
        return 0 if int(x) == 0 else UnknownNumber(int(x), t.name)
    if isinstance(t, ListType):
        if is_protobuf(x):  # a wrapper message (optional or nested list)
            x = x.items
        return [_view(t.items, e) for e in x]
    if isinstance(t, MapType):
        if is_protobuf(x):
            x = x.entries
        return {k: _view(t.values, v) for k, v in x.items()}
    if isinstance(x, (bytes, bytearray, memoryview)):
        return bytes(x)
    return x


def unknown_fields(native: Any) -> list[int]:
    """Field numbers a protobuf message kept without knowing them (top level); [] otherwise."""
    if not is_protobuf(native):
        return []
    try:
        from google.protobuf import unknown_fields as uf

        return sorted({f.field_number for f in uf.UnknownFieldSet(native)})
    except Exception:  # an older protobuf without the module
        return []


def has_unknown_number(value: Any) -> bool:
    if isinstance(value, UnknownNumber):
        return True
    if isinstance(value, dict):
        return any(has_unknown_number(v) for v in value.values())
    if isinstance(value, list):
        return any(has_unknown_number(v) for v in value)
    return False
