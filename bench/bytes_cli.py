"""``msgbench encode`` / ``msgbench decode``: show me the bytes.

``msgbench encode PAYLOAD --codec NAME -o FILE [--schema-out DIR]`` writes one encoded message
(exactly the bytes the benchmark measures) and a sidecar ``FILE.msgbench.json`` naming the codec
and payload; ``--schema-out DIR`` also writes the exported schema (``PAYLOAD.proto``, ``.avsc``,
``.thrift``, ``.xsd``, ``.schema.json``) so another implementation can read the bytes.

``msgbench encode --payload FILE [--schema FILE] [--max-records N] --codec NAME -o OUT`` does the
same for your own messages (the value ``msgbench run --payload FILE`` measures: the same sample and
conversions); the sidecar records the file, so ``msgbench decode`` rebuilds the same schema.

``msgbench decode --codec NAME [--payload PAYLOAD|FILE [--schema FILE]] FILE`` decodes FILE with the
payload's schema (default: the payload named in FILE's sidecar) and prints the value as JSON. JSON has no bytes
type: bytes values are printed as base64 (or hex with ``--bytes hex``) and a note on stderr says
which. ``--check`` compares the decoded value with the built-in payload's value and fails when
they differ.
"""

from __future__ import annotations

import argparse
import base64
import json
import math
import os
import sys
from pathlib import Path
from typing import Any

from formats.api import MsgbenchError

SIDECAR_SUFFIX = ".msgbench.json"


def register_cli(sub: Any) -> None:
    enc = sub.add_parser("encode", help="write one encoded message (and optionally its schema) to a file")
    enc.add_argument("payload", metavar="PAYLOAD", nargs="?",
                     help="a built-in payload name (see `msgbench list`); or give --payload FILE")
    _file_args(enc)
    enc.add_argument("--codec", required=True, metavar="NAME", help="codec, e.g. protobuf/upb")
    enc.add_argument("-o", "--output", required=True, type=Path, metavar="FILE", help="where to write the bytes")
    enc.add_argument("--schema-out", type=Path, metavar="DIR",
                     help="also write the exported schema (.proto/.avsc/.thrift/.xsd/.schema.json) into DIR")
    enc.add_argument("--timeout", type=float, default=120.0, metavar="S", help="give up on the encoder after S seconds")
    enc.set_defaults(func=cmd_encode)

    dec = sub.add_parser("decode", help="decode a message file and print it as JSON")
    dec.add_argument("file", type=Path, metavar="FILE")
    dec.add_argument("--codec", required=True, metavar="NAME", help="codec, e.g. protobuf/upb")
    dec.add_argument("--payload", metavar="PAYLOAD",
                     help="built-in payload, or your .json/.ndjson file, whose schema to decode with (default: the "
                          "one in FILE's sidecar)")
    dec.add_argument("--schema", type=Path, metavar="FILE",
                     help="a schema in the model's JSON form for a --payload file (as with `msgbench run`)")
    dec.add_argument("--max-records", type=int, metavar="N", help="records sampled from a --payload file")
    dec.add_argument("--bytes", choices=("base64", "hex"), default="base64", dest="bytes_as",
                     help="how bytes values are printed (default base64)")
    dec.add_argument("--timeout", type=float, default=DECODE_TIMEOUT_S, metavar="S",
                     help=f"give up on a decoder that has not answered after S seconds (default {DECODE_TIMEOUT_S:g})")
    dec.add_argument("--memory-limit", type=int, default=MEMORY_LIMIT, metavar="BYTES",
                     help="address space the decoder may allocate (default 1 GiB): untrusted sizes cannot exhaust the "
                          "machine")
    dec.add_argument("--max-bytes", type=int, default=256 << 20, metavar="N",
                     help="largest message file read (default 256 MiB)")
    dec.add_argument("--check", action="store_true",
                     help="fail unless the decoded value equals the built-in payload's value")
    dec.set_defaults(func=cmd_decode)


def _file_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--payload", dest="payload_file", metavar="FILE",
                   help="your own messages instead of a built-in payload: a .json document/array or an .ndjson file "
                        "(sampled and converted exactly as `msgbench run --payload FILE` does)")
    p.add_argument("--schema", type=Path, metavar="FILE",
                   help="a schema in the model's JSON form for --payload FILE")
    p.add_argument("--max-records", type=int, metavar="N", help="records sampled from --payload FILE")


def _is_file_ref(ref: str) -> bool:
    """A --payload value naming a file (a path, or a name with a JSON suffix) rather than a built-in payload."""
    low = ref.lower()
    return (os.sep in ref or "/" in ref or Path(ref).exists()
            or low.endswith((".json", ".ndjson", ".jsonl", ".gz", ".gzip", ".zst", ".zstd")))


def _file_payload(path: str, schema: Path | None, max_records: int | None) -> Any:
    from payloads.importer import load_payload_file

    return load_payload_file(path, schema_path=schema, max_records=max_records)


def _resolve_payload(ref: str, schema: Path | None = None, max_records: int | None = None) -> Any:
    if _is_file_ref(ref):
        return _file_payload(ref, schema, max_records)
    if schema is not None or max_records is not None:
        raise MsgbenchError("--schema and --max-records apply to a --payload FILE, not to a built-in payload")
    return _payload(ref)


def _file_argv(ref: str, schema: Path | None, max_records: int | None) -> list[str]:
    return (["--schema", str(schema)] if schema is not None else []) + \
        (["--max-records", str(max_records)] if max_records is not None else [])


def _codec(name: str) -> Any:
    from formats.registry import build_registry

    codec = build_registry().codec(name)
    codec.check_available()
    return codec


DECODE_TIMEOUT_S = 10.0
MEMORY_LIMIT = 1 << 30


def encode_task(job: dict) -> bytes:
    """``formats.isolation`` task: the bytes the benchmark measures, in the codec's own process."""
    codec = _codec(job["codec"])
    codec.check_schema(job["schema"])
    prepared = codec.prepare(job["schema"])
    return bytes(prepared.encode(prepared.to_native(job["value"])))


def decode_task(job: dict) -> Any:
    """``formats.isolation`` task: untrusted bytes -> the model value, under time and memory limits."""
    codec = _codec(job["codec"])
    prepared = codec.prepare(job["schema"])
    try:
        return prepared.from_native(prepared.decode(job["data"]))
    except MemoryError:
        raise MsgbenchError(f"the decoder tried to allocate more than the {job['memory_limit'] >> 20} MiB limit "
                            "(a size field in the bytes asks for it)") from None


def _isolated(fn: str, job: dict, codec: Any, timeout_s: float, memory_bytes: int | None, what: str) -> Any:
    """Run an encode/decode task in a child with the codec's ``process_env``; one-line errors."""
    from formats.isolation import Limits, Task, TaskDied, run_once

    env = dict(getattr(codec, "process_env", {}) or {})
    try:
        return run_once(Task(fn, job, env), Limits(total_s=timeout_s, memory_bytes=memory_bytes))
    except TaskDied as e:
        d = e.died
        if d.reason == "timeout":
            msg = f"no answer within {timeout_s:g} s (the decoder hung; killed); raise it with --timeout"
        elif d.reason == "error":
            msg = d.detail.removeprefix("MsgbenchError: ")
        else:
            msg = d.detail
        raise MsgbenchError(f"{what}: {msg}") from None


def _payload(name: str) -> Any:
    from payloads.catalog import find_payloads

    return find_payloads([name])[0]


def cmd_encode(args: argparse.Namespace) -> int:
    from reports.results import write_atomic

    if (args.payload is None) == (args.payload_file is None):
        raise MsgbenchError("say what to encode: a built-in PAYLOAD name or --payload FILE (one of them)")
    ref = args.payload if args.payload is not None else str(Path(args.payload_file).resolve())
    if args.payload_file is None and (args.schema is not None or args.max_records is not None):
        raise MsgbenchError("--schema and --max-records apply to --payload FILE, not to a built-in payload")
    schema = args.schema.resolve() if args.schema is not None else None
    codec = _codec(args.codec)
    payload = _payload(ref) if args.payload_file is None else _file_payload(ref, schema, args.max_records)
    codec.check_schema(payload.schema)
    data = _isolated("bench.bytes_cli:encode_task", {"codec": codec.name, "schema": payload.schema,
                                                      "value": payload.value}, codec, args.timeout, None,
                     f"cannot encode {payload.name} as {codec.name}")
    sidecar: dict[str, Any] = {"codec": codec.name, "payload": payload.name, "bytes": len(data)}
    if args.payload_file is not None:  # decode rebuilds the same schema (and sample) from these
        sidecar["payload_file"] = ref
        if schema is not None:
            sidecar["schema_file"] = str(schema)
        if args.max_records is not None:
            sidecar["max_records"] = args.max_records
    if args.schema_out is not None:
        st = codec.schema_text(payload.schema)
        if st is None:
            print(f"msgbench: note: {codec.name} has no schema to export", file=sys.stderr)
        else:
            path = args.schema_out / f"{payload.name}{st.extension}"
            write_atomic(path, st.text if st.text.endswith("\n") else st.text + "\n")
            sidecar["schema"] = str(path)
            print(f"wrote {path} ({st.language})", file=sys.stderr)
    write_atomic(args.output, data)
    write_atomic(Path(str(args.output) + SIDECAR_SUFFIX), json.dumps(sidecar, indent=1) + "\n")
    print(f"wrote {args.output} ({len(data)} bytes, {codec.name}, payload {payload.name})", file=sys.stderr)
    return 0


def _read_message(path: Path, max_bytes: int) -> bytes:
    """A message file's bytes: a regular file, at most ``max_bytes`` (a FIFO or a device such as
    /dev/zero is refused instead of read forever)."""
    import stat

    try:
        st = os.stat(path)
    except OSError as e:
        raise MsgbenchError(f"{path}: {e.strerror or e}") from None
    if not stat.S_ISREG(st.st_mode):
        raise MsgbenchError(f"{path}: not a regular file (a pipe, device or directory); save the message to a file")
    if st.st_size > max_bytes:
        raise MsgbenchError(f"{path}: {st.st_size:,} bytes is more than --max-bytes {max_bytes:,}")
    with open(path, "rb") as f:
        return f.read(max_bytes + 1)[:max_bytes]


def _jsonable(v: Any, bytes_as: str) -> Any:
    if isinstance(v, dict):
        return {str(k): _jsonable(x, bytes_as) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x, bytes_as) for x in v]
    if isinstance(v, (bytes, bytearray, memoryview)):
        b = bytes(v)
        return b.hex() if bytes_as == "hex" else base64.b64encode(b).decode("ascii")
    if isinstance(v, float) and not math.isfinite(v):
        return repr(v)
    return v


def _sidecar(file: Path) -> dict:
    side = Path(str(file) + SIDECAR_SUFFIX)
    if not side.exists():
        return {}
    try:
        meta = json.loads(side.read_text(encoding="utf-8"))
        if not isinstance(meta, dict):
            raise ValueError("not a JSON object")
        return meta
    except (OSError, ValueError) as e:
        raise MsgbenchError(f"{side}: unreadable sidecar ({e}); give --payload NAME or FILE") from None


def cmd_decode(args: argparse.Namespace) -> int:
    from payloads.model import differences

    ref, side_codec = args.payload, None
    schema, max_records = args.schema, args.max_records
    if ref is None:
        meta = _sidecar(args.file)
        side_codec = meta.get("codec")
        ref = meta.get("payload_file") or meta.get("payload")
        if meta.get("payload_file"):
            schema = Path(meta["schema_file"]) if meta.get("schema_file") else schema
            max_records = meta.get("max_records", max_records)
        if ref is None:
            raise MsgbenchError(f"{args.file} has no sidecar {args.file.name}{SIDECAR_SUFFIX}; "
                                "say which schema to decode with: --payload NAME or --payload FILE")
    elif _is_file_ref(ref):
        ref = str(Path(ref).resolve())
    schema = schema.resolve() if schema is not None else None
    data = _read_message(args.file, args.max_bytes)
    codec = _codec(args.codec)
    if side_codec and side_codec != codec.name:
        print(f"msgbench: note: {args.file} was written by {side_codec}, decoding with {codec.name}", file=sys.stderr)
    payload = _resolve_payload(ref, schema, max_records)
    job = {"codec": codec.name, "schema": payload.schema, "data": data, "memory_limit": args.memory_limit}
    value = _isolated("bench.bytes_cli:decode_task", job, codec, args.timeout, args.memory_limit,
                      f"{args.file}: cannot decode as {codec.name} {payload.name}")
    sys.stdout.write(json.dumps(_jsonable(value, args.bytes_as), indent=2, ensure_ascii=False) + "\n")
    print(f"msgbench: note: bytes values are shown as {args.bytes_as}", file=sys.stderr)
    if args.check:
        diffs = differences(payload.value, value)
        if diffs:
            raise MsgbenchError(f"decoded value differs from payload {payload.name}: {diffs[0].describe()}"
                                + (f" (and {len(diffs) - 1} more)" if len(diffs) > 1 else ""))
        print(f"msgbench: decoded value equals payload {payload.name}", file=sys.stderr)
    return 0
