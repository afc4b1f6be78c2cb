"""One results row: a codec on a payload — correctness gate, sizes, then timing.

Order matters and is the point of this module:
1. ``prepare`` (schema work) and ``to_native`` happen before anything is timed;
2. the correctness gate round-trips the payload and compares it with the canonical value; a
   codec that raises is ``failed`` and never timed; a difference is recorded exactly (``lossy``);
3. sizes (raw, gzip, zstd) of the bytes the gate produced;
4. timing of encode and decode (the only calls in those timed regions), and separately of the
   conversions and, for lazy parsers, the bare parse;
5. for codecs that offer ``make_access`` (zero-copy and lazy formats, see :mod:`formats.api`):
   ``access`` — open the bytes and read the fields :func:`payloads.access.access_paths` chooses —
   timed as its own case after a check that it returns the payload's values at those paths
   (``access_paths`` in the row names them; a wrong answer is ``access_error`` and is not timed).
6. the typed figures that compare codecs on one boundary: ``encode_typed`` = typed model value →
   bytes (``encode(to_native(v))``) and ``decode_typed`` = bytes → typed model value
   (``from_native(decode(b))``). Text codecs convert base64, timestamps and enums in
   ``from_native``; XML and Avro do it inside ``decode``; only the typed figures count the same
   work for everyone. The library-only ``encode``/``decode`` stay next to them.
"""

from __future__ import annotations

import gzip
import traceback
from typing import Any

from bench.timing import Case, Plan, run_cases
from formats.api import Codec, Prepared, UnsupportedSchema
from payloads.catalog import Payload
from payloads.losses import count_differences
from payloads.model import differences

GZIP_LEVEL = 6
ZSTD_LEVEL = 3
SIZE_SETTINGS = {"gzip_level": GZIP_LEVEL, "zstd_level": ZSTD_LEVEL}


def sizes(data: bytes) -> dict[str, int]:
    import zstandard

    return {
        "raw": len(data),
        "gzip": len(gzip.compress(data, GZIP_LEVEL, mtime=0)),
        "zstd": len(zstandard.ZstdCompressor(level=ZSTD_LEVEL).compress(data)),
    }


def _error_text(e: BaseException) -> str:
    text = f"{type(e).__name__}: {e}".strip()
    return text if len(text) <= 600 else text[:597] + "..."


def empty_row(codec: str, fmt: str, payload: str, status: str, error: str | None) -> dict:
    return {
        "codec": codec,
        "format": fmt,
        "payload": payload,
        "status": status,
        "verdict": "unsupported" if status == "unsupported" else "failed",
        "fidelity": [],
        "error": error,
        "size": None,
        "encode": None,
        "decode": None,
        "to_native": None,
        "from_native": None,
        "parse_lazy": None,
        "access": None,
        "encode_typed": None,
        "decode_typed": None,
    }


def gate(prepared: Prepared, value: Any) -> tuple[Any, bytes, Any, list[dict]]:
    """Round-trip ``value``; return (native, bytes, decoded native, fidelity differences)."""
    native = prepared.to_native(value)
    data = prepared.encode(native)
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError(f"encode returned {type(data).__name__}, not bytes")
    data = bytes(data)
    decoded = prepared.decode(data)
    back = prepared.from_native(decoded)
    return native, data, decoded, fidelity(value, back)


class Fidelity(list):
    """The first ``FIDELITY_EXAMPLES`` differences (dicts for results.json), with the true ``total``
    and the count per path (list indices folded into ``[*]``) in ``by_path``."""

    total: int = 0
    by_path: dict[str, int]


FIDELITY_EXAMPLES = 20
FIDELITY_PATHS = 30


def fidelity(value: Any, back: Any) -> Fidelity:
    loss = count_differences(value, back, examples=FIDELITY_EXAMPLES)
    out = Fidelity({"path": d.path, "expected": _jsonable(d.expected), "actual": _jsonable(d.actual)}
                   for d in loss.examples)
    out.total = loss.total
    top = sorted(loss.by_path.items(), key=lambda kv: (-kv[1], kv[0]))
    out.by_path = dict(top[:FIDELITY_PATHS])
    return out


def access_function(prepared: Prepared, schema: Any, value: Any, data: bytes,
                    decoded_value: Any) -> tuple[Any, list[str], str | None]:
    """(access function or None, the paths as text, error or None) for ``prepared``.

    None without an error when the codec offers no ``make_access`` or the schema has no fields to
    read. The function is checked first: its result must equal the payload's values at the paths,
    or — for a lossy codec — what the full decode gave there (the loss is then already recorded as
    fidelity)."""
    from payloads.access import access_paths, path_text, values_at

    make = getattr(prepared, "make_access", None)
    paths = access_paths(schema)
    if make is None or not paths:
        return None, [], None
    names = [path_text(p) for p in paths]
    try:
        access = make(paths)
        got = access(data)
    except Exception as e:
        return None, names, f"access failed: {_error_text(e)}"
    if not isinstance(got, list) or len(got) != len(paths):
        return None, names, f"access returned {_jsonable(got)}, not a list of {len(paths)} values"
    for expected in (values_at(value, paths), values_at(decoded_value, paths)):
        if not differences(expected, got):
            return access, names, None
    wrong = [f"{n}: expected {_jsonable(e)!r}, got {_jsonable(g)!r}"
             for n, e, g in zip(names, values_at(value, paths), got, strict=True) if differences(e, g)]
    return None, names, f"access returned wrong values (correctness check): {'; '.join(wrong[:3])}"


def _jsonable(v: Any) -> Any:
    if isinstance(v, (bytes, bytearray)):
        return "0x" + bytes(v).hex()[:64]
    if isinstance(v, float) and (v != v or v in (float("inf"), float("-inf"))):
        return repr(v)
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v if not isinstance(v, str) or len(v) < 120 else v[:117] + "..."
    r = repr(v)
    return r if len(r) < 120 else r[:117] + "..."


def _typed_encoder(prepared: Prepared):
    """typed model value → bytes: the conversion and the library's encode, nothing else."""
    encode, to_native = prepared.encode, prepared.to_native

    def encode_typed(value: Any) -> bytes:
        return encode(to_native(value))

    return encode_typed


def _typed_decoder(prepared: Prepared):
    """bytes → typed model value: the library's decode and the conversion, nothing else."""
    decode, from_native = prepared.decode, prepared.from_native

    def decode_typed(data: bytes) -> Any:
        return from_native(decode(data))

    return decode_typed


def measure_row(codec: Codec, payload: Payload, plan: Plan) -> dict:
    """Measure one codec on one payload; never raises for a codec's fault."""
    row = empty_row(codec.name, codec.format, payload.name, "failed", None)
    try:
        value = payload.value
        codec.check_schema(payload.schema)
        prepared = codec.prepare(payload.schema)
    except UnsupportedSchema as e:
        return empty_row(codec.name, codec.format, payload.name, "unsupported", str(e))
    except Exception as e:
        row["error"] = f"prepare failed: {_error_text(e)}"
        row["traceback"] = traceback.format_exc(limit=6)
        return row
    try:
        native, data, decoded, diffs = gate(prepared, value)
    except UnsupportedSchema as e:
        return empty_row(codec.name, codec.format, payload.name, "unsupported", str(e))
    except Exception as e:
        row["error"] = f"round trip failed (correctness gate): {_error_text(e)}"
        row["traceback"] = traceback.format_exc(limit=6)
        return row
    row["status"] = "ok"
    row["verdict"] = "lossy" if diffs else "exact"
    row["fidelity"] = list(diffs)
    if diffs:
        row["fidelity_total"] = diffs.total  # every changed value; "fidelity" holds the first examples
        row["fidelity_paths"] = diffs.by_path
    row["size"] = sizes(data)

    cases = [
        Case("encode", prepared.encode, native, plan.budget_s),
        Case("decode", prepared.decode, data, plan.budget_s),
        Case("to_native", prepared.to_native, value, plan.conversion_budget_s),
        Case("from_native", prepared.from_native, decoded, plan.conversion_budget_s),
    ]
    cases += [
        Case("encode_typed", _typed_encoder(prepared), value, plan.budget_s),
        Case("decode_typed", _typed_decoder(prepared), data, plan.budget_s),
    ]
    parse_lazy = getattr(prepared, "parse_lazy", None)
    if parse_lazy is not None:
        cases.append(Case("parse_lazy", parse_lazy, data, plan.conversion_budget_s))
    try:
        access, access_names, access_error = access_function(
            prepared, payload.schema, value, data, prepared.from_native(decoded))
    except Exception as e:  # never lose the row's other figures to the access check
        access, access_names, access_error = None, [], f"access check failed: {_error_text(e)}"
    if access_names:
        row["access_paths"] = access_names
    if access_error:
        row["access_error"] = access_error
    if access is not None:
        cases.append(Case("access", access, data, plan.budget_s))
    try:
        run_cases(cases, plan)
    except Exception as e:  # the harness itself failed for this row
        row["status"] = "failed"
        row["verdict"] = "failed"
        row["error"] = f"timing failed: {_error_text(e)}"
        return row
    errors = [f"{c.key}: {c.error}" for c in cases if c.error]
    for c in cases:
        row[c.key] = c.result
    if errors:
        row["status"] = "failed"
        row["verdict"] = "failed"
        row["error"] = "; ".join(errors)
    return row
