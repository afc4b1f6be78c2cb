"""The fixed set of fields the ``access`` measurement reads, for any schema.

``access`` answers "how long until the application has *these few fields* out of the bytes?" —
the case zero-copy (Cap'n Proto, FlatBuffers) and lazy (protobuf upb) formats are built for —
apart from ``decode``, which materialises every field. The fields are chosen from the schema alone
by a fixed rule, so every codec reads the same fields of a payload and any schema (users' payloads
too) gets a choice:

1. **Three top-level scalars**, spread over the record: the first, the middle and the last of its
   scalar fields in declaration order (scalar = bool, ints, floats, string, bytes, timestamp,
   enum; lists and maps are never stepped into). A format that must walk the bytes in order to
   reach a field pays for the last one; a format with random access does not. Fewer scalars, fewer
   paths (all of them).
2. **One scalar inside the first nested record**: the first top-level field whose type is a record
   (optional or not), then the first scalar field of that record; if it has none, the same rule one
   record further down (at most 8 levels).

Paths are tuples of model field names (``("driver", "rating")``). A schema without top-level
scalars or nested records gets fewer (possibly no) paths; a codec then has no access figure for it.

:func:`values_at` gives the model values at the paths, the expected result of an access function:
an absent optional field, or any field under an absent optional record, is ``None``; enums are
their symbol names, timestamps int microseconds, bytes ``bytes`` — the canonical model value.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from payloads.model import EnumType, Primitive, Record, Type

MAX_DEPTH = 8
TOP_LEVEL = 3


def is_scalar(t: Type) -> bool:
    return isinstance(t, (Primitive, EnumType))


def _spread(n: int) -> list[int]:
    """Indices of the first, middle and last of ``n`` items (fewer when ``n`` < 3)."""
    if n <= TOP_LEVEL:
        return list(range(n))
    return [0, (n - 1) // 2, n - 1]


def _nested_scalar(rec: Record, depth: int) -> tuple[str, ...] | None:
    if depth > MAX_DEPTH:
        return None
    for f in rec.fields:
        if is_scalar(f.type):
            return (f.name,)
    for f in rec.fields:
        if isinstance(f.type, Record):
            below = _nested_scalar(f.type, depth + 1)
            if below is not None:
                return (f.name, *below)
            return None
    return None


def access_paths(schema: Record) -> list[tuple[str, ...]]:
    """The paths the ``access`` measurement reads in ``schema`` (see the module docstring)."""
    if not isinstance(schema, Record):
        return []
    scalars = [f.name for f in schema.fields if is_scalar(f.type)]
    paths: list[tuple[str, ...]] = [(scalars[i],) for i in _spread(len(scalars))]
    for f in schema.fields:
        if isinstance(f.type, Record):
            below = _nested_scalar(f.type, 1)
            if below is not None:
                paths.append((f.name, *below))
            break
    return paths


def path_text(path: Sequence[str]) -> str:
    return ".".join(path)


def check_paths(schema: Record, paths: Sequence[Sequence[str]]) -> list[Type]:
    """The scalar type at each path; ValueError naming the path when one does not lead to a scalar
    through records only (codecs' ``make_access`` may call this to reject a bad request early)."""
    out: list[Type] = []
    for path in paths:
        t: Type = schema
        for i, name in enumerate(path):
            if not isinstance(t, Record) or t.get(name) is None:
                raise ValueError(f"access path {path_text(path)!r}: {path_text(path[:i + 1])!r} is not a field of a record")
            t = t.field(name).type
        if not path or not is_scalar(t):
            raise ValueError(f"access path {path_text(path)!r} does not end at a scalar field")
        out.append(t)
    return out


def values_at(value: Any, paths: Sequence[Sequence[str]]) -> list[Any]:
    """The model values at ``paths`` in the (canonical) model value ``value``; None under an absent
    optional field or record."""
    out = []
    for path in paths:
        v = value
        for name in path:
            v = v.get(name) if isinstance(v, dict) else None
            if v is None:
                break
        out.append(v)
    return out
