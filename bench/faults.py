"""Fault probe: what each codec does with corrupted or hostile bytes.

For every codec in the run and two built-in payloads (a small and a medium one) we take a valid
encoding and derive deterministic corrupted inputs of four kinds:

``truncated``
    the message cut at evenly spread points (including 0 bytes and all-but-one byte).
``bitflip``
    one to three bits flipped at seeded random positions.
``random``
    seeded random bytes of the same length.
``oversized_length``
    a declared size made huge. Binary formats: the message is walked with a small reader of the
    format (protobuf wire format; Avro binary guided by the exported ``.avsc``; Thrift binary and
    compact protocols) and one length/count field (a protobuf length-delimited varint, an Avro
    string/bytes length or array/map block count as zigzag long, a Thrift string/list/map
    length) is set to a huge value (0x7fffffff, 2**32-1 or 2**62). Binary codecs we do not know
    get a huge varint/i32 written over a seeded position (a heuristic, said in the examples).
    Text formats (JSON, XML) have no declared sizes; the analogous hostile input is used
    instead: a giant number (200,000 digits) in place of the first number, or 100,000 levels of
    nesting around the document.

``bomb``
    a structure-aware hostile message that stays small but makes a decoder loop or allocate:
    Thrift: an unknown list field of 2**31-1 (binary) or 2**62 (compact) elements of a zero-size
    element type (thriftpy2's skip loops over them: 12 bytes can spin forever); Protobuf: an
    overlong 11-byte varint and 100,000 nested unknown groups/messages; msgpack/CBOR: 100,000
    nested one-element arrays; JSON/XML: 100,000 levels of nesting. Formats without a known bomb
    skip this kind (counted as ``skipped``).

Each trial decodes the input (``prepared.decode``) and converts it (``prepared.from_native``) and
is classified by what the user of the library sees: ``clean_error`` (an exception was raised —
including a ``MemoryError`` under the address-space limit, which is a clean error for the caller
but means the decoder *attempted* an allocation driven by an untrusted size: those are also
counted apart in ``memory_errors``, "allocation attempted"), ``silent_garbage`` (no error;
whether the value still equals the original is counted apart in ``unchanged``), ``hang`` (no
answer within the per-trial time limit) or ``crash`` (the process died: a signal or an exit).

A codec's trials run as a ``formats.isolation`` stream task (``trials_task``) with the codec's
``process_env``, 1 GiB of address space above what the child had after its imports, and a
per-trial time limit; after a hang or a crash the child is restarted at the next trial.
Section data::

    {"trials_per_kind": N, "payloads": [...], "memory_limit_bytes": ..., "trial_timeout_s": ...,
     "codecs": [{"codec", "kinds": {kind: {"clean_error", "silent_garbage", "hang", "crash"}},
                 "unchanged": {kind: n}, "memory_errors": n, "skipped": n, "examples": [str, ...],
                 "error": str (only when the codec could not be probed at all)}]}
"""

from __future__ import annotations

import json
import os
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from formats.isolation import Died, Limits, Task, run

KINDS = ("truncated", "bitflip", "random", "oversized_length", "bomb")
OUTCOMES = ("clean_error", "silent_garbage", "hang", "crash")
TRIALS = {"full": 15, "quick": 5, "untimed": 3}
MEMORY_LIMIT = 1 << 30
TRIAL_TIMEOUT_S = 1.0
STARTUP_TIMEOUT_S = 60.0
PREFERRED_PAYLOADS = ("trip_request", "completed_trip")  # small, medium
MAX_EXAMPLES = 8
HUGE_LENGTHS = (0x7FFFFFFF, 0xFFFFFFFF, 1 << 62)


# ------------------------------------------------------------------------------------------------
# Length-field finders. Each returns a list of (offset, size, kind) for a length/count field in the
# message, where ``kind`` says how to re-encode a huge value: "varint", "zigzag", "i32be".


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data):
            raise ValueError("truncated varint")
        b = data[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift > 70:
            raise ValueError("varint too long")


def _encode_varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def protobuf_length_fields(data: bytes, start: int = 0, end: int | None = None, depth: int = 0) -> list[tuple]:
    """Offsets of length-delimited fields' length varints (recursing into nested messages)."""
    end = len(data) if end is None else end
    out: list[tuple] = []
    pos = start
    while pos < end:
        key, pos = _varint(data, pos)
        wt = key & 7
        if wt == 0:
            _, pos = _varint(data, pos)
        elif wt == 1:
            pos += 8
        elif wt == 5:
            pos += 4
        elif wt == 2:
            lstart = pos
            n, pos = _varint(data, pos)
            out.append((lstart, pos - lstart, "varint"))
            if depth < 8:
                try:  # a nested message? (strings usually fail to parse and are skipped)
                    out += protobuf_length_fields(data, pos, pos + n, depth + 1)
                except (ValueError, IndexError):
                    pass
            pos += n
        else:
            raise ValueError(f"wire type {wt}")
        if pos > end:
            raise ValueError("field runs past its end")
    return out


def _zigzag(data: bytes, pos: int) -> tuple[int, int]:
    n, pos = _varint(data, pos)
    return (n >> 1) ^ -(n & 1), pos


def avro_length_fields(data: bytes, avsc: Any) -> list[tuple]:
    """Walk Avro binary following the (parsed JSON) writer schema; string/bytes lengths and
    array/map block counts."""
    named: dict[str, Any] = {}
    out: list[tuple] = []

    def register(s: Any, ns: str = "") -> None:
        if isinstance(s, dict):
            t = s.get("type")
            if t in ("record", "enum", "fixed") and "name" in s:
                name = s["name"]
                nspace = s.get("namespace", ns)
                named[name] = s
                if nspace and "." not in name:
                    named[f"{nspace}.{name}"] = s
                for f in s.get("fields", ()):
                    register(f["type"], nspace)
            elif t == "array":
                register(s["items"], ns)
            elif t == "map":
                register(s["values"], ns)
            elif isinstance(t, (dict, list)):
                register(t, ns)
        elif isinstance(s, list):
            for b in s:
                register(b, ns)

    register(avsc)

    def walk(s: Any, pos: int) -> int:
        if isinstance(s, str):
            if s in named:
                return walk(named[s], pos)
            s = {"type": s}
        if isinstance(s, list):
            idx, pos = _zigzag(data, pos)
            return walk(s[idx], pos)
        t = s["type"]
        if isinstance(t, (dict, list)):
            return walk(t, pos)
        if t == "null":
            return pos
        if t == "boolean":
            return pos + 1
        if t in ("int", "long", "enum"):
            return _zigzag(data, pos)[1]
        if t == "float":
            return pos + 4
        if t == "double":
            return pos + 8
        if t == "fixed":
            return pos + s["size"]
        if t in ("string", "bytes"):
            start = pos
            n, pos = _zigzag(data, pos)
            out.append((start, pos - start, "zigzag"))
            return pos + n
        if t == "record":
            for f in s["fields"]:
                pos = walk(f["type"], pos)
            return pos
        if t in ("array", "map"):
            while True:
                start = pos
                n, pos = _zigzag(data, pos)
                if n == 0:
                    return pos
                out.append((start, pos - start, "zigzag"))
                if n < 0:
                    n = -n
                    _, pos = _zigzag(data, pos)
                for _ in range(n):
                    if t == "map":
                        kstart = pos
                        k, pos = _zigzag(data, pos)
                        out.append((kstart, pos - kstart, "zigzag"))
                        pos += k
                        pos = walk(s["values"], pos)
                    else:
                        pos = walk(s["items"], pos)
        if t in named:
            return walk(named[t], pos)
        raise ValueError(f"unknown Avro type {t!r}")

    walk(avsc, 0)
    return out


def thrift_binary_length_fields(data: bytes) -> list[tuple]:
    import struct

    out: list[tuple] = []

    def value(t: int, pos: int) -> int:
        if t in (2, 3):  # bool, byte
            return pos + 1
        if t == 6:
            return pos + 2
        if t == 8:
            return pos + 4
        if t in (4, 10):
            return pos + 8
        if t == 11:
            (n,) = struct.unpack_from(">i", data, pos)
            out.append((pos, 4, "i32be"))
            return pos + 4 + n
        if t == 12:
            return struct_(pos)
        if t == 13:
            kt, vt = data[pos], data[pos + 1]
            (n,) = struct.unpack_from(">i", data, pos + 2)
            out.append((pos + 2, 4, "i32be"))
            pos += 6
            for _ in range(n):
                pos = value(vt, value(kt, pos))
            return pos
        if t in (14, 15):
            et = data[pos]
            (n,) = struct.unpack_from(">i", data, pos + 1)
            out.append((pos + 1, 4, "i32be"))
            pos += 5
            for _ in range(n):
                pos = value(et, pos)
            return pos
        raise ValueError(f"thrift type {t}")

    def struct_(pos: int) -> int:
        while True:
            t = data[pos]
            pos += 1
            if t == 0:
                return pos
            pos = value(t, pos + 2)

    struct_(0)
    return out


def thrift_compact_length_fields(data: bytes) -> list[tuple]:
    out: list[tuple] = []

    def value(t: int, pos: int) -> int:
        if t in (1, 2):  # bool inside a field header; as a list element it is a byte
            return pos
        if t == 3:
            return pos + 1
        if t in (4, 5, 6):
            return _varint(data, pos)[1]
        if t == 7:
            return pos + 8
        if t == 8:
            start = pos
            n, pos = _varint(data, pos)
            out.append((start, pos - start, "varint"))
            return pos + n
        if t in (9, 10):
            head = data[pos]
            et = head & 0x0F
            n = head >> 4
            pos += 1
            if n == 15:
                start = pos
                n, pos = _varint(data, pos)
                out.append((start, pos - start, "varint"))
            for _ in range(n):
                pos = pos + 1 if et in (1, 2) else value(et, pos)
            return pos
        if t == 11:
            start = pos
            n, pos = _varint(data, pos)
            if n == 0:
                return pos
            out.append((start, pos - start, "varint"))
            kv = data[pos]
            pos += 1
            for _ in range(n):
                pos = value(kv & 0x0F, value(kv >> 4, pos))
            return pos
        if t == 12:
            return struct_(pos)
        raise ValueError(f"thrift compact type {t}")

    def struct_(pos: int) -> int:
        while True:
            head = data[pos]
            pos += 1
            if head == 0:
                return pos
            if head >> 4 == 0:
                _, pos = _varint(data, pos)
            pos = value(head & 0x0F, pos)

    struct_(0)
    return out


def _huge(kind: str, size: int, rng: random.Random) -> bytes:
    n = rng.choice(HUGE_LENGTHS)
    if kind == "i32be":
        return (0x7FFFFFFF).to_bytes(4, "big")
    if kind == "zigzag":
        return _encode_varint(n << 1)
    return _encode_varint(n)


# ------------------------------------------------------------------------------------------------
# Corrupted inputs (deterministic for a codec, payload, kind and trial number).


def text_hostile(data: bytes, fmt: str, j: int) -> tuple[bytes, str]:
    """The text formats' analogue of a huge declared size: a giant number or deep nesting."""
    import re

    depth = 100_000
    if j % 2 == 0:
        giant = b"9" * 200_000
        if fmt == "xml":
            m = re.search(rb">(-?\d+(?:\.\d+)?)<", data)
            if m:
                return data[: m.start(1)] + giant + data[m.end(1):], "giant number"
        else:
            m = re.search(rb"(?<=[:\[,])(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)", data)
            if m:
                return data[: m.start(1)] + giant + data[m.end(1):], "giant number"
    if fmt == "xml":
        body = re.sub(rb"^<\?xml[^>]*\?>\s*", b"", data)
        return b"<a>" * depth + body + b"</a>" * depth, "deep nesting"
    return b"[" * depth + data + b"]" * depth, "deep nesting"


def _thrift_compact_field_header(field_id: int, ttype: int) -> bytes:
    return bytes([ttype]) + _encode_varint((field_id << 1) ^ (field_id >> 15))  # long form: type, zigzag i16


def bombs(data: bytes, codec_name: str, fmt: str) -> list[tuple[bytes, str]]:
    """Small structure-aware hostile messages for this codec's format (see the module docstring)."""
    depth = 100_000
    if fmt == "thrift" and "compact" in codec_name:
        head = _thrift_compact_field_header(200, 9)
        return [(head + bytes([0xF0 | et]) + _encode_varint(1 << 62) + data,
                 f"unknown list of 2**62 elements of compact type {et}") for et in (0, 1, 3)]
    if fmt == "thrift":
        return [(bytes([15]) + (200).to_bytes(2, "big") + bytes([et]) + (0x7FFFFFFF).to_bytes(4, "big") + data,
                 f"unknown list of 2**31-1 elements of type {et}") for et in (0, 1, 2)]
    if fmt == "protobuf":
        overlong = _encode_varint((1000 << 3) | 0) + b"\xff" * 10 + b"\x01"
        groups = _encode_varint((1000 << 3) | 3) * depth
        nested = b""
        for _ in range(2000):  # length-delimited nesting must carry lengths: build it inside out
            nested = _encode_varint((1000 << 3) | 2) + _encode_varint(len(nested)) + nested
        return [(overlong + data, "overlong 11-byte varint in an unknown field"),
                (groups + data, f"{depth} nested unknown start-groups"),
                (nested + data, "2000 nested unknown length-delimited fields")]
    if fmt == "msgpack":
        return [(b"\x91" * depth + b"\xc0", f"{depth} nested one-element arrays")]
    if fmt == "cbor":
        return [(b"\x81" * depth + b"\xf6", f"{depth} nested one-element arrays")]
    if fmt in ("json", "xml"):
        body, how = text_hostile(data, fmt, 1)
        return [(body, how)]
    return []


def corrupt(data: bytes, kind: str, j: int, n: int, seed: str, codec_name: str, fmt: str,
            avsc: Any = None) -> tuple[bytes, str]:
    """Trial ``j`` of ``n`` of ``kind`` for the valid encoding ``data``; returns (bytes, how)."""
    rng = random.Random(f"{seed}:{kind}:{j}")
    size = len(data)
    if kind == "truncated":
        cut = 0 if j == 0 else (size - 1 if j == n - 1 else (size * j) // max(n - 1, 1))
        cut = max(0, min(cut, size - 1))
        return data[:cut], f"cut at {cut}/{size}"
    if kind == "bitflip":
        b = bytearray(data)
        where = []
        for _ in range(rng.randint(1, 3)):
            pos, bit = rng.randrange(size), rng.randrange(8)
            b[pos] ^= 1 << bit
            where.append(f"{pos}.{bit}")
        return bytes(b), "flipped bit(s) " + ",".join(where)
    if kind == "random":
        return rng.randbytes(size), f"{size} random bytes"
    if kind == "bomb":
        options = bombs(data, codec_name, fmt)
        if not options:
            raise NotImplementedError(f"no bomb known for the {fmt} format")
        return options[j % len(options)]
    if kind != "oversized_length":
        raise ValueError(kind)
    if fmt in ("json", "xml"):
        return text_hostile(data, fmt, j)
    fields: list[tuple] = []
    try:
        if fmt == "protobuf":
            fields = protobuf_length_fields(data)
        elif fmt == "avro" and avsc is not None:
            fields = avro_length_fields(data, avsc)
        elif codec_name in ("thrift/binary", "thrift/apache-binary"):
            fields = thrift_binary_length_fields(data)
        elif codec_name in ("thrift/compact", "thrift/apache-compact"):
            fields = thrift_compact_length_fields(data)
    except (ValueError, IndexError, KeyError, TypeError):
        fields = []
    if fields:
        off, width, how = fields[rng.randrange(len(fields))]
        return data[:off] + _huge(how, width, rng) + data[off + width:], f"length field at {off} made huge"
    # unknown binary layout: write a huge varint or big-endian i32 at a seeded position
    pos = rng.randrange(size)
    patch = _encode_varint(0xFFFFFFFF) if j % 2 == 0 else (0x7FFFFFFF).to_bytes(4, "big")
    return data[:pos] + patch + data[pos + len(patch):], f"heuristic: huge size written at {pos} (layout unknown)"


# ------------------------------------------------------------------------------------------------
# The child process.


def _short(text: str, n: int = 160) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 3] + "..."


def trials_task(job: dict, start: int):
    """The child side: prepare the codec once, then yield one result per trial from ``start``."""
    from bench.worker import load_payloads
    from formats.registry import build_registry
    from payloads.model import differences

    codec = build_registry(job.get("plugins", True)).codec(job["codec"])
    codec.check_available()
    payloads = load_payloads(job["payloads_file"])
    prepared, valid, originals, avscs = [], [], [], []
    for p in payloads:
        pr = codec.prepare(p.schema)
        data = bytes(pr.encode(pr.to_native(p.value)))
        prepared.append(pr)
        valid.append(data)
        originals.append(pr.from_native(pr.decode(data)))
        avsc = None
        if codec.format == "avro":
            st = codec.schema_text(p.schema)
            avsc = json.loads(st.text) if st is not None else None
        avscs.append(avsc)
    limit = int(job.get("memory_limit", MEMORY_LIMIT))
    n = job["trials"]
    plan = [(kind, j) for kind in KINDS for j in range(n)]
    for i in range(start, len(plan)):
        kind, j = plan[i]
        k = j % len(payloads)
        seed = f"{codec.name}:{payloads[k].name}"
        try:
            bad, how = corrupt(valid[k], kind, j, n, seed, codec.name, codec.format, avscs[k])
        except Exception as e:  # our generator failed or knows no such input: say so, blame nobody
            yield {"i": i, "outcome": "skipped", "detail": _short(f"generator: {e}")}
            continue
        try:
            back = prepared[k].from_native(prepared[k].decode(bad))
        except MemoryError:
            yield {"i": i, "outcome": "clean_error", "memory_error": True,
                   "detail": _short(f"{kind} ({how}): MemoryError under the {limit >> 20} MiB limit "
                                    "(allocation attempted)")}
            continue
        except RecursionError as e:
            yield {"i": i, "outcome": "clean_error", "detail": _short(f"{kind} ({how}): RecursionError: {e}")}
            continue
        except Exception as e:
            yield {"i": i, "outcome": "clean_error", "detail": _short(f"{kind} ({how}): {type(e).__name__}: {e}")}
            continue
        try:
            diffs = differences(originals[k], back, limit=1)
        except Exception as e:  # the garbage is not even comparable
            diffs = [f"uncomparable: {type(e).__name__}"]
        if diffs:
            what = diffs[0].describe() if hasattr(diffs[0], "describe") else str(diffs[0])
            detail = f"{kind} ({how}): decoded without error, {what}"
        else:
            detail = f"{kind} ({how}): decoded without error to the original value"
        yield {"i": i, "outcome": "silent_garbage", "equal": not diffs, "detail": _short(detail)}


# ------------------------------------------------------------------------------------------------
# The parent: one child per codec, watchdog, restart after a hang or crash.


def probe_codec(name: str, env: dict[str, str], payloads_file: str, trials: int, plugins: bool,
                log_path: Path, trial_timeout: float = TRIAL_TIMEOUT_S) -> dict:
    kinds = {k: dict.fromkeys(OUTCOMES, 0) for k in KINDS}
    unchanged = dict.fromkeys(KINDS, 0)
    entry: dict[str, Any] = {"codec": name, "kinds": kinds, "unchanged": unchanged, "memory_errors": 0,
                             "skipped": 0, "examples": []}
    examples: dict[str, list[str]] = {}
    plan = [(kind, j) for kind in KINDS for j in range(trials)]
    job = {"codec": name, "payloads_file": payloads_file, "plugins": plugins, "trials": trials,
           "memory_limit": MEMORY_LIMIT}
    limits = Limits(startup_s=STARTUP_TIMEOUT_S, item_s=trial_timeout, memory_bytes=MEMORY_LIMIT)
    results = 0
    for i, item in run(Task("bench.faults:trials_task", job, env), limits, restart=True, log_path=log_path):
        if isinstance(item, Died) and (item.reason in ("setup", "error") or i >= len(plan)):
            if not results:
                entry["error"] = _short(item.detail, 300)
                return entry
            # the task itself failed after some trials: the rest were not run
            entry["skipped"] += len(plan) - i
            examples.setdefault("setup/skipped", []).append(_short(f"trials from {i} not run: {item.detail}"))
            break
        tkind, tj = plan[i]
        results += 1
        if isinstance(item, Died):
            outcome = "hang" if item.reason == "timeout" else "crash"
            kinds[tkind][outcome] += 1
            why = (f"no answer within {trial_timeout:g} s, killed" if outcome == "hang"
                   else f"process {item.detail.split(';')[0].removeprefix('worker process ')}")
            examples.setdefault(f"{tkind}/{outcome}", []).append(f"{tkind} trial {tj}: {why}")
            continue
        outcome = item["outcome"]
        if outcome == "skipped":
            entry["skipped"] += 1
            continue
        kinds[tkind][outcome] += 1
        if item.get("memory_error"):
            entry["memory_errors"] += 1
        if item.get("equal"):
            unchanged[tkind] += 1
        examples.setdefault(f"{tkind}/{outcome}", []).append(item["detail"])
    # A few examples, the alarming outcomes first, one per kind/outcome before seconds.
    order = sorted(examples, key=lambda k: (-OUTCOMES.index(k.split("/")[1]) if k.split("/")[1] in OUTCOMES
                                            else 1, k))
    picked: list[str] = []
    for rnd in range(3):
        for key in order:
            if rnd < len(examples[key]) and len(picked) < MAX_EXAMPLES:
                picked.append(examples[key][rnd])
    entry["examples"] = picked
    return entry


def choose_payloads(ctx_payloads: list) -> list:
    from payloads.catalog import builtin_payloads

    try:
        builtins = {p.name: p for p in builtin_payloads()}
    except Exception:
        builtins = {}
    chosen = [builtins[n] for n in PREFERRED_PAYLOADS if n in builtins]
    if chosen:
        return chosen
    return list(ctx_payloads[:2])


def produce(ctx: Any) -> dict:
    from bench.worker import dump_payloads
    from formats.registry import build_registry

    trials = TRIALS.get(ctx.mode, TRIALS["quick"])
    payloads = choose_payloads(ctx.payloads)
    section: dict[str, Any] = {"trials_per_kind": trials, "payloads": [p.name for p in payloads],
                               "memory_limit_bytes": MEMORY_LIMIT, "trial_timeout_s": TRIAL_TIMEOUT_S,
                               # older results counted a MemoryError as a crash (readers convert them)
                               "memory_error_outcome": "clean_error",
                               "codecs": []}
    if not payloads:
        section["error"] = "no payloads to probe"
        return section
    registry = build_registry(ctx.plugins)
    plugins = ctx.plugins if ctx.plugins is not None else True
    with tempfile.TemporaryDirectory(prefix="msgbench-faults-") as tmp:
        pfile = os.path.join(tmp, "payloads.pkl")
        dump_payloads(payloads, pfile)
        logdir = Path(ctx.out_dir) / ".work"
        try:
            logdir.mkdir(parents=True, exist_ok=True)
        except OSError:
            logdir = Path(tmp)
        for name in ctx.codecs:
            t0 = time.perf_counter()
            try:
                env = dict(getattr(registry.codec(name), "process_env", {}) or {})
            except Exception as e:
                section["codecs"].append({"codec": name, "kinds": {k: dict.fromkeys(OUTCOMES, 0) for k in KINDS},
                                          "examples": [], "error": _short(str(e), 300)})
                continue
            entry = probe_codec(name, env, pfile, trials, plugins,
                                logdir / f"faults_{name.replace('/', '_')}.log")
            entry["duration_s"] = round(time.perf_counter() - t0, 2)
            section["codecs"].append(entry)
            if ctx.log:
                tot = {o: sum(entry["kinds"][k][o] for k in KINDS) for o in OUTCOMES}
                ctx.log(f"faults {name}: " + ", ".join(f"{o} {v}" for o, v in tot.items()))
    return section

