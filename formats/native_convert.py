"""Schema-driven conversions for codecs whose native form is plain Python (dicts and lists).

Used by the schemaless extras (json/stdlib, msgpack/msgpack, cbor/cbor2, bson/pymongo); json/orjson
builds its converters from the same pieces (:func:`make_to_native`, :func:`record_from`, the leaf
checks) with its own numbers, bytes and lists. The converters are built once per schema at
``prepare`` time:

- :func:`make_to_native` rewrites only what the format cannot carry as is (bytes -> base64 text for
  JSON, non-finite floats for json/orjson); when nothing needs rewriting it is the identity and costs nothing.
- :func:`make_from_native` rebuilds the common model's canonical value from what the library
  decoded, following the *reader* schema: fields in schema order, missing optional fields -> their
  default or ``None``, int subclasses (BSON's ``Int64``) -> ``int``, ints in float fields -> float,
  bytes restored. It checks types as it goes, so a garbage message that happens to decode (one byte
  ``0x05`` is a valid msgpack document) is rejected here with :class:`SchemaMismatch` instead of
  flowing on as a wrong value. Reader policy: ``"tolerant"`` (default) ignores unknown fields and
  also finds a field under one of its ``aliases`` (earlier names); ``"strict"`` rejects unknown
  fields.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

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
    SchemaMismatch,
    Type,
    normalize,
)

Conv = Callable[[Any], Any]
_MISSING: Any = object()
POLICIES = ("tolerant", "strict")


def identity(v: Any) -> Any:
    return v


def check_policy(codec: str, policy: str | None) -> str:
    from formats.api import UnsupportedSchema

    policy = policy or "tolerant"
    if policy not in POLICIES:
        raise UnsupportedSchema(f"{codec}: unknown reader policy {policy!r}; use one of {', '.join(POLICIES)}")
    return policy


# ------------------------------------------------------------------------------------------------
# model -> native


def make_to_native(schema: Type, bytes_to: Conv | None = None, float_to: Conv | None = None) -> Conv:
    """A function model value -> native value that applies ``bytes_to`` to every bytes value and
    ``float_to`` to every float32/float64 value; only the parts of the schema that hold one are
    touched, and with nothing to rewrite it is :func:`identity`."""
    if bytes_to is None and float_to is None:
        return identity
    conv = _to(schema, bytes_to, float_to)
    return conv or identity


def _to(t: Type, bytes_to: Conv | None, float_to: Conv | None) -> Conv | None:
    """A converter for values of ``t``, or None when they need no rewriting."""
    if isinstance(t, Primitive):
        if t.kind == "bytes":
            return bytes_to
        if t.kind in ("float32", "float64"):
            return float_to
        return None
    if isinstance(t, EnumType):
        return None
    if isinstance(t, ListType):
        inner = _to(t.items, bytes_to, float_to)
        if inner is None:
            return None
        return lambda v: [inner(x) for x in v]
    if isinstance(t, MapType):
        inner = _to(t.values, bytes_to, float_to)
        if inner is None:
            return None
        return lambda v: {k: inner(x) for k, x in v.items()}
    if isinstance(t, Record):
        convs = tuple((f.name, c) for f in t.fields if (c := _to(f.type, bytes_to, float_to)) is not None)
        if not convs:
            return None

        def record(v: dict) -> dict:
            out = v.copy()
            for name, c in convs:
                x = out.get(name)
                if x is not None:
                    out[name] = c(x)
            return out

        return record
    raise TypeError(f"unknown schema type {t!r}")


# ------------------------------------------------------------------------------------------------
# native -> model


def make_from_native(schema: Type, policy: str = "tolerant", bytes_from: Conv | None = None) -> Conv:
    """A function native value -> canonical model value (see the module docstring). A strict
    reader still finds fields under their aliases (and does not count an alias as unknown)."""
    return _from(schema, policy == "strict", bytes_from)


def fail(what: str, x: Any) -> SchemaMismatch:
    return SchemaMismatch("", f"expected {what}, got {type(x).__name__} {x!r:.60}")


def nest(prefix: str, e: SchemaMismatch) -> SchemaMismatch:
    """``e`` one level down: its path below ``prefix`` (a field name or ``[index]``)."""
    sub = e.path if e.path != "<root>" else ""
    sep = "." if sub and not sub.startswith("[") else ""
    return SchemaMismatch(f"{prefix}{sep}{sub}", e.reason)


def check_bool(x: Any) -> bool:
    if x is True or x is False:
        return x
    raise fail("bool", x)


def check_string(x: Any) -> str:
    if type(x) is str:
        return x
    raise fail("string", x)


def enum_from(t: EnumType, tolerant: bool = False) -> Conv:
    """Symbol check for enum ``t``; a tolerant reader reads a symbol it does not know (a newer
    writer's) as the enum's declared ``default``, when it has one, as an Avro reader does."""
    symbols = frozenset(t.symbols)
    name = t.name
    default = t.default if tolerant else None
    if default is not None:

        def enum_or_default(x: Any) -> str:
            if type(x) is str:
                return x if x in symbols else default
            raise fail(f"a symbol of enum {name}", x)

        return enum_or_default

    def enum(x: Any) -> str:
        if type(x) is str and x in symbols:
            return x
        raise fail(f"a symbol of enum {name}", x)

    return enum


def _from(t: Type, strict: bool, bytes_from: Conv | None) -> Conv:
    if isinstance(t, Primitive):
        k = t.kind
        if k == "bool":
            return check_bool
        if k in ("int32", "int64", "timestamp"):
            lo, hi = (INT32_MIN, INT32_MAX) if k == "int32" else (INT64_MIN, INT64_MAX)

            def integer(x: Any) -> int:
                if type(x) is not int:
                    if not isinstance(x, int) or isinstance(x, bool):
                        raise fail(k, x)
                    x = int(x)
                if lo <= x <= hi:
                    return x
                raise SchemaMismatch("", f"{x} does not fit in {k} [{lo}, {hi}]")

            return integer
        if k in ("float32", "float64"):

            def floating(x: Any) -> float:
                if type(x) is float:
                    return x
                if isinstance(x, (int, float)) and not isinstance(x, bool):
                    return float(x)
                raise fail(k, x)

            return floating
        if k == "string":
            return check_string
        if k == "bytes":
            if bytes_from is not None:
                return bytes_from

            def raw(x: Any) -> bytes:
                if type(x) is bytes:
                    return x
                if isinstance(x, (bytes, bytearray, memoryview)):
                    return bytes(x)
                raise fail("bytes", x)

            return raw
        raise TypeError(f"unknown primitive {k}")
    if isinstance(t, EnumType):
        return enum_from(t, tolerant=not strict)
    if isinstance(t, ListType):
        inner = _from(t.items, strict, bytes_from)

        def lst(v: Any) -> list:
            if type(v) is not list:
                if isinstance(v, tuple):
                    v = list(v)
                else:
                    raise fail("a list", v)
            return [inner(x) for x in v]

        return lst
    if isinstance(t, MapType):
        inner = _from(t.values, strict, bytes_from)

        def mp(v: Any) -> dict:
            if type(v) is not dict:
                raise fail("a map", v)
            out = {}
            for k, x in v.items():
                if type(k) is not str:
                    raise fail("a string map key", k)
                out[k] = inner(x)
            return out

        return mp
    if isinstance(t, Record):
        return record_from(t, lambda ft: _from(ft, strict, bytes_from), strict, strict_aliases=True, noun="a map")
    raise TypeError(f"unknown schema type {t!r}")


def record_from(t: Record, field_from: Callable[[Type], Conv], strict: bool, strict_aliases: bool, noun: str) -> Conv:
    """The converter of record ``t``, each field's value converted by ``field_from(field.type)``.

    Fields come out in schema order; a missing field is looked up under its aliases (a strict
    reader does so only with ``strict_aliases``, which also makes the aliases known keys); a missing
    optional field gets its default or ``None``, a missing or null required field is an error. A
    strict reader rejects the first key that is not a known field. Errors name the field's path;
    ``ValueError``/``TypeError`` from a converter (e.g. bad base64) become :class:`SchemaMismatch`.
    ``noun`` names the native form a record must have (``"a map"``).
    """
    follow_aliases = strict_aliases or not strict
    specs = []
    for f in t.fields:
        default = normalize(f.type, f.default) if (f.optional and f.has_default) else None
        specs.append((f.name, f.aliases if follow_aliases else (), f.optional, default, field_from(f.type)))
    specs_t = tuple(specs)
    known = frozenset(f.name for f in t.fields)
    if strict_aliases:
        known |= frozenset(a for f in t.fields for a in f.aliases)
    what = f"record {t.name} ({noun})"
    unknown_reason = f"field not in record {t.name} (strict reader)"

    def record(v: Any) -> dict:
        if type(v) is not dict:
            raise fail(what, v)
        if strict:
            for k in v:
                if k not in known:
                    raise SchemaMismatch(str(k), unknown_reason)
        out = {}
        for name, aliases, optional, default, conv in specs_t:
            x = v.get(name, _MISSING)
            if x is _MISSING and aliases:
                for a in aliases:
                    x = v.get(a, _MISSING)
                    if x is not _MISSING:
                        break
            if x is _MISSING or x is None:
                if optional:
                    out[name] = default if x is _MISSING else None
                    continue
                raise SchemaMismatch(name, "required field is missing" if x is _MISSING else "required field is null")
            try:
                out[name] = conv(x)
            except SchemaMismatch as e:
                raise nest(name, e) from None
            except (ValueError, TypeError) as e:  # e.g. bytes_from on bad base64
                raise SchemaMismatch(name, f"{type(e).__name__}: {e}") from None
        return out

    return record
