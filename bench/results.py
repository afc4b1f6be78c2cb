"""results.json: the versioned contract between measuring (bench) and rendering (reports).

Layout (``schema_version`` 1)::

    {
      "schema_version": 1,
      "tool": {"name": "msgbench", "version": "..."},
      "run": {"started": iso, "finished": iso|null, "partial": bool, "mode": "quick"|"full",
              "argv": [...], "duration_s": float},
      "environment": {...},                 # bench.environment.capture()
      "codecs": [{"name", "format", "library", "library_version", "backend", "slow_backend",
                  "source", "binary", "needs_schema", "status": "ok"|"unavailable"|"failed",
                  "error": str|null, "notes": [...]}],
      "payloads": [{"name", "description", "source", "json_bytes", "notes": [...]}],
      "rows": [{                            # one per codec x payload
          "codec", "format", "payload",
          "status": "ok" | "failed" | "unsupported",
          "verdict": "exact" | "lossy" | "failed" | "unsupported",
          "fidelity": [{"path", "expected", "actual"}],   # the exact loss when lossy
          "error": str|null,                               # why failed / unsupported
          "size": {"raw": int, "gzip": int, "zstd": int},
          "encode": Stats|null, "decode": Stats|null,
          "to_native": Stats|null, "from_native": Stats|null, "parse_lazy": Stats|null
      }],
      "sections": {...}                     # optional extra measurements: evolution, faults, ...
    }

``Stats`` = ``{"median_ns", "iqr_ns", "q1_ns", "q3_ns", "min_ns", "mean_ns", "rounds",
"inner_loops", "ci95_ns": [lo, hi], "samples_ns": [...]}``; all per single call, in nanoseconds.

Readers call :func:`load`, which rejects a corrupted file or one written by a newer msgbench
with a clear :class:`ResultsError`. Writers call :func:`write_atomic` (temp file + rename).
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any

from formats.api import MsgbenchError

SCHEMA_VERSION = 1


class ResultsError(MsgbenchError):
    pass


def _default(o: Any) -> Any:
    if isinstance(o, (bytes, bytearray)):
        return {"$bytes_hex": bytes(o).hex()}
    if isinstance(o, (set, frozenset, tuple)):
        return list(o)
    if isinstance(o, float):
        return repr(o)
    return repr(o)


def dumps(doc: dict) -> str:
    return json.dumps(doc, indent=1, default=_default, allow_nan=True)


def _create_temp(directory: Path, name: str) -> tuple[int, Path]:
    """A new, empty temp file next to the target, created with mode 0666 so that the kernel
    applies the user's umask (and any default ACL) exactly as for a file the user writes;
    ``tempfile.mkstemp`` would create it 0600, and the rename would keep that mode."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        tmp = directory / f".{name}.{secrets.token_hex(6)}.tmp"
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"cannot create a temp file for {name} in {directory}")


def write_atomic(path: str | os.PathLike, text: str | bytes) -> Path:
    """Write ``text`` to ``path`` via a temp file in the same directory and an atomic rename, so a
    reader never sees a half-written file and an interrupted write leaves the old file intact.
    The file gets the mode of any new file the user writes (0666 minus the umask, e.g. 0644)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode() if isinstance(text, str) else text
    fd, tmp = _create_temp(path.parent, path.name)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


def save(doc: dict, path: str | os.PathLike) -> Path:
    doc = dict(doc)
    doc["schema_version"] = SCHEMA_VERSION
    return write_atomic(path, dumps(doc))


def load(path: str | os.PathLike) -> dict:
    path = Path(path)
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ResultsError(f"{path}: no such results file (run `msgbench run` first)") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ResultsError(f"{path}: cannot read results file: {e}") from None
    try:
        doc = json.loads(raw)
    except json.JSONDecodeError as e:
        raise ResultsError(
            f"{path}: not a valid results file (JSON error at line {e.lineno}, column {e.colno}: {e.msg}); "
            "it may be truncated or corrupted — re-run `msgbench run`"
        ) from None
    return check(doc, str(path))


def check(doc: Any, where: str = "results") -> dict:
    if not isinstance(doc, dict) or "schema_version" not in doc:
        raise ResultsError(f"{where}: not a msgbench results file (no schema_version key)")
    v = doc["schema_version"]
    if not isinstance(v, int):
        raise ResultsError(f"{where}: schema_version must be an integer, got {v!r}")
    if v > SCHEMA_VERSION:
        raise ResultsError(
            f"{where}: written by a newer msgbench (results schema_version {v}, this one reads up to "
            f"{SCHEMA_VERSION}); upgrade msgbench to render it"
        )
    if v < 1:
        raise ResultsError(f"{where}: unsupported results schema_version {v}")
    for key in ("rows", "codecs", "payloads"):
        if not isinstance(doc.get(key), list):
            raise ResultsError(f"{where}: missing or malformed {key!r} list")
    return doc
