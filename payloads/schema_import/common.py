"""What the schema importers share: the result type, the error, and two helpers (kept apart from
the package's ``__init__`` so the importers import nothing that imports them)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from payloads.errors import MsgbenchError
from payloads.model import Record


class SchemaImportError(MsgbenchError):
    """A schema file cannot be imported: ``FILE[:LINE]: what; what to do``."""

    def __init__(self, path: str | os.PathLike, message: str, line: int | None = None):
        self.path, self.line, self.reason = str(path), line, message
        where = f"{path}:{line}" if line else str(path)
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class ImportedSchema:
    record: Record
    language: str  # one of LANGUAGES
    source: str  # the file it came from
    notes: tuple[str, ...] = ()
    # record name -> (reserved numbers as (lo, hi) inclusive ranges, reserved names)
    reserved: dict = field(default_factory=dict)
    # (record name, field name) -> "required" / "optional" / "default": the requiredness written in
    # the source (Thrift's three kinds, proto2's labels), where the model's optional flag says less
    requiredness: dict = field(default_factory=dict)
    ids_from_source: bool = True  # False: field ids / enum numbers assigned by position (Avro, JSON Schema)


def line_of(text: str, needle: str, start: int = 0) -> int | None:
    """1-based line of the first ``needle`` in ``text`` at or after ``start`` (None if absent)."""
    i = text.find(needle, start)
    return None if i < 0 else text.count("\n", 0, i) + 1


def pick_root(path: Path, roots: list[str], every: list[str], root: str | None, kind: str) -> str:
    """The root type: ``root`` if given (must exist), else the only type no other type uses."""
    if root is not None:
        if root not in every:
            raise SchemaImportError(path, f"no {kind} named {root!r} here; {kind}s: {', '.join(every)}")
        return root
    if not every:
        raise SchemaImportError(path, f"defines no {kind}")
    if len(roots) == 1:
        return roots[0]
    cands = roots or every
    raise SchemaImportError(path, f"several top-level {kind}s ({', '.join(cands)}); choose one with --root NAME")
