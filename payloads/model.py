"""The common payload model: schemas as data, values as plain Python.

Every format's schema (Avro, Protobuf descriptors, Thrift IDL, XSD, JSON Schema) is generated from
these classes at runtime, so this module is the single source of truth for a payload's shape.

Types
-----
- ``Primitive(kind)`` with kind one of ``PRIMITIVE_KINDS``. ``timestamp`` is int64 microseconds
  since the Unix epoch (UTC).
- ``EnumType(name, symbols)``; a value is one of the symbol strings. ``numbers`` optionally gives
  each symbol a stable wire number (Protobuf/Thrift enum value, >= 1, unique); without it the
  symbols are numbered 1..n by position. Keep a symbol's number when others are added or removed,
  as with field ids.
- ``ListType(items)``; a value is a Python list.
- ``MapType(values)``; string keys, a value is a Python dict.
- ``Record(name, fields)``; a value is a dict keyed by field name. Records nest.

A ``Field`` has a stable ``id`` (protobuf tag / thrift field id) that survives renames, an
``optional`` flag (the value may be ``None`` or absent) and an optional ``default``.

Values are validated with :func:`validate`, which raises :class:`SchemaMismatch` naming the
field path (``trip.route[3].lat``) of the first value that does not fit. :func:`normalize`
returns the canonical form every codec must round-trip to: all fields present (missing optional
fields become their default or ``None``), floats for float fields, float32 values rounded.

This module imports nothing of ours (payloads ← formats ← bench).
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Union

PRIMITIVE_KINDS = (
    "bool",
    "int32",
    "int64",
    "float32",
    "float64",
    "string",
    "bytes",
    "timestamp",
)

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

_MISSING: Any = object()


class ModelError(ValueError):
    """A schema is malformed (duplicate field ids, unknown type kind, ...)."""


class SchemaMismatch(ValueError):
    """A value does not fit its schema. ``path`` names the offending field."""

    def __init__(self, path: str, message: str):
        self.path = path or "<root>"
        self.reason = message
        super().__init__(f"{self.path}: {message}")


@dataclass(frozen=True, slots=True)
class Primitive:
    kind: str

    def __post_init__(self) -> None:
        if self.kind not in PRIMITIVE_KINDS:
            raise ModelError(f"unknown primitive type {self.kind!r}; expected one of {PRIMITIVE_KINDS}")

    @property
    def type_name(self) -> str:
        return self.kind


@dataclass(frozen=True, slots=True)
class EnumType:
    name: str
    symbols: tuple[str, ...]
    default: str | None = None  # Avro's enum default: the symbol an old reader maps unknown ones to
    doc: str = ""
    aliases: tuple[str, ...] = ()
    # stable wire numbers (Protobuf/Thrift), one per symbol, unique, 1..2**31-1 (0 is protobuf's
    # synthetic UNSPECIFIED); None: 1..n by position
    numbers: tuple[int, ...] | None = None
    _by_symbol: dict = field(default=None, init=False, repr=False, compare=False, hash=False)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if not self.symbols:
            raise ModelError(f"enum {self.name} has no symbols")
        if len(set(self.symbols)) != len(self.symbols):
            raise ModelError(f"enum {self.name} has duplicate symbols")
        if self.default is not None and self.default not in self.symbols:
            raise ModelError(f"enum {self.name} default {self.default!r} is not a symbol")
        numbers = self.numbers
        if numbers is None:
            numbers = tuple(range(1, len(self.symbols) + 1))
        else:
            if not isinstance(numbers, (tuple, list)):
                raise ModelError(f"enum {self.name} numbers must be a tuple of integers, got {numbers!r:.60}")
            numbers = tuple(numbers)
            object.__setattr__(self, "numbers", numbers)
            if len(numbers) != len(self.symbols):
                raise ModelError(f"enum {self.name} has {len(self.symbols)} symbols but {len(numbers)} numbers; "
                                 "give one number per symbol")
            for s, n in zip(self.symbols, numbers, strict=True):
                if isinstance(n, bool) or not isinstance(n, int):
                    raise ModelError(f"enum {self.name} symbol {s} number {n!r:.40} is not an integer")
                if n < 1:
                    raise ModelError(f"enum {self.name} symbol {s} number {n} is below 1 (0 is reserved for "
                                     "protobuf's synthetic UNSPECIFIED value)")
                if n > INT32_MAX:
                    raise ModelError(f"enum {self.name} symbol {s} number {n} does not fit int32 (max {INT32_MAX})")
            if len(set(numbers)) != len(numbers):
                dup = next(n for n in numbers if numbers.count(n) > 1)
                which = [s for s, n in zip(self.symbols, numbers, strict=True) if n == dup]
                raise ModelError(f"enum {self.name} symbols {', '.join(which)} share the number {dup}; "
                                 "numbers must be unique")
        object.__setattr__(self, "_by_symbol", dict(zip(self.symbols, numbers, strict=True)))

    @property
    def type_name(self) -> str:
        return self.name

    def symbol_numbers(self) -> dict[str, int]:
        """Symbol -> its wire number (``numbers``, or 1..n by position), in declaration order."""
        return dict(self._by_symbol)

    def number_of(self, symbol: str) -> int:
        """The wire number of ``symbol`` (``KeyError`` if it is not a symbol of this enum)."""
        return self._by_symbol[symbol]

    def symbol_of(self, number: int) -> str | None:
        """The symbol numbered ``number``, or None when no symbol has it."""
        return next((s for s, n in self._by_symbol.items() if n == number), None)

    def numbers_text(self, limit: int = 8) -> str:
        """The numbering for messages: ``1..4`` by position, else ``UNKNOWN=1, ECONOMY=2, XL=4``."""
        if self.numbers is None:
            return f"1..{len(self.symbols)}"
        pairs = [f"{s}={n}" for s, n in self._by_symbol.items()]
        return ", ".join(pairs[:limit]) + (f", ... ({len(pairs)} symbols)" if len(pairs) > limit else "")


@dataclass(frozen=True, slots=True)
class ListType:
    items: Type

    @property
    def type_name(self) -> str:
        return f"list<{self.items.type_name}>"


@dataclass(frozen=True, slots=True)
class MapType:
    values: Type

    @property
    def type_name(self) -> str:
        return f"map<string,{self.values.type_name}>"


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    type: Type
    id: int
    optional: bool = False
    default: Any = None  # used when the value is absent; None means "no default"
    doc: str = ""
    aliases: tuple[str, ...] = ()  # earlier names (Avro aliases)

    @property
    def has_default(self) -> bool:
        return self.default is not None


@dataclass(frozen=True, slots=True)
class Record:
    name: str
    fields: tuple[Field, ...]
    doc: str = ""
    aliases: tuple[str, ...] = ()
    namespace: str = "msgbench"
    _by_name: dict = field(default=None, init=False, repr=False, compare=False, hash=False)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        names: set[str] = set()
        ids: set[int] = set()
        for f in self.fields:
            if f.name in names:
                raise ModelError(f"record {self.name}: duplicate field name {f.name!r}")
            if f.id in ids:
                raise ModelError(f"record {self.name}: duplicate field id {f.id} ({f.name})")
            if isinstance(f.id, bool) or not isinstance(f.id, int) or not 1 <= f.id <= 32767:
                raise ModelError(f"record {self.name}: field {f.name} id {f.id!r} outside 1..32767")
            if 19000 <= f.id <= 19999:
                raise ModelError(f"record {self.name}: field {f.name} id {f.id} is in 19000..19999, "
                                 "which protobuf reserves; pick another id")
            names.add(f.name)
            ids.add(f.id)
        object.__setattr__(self, "_by_name", {f.name: f for f in self.fields})

    @property
    def type_name(self) -> str:
        return self.name

    def field(self, name: str) -> Field:
        return self._by_name[name]

    def get(self, name: str) -> Field | None:
        return self._by_name.get(name)


Type = Union[Primitive, EnumType, ListType, MapType, Record]

# Convenient singletons for schema authors.
BOOL = Primitive("bool")
INT32 = Primitive("int32")
INT64 = Primitive("int64")
FLOAT32 = Primitive("float32")
FLOAT64 = Primitive("float64")
STRING = Primitive("string")
BYTES = Primitive("bytes")
TIMESTAMP = Primitive("timestamp")


def named_types(root: Type) -> Iterator[Record | EnumType]:
    """Every record and enum reachable from ``root``, each once, dependencies first."""
    seen: dict[str, Record | EnumType] = {}

    def visit(t: Type) -> Iterator[Record | EnumType]:
        if isinstance(t, ListType):
            yield from visit(t.items)
        elif isinstance(t, MapType):
            yield from visit(t.values)
        elif isinstance(t, (Record, EnumType)):
            prior = seen.get(t.name)
            if prior is not None:
                if prior != t:
                    raise ModelError(f"two different types are both named {t.name!r}")
                return
            seen[t.name] = t
            if isinstance(t, Record):
                for f in t.fields:
                    yield from visit(f.type)
            yield t

    yield from visit(root)


def float32_round(x: float) -> float:
    """The nearest float32 value to ``x``, as a Python float."""
    return struct.unpack("<f", struct.pack("<f", x))[0]


def _fits_float32(x: float) -> bool:
    if math.isnan(x) or math.isinf(x):
        return True
    try:
        struct.pack("<f", x)
    except OverflowError:
        return False
    return True


def _check(t: Type, value: Any, path: str, normalize: bool) -> Any:
    """Validate ``value`` against ``t``; return its canonical form when ``normalize``."""
    if isinstance(t, Primitive):
        k = t.kind
        if k == "bool":
            if not isinstance(value, bool):
                raise SchemaMismatch(path, f"expected bool, got {type(value).__name__} {value!r:.60}")
            return value
        if k in ("int32", "int64", "timestamp"):
            if isinstance(value, bool) or not isinstance(value, int):
                raise SchemaMismatch(path, f"expected {k}, got {type(value).__name__} {value!r:.60}")
            lo, hi = (INT32_MIN, INT32_MAX) if k == "int32" else (INT64_MIN, INT64_MAX)
            if not lo <= value <= hi:
                raise SchemaMismatch(path, f"{value} does not fit in {k} [{lo}, {hi}]")
            return value
        if k in ("float32", "float64"):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise SchemaMismatch(path, f"expected {k}, got {type(value).__name__} {value!r:.60}")
            value = float(value)
            if k == "float32":
                if not _fits_float32(value):
                    raise SchemaMismatch(path, f"{value} overflows float32")
                if normalize:
                    return float32_round(value)
            return value
        if k == "string":
            if not isinstance(value, str):
                raise SchemaMismatch(path, f"expected string, got {type(value).__name__} {value!r:.60}")
            return value
        if k == "bytes":
            if not isinstance(value, (bytes, bytearray, memoryview)):
                raise SchemaMismatch(path, f"expected bytes, got {type(value).__name__} {value!r:.60}")
            return bytes(value)
    if isinstance(t, EnumType):
        if not isinstance(value, str) or value not in t.symbols:
            raise SchemaMismatch(path, f"{value!r:.60} is not a symbol of enum {t.name} {list(t.symbols)}")
        return value
    if isinstance(t, ListType):
        if not isinstance(value, (list, tuple)):
            raise SchemaMismatch(path, f"expected a list, got {type(value).__name__}")
        return [_check(t.items, v, f"{path}[{i}]", normalize) for i, v in enumerate(value)]
    if isinstance(t, MapType):
        if not isinstance(value, dict):
            raise SchemaMismatch(path, f"expected a map (dict), got {type(value).__name__}")
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise SchemaMismatch(f"{path}[{k!r}]", "map keys must be strings")
            out[k] = _check(t.values, v, f"{path}[{k!r}]", normalize)
        return out
    if isinstance(t, Record):
        if not isinstance(value, dict):
            raise SchemaMismatch(path, f"expected record {t.name} (a dict), got {type(value).__name__}")
        unknown = [k for k in value if t.get(k) is None]
        if unknown:
            where = f"{path}.{unknown[0]}" if path else unknown[0]
            raise SchemaMismatch(where, f"field not in record {t.name} (fields: {[f.name for f in t.fields]})")
        out = {}
        for f in t.fields:
            fpath = f"{path}.{f.name}" if path else f.name
            v = value.get(f.name, _MISSING)
            if v is _MISSING or v is None:
                if f.optional:
                    out[f.name] = _check(f.type, f.default, fpath, normalize) if (v is _MISSING and f.has_default) else None
                    continue
                raise SchemaMismatch(fpath, "required field is missing" if v is _MISSING else "required field is null")
            out[f.name] = _check(f.type, v, fpath, normalize)
        return out
    raise ModelError(f"unknown schema type {t!r}")


def validate(schema: Type, value: Any, path: str = "") -> None:
    """Raise :class:`SchemaMismatch` naming the field path if ``value`` does not fit ``schema``."""
    _check(schema, value, path, normalize=False)


def normalize(schema: Type, value: Any) -> Any:
    """Validate and return the canonical value every codec must round-trip to."""
    return _check(schema, value, "", normalize=True)


# ---------------------------------------------------------------------------------------------
# Comparing values: the correctness gate's and the evolution matrix's notion of "equal".


@dataclass(frozen=True, slots=True)
class Difference:
    path: str
    expected: Any
    actual: Any

    def describe(self) -> str:
        return f"{self.path or '<root>'}: expected {_short(self.expected)}, got {_short(self.actual)}"


def _short(v: Any) -> str:
    r = repr(v)
    return r if len(r) <= 80 else r[:77] + "..."


def differences(expected: Any, actual: Any, path: str = "", limit: int = 20) -> list[Difference]:
    """Structural differences between two plain values (exact: float bits, -0.0 and NaN count)."""
    out: list[Difference] = []
    _diff(expected, actual, path, out, limit)
    return out[:limit]


def _same_float(a: float, b: float) -> bool:
    if math.isnan(a) and math.isnan(b):
        return True
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)


def _diff(e: Any, a: Any, path: str, out: list[Difference], limit: int) -> None:
    if len(out) >= limit:
        return
    if isinstance(e, dict) and isinstance(a, dict):
        for k in e:
            sub = f"{path}.{k}" if path else str(k)
            if k not in a:
                out.append(Difference(sub, e[k], "<absent>"))
            else:
                _diff(e[k], a[k], sub, out, limit)
        for k in a:
            if k not in e:
                sub = f"{path}.{k}" if path else str(k)
                out.append(Difference(sub, "<absent>", a[k]))
        return
    if isinstance(e, list) and isinstance(a, list):
        if len(e) != len(a):
            out.append(Difference(f"{path}.length", len(e), len(a)))
        for i, (x, y) in enumerate(zip(e, a, strict=False)):
            _diff(x, y, f"{path}[{i}]", out, limit)
        return
    if type(e) is not type(a):
        out.append(Difference(path, e, a))
        return
    if isinstance(e, float):
        if not _same_float(e, a):
            out.append(Difference(path, e, a))
        return
    if e != a:
        out.append(Difference(path, e, a))


# ---------------------------------------------------------------------------------------------
# Schemas as JSON data (the "model" export format; users edit it and give it back with --schema).


def type_to_json(t: Type) -> Any:
    if isinstance(t, Primitive):
        return t.kind
    if isinstance(t, EnumType):
        d: dict[str, Any] = {"type": "enum", "name": t.name, "symbols": list(t.symbols)}
        if t.default is not None:
            d["default"] = t.default
        if t.doc:
            d["doc"] = t.doc
        if t.aliases:
            d["aliases"] = list(t.aliases)
        if t.numbers is not None:
            d["numbers"] = list(t.numbers)
        return d
    if isinstance(t, ListType):
        return {"type": "list", "items": type_to_json(t.items)}
    if isinstance(t, MapType):
        return {"type": "map", "values": type_to_json(t.values)}
    if isinstance(t, Record):
        d = {"type": "record", "name": t.name}
        if t.doc:
            d["doc"] = t.doc
        if t.aliases:
            d["aliases"] = list(t.aliases)
        fields = []
        for f in t.fields:
            fd: dict[str, Any] = {"name": f.name, "id": f.id, "type": type_to_json(f.type)}
            if f.optional:
                fd["optional"] = True
            if f.default is not None:
                fd["default"] = f.default if not isinstance(f.default, bytes) else f.default.hex()
            if f.doc:
                fd["doc"] = f.doc
            if f.aliases:
                fd["aliases"] = list(f.aliases)
            fields.append(fd)
        d["fields"] = fields
        return d
    raise ModelError(f"unknown schema type {t!r}")


def type_from_json(data: Any, path: str = "schema", _named: dict | None = None) -> Type:
    """Inverse of :func:`type_to_json`; errors name the JSON path. A bare string may refer to an
    enum or record defined earlier in the same document."""
    named = {} if _named is None else _named
    if isinstance(data, str):
        if data in PRIMITIVE_KINDS:
            return Primitive(data)
        if data in named:
            return named[data]
        raise _json_error(path, f"unknown type {data!r} (primitives: {', '.join(PRIMITIVE_KINDS)})")
    if not isinstance(data, dict) or "type" not in data:
        raise _json_error(path, f"expected a type name or an object with a 'type' key, got {data!r:.80}")
    kind = data["type"]
    try:
        if kind == "enum":
            symbols = data["symbols"]
            if not isinstance(symbols, list) or not all(isinstance(x, str) for x in symbols):
                raise _json_error(f"{path}.symbols", f"expected a list of strings, got {symbols!r:.80}")
            numbers = data.get("numbers")
            if numbers is not None and (not isinstance(numbers, list) or not all(
                    isinstance(x, int) and not isinstance(x, bool) for x in numbers)):
                raise _json_error(f"{path}.numbers", f"expected a list of integers, got {numbers!r:.80}")
            t: Type = EnumType(
                data["name"], tuple(symbols), data.get("default"), data.get("doc", ""),
                tuple(data.get("aliases", ())),
            )
            if numbers is not None:
                try:
                    t = EnumType(t.name, t.symbols, t.default, t.doc, t.aliases, tuple(numbers))
                except ModelError as e:
                    raise _json_error(f"{path}.numbers", str(e)) from None
            return _define(named, t, path)
        if kind == "list":
            return ListType(type_from_json(data["items"], f"{path}.items", named))
        if kind == "map":
            return MapType(type_from_json(data["values"], f"{path}.values", named))
        if kind == "record":
            if not isinstance(data["fields"], list):
                raise _json_error(f"{path}.fields", f"expected a list of fields, got {data['fields']!r:.80}")
            fields = [_field_from_json(fd, f"{path}.fields[{i}]", named) for i, fd in enumerate(data["fields"])]
            t = Record(data["name"], tuple(fields), data.get("doc", ""), tuple(data.get("aliases", ())))
            return _define(named, t, path)
    except KeyError as e:
        raise _json_error(path, f"missing key {e.args[0]!r} in {kind} definition") from None
    except (ModelError, TypeError, ValueError) as e:
        if getattr(e, "json_path", None) is not None:
            raise
        raise _json_error(path, str(e)) from None
    raise _json_error(path, f"unknown type kind {kind!r}")


def _field_from_json(fd: Any, path: str, named: dict) -> Field:
    if not isinstance(fd, dict):
        raise _json_error(path, "expected an object")
    try:
        fid = fd["id"]
        if isinstance(fid, bool) or not isinstance(fid, int):
            raise _json_error(f"{path}.id", f"expected an integer field id, got {fid!r:.40}")
        ftype = type_from_json(fd["type"], f"{path}.type", named)
        default = fd.get("default")
        if default is not None and isinstance(ftype, Primitive) and ftype.kind == "bytes":
            default = bytes.fromhex(default)
        return Field(
            fd["name"], ftype, fid, bool(fd.get("optional", False)), default,
            fd.get("doc", ""), tuple(fd.get("aliases", ())),
        )
    except KeyError as e:
        raise _json_error(path, f"missing key {e.args[0]!r} in field definition") from None
    except (ModelError, TypeError, ValueError) as e:
        if getattr(e, "json_path", None) is not None:
            raise
        raise _json_error(path, str(e)) from None


def _define(named: dict, t: Record | EnumType, path: str) -> Type:
    prior = named.get(t.name)
    if prior is not None and prior != t:
        raise _json_error(path, f"a different type named {t.name!r} is already defined in this document")
    named[t.name] = t
    return t


def _json_error(path: str, message: str) -> ModelError:
    err = ModelError(f"{path}: {message}")
    err.json_path = path  # type: ignore[attr-defined]
    return err
