"""Synthetic results documents for report rendering tests.

CLEARLY SYNTHETIC: the numbers below are made up (seeded, plausible shapes) and exist only so the
report renderer can be tested without running a benchmark. Never quote them as measurements.
"""

from __future__ import annotations

import random

EVIL_PAYLOAD = "<script>alert(1)</script>"
EVIL_CODEC = "evil/<img src=x onerror=alert(1)>"

# name, format, library, version, backend, binary, size factor vs JSON, encode ns/B, decode ns/B
_CODECS = [
    ("json/orjson", "json", "orjson", "3.10.7", "rust", False, 1.00, 0.25, 0.60),
    ("xml/lxml", "xml", "lxml", "5.3.0", "libxml2 2.12", False, 1.65, 4.0, 6.0),
    ("avro/fastavro", "avro", "fastavro", "1.9.7", "cython", True, 0.42, 1.5, 1.8),
    ("protobuf/upb", "protobuf", "protobuf", "5.28.2", "upb", True, 0.48, 0.5, 1.0),
    ("thrift/compact", "thrift", "thriftpy2", "0.5.2", "pure-python", True, 0.46, 15.0, 20.0),
    (EVIL_CODEC, "evil", "evil-codec", "0.0.1", "c", True, 0.70, 0.8, 0.9),
]

# name, description, JSON bytes
_PAYLOADS = [
    ("trip_request", "A passenger asks for a ride (nested pickup/drop-off, options).", 1_600),
    ("driver_offer", "A driver's offer for a trip: small, flat.", 310),
    ("gps_track", "A GPS track of 2,000 points (floats, timestamps).", 120_000),
    ("invoice", "An invoice with line items, taxes and a map of metadata.", 4_200),
    (EVIL_PAYLOAD, "A payload whose name tries to inject a script.", 150),
]

FAILED = ("thrift/compact", "invoice")
UNSUPPORTED = (EVIL_CODEC, "gps_track")
LOSSY = ("xml/lxml", "gps_track")


def _stats(rng: random.Random, median: float) -> dict:
    spread = median * rng.uniform(0.02, 0.12)
    q1, q3 = median - spread * 0.4, median + spread * 0.6
    return {
        "median_ns": median, "iqr_ns": q3 - q1, "q1_ns": q1, "q3_ns": q3, "min_ns": median * 0.9,
        "mean_ns": median * 1.03, "rounds": 200, "inner_loops": max(1, int(2e5 / median)),
        "ci95_ns": [median - spread * 0.15, median + spread * 0.2],
        "samples_ns": [median + spread * rng.uniform(-0.5, 0.8) for _ in range(8)],
    }


def _evolution() -> dict:
    scenarios = [
        ("add_optional_field", "Add an optional field", "v2 adds an optional 'tip' field with a default."),
        ("remove_optional_field", "Remove an optional field", "v2 drops the optional 'note' field."),
        ("reorder_fields", "Reorder fields", "v2 declares the same fields in another order."),
        ("rename_field", "Rename a field", "v2 renames 'fare' to 'price' (same id/tag)."),
        ("int32_to_int64", "Widen int32 to int64", "v2 widens 'distance_m' from int32 to int64."),
        ("add_enum_value", "Add an enum value", "v2 adds vehicle type 'SCOOTER'; old readers see it."),
    ]
    codecs = [c[0] for c in _CODECS]
    outcomes = {
        "json/orjson": ["ok", "dropped", "ok", "defaulted", "ok", "ok"],
        "xml/lxml": ["ok", "dropped", "ok", "defaulted", "ok", "ok"],
        "avro/fastavro": ["defaulted", "ok", "ok", "error", "ok", "error"],
        "protobuf/upb": ["preserved-unknown", "ok", "ok", "ok", "ok", "preserved-unknown"],
        "thrift/compact": ["defaulted", "ok", "ok", "ok", "corrupted", "defaulted"],
        EVIL_CODEC: ["ok", "ok", "unsupported", "corrupted", "error", "ok"],
    }
    directions = ["backward", "forward", "roundtrip"]
    cells = []
    for si, (sid, _, _) in enumerate(scenarios):
        for c in codecs:
            for di, d in enumerate(directions):
                out = outcomes[c][si]
                if d == "roundtrip" and out == "dropped":
                    out = "ok"
                if d == "forward" and out == "preserved-unknown" and di == 1:
                    out = "ok"
                detail = {
                    "ok": "value equal after decoding",
                    "defaulted": "missing field took its default (0)",
                    "dropped": "unknown field ignored by the reader",
                    "preserved-unknown": "unknown field kept and re-emitted",
                    "corrupted": "decoded distance_m = -1294967296, expected 3000000000 <no error raised>",
                    "error": "SchemaResolutionError: reader schema has no default for 'price'",
                    "unsupported": "codec cannot express this change",
                }[out]
                cells.append({"scenario": sid, "codec": c, "direction": d, "outcome": out, "detail": detail})
    return {
        "scenarios": [{"id": s, "title": t, "description": d} for s, t, d in scenarios],
        "codecs": codecs,
        "directions": directions,
        "safe_scenarios": ["add_optional_field", "remove_optional_field", "reorder_fields"],
        "cells": cells,
    }


def _faults(rng: random.Random) -> dict:
    trials = 200
    out = []
    for name, *_ in _CODECS:
        kinds = {}
        for kind in ("truncated", "bitflip", "random", "oversized_length"):
            garbage = rng.randint(0, 40) if name != "json/orjson" else rng.randint(0, 3)
            crash = 1 if (name == EVIL_CODEC and kind == "oversized_length") else 0
            hang = 1 if (name == "thrift/compact" and kind == "oversized_length") else 0
            kinds[kind] = {"clean_error": trials - garbage - crash - hang, "silent_garbage": garbage,
                           "hang": hang, "crash": crash}
        out.append({"codec": name, "kinds": kinds,
                    "examples": [f"{name}: bitflip at byte 7 decoded to a different trip id <no error>"]})
    return {"trials_per_kind": trials, "codecs": out}


def _scaling(rng: random.Random) -> dict:
    counts = [1, 10, 100, 1_000, 10_000]
    series = []
    for name, _, _, _, _, _, fsize, fenc, fdec in _CODECS[:4]:
        for op, f in (("encode", fenc), ("decode", fdec)):
            pts = [{"n": n, "bytes": int(300 * fsize * n), "median_ns": 400 + f * 300 * n * rng.uniform(0.95, 1.05)}
                   for n in counts]
            series.append({"codec": name, "op": op, "points": pts})
    return {"counts": counts, "series": series}


def build_document(seed: int = 7) -> dict:
    """A complete synthetic results document: 6 codecs x 5 payloads, every known section."""
    rng = random.Random(seed)
    rows = []
    for name, fmt, _lib, _ver, _be, _binary, fsize, fenc, fdec in _CODECS:
        for pname, _, jb in _PAYLOADS:
            base = {"codec": name, "format": fmt, "payload": pname, "fidelity": [], "error": None,
                    "to_native": None, "from_native": None, "parse_lazy": None}
            if (name, pname) == FAILED:
                rows.append({**base, "status": "failed", "verdict": "failed", "size": None, "encode": None,
                             "decode": None, "error": "round trip failed (correctness gate): "
                             "TProtocolException: map<string, string> with <None> value at items[3].meta"})
                continue
            if (name, pname) == UNSUPPORTED:
                rows.append({**base, "status": "unsupported", "verdict": "unsupported", "size": None,
                             "encode": None, "decode": None,
                             "error": "UnsupportedSchema: list<record> of 2,000 items > plugin limit <1024>"})
                continue
            raw = max(20, int(jb * fsize * rng.uniform(0.95, 1.05)))
            # text compresses best on the large payload: there a text format wins after zstd while a
            # binary one stays smallest raw (as measured on trip_updates_batch)
            text_ratio = 0.3 if jb >= 100_000 else 0.35
            gz = int(raw * (text_ratio if fmt in ("json", "xml") else 0.8) + 20)
            zs = int(gz * 0.93)
            row = {**base, "status": "ok", "verdict": "exact",
                   "size": {"raw": raw, "gzip": gz, "zstd": zs},
                   "encode": _stats(rng, 250 + fenc * jb * rng.uniform(0.9, 1.1)),
                   "decode": _stats(rng, 300 + fdec * jb * rng.uniform(0.9, 1.1)),
                   "to_native": _stats(rng, 200 + 0.3 * jb), "from_native": _stats(rng, 200 + 0.3 * jb)}
            # typed figures (typed value ⇄ bytes): library call + conversion; text formats convert
            # more on the way in (JSON: base64, timestamps, enums), as measured runs show
            conv = 2.0 if fmt in ("json", "xml") else 1.0
            row["encode_typed"] = _stats(rng, row["encode"]["median_ns"] + row["to_native"]["median_ns"])
            row["decode_typed"] = _stats(rng, row["decode"]["median_ns"] + conv * row["from_native"]["median_ns"])
            if name == "protobuf/upb":
                row["parse_lazy"] = _stats(rng, 150 + 0.05 * jb)
            if (name, pname) == LOSSY:
                row["verdict"] = "lossy"
                row["fidelity"] = [
                    {"path": "points[0].lat", "expected": 52.520008123, "actual": "52.520008"},
                    {"path": "points[0].ts", "expected": 1700000000123456, "actual": "1700000000123456"},
                    {"path": "points[1].<tag>", "expected": "<b>x</b>", "actual": None},
                ]
            rows.append(row)
    codecs = [{"name": n, "format": f, "library": lib, "library_version": v, "backend": be,
               "slow_backend": be == "pure-python", "source": "plugin: evil-codec" if n == EVIL_CODEC else "builtin",
               "binary": b, "needs_schema": b, "status": "ok", "error": None,
               "notes": (["thriftpy2 has no compiled compact protocol; pure-Python protocol used"]
                         if be == "pure-python" else [])}
              for n, f, lib, v, be, b, *_ in _CODECS]
    payloads = [{"name": n, "description": d, "source": "builtin", "json_bytes": jb,
                 "notes": ["synthetic <fixture> payload"] if n == EVIL_PAYLOAD else []} for n, d, jb in _PAYLOADS]
    calibration = [{"codec": c, "payload": "driver_offer", "harness_ns": h, "bare_ns": b, "ratio": h / b}
                   for c, h, b in (("json/orjson", 412.0, 405.0), ("protobuf/upb", 655.0, 640.0),
                                   ("avro/fastavro", 1510.0, 1492.0))]
    batches = [{"codec": c, "framing": fr, "n": 500, "bytes": b, "zstd_bytes": z, "encode_ns": e, "decode_ns": d,
                "mb_per_s": b / 1e6 / ((e + d) / 1e9), "msgs_per_s": 500 / ((e + d) / 1e9)}
               for c, fr, b, z, e, d in (("json/orjson", "ndjson", 800_000, 61_000, 210_000.0, 520_000.0),
                                         ("protobuf/upb", "varint-delimited", 390_000, 88_000, 260_000.0,
                                          600_000.0),
                                         ("avro/fastavro", "object container", 330_000, 80_000, 700_000.0,
                                          910_000.0),
                                         # each message zstd-compressed alone, with / without a dictionary
                                         ("json/orjson", "zstd-dict-per-message", 36_400, 36_500, 400_000.0,
                                          700_000.0),
                                         ("avro/fastavro", "zstd-dict-per-message", 37_300, 37_400, 900_000.0,
                                          1_100_000.0),
                                         ("protobuf/upb", "zstd-dict-per-message", 39_800, 39_900, 450_000.0,
                                          750_000.0),
                                         ("json/orjson", "zstd-per-message", 88_000, 88_100, 380_000.0,
                                          680_000.0))]
    memory = [{"codec": c, "payload": "gps_track", "encode_peak_bytes": e, "decode_peak_bytes": d}
              for c, e, d in (("json/orjson", 260_000, 1_900_000), ("protobuf/upb", 120_000, 2_400_000),
                              ("xml/lxml", 900_000, 7_800_000))]
    return {
        "schema_version": 1,
        "tool": {"name": "msgbench", "version": "0.1.0"},
        "run": {"started": "2024-05-01T10:00:00+00:00", "finished": "2024-05-01T10:07:12+00:00",
                "partial": False, "mode": "full", "argv": ["run"], "duration_s": 432.1,
                "sizes": {"gzip_level": 6, "zstd_level": 3}},
        "environment": {
            "machine_id": "0123456789ab", "hostname": "synthetic-host", "platform": "Linux-6.1-x86_64",
            "cpu_model": "Synthetic CPU @ 2.0GHz", "cpu_count": 2, "cpu_governor": "schedutil",
            "cpu_freq_khz": 2_000_000, "load_average": [1.7, 1.2, 0.9], "memory_total_bytes": 8 * 2**30,
            "python": {"version": "3.11.2", "implementation": "CPython", "build": "main", "compiler": "GCC 12",
                       "executable": "/usr/bin/python3"},
            "libraries": {"orjson": "3.10.7", "lxml": "5.3.0", "fastavro": "1.9.7", "protobuf": "5.28.2",
                          "thriftpy2": "0.5.2", "msgpack": None},
            "git": {"revision": "0123456789abcdef0123456789abcdef01234567", "dirty": True},
            "warnings": ["machine was busy at start: load average 1.70 on 2 cores; timings may be slow or noisy "
                         "— compare runs before concluding"],
        },
        "codecs": codecs,
        "payloads": payloads,
        "rows": rows,
        "sections": {
            "evolution": _evolution(),
            "faults": _faults(rng),
            "calibration": calibration,
            "scaling": _scaling(rng),
            "batches": batches,
            "memory": memory,
            "comparison": {"baseline": "ignored by the report"},
            "mystery": {"note": "</details><script>alert(2)</script>", "values": [1, 2, 3]},
        },
    }


def minimal_document() -> dict:
    """No sections, every row failed, sparse environment."""
    rows = [{"codec": c, "format": c.split("/")[0], "payload": p, "status": "failed", "verdict": "failed",
             "fidelity": [], "error": "codec unavailable: pip install something", "size": None, "encode": None,
             "decode": None, "to_native": None, "from_native": None, "parse_lazy": None}
            for c in ("json/orjson", "protobuf/upb") for p in ("trip_request", "driver_offer")]
    return {"schema_version": 1, "run": {"partial": True}, "environment": {},
            "codecs": [{"name": "json/orjson", "status": "unavailable", "error": "pip install orjson"}],
            "payloads": [{"name": "trip_request"}, {"name": "driver_offer"}], "rows": rows}


def scaled_document(n_codecs: int = 8, n_payloads: int = 6, seed: int = 3) -> dict:
    """The full document stretched to ``n_codecs`` x ``n_payloads`` (for the render-time budget)."""
    doc = build_document(seed)
    rng = random.Random(seed)
    base_codecs = doc["codecs"]
    base_rows = {(r["codec"], r["payload"]): r for r in doc["rows"]}
    base_payloads = doc["payloads"]
    codecs, payloads, rows = [], [], []
    for i in range(n_payloads):
        p = dict(base_payloads[i % len(base_payloads)])
        p["name"] = p["name"] if i < len(base_payloads) else f"{p['name']}_{i}"
        payloads.append((p, base_payloads[i % len(base_payloads)]["name"]))
    for j in range(n_codecs):
        c = dict(base_codecs[j % len(base_codecs)])
        orig = c["name"]
        c["name"] = orig if j < len(base_codecs) else f"{orig}-v{j}"
        codecs.append(c)
        for p, porig in payloads:
            r = dict(base_rows[(orig, porig)])
            r["codec"], r["payload"] = c["name"], p["name"]
            if r.get("encode") and j >= len(base_codecs):
                r["encode"] = _stats(rng, r["encode"]["median_ns"] * rng.uniform(0.7, 1.4))
            rows.append(r)
    doc["codecs"], doc["payloads"], doc["rows"] = codecs, [p for p, _ in payloads], rows
    return doc
