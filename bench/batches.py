"""Per-message vs batch: a stream of N trip updates framed the way each format does streams.

The records are the first N of ``trip_updates_batch``'s updates (``TripUpdate`` messages, ~200 B as
JSON each). Every codec comes from the registry: ``prepare(TripUpdate)`` and ``to_native`` of every
record happen once, outside timing; then one figure times encoding the whole stream into one
buffer and one decoding the whole buffer back into N materialised messages, through
``bench.timing.run_cases`` with a small budget. Framings:

- ``ndjson`` (JSON codecs): one message per line, ``\\n``-terminated;
- ``avro-ocf-null`` / ``-deflate`` / ``-zstandard`` (Avro): an object container file written by
  ``fastavro.writer`` (blocks of ~16 KB, the schema once in the header) and read by
  ``fastavro.reader``;
- ``varint-delimited`` (Protobuf): each message prefixed by its length as a varint
  (``writeDelimitedTo`` / ``parseDelimitedFrom``);
- ``thrift-framed`` (Thrift): each message prefixed by a 4-byte big-endian length
  (``TFramedTransport``);
- ``u32-prefixed`` (any other codec): a 4-byte big-endian length per message;
- ``zstd-per-message``: every message compressed on its own with zstd (level 3), u32-prefixed —
  what you get when each message must stay independently decodable;
- ``zstd-dict-per-message``: the same with a dictionary trained (``zstandard.train_dictionary``)
  on held-out messages (the updates after the first N), never on the stream measured.

Each codec runs in its own child process (``bench.subproc``) with its ``process_env`` and a
timeout. Section data: ``{"n", "record", "rows": [{"codec", "framing", "n", "bytes",
"zstd_bytes", "bytes_per_message", "encode_ns", "decode_ns", "mb_per_s", "msgs_per_s",
"encode_mb_per_s", "decode_mb_per_s", "encode", "decode", "blocks", "error"}], "errors",
"notes", "duration_s"}``; times are per batch (all N messages), MB/s = batch bytes / (encode +
decode time), 1 MB = 10⁶ bytes.
"""

from __future__ import annotations

import io
import struct
import time
from collections.abc import Callable
from typing import Any

from bench.timing import Case, Plan, run_cases

N_FULL = 1000
N_QUICK = 250
TRAIN_MESSAGES = 100  # held-out messages for the zstd dictionary (updates after the first N)
DICT_SIZE = 4096
ZSTD_LEVEL = 3
_U32 = struct.Struct(">I")


def batch_plan(mode: str) -> Plan:
    if mode == "quick":
        return Plan(budget_s=0.02, round_s=0.001, min_rounds=3, max_rounds=50, warmup_rounds=1)
    return Plan(budget_s=0.12, round_s=0.002, min_rounds=5, max_rounds=200, warmup_rounds=1)


def varint(n: int) -> bytes:
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def read_varint(data: bytes, pos: int) -> tuple[int, int]:
    shift = result = 0
    while True:
        b = data[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")


# ------------------------------------------------------------------------------------------------
# framings: (encode(natives) -> bytes, decode(bytes) -> list)


def _ndjson(enc: Callable, dec: Callable) -> tuple[Callable, Callable]:
    def encode(natives: list) -> bytes:
        return b"\n".join([enc(m) for m in natives]) + b"\n"

    def decode(data: bytes) -> list:
        return [dec(line) for line in data.split(b"\n") if line]

    return encode, decode


def _varint_delimited(enc: Callable, dec: Callable) -> tuple[Callable, Callable]:
    def encode(natives: list) -> bytes:
        parts = []
        for m in natives:
            b = enc(m)
            parts.append(varint(len(b)))
            parts.append(b)
        return b"".join(parts)

    def decode(data: bytes) -> list:
        out, pos, end = [], 0, len(data)
        while pos < end:
            n, pos = read_varint(data, pos)
            out.append(dec(data[pos:pos + n]))
            pos += n
        return out

    return encode, decode


def _u32_prefixed(enc: Callable, dec: Callable) -> tuple[Callable, Callable]:
    pack, unpack_from = _U32.pack, _U32.unpack_from

    def encode(natives: list) -> bytes:
        parts = []
        for m in natives:
            b = enc(m)
            parts.append(pack(len(b)))
            parts.append(b)
        return b"".join(parts)

    def decode(data: bytes) -> list:
        out, pos, end = [], 0, len(data)
        while pos < end:
            (n,) = unpack_from(data, pos)
            pos += 4
            out.append(dec(data[pos:pos + n]))
            pos += n
        return out

    return encode, decode


def _zstd_per_message(enc: Callable, dec: Callable, dict_data: Any = None) -> tuple[Callable, Callable]:
    import zstandard

    cctx = zstandard.ZstdCompressor(level=ZSTD_LEVEL, dict_data=dict_data)
    dctx = zstandard.ZstdDecompressor(dict_data=dict_data)
    compress, decompress = cctx.compress, dctx.decompress
    return _u32_prefixed(lambda m: compress(enc(m)), lambda b: dec(decompress(b)))


def _avro_ocf(schema: Any, codec_name: str) -> tuple[Callable, Callable]:
    import fastavro

    from formats.avro_schema import avro_schema

    parsed = fastavro.parse_schema(avro_schema(schema), named_schemas={})
    writer, reader, BytesIO = fastavro.writer, fastavro.reader, io.BytesIO

    def encode(natives: list) -> bytes:
        buf = BytesIO()
        writer(buf, parsed, natives, codec=codec_name)
        return buf.getvalue()

    def decode(data: bytes) -> list:
        return list(reader(BytesIO(data)))

    return encode, decode


def avro_codecs() -> tuple[list[str], list[str]]:
    """OCF block codecs to measure (null, deflate, zstandard when fastavro can use it here), and notes."""
    import fastavro

    out, notes = ["null", "deflate"], []
    try:
        fastavro.writer(io.BytesIO(), {"type": "record", "name": "probe", "fields": []}, [{}], codec="zstandard")
        out.append("zstandard")
    except Exception as e:  # fastavro 1.10+ wants backports.zstd (or Python 3.14's compression.zstd)
        notes.append(f"avro-ocf-zstandard not measured: fastavro here cannot write it ({type(e).__name__}: {e})"[:300])
    return out, notes


def framings(codec: Any, prepared: Any, schema: Any, train: list[bytes]) -> dict[str, tuple[Callable, Callable]]:
    enc, dec = prepared.encode, prepared.decode
    fmt = codec.format
    out: dict[str, tuple[Callable, Callable]] = {}
    if fmt == "json":
        out["ndjson"] = _ndjson(enc, dec)
    elif fmt == "avro":
        for c in avro_codecs()[0]:
            out[f"avro-ocf-{c}"] = _avro_ocf(schema, c)
    elif fmt == "protobuf":
        out["varint-delimited"] = _varint_delimited(enc, dec)
    elif fmt == "thrift":
        out["thrift-framed"] = _u32_prefixed(enc, dec)
    else:
        out["u32-prefixed"] = _u32_prefixed(enc, dec)
    out["zstd-per-message"] = _zstd_per_message(enc, dec)
    import zstandard

    out["zstd-dict-per-message"] = _zstd_per_message(enc, dec, zstandard.train_dictionary(DICT_SIZE, train))
    return out


def _stats(st: dict | None) -> dict | None:
    if not st:
        return None
    return {k: st[k] for k in ("median_ns", "iqr_ns", "min_ns", "rounds", "inner_loops", "ci95_ns") if k in st}


def measure_codec(codec: Any, records: list, train_records: list, plan: Plan) -> list[dict]:
    """Rows for one codec (one per framing); errors are rows with ``error`` set."""
    import zstandard

    from payloads import taxi
    from payloads.model import differences

    schema = taxi.TRIP_UPDATE
    n = len(records)
    base = {"codec": codec.name, "n": n}
    try:
        codec.check_schema(schema)
        prepared = codec.prepare(schema)
        natives = [prepared.to_native(r) for r in records]
        train = [prepared.encode(prepared.to_native(r)) for r in train_records]
        fr = framings(codec, prepared, schema, train)
    except Exception as e:
        return [{**base, "framing": "-", "error": f"{type(e).__name__}: {e}"[:500]}]
    rows, cases = [], []
    for name, (enc, dec) in fr.items():
        row: dict[str, Any] = {**base, "framing": name, "error": None}
        try:
            data = enc(natives)
            back = dec(data)
            if len(back) != n:
                raise ValueError(f"decoded {len(back)} messages, expected {n}")
            for i in (0, n - 1):
                diffs = differences(records[i], prepared.from_native(back[i]))
                if diffs:
                    raise ValueError(f"message {i} differs after the round trip: {diffs[0]}")
        except Exception as e:
            row["error"] = f"round trip failed: {type(e).__name__}: {e}"[:500]
            rows.append(row)
            continue
        row["bytes"] = len(data)
        row["bytes_per_message"] = round(len(data) / n, 1)
        row["zstd_bytes"] = len(zstandard.ZstdCompressor(level=ZSTD_LEVEL).compress(data))
        if name.startswith("avro-ocf"):
            import fastavro

            row["blocks"] = sum(1 for _ in fastavro.block_reader(io.BytesIO(data)))
        rows.append(row)
        cases += [Case(f"{name}-encode", enc, natives, plan.budget_s), Case(f"{name}-decode", dec, data, plan.budget_s)]
    if plan.disabled:  # untimed run: sizes only
        return rows
    if cases:
        run_cases(cases, plan)
    by = {c.key: c for c in cases}
    for row in rows:
        if row["error"]:
            continue
        e, d = by[f"{row['framing']}-encode"], by[f"{row['framing']}-decode"]
        if e.error or d.error or not e.result or not d.result:
            row["error"] = f"timing failed: {e.error or d.error or 'not measured'}"[:500]
            continue
        en, de = e.result["median_ns"], d.result["median_ns"]
        row.update(encode_ns=en, decode_ns=de, encode=_stats(e.result), decode=_stats(d.result),
                   mb_per_s=row["bytes"] / ((en + de) / 1e9) / 1e6, msgs_per_s=n / ((en + de) / 1e9),
                   encode_mb_per_s=row["bytes"] / (en / 1e9) / 1e6, decode_mb_per_s=row["bytes"] / (de / 1e9) / 1e6)
    return rows


def stream_records(n: int) -> tuple[list, list]:
    """The first ``n`` trip updates, and held-out ones (after them) for dictionary training."""
    from payloads.catalog import find_payloads

    updates = find_payloads(["trip_updates_batch"])[0].value["updates"]
    if n + TRAIN_MESSAGES > len(updates):
        raise ValueError(f"need {n + TRAIN_MESSAGES} trip updates, the built-in batch has {len(updates)}")
    return updates[:n], updates[len(updates) - max(TRAIN_MESSAGES, len(updates) - n):]


def handle_job(job: dict) -> dict:
    from bench.subproc import load_codec

    codec = load_codec(job["codec"], job.get("plugins"))
    plan = Plan(**job["plan"])
    records, train = stream_records(job["n"])
    notes = avro_codecs()[1] if codec.format == "avro" else []
    return {"rows": measure_codec(codec, records, train, plan), "notes": notes}


def produce(ctx: Any) -> dict:
    """The ``batches`` section (``bench.runner.SectionContext``)."""
    from bench.subproc import per_codec

    if ctx.plan.disabled:  # an untimed run (tests, sizes only) skips the extra measurements
        return {"rows": [], "notes": ["not measured: untimed run"]}
    t0 = time.perf_counter()
    n = N_QUICK if ctx.mode == "quick" else N_FULL
    plan = batch_plan(ctx.mode)
    job = {"n": n, "plan": plan.to_json(), "plugins": ctx.plugins}
    rows, errors, extra = [], [], []
    for name, result, err in per_codec("bench.batches", ctx.codecs, lambda c: {**job, "codec": c}, ctx.plugins,
                                       120.0, ctx.log):
        if err is not None:
            errors.append({"codec": name, "error": err})
            rows.append({"codec": name, "framing": "-", "n": n, "error": err})
        else:
            rows += result["rows"]
            extra += [x for x in result.get("notes", []) if x not in extra]
    data = {
        "n": n,
        "record": "TripUpdate (from trip_updates_batch)",
        "plan": plan.to_json(),
        "rows": rows,
        "errors": errors,
        "notes": [
            f"a batch = the first {n} trip updates; times are per batch (encode all / decode all, messages "
            "materialised); MB/s = batch bytes / (encode + decode median), 1 MB = 10^6 B",
            f"zstd-dict-per-message: a {DICT_SIZE}-byte dictionary trained on {TRAIN_MESSAGES}+ held-out messages "
            f"encoded by the same codec; zstd level {ZSTD_LEVEL}; zstd bytes = the whole batch compressed at once",
            "Avro OCF blocks are fastavro's default (~16 KB sync interval); the schema is in the file header",
            *extra,
        ],
        "duration_s": round(time.perf_counter() - t0, 2),
    }
    ctx.log(f"batches: {len(rows)} rows in {data['duration_s']:.1f} s")
    return data
