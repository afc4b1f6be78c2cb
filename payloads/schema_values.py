"""Values for a schema that came without data: generated, deterministic and realistic; or the
user's JSON samples read into the model (timestamps as RFC 3339 text, bytes as base64).

    generate(schema, seed=0, index=0, fill=True)   # one record; fill: every optional field set
    generate_batch(schema, n=50, seed=0)           # n records: optional fields set and unset
    from_json(schema, sample)                      # a JSON sample -> a model value (validated)

Generation picks values by field name where it can (``*_id``, ``lat``/``lon``, ``*_at``,
``email``, ``currency``, ``note``, ...), otherwise by type: strings of 6..24 characters, lists of
2..6 items, maps of 2..4 entries, bytes of 64..256 bytes, timestamps around 2024. Every field is
filled, each enum symbol and each optional set/unset appears across a batch. No wall clock, no
global random state: the same schema and seed give the same values on every machine.
"""

from __future__ import annotations

import base64
import datetime as _dt
import random
import zlib
from typing import Any

from payloads.model import EnumType, ListType, MapType, Primitive, Record, SchemaMismatch, Type, normalize

_WORDS = ("gate", "north", "blue", "door", "terminal", "exit", "station", "park", "river", "bridge", "square",
          "market", "airport", "hotel", "central", "east", "west", "lane", "road", "corner")
_CURRENCIES = ("EUR", "USD", "GBP", "CHF")
_BASE_TS = 1_718_000_000_000_000  # 2024-06-10 in microseconds


def _rng(seed: int, *parts: Any) -> random.Random:
    return random.Random(zlib.crc32(repr((seed, *parts)).encode()))


def _string(name: str, r: random.Random) -> str:
    n = name.lower()
    if n.endswith("id") or n.endswith("_key"):
        return f"{n.split('_')[0][:4]}-{r.getrandbits(48):012x}"
    if "email" in n:
        return f"{r.choice(_WORDS)}.{r.choice(_WORDS)}{r.randrange(100)}@example.com"
    if "currency" in n:
        return r.choice(_CURRENCIES)
    if n in ("name", "first_name", "last_name", "driver_name", "rider_name"):
        return r.choice(("Ana", "Ben", "Chen", "Dara", "Eli", "Femi", "Gus", "Hana")) + " " + r.choice(
            ("Kowalski", "Ng", "Okafor", "Silva", "Berg", "Rossi"))
    if "phone" in n:
        return f"+49 30 {r.randrange(1000000, 9999999)}"
    k = r.randint(1, 4)
    return " ".join(r.choice(_WORDS) for _ in range(k)) + f" {r.randrange(1, 200)}"


def _number(kind: str, name: str, r: random.Random) -> Any:
    n = name.lower()
    if kind == "timestamp" or (kind == "int64" and (n.endswith("_at") or n.endswith("_time") or n.endswith("_ts"))):
        return _BASE_TS + r.randrange(0, 86_400_000_000 * 30)
    if kind in ("float32", "float64"):
        if n in ("lat", "latitude"):
            x = round(52.3 + r.random() * 0.4, 6)
        elif n in ("lon", "lng", "longitude"):
            x = round(13.1 + r.random() * 0.6, 6)
        else:
            x = round(r.uniform(0, 1000), 2)
        return x
    if n.endswith("id"):
        return r.randrange(1, 2**31 - 1 if kind == "int32" else 2**40)
    if "cents" in n or "amount" in n or "price" in n or "fare" in n:
        return r.randrange(250, 9000)
    if "count" in n or n in ("seats", "passengers"):
        return r.randint(1, 4)
    return r.randrange(0, 100_000)


def _value(t: Type, name: str, r: random.Random, fill: bool, index: int, depth: int) -> Any:
    if isinstance(t, Primitive):
        k = t.kind
        if k == "bool":
            return r.random() < 0.5
        if k == "string":
            return _string(name, r)
        if k == "bytes":
            return r.randbytes(r.randint(64, 256))
        return _number(k, name, r)
    if isinstance(t, EnumType):
        return t.symbols[(index + r.randrange(len(t.symbols))) % len(t.symbols)]
    if isinstance(t, ListType):
        n = 0 if depth > 3 else r.randint(2, 6)
        item = name[:-1] if name.endswith("s") else name
        return [_value(t.items, item, r, fill, index + i, depth + 1) for i in range(n)]
    if isinstance(t, MapType):
        n = 0 if depth > 3 else r.randint(2, 4)
        keys = r.sample(_WORDS, n)
        return {k: _value(t.values, k, r, fill, index, depth + 1) for k in keys}
    if isinstance(t, Record):
        return _record(t, r, fill, index, depth + 1)
    raise TypeError(f"unknown schema type {t!r}")


def _record(rec: Record, r: random.Random, fill: bool, index: int, depth: int) -> dict:
    out: dict[str, Any] = {}
    for pos, f in enumerate(rec.fields):
        if f.optional and not fill and (index + pos) % 2 == 1:
            out[f.name] = None  # unset in every other record, alternating between fields
            continue
        out[f.name] = _value(f.type, f.name, r, fill, index, depth)
    return out


def generate(schema: Record, seed: int = 0, index: int = 0, fill: bool = True) -> dict:
    """One record of ``schema`` (normalized); ``fill``: every optional field set."""
    return normalize(schema, _record(schema, _rng(seed, schema.name, index), fill, index, 0))


def generate_batch(schema: Record, n: int = 50, seed: int = 0) -> list[dict]:
    """``n`` records; each optional field is set in some and unset in others (n >= 2)."""
    return [generate(schema, seed, i, fill=(i == 0)) for i in range(n)]


# ------------------------------------------------------------------------------------------------
# JSON samples -> model values


def parse_timestamp(text: str) -> int:
    """RFC 3339 text -> microseconds since the epoch (UTC)."""
    t = text.strip()
    if t.endswith(("Z", "z")):
        t = t[:-1] + "+00:00"
    d = _dt.datetime.fromisoformat(t)
    if d.tzinfo is None:
        raise ValueError(f"timestamp {text!r} has no time zone (add Z or +hh:mm)")
    delta = d - _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_json(schema: Type, sample: Any, path: str = "") -> Any:
    """A JSON sample in ``schema``'s shape -> a normalized model value. Timestamps may be RFC 3339
    text or integers (microseconds), bytes base64 text; errors name the field path."""
    return normalize(schema, _convert(schema, sample, path))


def _convert(t: Type, v: Any, path: str) -> Any:
    if v is None:
        return None
    if isinstance(t, Primitive):
        if t.kind == "timestamp" and isinstance(v, str):
            try:
                return parse_timestamp(v)
            except ValueError as e:
                raise SchemaMismatch(path, f"not an RFC 3339 timestamp: {e}") from None
        if t.kind == "bytes" and isinstance(v, str):
            try:
                return base64.b64decode(v, validate=True)
            except ValueError:
                raise SchemaMismatch(path, f"not base64 text: {v!r:.40}") from None
        return v
    if isinstance(t, ListType) and isinstance(v, list):
        return [_convert(t.items, x, f"{path}[{i}]") for i, x in enumerate(v)]
    if isinstance(t, MapType) and isinstance(v, dict):
        return {k: _convert(t.values, x, f"{path}[{k!r}]") for k, x in v.items()}
    if isinstance(t, Record) and isinstance(v, dict):
        out = dict(v)
        for f in t.fields:
            if f.name in v:
                out[f.name] = _convert(f.type, v[f.name], f"{path}.{f.name}" if path else f.name)
        return out
    return v
