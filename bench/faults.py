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

Each trial decodes the input (``prepared.decode``) and converts it (``prepared.from_native``) and
is classified as ``clean_error`` (an exception was raised), ``silent_garbage`` (no error; whether
the value still equals the original is counted apart in ``unchanged``), ``hang`` (no answer
within the per-trial time limit) or ``crash`` (the process died: a signal, an exit, or a
``MemoryError`` under the 1 GiB address-space limit — an allocation driven by an untrusted size
is a resource-exhaustion bug even when Python catches it; those are also counted in
``memory_errors``).

A codec's trials run in a child process (``python -m bench.faults``) with the codec's
``process_env``, ``RLIMIT_AS`` = 1 GiB and a per-trial watchdog in the parent; after a hang or a
crash the child is restarted at the next trial. Section data::

    {"trials_per_kind": N, "payloads": [...], "memory_limit_bytes": ..., "trial_timeout_s": ...,
     "codecs": [{"codec", "kinds": {kind: {"clean_error", "silent_garbage", "hang", "crash"}},
                 "unchanged": {kind: n}, "memory_errors": n, "examples": [str, ...],
                 "error": str (only when the codec could not be probed at all)}]}
"""

from __future__ import annotations

import json
import os
import random
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.subproc import kill_group, private_channel

KINDS = ("truncated", "bitflip", "random", "oversized_length")
OUTCOMES = ("clean_error", "silent_garbage", "hang", "crash")
TRIALS = {"full": 25, "quick": 8, "untimed": 3}
MEMORY_LIMIT = 1 << 30
TRIAL_TIMEOUT_S = 1.0
STARTUP_TIMEOUT_S = 60.0
PREFERRED_PAYLOADS = ("trip_request", "completed_trip")  # small, medium
MAX_EXAMPLES = 8
PREFIX = "MSGBENCH-FAULT"
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


def child_main() -> int:
    channel = private_channel()

    def emit(kind: str, data: Any) -> None:
        channel.write(f"{PREFIX} {kind} {json.dumps(data)}\n")
        channel.flush()

    job = json.loads(sys.stdin.read())
    from bench.worker import load_payloads
    from formats.registry import build_registry
    from payloads.model import differences

    try:
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
    except Exception as e:
        emit("setup_error", {"error": _short(f"{type(e).__name__}: {e}", 300)})
        return 3
    import resource

    limit = int(job.get("memory_limit", MEMORY_LIMIT))
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard == resource.RLIM_INFINITY or hard > limit:
            resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ValueError, OSError):
        pass
    emit("ready", {})
    n = job["trials"]
    plan = [(kind, j) for kind in KINDS for j in range(n)]
    for i in range(job.get("start", 0), len(plan)):
        kind, j = plan[i]
        k = j % len(payloads)
        seed = f"{codec.name}:{payloads[k].name}"
        try:
            bad, how = corrupt(valid[k], kind, j, n, seed, codec.name, codec.format, avscs[k])
        except Exception as e:  # our generator failed: say so rather than blame the codec
            emit("result", {"i": i, "outcome": "skipped", "detail": _short(f"generator: {e}")})
            continue
        try:
            back = prepared[k].from_native(prepared[k].decode(bad))
        except MemoryError:
            emit("result", {"i": i, "outcome": "crash", "memory_error": True,
                            "detail": _short(f"{kind} ({how}): MemoryError under the {limit >> 20} MiB limit")})
            continue
        except RecursionError as e:
            emit("result", {"i": i, "outcome": "clean_error", "detail": _short(f"{kind} ({how}): RecursionError: {e}")})
            continue
        except Exception as e:
            emit("result", {"i": i, "outcome": "clean_error", "detail": _short(f"{kind} ({how}): {type(e).__name__}: {e}")})
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
        emit("result", {"i": i, "outcome": "silent_garbage", "equal": not diffs, "detail": _short(detail)})
    emit("done", {})
    return 0


# ------------------------------------------------------------------------------------------------
# The parent: one child per codec, watchdog, restart after a hang or crash.


def _signal_name(rc: int) -> str:
    try:
        return signal.Signals(-rc).name
    except ValueError:
        return str(-rc)


class _Child:
    def __init__(self, job: dict, env: dict[str, str], log: Any):
        full_env = dict(os.environ)
        full_env.update(env)
        full_env["PYTHONUNBUFFERED"] = "1"
        self.proc = subprocess.Popen([sys.executable, "-m", "bench.faults"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=log, env=full_env, start_new_session=True)
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(job).encode())
        self.proc.stdin.close()
        self.sel = selectors.DefaultSelector()
        self.sel.register(self.proc.stdout, selectors.EVENT_READ)
        self.buf = b""

    def next_message(self, timeout: float) -> tuple[str, Any]:
        """("timeout", None), ("eof", returncode) or (kind, data)."""
        deadline = time.monotonic() + timeout
        while True:
            while b"\n" in self.buf:
                line, self.buf = self.buf.split(b"\n", 1)
                text = line.decode("utf-8", "replace")
                if text.startswith(PREFIX + " "):
                    _, kind, data = text.split(" ", 2)
                    return kind, json.loads(data)
            left = deadline - time.monotonic()
            if left <= 0 or not self.sel.select(left):
                return "timeout", None
            chunk = os.read(self.proc.stdout.fileno(), 65536)  # type: ignore[union-attr]
            if not chunk:
                return "eof", self.proc.wait()
            self.buf += chunk

    def kill(self) -> None:
        kill_group(self.proc)
        self.sel.close()
        if self.proc.stdout:
            self.proc.stdout.close()


def probe_codec(name: str, env: dict[str, str], payloads_file: str, trials: int, plugins: bool,
                log_path: Path, trial_timeout: float = TRIAL_TIMEOUT_S) -> dict:
    kinds = {k: dict.fromkeys(OUTCOMES, 0) for k in KINDS}
    unchanged = dict.fromkeys(KINDS, 0)
    entry: dict[str, Any] = {"codec": name, "kinds": kinds, "unchanged": unchanged, "memory_errors": 0,
                             "skipped": 0, "examples": []}
    examples: dict[str, list[str]] = {}
    plan = [(kind, j) for kind in KINDS for j in range(trials)]
    nxt = 0
    with open(log_path, "ab") as log:
        while nxt < len(plan):
            job = {"codec": name, "payloads_file": payloads_file, "plugins": plugins, "trials": trials,
                   "start": nxt, "memory_limit": MEMORY_LIMIT}
            child = _Child(job, env, log)
            try:
                kind, data = child.next_message(STARTUP_TIMEOUT_S)
                if kind != "ready":
                    why = data["error"] if kind == "setup_error" else (
                        "child did not start in time" if kind == "timeout" else f"child died at startup ({data})")
                    entry["error"] = why
                    return entry
                while nxt < len(plan):
                    kind, data = child.next_message(trial_timeout)
                    tkind = plan[nxt][0]
                    if kind == "result":
                        nxt = data["i"] + 1
                        outcome = data["outcome"]
                        if outcome == "skipped":
                            entry["skipped"] += 1
                            continue
                        kinds[tkind][outcome] += 1
                        if data.get("memory_error"):
                            entry["memory_errors"] += 1
                        if data.get("equal"):
                            unchanged[tkind] += 1
                        examples.setdefault(f"{tkind}/{outcome}", []).append(data["detail"])
                        continue
                    if kind == "done":
                        break
                    if kind == "timeout":
                        kinds[tkind]["hang"] += 1
                        examples.setdefault(f"{tkind}/hang", []).append(
                            f"{tkind} trial {plan[nxt][1]}: no answer within {trial_timeout:g} s, killed")
                    else:  # eof: the child died on this trial
                        rc = data
                        why = f"killed by {_signal_name(rc)}" if rc is not None and rc < 0 else f"exited with status {rc}"
                        kinds[tkind]["crash"] += 1
                        examples.setdefault(f"{tkind}/crash", []).append(f"{tkind} trial {plan[nxt][1]}: process {why}")
                    nxt += 1
                    break  # restart the child at the next trial
            finally:
                child.kill()
    # A few examples, the alarming outcomes first, one per kind/outcome before seconds.
    order = sorted(examples, key=lambda k: (OUTCOMES.index(k.split("/")[1]) * -1, k))
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


if __name__ == "__main__":
    sys.exit(child_main())
