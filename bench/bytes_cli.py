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
import subprocess
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


def _rerun_in_codec_env(codec: Any, argv: list[str]) -> int | None:
    """A codec with a ``process_env`` this process lacks (e.g. protobuf/python) runs the same
    command in a child process with that environment; returns its exit status (None: no need)."""
    env = dict(getattr(codec, "process_env", {}) or {})
    if not env or all(os.environ.get(k) == v for k, v in env.items()):
        return None
    full = dict(os.environ)
    full.update(env)
    root = str(Path(__file__).resolve().parents[1])
    full["PYTHONPATH"] = os.pathsep.join(p for p in (root, full.get("PYTHONPATH", "")) if p)
    proc = subprocess.run([sys.executable, "-m", "bench.cli", *argv], env=full, capture_output=True)
    sys.stdout.write(proc.stdout.decode("utf-8", "replace"))
    sys.stderr.write(proc.stderr.decode("utf-8", "replace"))
    return proc.returncode


def _payload(name: str) -> Any:
    from payloads.catalog import find_payloads

    return find_payloads([name])[0]


def cmd_encode(args: argparse.Namespace) -> int:
    from bench.results import write_atomic

    if (args.payload is None) == (args.payload_file is None):
        raise MsgbenchError("say what to encode: a built-in PAYLOAD name or --payload FILE (one of them)")
    ref = args.payload if args.payload is not None else str(Path(args.payload_file).resolve())
    if args.payload_file is None and (args.schema is not None or args.max_records is not None):
        raise MsgbenchError("--schema and --max-records apply to --payload FILE, not to a built-in payload")
    schema = args.schema.resolve() if args.schema is not None else None
    codec = _codec(args.codec)
    argv = ["encode", *([args.payload] if args.payload is not None else ["--payload", ref]),
            *_file_argv(ref, schema, args.max_records), "--codec", args.codec, "-o", str(args.output)]
    rc = _rerun_in_codec_env(codec, argv + (["--schema-out", str(args.schema_out)] if args.schema_out else []))
    if rc is not None:
        return rc
    payload = _payload(ref) if args.payload_file is None else _file_payload(ref, schema, args.max_records)
    codec.check_schema(payload.schema)
    prepared = codec.prepare(payload.schema)
    data = bytes(prepared.encode(prepared.to_native(payload.value)))
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
    data = args.file.read_bytes()
    codec = _codec(args.codec)
    rc = _rerun_in_codec_env(codec, ["decode", "--codec", args.codec, "--payload", ref,
                                     *(_file_argv(ref, schema, max_records) if _is_file_ref(ref) else []),
                                     "--bytes", args.bytes_as, *(["--check"] if args.check else []), str(args.file)])
    if rc is not None:
        return rc
    if side_codec and side_codec != codec.name:
        print(f"msgbench: note: {args.file} was written by {side_codec}, decoding with {codec.name}", file=sys.stderr)
    payload = _resolve_payload(ref, schema, max_records)
    prepared = codec.prepare(payload.schema)
    try:
        value = prepared.from_native(prepared.decode(data))
    except MsgbenchError:
        raise
    except Exception as e:
        msg = " ".join(f"{type(e).__name__}: {e}".split())[:300]
        raise MsgbenchError(f"{args.file}: cannot decode as {codec.name} {payload.name}: {msg}") from e
    sys.stdout.write(json.dumps(_jsonable(value, args.bytes_as), indent=2, ensure_ascii=False) + "\n")
    print(f"msgbench: note: bytes values are shown as {args.bytes_as}", file=sys.stderr)
    if args.check:
        diffs = differences(payload.value, value)
        if diffs:
            raise MsgbenchError(f"decoded value differs from payload {payload.name}: {diffs[0].describe()}"
                                + (f" (and {len(diffs) - 1} more)" if len(diffs) > 1 else ""))
        print(f"msgbench: decoded value equals payload {payload.name}", file=sys.stderr)
    return 0
