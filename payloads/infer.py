"""Streaming schema inference: JSON records -> a :class:`~payloads.model.Record` of the common model.

    inferrer = SchemaInferrer()
    for record in records:                # dicts as parsed from JSON (orjson / json)
        inferrer.observe(record)          # memory grows per distinct *shape*, not per record
    schema = inferrer.schema("Trip")      # a Record; nested records named from their keys
    conv = inferrer.conversions           # Conversions: apply(record) -> a value of ``schema``
    value = conv.apply(record)            # rename keys, int->float, JSON-text fallbacks, ...
    conv.notes                            # human-readable fidelity notes (what changed, where)
    conv.losses                           # the same as structured FidelityNote objects

The rules (also in docs/own-payloads.md):

- ``true/false`` -> bool; integers -> int32 when every observed value fits, else int64; integers
  outside int64 -> string (decimal text, noted); floats -> float64; integers and floats mixed in one
  field -> float64 (integers become floats, noted; beyond 2**53 they lose precision, noted);
  strings -> string; arrays -> list (item types unified); objects -> record or map (below).
- A field is optional when some record lacks the key or has ``null``. The model does not tell an
  absent key from ``null``: an absent optional key reads back as ``null`` (one aggregated note).
- Anything the model cannot express exactly becomes a string holding the value's JSON text (the
  "JSON-text fallback", noted with the path and the kinds seen): mixed kinds in one field or list
  (``[1, "a", true]``), bool mixed with numbers, containers nested deeper than ``MAX_DEPTH``.
- ``null`` inside a list or as a map value: the model's list items / map values cannot be null, so
  they are wrapped in a record ``Nullable<Name> { value: optional T }`` (noted).
- Object -> ``map<string,V>`` instead of a record when: more than ``MAX_RECORD_FIELDS`` distinct
  keys were seen; or every key looks like data (numbers, dates, UUIDs, long hex ids, paths, e-mail
  addresses; ISO-style codes such as ``EUR``/``US``/``en-US`` only when all values unify to one
  type); or at least ``VARYING_MAP_MIN_KEYS`` distinct keys vary between occurrences and all values
  unify to one type. Otherwise a record (a nested record is named from its key: ``driver`` ->
  ``Driver``, list ``points`` -> ``Point``; names are unique; identical shapes share one type).
- Field names must be identifiers in every format (``[A-Za-z_][A-Za-z0-9_]*``): other keys are
  renamed (``first-name`` -> ``first_name``, ``2fa`` -> ``f_2fa``, ``名前``/``""`` -> ``field_<id>``),
  the original key is kept in the field's doc as ``JSON key: "first-name"`` and in a note, and
  :meth:`Conversions.apply` renames the data keys. Field ids are assigned in first-seen order from 1.
  Identifiers that break a codec library (``self``, ``DESCRIPTOR``: :data:`RESERVED_FIELD_NAMES`)
  and keys equal to an earlier one after dropping ``_`` and folding case (``user_id`` / ``userId``,
  one protobuf JSON name) are renamed the same way (``self_``, ``userId_2``), so every codec sees
  the same names. Every object read as a map gets a note (kind ``map``) with the reason.
- Record names: from the key, singularised for list items / map values (``statuses`` ->
  ``Status``); a different record under a taken name is qualified by its parent (``DriverVehicle``;
  ``InstrumentItem`` under the root ``Instrument``), then numbered, outside in (``Node``, ``Node2``).
"""

from __future__ import annotations

import json
import math
import re
import sys
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from payloads.model import (
    BOOL,
    FLOAT64,
    INT32,
    INT32_MAX,
    INT32_MIN,
    INT64,
    INT64_MAX,
    INT64_MIN,
    STRING,
    Field,
    ListType,
    MapType,
    Record,
    Type,
)

MAX_DEPTH = 48  # containers nested deeper than this (from the record) are stored as JSON text
# An object with more distinct keys than this is a map. Real records can be wide (a GitHub repository
# object has ~80 keys, wide CSV exports hundreds), so this bound is about memory: a map keyed by ids
# would otherwise grow one node per key while reading. Every format takes records this wide.
MAX_RECORD_FIELDS = 1000
VARYING_MAP_MIN_KEYS = 16  # ... or with at least this many keys that vary between occurrences
FLOAT_EXACT_INT = 2**53

# kind bits
_BOOL, _INT, _FLOAT, _STR, _LIST, _OBJ = 1, 2, 4, 8, 16, 32
_KIND_NAMES = ((_BOOL, "bool"), (_INT, "integer"), (_FLOAT, "float"), (_STR, "string"), (_LIST, "array"),
               (_OBJ, "object"))


class _Seg:
    """A path segment that is not a key: any list index or any map key."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return self.text


ITEMS = _Seg("[*]")  # any element of a list
VALUES = _Seg(".<key>")  # the value under any key of a map
Path = tuple  # of str (a JSON key) | ITEMS | VALUES


def path_text(path: Path) -> str:
    """``records[*].prices.<key>``: keys as in the JSON, ``[*]`` any index, ``.<key>`` any map key."""
    out = ""
    for seg in path:
        if seg is ITEMS:
            out += "[*]"
        elif seg is VALUES:
            out += ".<key>" if out else "<key>"
        else:
            seg = seg if seg else '""'
            out += f".{seg}" if out else seg
    return out or "<root>"


@dataclass(frozen=True)
class FidelityNote:
    """One way the benchmarked value differs from the JSON: ``path`` (segments), ``kind``, ``message``.

    ``also`` lists further paths the change shows up at (a renamed key's new name)."""

    path: Path
    kind: str  # renamed | absent-null | int-to-float | big-int-text | json-text | too-deep | null-wrapped | root-map | map
    message: str
    also: tuple = ()

    def __str__(self) -> str:
        return f"{path_text(self.path)}: {self.message}"


# ---------------------------------------------------------------------------------------------
# Observation: one _Node per distinct path in the data.


class _Node:
    __slots__ = ("kinds", "nulls", "present", "imin", "imax", "items", "fields", "objs", "mapped", "deep")

    def __init__(self) -> None:
        self.kinds = 0
        self.nulls = 0
        self.present = 0  # objects of the parent that had this key (record fields only)
        self.imin: int | float = math.inf
        self.imax: int | float = -math.inf
        self.items: _Node | None = None
        self.fields: dict[str, _Node] = {}
        self.objs = 0  # objects observed here
        self.mapped: _Node | None = None  # set once the object had too many keys: merged values
        self.deep = False  # containers here were beyond MAX_DEPTH


def _observe(node: _Node, v: Any, depth: int) -> None:
    t = type(v)
    if t is str:
        node.kinds |= _STR
    elif v is None:
        node.nulls += 1
    elif t is int:
        node.kinds |= _INT
        if v < node.imin:
            node.imin = v
        if v > node.imax:
            node.imax = v
    elif t is float:
        node.kinds |= _FLOAT
    elif t is bool:
        node.kinds |= _BOOL
    elif t is dict:
        node.kinds |= _OBJ
        node.objs += 1
        if depth >= MAX_DEPTH:
            node.deep = True
            return
        d = depth + 1
        m = node.mapped
        if m is not None:
            for x in v.values():
                _observe(m, x, d)
            return
        fields = node.fields
        for k, x in v.items():
            c = fields.get(k)
            if c is None:
                c = fields[k] = _Node()
            c.present += 1
            _observe(c, x, d)
        if len(fields) > MAX_RECORD_FIELDS:
            _collapse(node)
    elif t is list:
        node.kinds |= _LIST
        if depth >= MAX_DEPTH:
            node.deep = True
            return
        it = node.items
        if it is None:
            it = node.items = _Node()
        d = depth + 1
        for x in v:
            _observe(it, x, d)
    else:  # tuples, Decimals, ...: not JSON; treat by their JSON text
        raise TypeError(f"not a JSON value: {type(v).__name__} {v!r:.60}")


def _collapse(node: _Node) -> None:
    merged = _Node()
    for c in node.fields.values():
        _merge_into(merged, c)
    merged.present = 0
    node.fields = {}
    node.mapped = merged


def _merge_into(a: _Node, b: _Node) -> None:
    """Fold node ``b`` into ``a`` (map values of different keys; collapsing a record into a map)."""
    a.kinds |= b.kinds
    a.nulls += b.nulls
    a.present += b.present
    a.imin = min(a.imin, b.imin)
    a.imax = max(a.imax, b.imax)
    a.deep |= b.deep
    a.objs += b.objs
    if b.items is not None:
        if a.items is None:
            a.items = _Node()
        _merge_into(a.items, b.items)
    if a.mapped is None and b.mapped is None:
        for k, c in b.fields.items():
            mine = a.fields.get(k)
            if mine is None:
                mine = a.fields[k] = _Node()
            _merge_into(mine, c)
        if len(a.fields) > MAX_RECORD_FIELDS:
            _collapse(a)
    else:
        if a.mapped is None:
            _collapse(a)
        assert a.mapped is not None
        for c in ([b.mapped] if b.mapped is not None else list(b.fields.values())):
            _merge_into(a.mapped, c)


def _merged_values(node: _Node) -> _Node:
    if node.mapped is not None:
        return node.mapped
    merged = _Node()
    for c in node.fields.values():
        _merge_into(merged, c)
    # a map value is never "absent": only nulls count
    merged.present = 0
    return merged


# ---------------------------------------------------------------------------------------------
# Names


_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_STRONG_DATA_KEY = re.compile(
    r"""(?x)
    [+-]?\d+(\.\d+)?([eE][+-]?\d+)?\Z                                  # numbers
    | \d{4}-\d{2}(-\d{2})?([T\ ].*)?\Z                                  # dates, timestamps
    | [0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z  # UUIDs
    | (?=[0-9a-fA-F]*\d)[0-9a-fA-F]{12,}\Z                               # long hex ids
    | .*[/@]                                                             # paths, URLs, e-mail
    """
)
_WEAK_DATA_KEY = re.compile(r"[A-Z]{2,3}\Z|[a-z]{2}[-_][A-Z]{2}\Z")  # EUR, US, en-US


def key_looks_like_data(key: str) -> str:
    """``"strong"``, ``"weak"`` (ISO-style code) or ``""`` (looks like an identifier)."""
    if key == "" or _STRONG_DATA_KEY.match(key):
        return "strong"
    if _WEAK_DATA_KEY.match(key):
        return "weak"
    return ""


_FOLD = {"ß": "ss", "æ": "ae", "Æ": "AE", "ø": "o", "Ø": "O", "œ": "oe", "Œ": "OE", "ł": "l", "Ł": "L", "đ": "d",
         "Đ": "D", "þ": "th", "Þ": "Th", "ð": "d"}


def _ascii_fold(s: str) -> str:
    out = []
    for ch in s:
        if ch.isascii():
            out.append(ch)
        elif ch in _FOLD:
            out.append(_FOLD[ch])
        else:
            base = "".join(c for c in unicodedata.normalize("NFKD", ch) if c.isascii())
            out.append(base or "_")
    return "".join(out)


def sanitize_field_name(key: str, field_id: int) -> str:
    """A valid identifier in every format for a JSON key (unchanged when it already is one)."""
    if _IDENT.match(key):
        return key
    s = re.sub(r"[^A-Za-z0-9_]+", "_", _ascii_fold(key))
    s = re.sub(r"_+", "_", s).strip("_")
    if not re.search(r"[A-Za-z0-9]", s):
        return f"field_{field_id}"
    if s[0].isdigit():
        s = "f_" + s
    return s


# Keys that are identifiers but break a library when used as a field name: ``self`` is the first
# parameter of protobuf's generated Python message constructors (``Cls(self=...)`` is a TypeError);
# ``DESCRIPTOR`` and ``Extensions`` are attributes of every protobuf message class. They are renamed
# in the model (``self`` -> ``self_``), so every codec sees the same name.
RESERVED_FIELD_NAMES = frozenset({"self", "DESCRIPTOR", "Extensions"})


def mangled(name: str) -> str:
    """The form under which two field names clash in some format: protobuf derives a JSON name by
    dropping ``_`` and capitalising the next letter (``user_id`` and ``userId`` are both ``userId``,
    which protoc rejects), and case-insensitive languages fold case. So: no ``_``, lower case."""
    return name.replace("_", "").lower()


def field_names(keys: list[str]) -> dict[str, tuple[str, str]]:
    """``key -> (field name, why renamed)`` for the keys of one record, in first-seen order: a valid
    identifier keeps its name unless it is reserved or clashes (after :func:`mangled`) with an
    earlier key; other keys are sanitised; clashes get ``_2``, ``_3``, ..."""
    out: dict[str, tuple[str, str]] = {}
    taken: dict[str, str] = {}  # mangled form -> the key that has it
    for key in keys:
        if _IDENT.match(key) and key not in RESERVED_FIELD_NAMES and mangled(key) not in taken:
            out[key] = (key, "")
            taken[mangled(key)] = key
    for i, key in enumerate(keys, start=1):
        if key in out:
            continue
        base = sanitize_field_name(key, i)
        if base in RESERVED_FIELD_NAMES:
            base += "_"
            why = f"{key!r} is a reserved name in a codec library (protobuf's Python API)"
        elif _IDENT.match(key):
            why = (f"it clashes with {taken[mangled(key)]!r} once a format mangles names, e.g. protobuf's JSON "
                   f"name {_lower_camel(key)!r}")
        else:
            why = "not an identifier in every format"
        name, n = base, 2
        while mangled(name) in taken:
            name = f"{base}_{n}"
            n += 1
        out[key] = (name, why)
        taken[mangled(name)] = key
    return out


def _lower_camel(name: str) -> str:
    parts = name.split("_")
    out = parts[0]
    for p in parts[1:]:
        out += p[:1].upper() + p[1:]
    return out


# plural -> singular where the rules below get it wrong
_IRREGULAR = {
    "people": "person", "children": "child", "men": "man", "women": "woman", "feet": "foot", "teeth": "tooth",
    "mice": "mouse", "geese": "goose", "indices": "index", "matrices": "matrix", "vertices": "vertex",
    "appendices": "appendix", "criteria": "criterion", "phenomena": "phenomenon", "analyses": "analysis",
    "axes": "axis", "bases": "base", "crises": "crisis", "theses": "thesis", "diagnoses": "diagnosis",
    "leaves": "leaf", "lives": "life", "knives": "knife", "wives": "wife", "halves": "half", "shelves": "shelf",
    "wolves": "wolf", "selves": "self", "quizzes": "quiz", "series": "series", "species": "species",
    "news": "news", "data": "data", "media": "media", "movies": "movie", "cookies": "cookie",
    "zombies": "zombie", "pies": "pie", "ties": "tie", "lies": "lie", "calories": "calorie",
    "selfies": "selfie", "rookies": "rookie", "hoodies": "hoodie", "goalies": "goalie", "sorties": "sortie",
    "brownies": "brownie", "genies": "genie", "prairies": "prairie", "heroes": "hero", "potatoes": "potato",
    "tomatoes": "tomato", "echoes": "echo", "vetoes": "veto", "torpedoes": "torpedo", "volcanoes": "volcano",
}
# words ending in -us / -as / -is whose plural adds -es (statuses -> status, not "statuse")
_ES_STEMS = ("status", "bus", "virus", "campus", "bonus", "census", "focus", "nexus", "plus", "minus",
             "consensus", "surplus", "prospectus", "apparatus", "corpus", "alias", "bias", "gas", "canvas",
             "atlas", "lens", "iris", "chorus", "circus", "genus", "octopus", "radius", "syllabus", "thesaurus")


def _singular(word: str) -> str:
    w = word
    low = w.lower()
    if low in _IRREGULAR:
        sing = _IRREGULAR[low]
        return (sing[:1].upper() + sing[1:]) if w[:1].isupper() else sing
    if low.endswith("es") and low[:-2] in _ES_STEMS:
        return w[:-2]
    if low.endswith("ies") and len(w) > 4:
        return w[:-3] + ("Y" if w[-3].isupper() else "y")
    if low.endswith(("sses", "shes", "ches", "xes", "zzes")):
        return w[:-2]
    if low.endswith("s") and not low.endswith(("ss", "us", "is")) and len(w) > 3:
        return w[:-1]
    return w


def pascal_name(text: str, fallback: str = "Record") -> str:
    """``trip_updates`` -> ``TripUpdates``, ``driver`` -> ``Driver``; ``fallback`` when nothing is left."""
    words = re.findall(r"[A-Za-z0-9]+", _ascii_fold(text))
    parts = []
    for w in words:
        # split camelCase words but keep acronyms
        for p in re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z0-9]+|[0-9]+", w) or [w]:
            parts.append(p[0].upper() + p[1:])
    name = "".join(parts)
    if not name:
        return fallback
    if name[0].isdigit():
        name = fallback + name
    return name


def type_name_for_key(key: str, *, plural: bool = False, fallback: str = "Record") -> str:
    """The record name for values under ``key`` (``plural`` for list / map elements)."""
    words = re.findall(r"[A-Za-z0-9]+", _ascii_fold(key))
    if plural and words:
        words[-1] = _singular(words[-1])
    return pascal_name("_".join(words), fallback)


# ---------------------------------------------------------------------------------------------
# JSON text fallback


def json_text(v: Any) -> str:
    """Compact JSON text of ``v`` (also for ints beyond 64 bits and very deep values)."""
    try:
        return orjson.dumps(v).decode()
    except (TypeError, orjson.JSONEncodeError):
        limit = sys.getrecursionlimit()
        digits = sys.get_int_max_str_digits()
        try:
            sys.setrecursionlimit(max(limit, 10_000))
            sys.set_int_max_str_digits(0)  # integers of any length
            return json.dumps(v, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        finally:
            sys.setrecursionlimit(limit)
            sys.set_int_max_str_digits(digits)


def int_text(x: Any) -> Any:
    """The decimal digits of an integer of any length (Python refuses over 4300 digits by default)."""
    if type(x) is not int:
        return x
    limit = sys.get_int_max_str_digits()
    try:
        sys.set_int_max_str_digits(0)
        return str(x)
    finally:
        sys.set_int_max_str_digits(limit)


def _short_int(x: Any) -> str:
    if type(x) is not int or -10**30 < x < 10**30:
        return str(x)
    digits = int_text(abs(x))
    return f"{'-' if x < 0 else ''}{digits[:6]}...({len(digits)} digits)"


def _kinds_text(kinds: int) -> str:
    return ", ".join(n for bit, n in _KIND_NAMES if kinds & bit)


# ---------------------------------------------------------------------------------------------
# Building the schema and the value conversions

Conv = Callable[[Any], Any]


@dataclass(frozen=True)
class Conversions:
    """Turns an observed record into a value of the inferred schema; says what that changes."""

    convert: Conv | None  # None: values are used unchanged
    losses: tuple[FidelityNote, ...]
    notes: tuple[str, ...]

    @property
    def identity(self) -> bool:
        return self.convert is None

    def apply(self, record: Any) -> Any:
        return record if self.convert is None else self.convert(record)


class _Builder:
    def __init__(self, reserved: Iterable[str]):
        self.records: dict[str, Record | None] = {n: None for n in reserved}  # None: reserved, being built
        self.losses: list[FidelityNote] = []
        self.parents: list[str] = []  # names of the records being built, outermost first

    def note(self, path: Path, kind: str, message: str, also: tuple = ()) -> None:
        self.losses.append(FidelityNote(tuple(path), kind, message, also))

    def candidates(self, base: str) -> Iterator[str]:
        """Names for a nested record called ``base``: itself, qualified by the enclosing record
        (``DriverVehicle``; ``InstrumentItem`` inside ``Instrument``), then numbered."""
        yield base
        parent = self.parents[-1] if self.parents else ""
        if parent == base and len(self.parents) == 1:
            yield base + "Item"  # the items of the root's namesake: instruments.json {instruments: [...]}
        elif parent and base not in parent and parent not in base:
            yield parent + base  # another record's vehicle: DriverVehicle
        n = 2
        while True:
            yield f"{base}{n}"
            n += 1

    def reserve(self, base: str) -> str:
        """Claim a name for a record before its children are named (nesting is numbered outside in)."""
        for name in self.candidates(base):
            if name not in self.records:
                self.records[name] = None
                return name
        raise AssertionError("unreachable")

    def same_shape(self, base: str, fields: tuple[Field, ...]) -> Record | None:
        family = re.compile(re.escape(base) + r"(Item|\d+)?\Z|[A-Za-z0-9]*" + re.escape(base) + r"\Z")
        for name, rec in self.records.items():
            if rec is not None and rec.fields == fields and family.match(name):
                return rec  # the same shape under the same key elsewhere: share the type
        return None

    def record_named(self, base: str, fields: tuple[Field, ...], doc: str, exact: bool = False) -> Record:
        if exact:  # the root: its name was reserved up front
            rec = Record(base, fields, doc)
            self.records[base] = rec
            return rec
        n = 1
        while True:
            name = base if n == 1 else f"{base}{n}"
            prior = self.records.get(name, ...)
            if prior is ...:
                rec = Record(name, fields, doc)
                self.records[name] = rec
                return rec
            if prior is not None and prior.fields == fields:
                return prior  # the same shape under the same key elsewhere: share the type
            n += 1

    # -- per node ------------------------------------------------------------------------------

    def build(self, node: _Node, path: Path, hint: str, depth: int) -> tuple[Type, Conv | None]:
        k = node.kinds
        if node.deep:
            self.note(path, "too-deep", f"nested deeper than {MAX_DEPTH} levels: stored as a string "
                      "holding the JSON text of the value")
            return STRING, json_text
        if k == 0:  # only nulls (or never a value, e.g. items of empty lists)
            return STRING, None
        if k == _BOOL:
            return BOOL, None
        if k == _STR:
            return STRING, None
        if k == _INT:
            if INT32_MIN <= node.imin and node.imax <= INT32_MAX:
                return INT32, None
            if INT64_MIN <= node.imin and node.imax <= INT64_MAX:
                return INT64, None
            self.note(path, "big-int-text", f"integers outside int64 (seen {_short_int(node.imin)}.."
                      f"{_short_int(node.imax)}): stored as "
                      "strings holding the decimal digits (exact, but the type changes)")
            return STRING, int_text
        if k in (_FLOAT, _FLOAT | _INT):
            if k & _INT:
                if max(-node.imin, node.imax) > sys.float_info.max:
                    self.note(path, "json-text", "integers too large for float64 mixed with floats: stored as a "
                              "string holding the JSON text of the value")
                    return STRING, json_text
                msg = "integers and floats mixed: integers become float64"
                if max(-node.imin, node.imax) > FLOAT_EXACT_INT:
                    msg += (f" (integers beyond 2**53 lose precision; seen {_short_int(node.imin)}.."
                            f"{_short_int(node.imax)})")
                self.note(path, "int-to-float", msg)
                return FLOAT64, _to_float
            return FLOAT64, None
        if k == _LIST:
            return self.build_list(node, path, hint, depth)
        if k == _OBJ:
            return self.build_object(node, path, hint, depth)
        self.note(path, "json-text", f"mixed kinds ({_kinds_text(k)}): stored as a string holding the JSON text "
                  "of each value")
        return STRING, json_text

    def build_elements(self, el: _Node, path: Path, hint: str, depth: int, what: str) -> tuple[Type, Conv | None]:
        """List items / map values: may not be null in the model -> a Nullable<hint> wrapper."""
        t, c = self.build(el, path, hint, depth + 1)
        if not el.nulls:
            return t, c
        wrapper = self.record_named(f"Nullable{hint}", (Field("value", t, 1, optional=True),),
                                    f"a {what} {NULLABLE_DOC}")
        self.note(path, "null-wrapped", f"{what}s include null: each becomes a record {wrapper.name} "
                  "{value: ...} (null -> {value: null})")
        if c is None:
            return wrapper, _wrap
        return wrapper, lambda x, c=c: {"value": None if x is None else c(x)}

    def build_list(self, node: _Node, path: Path, hint: str, depth: int) -> tuple[Type, Conv | None]:
        assert node.items is not None
        t, c = self.build_elements(node.items, (*path, ITEMS), type_name_for_key(hint, plural=True, fallback=hint),
                                   depth, "list item")
        if c is None:
            return ListType(t), None
        return ListType(t), lambda v, c=c: [c(x) for x in v]

    def map_reason(self, node: _Node, depth: int) -> str:
        if node.mapped is not None:
            return f"more than {MAX_RECORD_FIELDS} distinct keys"
        keys = node.fields
        if not keys:
            return "no keys seen"
        data = [key_looks_like_data(k) for k in keys]
        homogeneous: bool | None = None

        def homog() -> bool:
            m = _merged_values(node)
            kinds = m.kinds
            return not m.deep and (kinds & (kinds - 1) == 0 or kinds == _INT | _FLOAT)

        if all(data):
            if all(d == "strong" for d in data):
                return "keys look like data (e.g. " + ", ".join(repr(k) for k in list(keys)[:3]) + ")"
            homogeneous = homog()
            if homogeneous:
                return "keys look like codes (e.g. " + ", ".join(repr(k) for k in list(keys)[:3]) + \
                    ") and all values have one type"
        if len(keys) >= VARYING_MAP_MIN_KEYS and any(c.present < node.objs for c in keys.values()):
            if homogeneous is None:
                homogeneous = homog()
            if homogeneous:
                return f"{len(keys)} distinct keys that vary between objects, all values of one type"
        return ""

    def build_object(self, node: _Node, path: Path, hint: str, depth: int) -> tuple[Type, Conv | None]:
        reason = self.map_reason(node, depth)
        if reason:
            values = _merged_values(node)
            t, c = self.build_elements(values, (*path, VALUES), type_name_for_key(hint, plural=True, fallback=hint),
                                       depth, "map value")
            self.note(path, "map", f"an object read as a map<string, {t.type_name}> rather than a record: {reason}"
                      + (" (the values are JSON text: give a schema with --schema to keep them typed)"
                         if c is not None and values.kinds & (values.kinds - 1) and t == STRING else ""))
            if c is None:
                return MapType(t), None
            return MapType(t), lambda v, c=c: {k: c(x) for k, x in v.items()}
        return self.build_record(node, path, hint, depth)

    def build_record(self, node: _Node, path: Path, name: str, depth: int,
                     exact: bool = False) -> tuple[Record, Conv | None]:
        fields: list[Field] = []
        spec: dict[str, tuple[str, Conv | None]] = {}
        names = field_names(list(node.fields))
        rname = name if exact else self.reserve(name)
        self.parents.append(rname)
        changed = False
        for i, (key, child) in enumerate(node.fields.items(), start=1):
            fname, why = names[key]
            fpath = (*path, key)
            ft, fc = self.build(child, fpath, type_name_for_key(key, fallback=f"{rname}Field{i}"), depth + 1)
            docs = []
            if fname != key:
                docs.append(f"{JSON_KEY_DOC}{json.dumps(key, ensure_ascii=False)}")
                self.note(fpath, "renamed", f"key renamed to {fname!r} ({why})", also=((*path, fname),))
                changed = True
            absent = child.present < node.objs
            optional = absent or child.nulls > 0
            if absent:
                self.note(fpath, "absent-null", f"absent in {node.objs - child.present} of {node.objs} objects: "
                          "optional, an absent key reads back as null")
            if fc is not None:
                changed = True
            docs += self.field_docs(fpath)
            fields.append(Field(fname, ft, i, optional=optional, doc="; ".join(docs)))
            spec[key] = (fname, fc)
        self.parents.pop()
        if exact:
            rec = self.record_named(name, tuple(fields), "", exact)
        else:
            prior = self.same_shape(name, tuple(fields))
            if prior is not None:
                del self.records[rname]
                rec = prior
            else:
                rec = self.records[rname] = Record(rname, tuple(fields), "")
        if not changed:
            return rec, None

        def convert(v: dict, spec: dict = spec, path: Path = path) -> dict:
            out = {}
            for k, x in v.items():
                try:
                    fname, c = spec[k]
                except KeyError:
                    raise KeyError(f"{path_text((*path, k))}: key not observed during inference") from None
                out[fname] = x if (c is None or x is None) else c(x)
            return out

        return rec, convert

    def field_docs(self, fpath: Path) -> list[str]:
        """Doc entries for a field about conversions at the field or its list items / map values
        (``[*]: JSON text of the value ...``): they let a re-imported schema convert the same way."""
        out = []
        n = len(fpath)
        for loss in self.losses:
            if loss.kind in _FIELD_DOCS and loss.path[:n] == fpath:
                rest = loss.path[n:]
                if all(seg is ITEMS or seg is VALUES for seg in rest):
                    rel = "".join(seg.text for seg in rest)
                    out.append(f"{rel}: {_FIELD_DOCS[loss.kind]}" if rel else _FIELD_DOCS[loss.kind])
        return out

    def build_root(self, node: _Node, name: str) -> tuple[Record, Conv | None]:
        if node.kinds & ~_OBJ:
            raise ValueError("records must be JSON objects")
        if node.mapped is not None or (node.fields and all(key_looks_like_data(k) == "strong" for k in node.fields)):
            values = _merged_values(node)
            t, c = self.build_elements(values, (VALUES,), type_name_for_key(name, plural=True) + "Value", 0,
                                       "map value")
            rec = self.record_named(name, (Field("entries", MapType(t), 1, doc="; ".join(self.field_docs(()))),),
                                    ROOT_MAP_DOC, True)
            self.note((), "root-map", "top-level keys look like data (or are too many): each record becomes "
                      "{entries: {...the record...}}", also=(("entries",),))
            if c is None:
                return rec, lambda v: {"entries": v}
            return rec, lambda v, c=c: {"entries": {k: c(x) for k, x in v.items()}}
        return self.build_record(node, (), name, 0, exact=True)


# Doc strings that describe a conversion; payloads.importer reads them back from a user's schema
# (exported with `msgbench schema --format model`) to convert values the same way.
JSON_KEY_DOC = "JSON key: "  # + the key as a JSON string
JSON_TEXT_DOC = "JSON text of the value"
BIG_INT_DOC = "decimal digits of an integer outside int64"
NULLABLE_DOC = "that may be null (null is not allowed there in the model)"
ROOT_MAP_DOC = "the top-level keys look like data: they are the keys of map `entries`"
_FIELD_DOCS = {
    "json-text": f"{JSON_TEXT_DOC} (mixed kinds)",
    "too-deep": f"{JSON_TEXT_DOC} (nested too deep)",
    "big-int-text": BIG_INT_DOC,
    "int-to-float": "integers in the JSON became float64",
}


def _to_float(x: Any) -> float:
    return float(x)


def _wrap(x: Any) -> dict:
    return {"value": x}


# ---------------------------------------------------------------------------------------------
# Public API


class SchemaInferrer:
    """Observe JSON records one at a time; then ask for the schema and the value conversions."""

    def __init__(self) -> None:
        self._root = _Node()
        self._count = 0
        self._conversions: Conversions | None = None
        self._schema: Record | None = None

    @property
    def count(self) -> int:
        """Records observed so far."""
        return self._count

    def observe(self, record: dict) -> None:
        if type(record) is not dict:
            raise TypeError(f"a record must be a JSON object, got {type(record).__name__}")
        self._conversions = None
        self._count += 1
        _observe(self._root, record, 0)

    def schema(self, name: str = "Record", *, reserved: Iterable[str] = ()) -> Record:
        """The inferred record type named ``name`` (nested types avoid ``reserved`` names)."""
        if self._count == 0:
            raise ValueError("no records observed")
        builder = _Builder([name, *reserved])
        rec, conv = builder.build_root(self._root, name)
        losses = tuple(builder.losses)
        self._schema = rec
        self._conversions = Conversions(conv, losses, _notes(losses))
        return rec

    @property
    def conversions(self) -> Conversions:
        """How to turn an observed record into a value of the last :meth:`schema` (built if needed)."""
        if self._conversions is None:
            self.schema(self._schema.name if self._schema is not None else "Record")
        assert self._conversions is not None
        return self._conversions


def _notes(losses: tuple[FidelityNote, ...]) -> tuple[str, ...]:
    out = []
    absent = [n for n in losses if n.kind == "absent-null"]
    for n in losses:
        if n.kind != "absent-null":
            out.append(str(n))
    if absent:
        shown = ", ".join(path_text(n.path) for n in absent)
        out.append(f"optional keys absent from some records read back as null (the model does not tell an absent "
                   f"key from null): {shown}")
    return tuple(out)


def infer(records: Iterable[dict], name: str = "Record") -> tuple[Record, Conversions]:
    """Convenience: observe every record, return ``(schema, conversions)``."""
    inf = SchemaInferrer()
    for r in records:
        inf.observe(r)
    return inf.schema(name), inf.conversions
