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
  bytes restored, float32 values rounded to float32 (a writer in Java/Go/.NET sends ``4.97``, the
  shortest text of float32(4.97), which Python reads as the float64 4.97) and rejected when out
  of float32's range (:func:`to_float32`). It checks types as it goes, so a garbage message that
  happens to decode (one byte ``0x05`` is a valid msgpack document) is rejected here with
  :class:`SchemaMismatch` instead of flowing on as a wrong value. Reader policy: ``"tolerant"`` (default) ignores unknown fields and
  also finds a field under one of its ``aliases`` (earlier names); ``"strict"`` rejects unknown
  fields. With ``json_numbers`` (the JSON codecs) an integer field also takes a float with no
  fraction (``5.0``, ``5e0``: JSON Schema's ``integer`` allows them), when it is exact (below 2**53),
  and a float field the strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"`` (what json/orjson and
  protobuf's JSON mapping write for non-finite values).

:func:`decode_base64_text` is the JSON codecs' reading of base64 text: the standard alphabet as
written, and also what other writers send (line breaks as in MIME / ``base64.encodebytes``, the
URL-safe alphabet, missing padding).
"""

from __future__ import annotations

import base64
import binascii
import struct
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

FLOAT32_MAX = 3.4028234663852886e38
# the float64 half-way between FLOAT32_MAX and the next float32 step: anything smaller in magnitude
# rounds to a finite float32 (3.4028235e38, Java's text for Float.MAX_VALUE, rounds to FLOAT32_MAX)
FLOAT32_OVERFLOW = 3.4028235677973366e38
EXACT_INT_FLOAT = 2**53  # floats with a smaller magnitude hold every integer exactly
# JSON has no non-finite numbers: json/orjson and protobuf's JSON mapping write these strings
JSON_NON_FINITE = frozenset(("NaN", "Infinity", "-Infinity"))

F32_STRUCT = struct.Struct("<f")  # pack raises OverflowError for a finite value beyond float32's range



class SymbolsByNumber(dict):
    """A tag-based format's enum number -> model symbol. An unknown number maps to the enum's default
    symbol; without one it raises ``SchemaMismatch`` worded by ``unknown(number)`` (default: "unknown
    number N; the model numbers its symbols ... and has no default", with ``zero`` for number 0).
    ``mapping`` replaces the enum's own numbers (e.g. Cap'n Proto's dense ordinals)."""

    def __init__(self, enum: EnumType, mapping: dict[Any, str] | None = None, zero: str | None = None,
                 unknown: Callable[[Any], str] | None = None):
        super().__init__({n: s for s, n in enum.symbol_numbers().items()} if mapping is None else mapping)
        self.enum, self.zero, self.unknown = enum, zero, unknown

    def __missing__(self, number: Any) -> str:
        if self.enum.default is not None:
            return self.enum.default
        if self.unknown is not None:
            what = self.unknown(number)
        else:
            head = self.zero if number == 0 and self.zero else f"unknown number {number!r}"
            what = f"{head}; the model numbers its symbols {self.enum.numbers_text()} and has no default"
        raise SchemaMismatch(f"<enum {self.enum.name}>", what)

def to_float32(x: float, _pack: Callable = F32_STRUCT.pack, _unpack: Callable = F32_STRUCT.unpack) -> float:
    """``x`` rounded to the nearest float32 (NaN and infinities kept); a finite ``x`` beyond
    float32's range is a :class:`SchemaMismatch`, not a silent infinity."""
    try:
        return _unpack(_pack(x))[0]
    except OverflowError:
        raise SchemaMismatch("", f"{x!r:.40} is out of range for float32 (largest {FLOAT32_MAX!r})") from None


def int_from_float(x: float, k: str, lo: int, hi: int) -> int:
    """A float read for an integer field (JSON ``5.0`` / ``5e0``): its int when it has no fraction,
    is exact (below 2**53) and fits ``k``'s range; else a :class:`SchemaMismatch` saying why."""
    if not x.is_integer():
        raise fail(k, x)
    if not -EXACT_INT_FLOAT < x < EXACT_INT_FLOAT:
        raise SchemaMismatch("", f"{x!r} for {k}: a float this large may not be the integer that was written; "
                                 "write the integer without a fraction or exponent")
    n = int(x)
    if lo <= n <= hi:
        return n
    raise SchemaMismatch("", f"{n} does not fit in {k} [{lo}, {hi}]")


_B64_STD = str.maketrans("-_", "+/", " \t\n\r")
_b64decode = base64.b64decode


def decode_base64_text(s: str) -> bytes:
    """Base64 text -> bytes: standard alphabet with padding (what the codecs write, fast path), or
    as other writers send it: line breaks / spaces (MIME, ``base64.encodebytes``, XML-RPC), the
    URL-safe alphabet (``-_``), no padding. Anything else raises ``ValueError`` naming the problem
    (characters outside base64 are never dropped silently)."""
    try:
        return _b64decode(s, validate=True)
    except binascii.Error:
        pass
    t = s.translate(_B64_STD).rstrip("=")
    pad = -len(t) % 4
    if pad == 3:
        raise ValueError(f"invalid base64: {len(t)} data characters cannot be base64 (one too many)")
    try:
        return _b64decode(t + "=" * pad, validate=True)
    except binascii.Error as e:
        raise ValueError(f"invalid base64: {e}") from None


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


def make_float32_rounder(schema: Type) -> Conv | None:
    """For a codec whose decoded value has float32 fields as float64 (msgspec has no float32
    type): a function that rounds every float32 value to float32 **in place**, in a value the
    caller owns (freshly built), and returns it; a finite value beyond float32's range raises
    :class:`SchemaMismatch` with its path. None when the schema holds no float32 field. Written
    for speed (no copies, one struct round trip per value): it is part of the conversion figure."""
    return _round32(schema)


def _round32(t: Type) -> Conv | None:
    pack, unpack = F32_STRUCT.pack, F32_STRUCT.unpack
    if isinstance(t, Primitive) or isinstance(t, EnumType):
        return None
    if isinstance(t, ListType):
        if isinstance(t.items, Primitive) and t.items.kind == "float32":

            def floats(v: list) -> list:
                try:
                    v[:] = [unpack(pack(x))[0] for x in v]
                except OverflowError:
                    for i, x in enumerate(v):
                        try:
                            to_float32(x)
                        except SchemaMismatch as e:
                            raise nest(f"[{i}]", e) from None
                return v

            return floats
        inner = _round32(t.items)
        if inner is None:
            return None

        def lst(v: list) -> list:
            for i, x in enumerate(v):
                if x is not None:
                    try:
                        inner(x)
                    except SchemaMismatch as e:
                        raise nest(f"[{i}]", e) from None
            return v

        return lst
    if isinstance(t, MapType):
        if isinstance(t.values, Primitive) and t.values.kind == "float32":

            def float_map(v: dict) -> dict:
                for k, x in v.items():
                    try:
                        v[k] = unpack(pack(x))[0]
                    except OverflowError:
                        raise nest(f"[{k!r}]", _f32_range(x)) from None
                return v

            return float_map
        inner = _round32(t.values)
        if inner is None:
            return None

        def mp(v: dict) -> dict:
            for k, x in v.items():
                if x is not None:
                    try:
                        inner(x)
                    except SchemaMismatch as e:
                        raise nest(f"[{k!r}]", e) from None
            return v

        return mp
    if isinstance(t, Record):
        leaves = tuple(f.name for f in t.fields if isinstance(f.type, Primitive) and f.type.kind == "float32")
        subs = tuple((f.name, r) for f in t.fields if (r := _round32(f.type)) is not None)
        if not leaves and not subs:
            return None

        def record(v: dict) -> dict:
            for name in leaves:
                x = v.get(name)
                if x is not None:
                    try:
                        v[name] = unpack(pack(x))[0]
                    except OverflowError:
                        raise nest(name, _f32_range(x)) from None
            for name, r in subs:
                x = v.get(name)
                if x is not None:
                    try:
                        r(x)
                    except SchemaMismatch as e:
                        raise nest(name, e) from None
            return v

        return record
    raise TypeError(f"unknown schema type {t!r}")


def _f32_range(x: float) -> SchemaMismatch:
    try:
        to_float32(x)
    except SchemaMismatch as e:
        return e
    return SchemaMismatch("", f"{x!r:.40} is out of range for float32")


def make_from_native(schema: Type, policy: str = "tolerant", bytes_from: Conv | None = None,
                     json_numbers: bool = False) -> Conv:
    """A function native value -> canonical model value (see the module docstring). A strict
    reader still finds fields under their aliases (and does not count an alias as unknown).
    ``json_numbers``: integer fields also take exact whole floats (``5.0``), as JSON Schema allows."""
    return _from(schema, policy == "strict", bytes_from, json_numbers)


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


def _from(t: Type, strict: bool, bytes_from: Conv | None, json_numbers: bool = False) -> Conv:
    if isinstance(t, Primitive):
        k = t.kind
        if k == "bool":
            return check_bool
        if k in ("int32", "int64", "timestamp"):
            lo, hi = (INT32_MIN, INT32_MAX) if k == "int32" else (INT64_MIN, INT64_MAX)

            def integer(x: Any) -> int:
                if type(x) is not int:
                    if json_numbers and type(x) is float:
                        return int_from_float(x, k, lo, hi)
                    if not isinstance(x, int) or isinstance(x, bool):
                        raise fail(k, x)
                    x = int(x)
                if lo <= x <= hi:
                    return x
                raise SchemaMismatch("", f"{x} does not fit in {k} [{lo}, {hi}]")

            return integer
        if k == "float64":

            def floating(x: Any) -> float:
                if type(x) is float:
                    return x
                if isinstance(x, (int, float)) and not isinstance(x, bool):
                    try:
                        return float(x)
                    except OverflowError:
                        raise SchemaMismatch("", f"{x!r:.40} is out of range for float64") from None
                if json_numbers and type(x) is str and x in JSON_NON_FINITE:
                    return float(x)
                raise fail(k, x)

            return floating
        if k == "float32":
            pack, unpack = F32_STRUCT.pack, F32_STRUCT.unpack

            def floating32(x: Any) -> float:
                if type(x) is not float:
                    if json_numbers and type(x) is str and x in JSON_NON_FINITE:
                        return float(x)
                    if not isinstance(x, (int, float)) or isinstance(x, bool):
                        raise fail(k, x)
                    try:
                        x = float(x)
                    except OverflowError:
                        raise SchemaMismatch("", f"{x!r:.40} is out of range for float32") from None
                try:
                    return unpack(pack(x))[0]  # to_float32, inlined
                except OverflowError:
                    return to_float32(x)  # raises, naming the limit

            return floating32
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
        return list_from(_from(t.items, strict, bytes_from, json_numbers), accept_tuples=True)
    if isinstance(t, MapType):
        return map_from(_from(t.values, strict, bytes_from, json_numbers))
    if isinstance(t, Record):
        return record_from(t, lambda ft: _from(ft, strict, bytes_from, json_numbers), strict, strict_aliases=True,
                           noun="a map")
    raise TypeError(f"unknown schema type {t!r}")


def list_from(inner: Conv, accept_tuples: bool = False) -> Conv:
    """The converter of a list whose items ``inner`` converts; an error names the failing index.
    ``accept_tuples``: a tuple is a list too (libraries that hand back tuples)."""

    def lst(v: Any) -> list:
        if type(v) is not list:
            if accept_tuples and isinstance(v, tuple):
                v = list(v)
            else:
                raise fail("a list", v)
        try:
            return [inner(x) for x in v]
        except SchemaMismatch:
            for i, x in enumerate(v):  # the error path only: name the failing index
                try:
                    inner(x)
                except SchemaMismatch as e:
                    raise nest(f"[{i}]", e) from None
            raise

    return lst


def map_from(inner: Conv) -> Conv:
    """The converter of a string-keyed map whose values ``inner`` converts; errors name the key."""

    def mp(v: Any) -> dict:
        if type(v) is not dict:
            raise fail("a map", v)
        out = {}
        for k, x in v.items():
            if type(k) is not str:
                raise fail("a string map key", k)
            try:
                out[k] = inner(x)
            except SchemaMismatch as e:
                raise nest(f"[{k!r}]", e) from None
        return out

    return mp


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
