"""``json/msgspec`` and ``msgpack/msgspec``: msgspec with typed ``Struct`` classes.

At ``prepare`` time every record of the schema becomes a ``msgspec.Struct`` class made with
``msgspec.defstruct`` (keyword-only fields in schema order, ``array_like=False`` so messages are
keyed maps like the other JSON/msgpack codecs, ``omit_defaults=False`` so every field is written).
Types: bool/int/float/str/bytes, enums as ``Literal[...symbols]`` (the value stays a ``str``),
float32 -> ``float`` (written as float64), int32/int64/timestamp -> ``int`` constrained to the
kind's range with ``msgspec.Meta(ge=..., le=...)`` (so an out-of-range value is a decode error, not
a silent corruption), optional -> ``T | None``.
Pre-built ``msgspec.json.Encoder``/``Decoder(type=Root)`` (and the msgpack pair) are reused.

``decode`` returns typed, validated, fully materialised ``Struct`` objects (msgspec has no lazy
mode). ``to_native`` is ``msgspec.convert(value, Root)`` and ``from_native`` is
``msgspec.to_builtins(obj, builtin_types=(bytes,))``; both are outside the timed region. msgspec
has no float32 type, so when the reader's schema has float32 fields ``from_native`` then rounds
them to float32 (``4.97`` as written by Java/Go/.NET is float32(4.97), not the float64 4.97) and
rejects values beyond float32's range, naming the field
(:func:`formats.native_convert.make_float32_rounder`).

Evolution: a reader schema gets its own Struct classes; unknown fields are ignored
(``"tolerant"``) or rejected (``"strict"``: ``forbid_unknown_fields=True``). msgspec JSON writes
NaN/Infinity as ``null``, which the typed decoder then rejects for a float field.
"""

from __future__ import annotations

import keyword
from typing import Annotated, Any, Literal, Optional

from formats.api import ALL_TYPE_KINDS, Capabilities, Codec, SchemaText, SimplePrepared, UnsupportedSchema
from formats.native_convert import POLICIES, check_policy, make_float32_rounder
from payloads.model import (
    INT32_MAX,
    INT32_MIN,
    INT64_MAX,
    INT64_MIN,
    EnumType,
    ListType,
    MapType,
    Primitive,
    Record,
    Type,
    named_types,
    normalize,
)

_PRIMS: dict[str, type] = {
    "bool": bool,
    "int32": int,
    "int64": int,
    "timestamp": int,
    "float32": float,
    "float64": float,
    "string": str,
    "bytes": bytes,
}


def struct_types(schema: Record, forbid_unknown_fields: bool = False) -> type:
    """The ``msgspec.Struct`` class for ``schema`` (nested records get classes of their own)."""
    import msgspec

    classes: dict[str, Any] = {}

    i32 = Annotated[int, msgspec.Meta(ge=INT32_MIN, le=INT32_MAX)]
    i64 = Annotated[int, msgspec.Meta(ge=INT64_MIN, le=INT64_MAX)]

    def py(t: Type) -> Any:
        if isinstance(t, Primitive):
            if t.kind == "int32":
                return i32
            if t.kind in ("int64", "timestamp"):
                return i64
            return _PRIMS[t.kind]
        if isinstance(t, EnumType):
            return Literal[tuple(t.symbols)]  # type: ignore[valid-type]
        if isinstance(t, ListType):
            return list[py(t.items)]  # type: ignore[misc]
        if isinstance(t, MapType):
            return dict[str, py(t.values)]  # type: ignore[misc]
        if isinstance(t, Record):
            return classes[t.name]
        raise UnsupportedSchema(f"msgspec codecs: unknown schema type {t!r}")

    for nt in named_types(schema):
        if not isinstance(nt, Record):
            continue
        fields = []
        rename: dict[str, str] = {}
        taken = {f.name for f in nt.fields}
        for f in nt.fields:
            tp = py(f.type)
            attr = f.name
            if not f.name.isidentifier() or keyword.iskeyword(f.name) or f.name.startswith("_"):
                attr = f"field{f.id}"
                while attr in taken:
                    attr += "_"
                taken.add(attr)
                rename[attr] = f.name  # the wire (and model) name stays the original
            if f.optional:
                default = normalize(f.type, f.default) if f.has_default else None
                if isinstance(default, (list, dict)):
                    default = msgspec.field(default_factory=lambda d=default: type(d)(d))
                fields.append((attr, Optional[tp], default))  # noqa: UP045 - built at runtime
            else:
                fields.append((attr, tp))
        classes[nt.name] = msgspec.defstruct(
            nt.name,
            fields,
            rename=rename or None,
            kw_only=True,
            array_like=False,
            omit_defaults=False,
            forbid_unknown_fields=forbid_unknown_fields,
        )
    return classes[schema.name]


class _MsgspecCodec(Codec):
    library = "msgspec"
    modules = ("msgspec",)
    pip_name = "msgspec"
    _proto: str  # "json" or "msgpack"

    def backend(self) -> str:
        return "C extension"

    def schema_text(self, schema: Record) -> SchemaText:
        """The JSON Schema msgspec derives from the generated Struct classes."""
        import json

        import msgspec

        doc = msgspec.json.schema(struct_types(schema))
        return SchemaText("JSON Schema (msgspec)", ".schema.json", json.dumps(doc, indent=2, ensure_ascii=False) + "\n")

    def prepare(self, schema: Record, reader_schema: Record | None = None, policy: str | None = None) -> SimplePrepared:
        import msgspec

        self.check_schema(schema)
        if reader_schema is not None:
            self.check_schema(reader_schema)
        pol = check_policy(self.name, policy)
        writer_cls = struct_types(schema)
        if reader_schema is None and pol == "tolerant":
            reader_cls = writer_cls
        else:
            reader_cls = struct_types(reader_schema or schema, forbid_unknown_fields=pol == "strict")
        mod = getattr(msgspec, self._proto)
        encoder = mod.Encoder()
        decoder = mod.Decoder(type=reader_cls)
        convert = msgspec.convert
        to_builtins = msgspec.to_builtins
        round32 = make_float32_rounder(reader_schema or schema)

        def to_native(value: Any) -> Any:
            return convert(value, writer_cls)

        def from_native(native: Any) -> Any:
            return to_builtins(native, builtin_types=(bytes,))

        if round32 is not None:

            def from_native(native: Any) -> Any:  # noqa: F811 - the variant for schemas with float32 fields
                return round32(to_builtins(native, builtin_types=(bytes,)))  # rounds in place: a fresh value

        return SimplePrepared(encode=encoder.encode, decode=decoder.decode, to_native=to_native, from_native=from_native)


class MsgspecJsonCodec(_MsgspecCodec):
    name = "json/msgspec"
    format = "json"
    _proto = "json"
    description = "msgspec.json with typed Structs generated from the schema (validating decode)"
    capabilities = Capabilities(
        binary=False,
        needs_schema=True,
        types=ALL_TYPE_KINDS,
        evolution_modes=POLICIES,
        deterministic=True,
        notes=(
            "decode validates against Struct types generated from the model",
            "bytes as base64 strings (msgspec's JSON convention)",
            "NaN/Infinity are written as null and then rejected by the typed decoder",
            "msgspec's own reading rules: an integer written as 5.0 and base64 with line breaks, "
            "URL-safe or unpadded are rejected (json/orjson and json/stdlib accept them)",
        ),
    )


class MsgspecMsgpackCodec(_MsgspecCodec):
    name = "msgpack/msgspec"
    format = "msgpack"
    _proto = "msgpack"
    description = "msgspec.msgpack with typed Structs generated from the schema (validating decode)"
    capabilities = Capabilities(
        binary=True,
        needs_schema=True,
        types=ALL_TYPE_KINDS,
        evolution_modes=POLICIES,
        deterministic=True,
        notes=("decode validates against Struct types generated from the model", "floats are always float64"),
    )
