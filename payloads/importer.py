"""Bring your own payload: a user's JSON / NDJSON sample -> a :class:`~payloads.catalog.Payload`.

    payload = load_payload_file("trips.ndjson", schema_path=None, max_records=None, progress=cb)

- ``.json``: one JSON object (one record) or a top-level array of objects (the records).
- ``.ndjson`` / ``.jsonl``: one object per line (or arrays after a header row of column names);
  blank lines are ignored. Read line by line (bounded memory; ``progress(bytes_read, total_bytes)``
  is called about every MiB).
- gzip / zstd compression is recognised by magic bytes; a binary file is "not JSON" up front.
- The schema is inferred from *every* record (:mod:`payloads.infer`), or read from ``schema_path``
  (the model's JSON form, :func:`payloads.model.type_to_json`; unknown keys are errors) and every
  record validated against it.
- The payload's value: the single record when the file holds one record; otherwise a record
  ``<Name>Batch {records: list<Name>}`` of a uniform, deterministic sample of the whole file
  (:class:`Sampler`: the records with the smallest seeded random keys, at most ``max_records``
  (default 1000) and at most ``max_bytes`` (default 1 MB) of JSON text, kept in file order). Only
  the sampled records' raw bytes are held while reading. How it was drawn is in ``payload.notes``.
- A UTF-8 byte order mark at the very start of the file is accepted and ignored (noted); anywhere
  else (e.g. at the start of NDJSON line 57, from concatenated files) it is an error.
- Every error is a :class:`PayloadFileError` whose message starts ``FILE:LINE:COLUMN:``.

See docs/own-payloads.md.
"""

from __future__ import annotations

import heapq
import io
import json
import os
import random
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from payloads.catalog import Payload
from payloads.errors import MsgbenchError
from payloads.infer import (
    BIG_INT_DOC,
    JSON_KEY_DOC,
    JSON_TEXT_DOC,
    NULLABLE_DOC,
    ROOT_MAP_DOC,
    SchemaInferrer,
    int_text,
    json_text,
    type_name_for_key,
)
from payloads.losses import count_differences
from payloads.model import (
    Field,
    ListType,
    MapType,
    ModelError,
    Record,
    SchemaMismatch,
    Type,
    normalize,
    type_from_json,
    validate,
)

DEFAULT_MAX_RECORDS = 1000
DEFAULT_MAX_BYTES = 1_000_000
SAMPLE_SEED = 0
BATCH_DOC = "records sampled from"  # the doc of a generated <Name>Batch record
PROGRESS_EVERY = 1 << 20
NDJSON_SUFFIXES = (".ndjson", ".jsonl")
JSON_SUFFIXES = (".json",)

_BOM = b"\xef\xbb\xbf"
_WS = b" \t\r\n"
_LONG_DIGITS = re.compile(rb"\d{19,}")  # an integer that may not fit in 64 bits: orjson makes it a float

Progress = Callable[[int, int], None]


class PayloadFileError(MsgbenchError):
    """A payload (or schema) file cannot be used. ``str()`` is ``FILE[:LINE:COLUMN]: what; what to do``."""

    def __init__(self, path: str | os.PathLike, message: str, line: int | None = None, column: int | None = None):
        self.path = str(path)
        self.line = line
        self.column = column
        self.reason = message
        where = self.path if line is None else f"{self.path}:{line}:{column or 1}"
        super().__init__(f"{where}: {message}")


# ---------------------------------------------------------------------------------------------
# Reading records


@dataclass
class _ReadInfo:
    total_bytes: int = 0
    bom: bool = False
    kind: str = ""  # "json" | "ndjson"
    data: bytes = b""  # the whole .json file (for positions in errors)
    compression: str = ""  # "gzip" | "zstd" when the file was compressed
    header: list[str] | None = None  # NDJSON lines are arrays after this header row
    header_line: int = 0
    positions: list[tuple[int, int]] = field(default_factory=list)


def _json_kind(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    return "object"


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _loads(raw: bytes) -> Any:
    try:
        v = orjson.loads(raw)
    except orjson.JSONDecodeError as first:
        # orjson reads an integer beyond 64 bits as a float and gives up past float64's range
        # (~309 digits): the stdlib reads it exactly; anything else is a real JSON error
        if not _LONG_DIGITS.search(raw):
            raise
        try:
            return _exact_loads(raw)
        except json.JSONDecodeError as e:
            raise orjson.JSONDecodeError(e.msg, e.doc, e.pos) from None
        except (ValueError, RecursionError):
            raise first from None  # orjson's error says best what is wrong
    if _LONG_DIGITS.search(raw):
        # orjson turns integers beyond 64 bits into floats: re-read exactly (orjson validated it)
        v = _exact_loads(raw)
    return v


def _exact_loads(raw: bytes) -> Any:
    limit = sys.get_int_max_str_digits()
    try:
        sys.set_int_max_str_digits(0)  # integers of any length (the default refuses over 4300 digits)
        return json.loads(raw, parse_constant=_reject_constant)
    finally:
        sys.set_int_max_str_digits(limit)


def _line_col(data: bytes, offset: int, line0: int = 1, col0: int = 0) -> tuple[int, int]:
    """1-based line and column (in characters) of byte ``offset`` in ``data``."""
    nl = data.count(b"\n", 0, offset)
    last = data.rfind(b"\n", 0, offset)
    prefix = data[last + 1:offset].decode("utf-8", errors="replace")
    return line0 + nl, (col0 if nl == 0 else 0) + len(prefix) + 1


def _encoding_error(path: Path, raw: bytes, err: UnicodeDecodeError, line0: int, col0: int, file_offset: int,
                    earlier_non_ascii: bool) -> PayloadFileError:
    line, col = _line_col(raw, err.start, line0, col0)
    bad = raw[err.start]
    msg = (f"invalid UTF-8: byte 0x{bad:02X} at byte offset {file_offset + err.start}; "
           "payload files must be UTF-8")
    if earlier_non_ascii or not raw[:err.start].isascii():
        msg += ("; the file mixes encodings (earlier text is valid UTF-8, this is not): re-save the part that "
                "came from elsewhere as UTF-8")
    elif bad >= 0xA0:
        ch = bytes([bad]).decode("latin-1")
        msg += (f"; it looks like Latin-1 / Windows-1252 text (0x{bad:02X} is {ch!r} there): convert it, e.g. "
                f"`iconv -f latin1 -t utf-8 {path.name} > {path.stem}.utf8{path.suffix}`")
    else:
        msg += "; convert the file to UTF-8"
    return PayloadFileError(path, msg, line, col)


def _json_error(path: Path, raw: bytes, e: orjson.JSONDecodeError, line0: int, col0: int, file_offset: int,
                kind: str, earlier_non_ascii: bool = False) -> PayloadFileError:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as u:
        return _encoding_error(path, raw, u, line0, col0, file_offset, earlier_non_ascii)
    line = line0 + e.lineno - 1
    col = e.colno + (col0 if e.lineno == 1 else 0)
    msg = f"invalid JSON: {e.msg}"
    if kind == "json" and "after document" in e.msg:
        msg += "; if the file holds one JSON object per line, name it .ndjson or .jsonl"
    elif "recursion" in e.msg or "allocate" in e.msg or "depth" in e.msg:
        msg += " (nested too deeply?)"
    elif b"\x00" in raw:
        msg += "; the file contains NUL bytes: is it UTF-16 or UTF-32? save it as UTF-8"
    return PayloadFileError(path, msg, line, col)


def _check_start(path: Path, head: bytes) -> None:
    if head.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        raise PayloadFileError(path, "the file is UTF-32 encoded (it starts with a UTF-32 byte order mark); "
                               "save it as UTF-8", 1, 1)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise PayloadFileError(path, "the file is UTF-16 encoded (it starts with a UTF-16 byte order mark); "
                               "save it as UTF-8", 1, 1)


# Magic bytes of compressed inputs msgbench reads, and of other files it can name but not read
GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
COMPRESSED_SUFFIXES = (".gz", ".gzip", ".zst", ".zstd")
_OTHER_MAGIC = (
    (b"BZh", "bzip2-compressed (decompress it first: `bunzip2 -k FILE`; gzip and zstd are read directly)"),
    (b"\xfd7zXZ\x00", "xz-compressed (decompress it first: `unxz -k FILE`; gzip and zstd are read directly)"),
    (b"PK\x03\x04", "a ZIP archive (extract the JSON file from it first)"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive (extract the JSON file from it first)"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"\x7fELF", "an ELF executable"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"PAR1", "a Parquet file"),
    (b"Obj\x01", "an Avro container file"),
)
_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_SNIFF = 1 << 16


def _not_json(path: Path, head: bytes) -> None:
    """Refuse a file that is clearly not JSON text, saying what it looks like (one line)."""
    for magic, what in _OTHER_MAGIC:
        if head.startswith(magic):
            raise PayloadFileError(path, f"not JSON: the file is {what}")
    if not head:
        return
    nul = head.find(b"\x00")
    if nul >= 0:
        even, odd = head[0::2], head[1::2]
        if (even.count(0) > len(even) // 3 or odd.count(0) > len(odd) // 3) and \
                head.replace(b"\x00", b"").lstrip(_WS)[:1] in (b"{", b"["):
            raise PayloadFileError(path, "invalid JSON: the file contains NUL bytes between its characters: is it "
                                   "UTF-16 or UTF-32 without a byte order mark? save it as UTF-8")
    controls = _CONTROL.findall(head)
    first = head.lstrip(_WS + _BOM)[:1]
    if nul >= 0 or (controls and (first not in b'{["-0123456789tfn' or len(controls) * 100 > len(head))):
        m = _CONTROL.search(head)
        assert m is not None
        raise PayloadFileError(path, f"not JSON: the file looks binary (byte 0x{head[m.start()]:02X} at byte offset "
                               f"{m.start()}; JSON text has no control characters); give a .json / .ndjson file "
                               "(gzip- or zstd-compressed is fine)")


class _Source:
    """The file's bytes, decompressed when it starts with gzip / zstd magic; ``raw_pos()`` for progress."""

    def __init__(self, path: Path):
        self.path = path
        self.raw = open(path, "rb")  # noqa: SIM115 -- closed by close()
        self.total = os.fstat(self.raw.fileno()).st_size
        magic = self.raw.read(4)
        self.raw.seek(0)
        self.compression = ""
        self.stream: Any = self.raw
        if magic.startswith(GZIP_MAGIC):
            import gzip

            self.compression = "gzip"
            self.stream = gzip.GzipFile(fileobj=self.raw, mode="rb")
        elif magic.startswith(ZSTD_MAGIC):
            import zstandard

            self.compression = "zstd"
            self.stream = io.BufferedReader(_ZstdFrames(self.raw, zstandard.ZstdDecompressor()), 1 << 16)

    def raw_pos(self, decompressed: int) -> int:
        return decompressed if not self.compression else min(self.raw.tell(), self.total)

    def head(self) -> bytes:
        """The first 64 KiB (decompressed), for sniffing; the stream is reopened afterwards."""
        try:
            data = self.stream.read(_SNIFF)
        except Exception as e:  # a truncated or corrupt compressed file
            raise PayloadFileError(self.path, f"cannot read the {self.compression} data: {e}") from None
        self.close()
        self.__init__(self.path)  # type: ignore[misc]
        return data

    def close(self) -> None:
        if self.stream is not self.raw:
            self.stream.close()
        self.raw.close()


class _ZstdFrames(io.RawIOBase):
    """Decompressed bytes of every zstd frame in ``raw``; a truncated last frame is an ``EOFError``
    (zstandard's stream reader just stops there, which would silently lose the file's tail)."""

    def __init__(self, raw: Any, dctx: Any):
        self.raw = raw
        self.dctx = dctx
        self.dobj = dctx.decompressobj()
        self.pending = b""
        self.done = False

    def readable(self) -> bool:
        return True

    def readinto(self, buf: Any) -> int:
        while not self.pending and not self.done:
            chunk = self.raw.read(1 << 16)
            if not chunk:
                self.done = True
                if not self.dobj.eof and self.started:
                    raise EOFError("the zstd data ends in the middle of a frame (truncated file?)")
                break
            self.started = True
            out = []
            while chunk:
                out.append(self.dobj.decompress(chunk))
                if self.dobj.eof:
                    chunk = self.dobj.unused_data
                    self.dobj = self.dctx.decompressobj()
                    self.started = bool(chunk)
                else:
                    chunk = b""
            self.pending = b"".join(out)
        n = min(len(buf), len(self.pending))
        buf[:n] = self.pending[:n]
        self.pending = self.pending[n:]
        return n

    started = False


def _read_error(src: _Source, e: Exception) -> PayloadFileError:
    return PayloadFileError(src.path, f"cannot read the {src.compression} data: {type(e).__name__}: {e}")


def _iter_lines(src: _Source) -> Iterator[bytes]:
    it = iter(src.stream)
    while True:
        try:
            line = next(it)
        except StopIteration:
            return
        except (OSError, EOFError, ValueError) as e:
            if not src.compression:
                raise
            raise _read_error(src, e) from None
        yield line


def _iter_ndjson(path: Path, info: _ReadInfo, progress: Progress | None) -> Iterator[tuple[int, int, Any, bytes]]:
    """Yield ``(record_number, line, record, line_bytes)``, reading one line at a time.

    Lines are objects (the records), or arrays after a header row: the first line is an array of
    column names (strings) and every later line an array of as many values (``info.header``)."""
    src = _Source(path)
    info.compression = src.compression
    try:
        head = src.head()
        _check_start(path, head)
        _not_json(path, head)
        info.total_bytes = total = src.total
        if progress:
            progress(0, total)
        done = 0
        next_report = PROGRESS_EVERY
        lineno = 0
        recno = 0
        non_ascii = False
        header: list[str] | None = None
        for line in _iter_lines(src):
            lineno += 1
            offset = done
            done += len(line)
            if progress and done >= next_report:
                progress(src.raw_pos(done), total)
                next_report = done + PROGRESS_EVERY
            if lineno == 1 and line.startswith(_BOM):
                info.bom = True
                line = line[3:]
                offset += 3
            s = line.strip(_WS)
            if not s:
                continue
            lead = len(line) - len(line.lstrip(_WS))
            if s.startswith(_BOM):
                raise PayloadFileError(path, "a UTF-8 byte order mark (EF BB BF) at the start of this line (only the "
                                       "start of the file may have one; were files concatenated?): remove it, e.g. "
                                       f"`sed -i 's/^\\xEF\\xBB\\xBF//' {path.name}`", lineno, lead + 1)
            try:
                obj = _loads(s)
            except orjson.JSONDecodeError as e:
                raise _json_error(path, s, e, lineno, lead, offset + lead, "ndjson", non_ascii) from None
            if not non_ascii and not s.isascii():
                non_ascii = True
            if type(obj) is not dict:
                if header is None and recno == 0 and isinstance(obj, list):
                    header = _header_row(path, obj, lineno, lead)
                    info.header = header
                    info.header_line = lineno
                    continue
                if header is not None and isinstance(obj, list):
                    obj = _row_record(path, header, obj, lineno, lead)
                else:
                    raise PayloadFileError(path, _not_a_record(obj, header), lineno, lead + 1)
            elif header is not None:
                raise PayloadFileError(path, f"expected an array of {len(header)} values (the header row on line "
                                       f"{info.header_line} names the columns), got an object", lineno, lead + 1)
            recno += 1
            yield recno, lineno, obj, s
        if progress:
            progress(total, total)
    finally:
        src.close()


def _not_a_record(obj: Any, header: list[str] | None) -> str:
    msg = f"expected one JSON object (a record) per line, got {_json_kind(obj)}"
    if isinstance(obj, list) and obj and all(isinstance(x, dict) for x in obj):
        msg += "; a top-level array of records belongs in a .json file"
    return msg


def _header_row(path: Path, row: list, lineno: int, lead: int) -> list[str]:
    if not row or not all(isinstance(x, str) for x in row):
        if row and all(isinstance(x, dict) for x in row):
            raise PayloadFileError(path, "expected one JSON object (a record) per line, got an array of objects; a "
                                   "top-level array of records belongs in a .json file", lineno, lead + 1)
        raise PayloadFileError(path, "the first line is an array but not a header row: lines may be arrays only "
                               "after a first line that names the columns (an array of strings), e.g. "
                               '["id", "name"] then [1, "a"]', lineno, lead + 1)
    seen = set()
    for x in row:
        if x in seen:
            raise PayloadFileError(path, f"the header row names column {x!r} twice", lineno, lead + 1)
        seen.add(x)
    return list(row)


def _row_record(path: Path, header: list[str], row: list, lineno: int, lead: int) -> dict:
    if len(row) != len(header):
        raise PayloadFileError(path, f"this row has {len(row)} values, the header row has {len(header)} columns",
                               lineno, lead + 1)
    return dict(zip(header, row, strict=True))


_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{},]|[^\s\[\]{},"]+', re.S)


def _element_offset(data: bytes, index: int) -> int:
    """Byte offset of element ``index`` of the top-level array in ``data`` (only used for errors)."""
    depth = 0
    count = 0
    expecting = False
    for m in _TOKEN.finditer(data):
        c = m.group()[:1]
        if depth == 1 and expecting and c not in b",]":
            if count == index:
                return m.start()
            count += 1
            expecting = False
        if c in b"[{":
            depth += 1
            if depth == 1:
                expecting = True
        elif c in b"]}":
            depth -= 1
        elif c == b"," and depth == 1:
            expecting = True
    return 0


def _iter_json(path: Path, info: _ReadInfo, progress: Progress | None) -> Iterator[tuple[int, int, Any, Any]]:
    src = _Source(path)
    info.compression = src.compression
    try:
        head = src.head()
        _check_start(path, head)
        _not_json(path, head)
        if head.lstrip(_BOM).lstrip(_WS)[:1] == b"[" and src.total > STREAM_JSON_BYTES:
            yield from _iter_json_array(path, src, info, progress)
            return
        try:
            data = src.stream.read()
        except (OSError, EOFError, ValueError) as e:
            if not src.compression:
                raise
            raise _read_error(src, e) from None
        info.total_bytes = src.total
    finally:
        src.close()
    if progress:
        progress(0, info.total_bytes)
    start = 0
    if data.startswith(_BOM):
        info.bom = True
        start = 3
    body = data[start:]
    del data
    info.data = body
    if not body.strip(_WS):
        raise PayloadFileError(path, "the file is empty: no JSON records (expected an object or an array of objects)"
                               if body or start else "the file is empty (0 bytes): no JSON records")
    try:
        top = _loads(body)
    except orjson.JSONDecodeError as e:
        raise _json_error(path, body, e, 1, 0, start, "json") from None
    if progress:
        progress(info.total_bytes, info.total_bytes)
    if isinstance(top, dict):
        line, col = _line_col(body, len(body) - len(body.lstrip(_WS)))
        yield 1, line, top, top
        return
    if not isinstance(top, list):
        line, col = _line_col(body, len(body) - len(body.lstrip(_WS)))
        raise PayloadFileError(path, f"the top level is a {_json_kind(top)}; expected a JSON object (one record) or "
                               "an array of objects (the records)", line, col)
    if not top:
        line, col = _line_col(body, len(body) - len(body.lstrip(_WS)))
        raise PayloadFileError(path, "the top-level array is empty: no records", line, col)
    for i, obj in enumerate(top):
        if type(obj) is not dict:
            line, col = _line_col(body, _element_offset(body, i))
            raise PayloadFileError(path, f"record {i + 1} (array element {i}) is a {_json_kind(obj)}; every element "
                                   "of the top-level array must be a JSON object", line, col)
        yield i + 1, 0, obj, obj  # line computed only when needed


STREAM_JSON_BYTES = 16 << 20  # a .json top-level array bigger than this is read element by element
_STREAM_CHUNK = 1 << 20


class _ArrayReader:
    """Text of a .json file decoded incrementally: ``buf`` holds the unread part (from ``pos``);
    ``line`` counts the newlines before ``buf`` (for error positions)."""

    def __init__(self, path: Path, src: _Source):
        import codecs

        self.path, self.src = path, src
        self.dec = codecs.getincrementaldecoder("utf-8")()
        self.buf = ""
        self.pos = 0
        self.line = 1
        self.col0 = 0  # characters before buf on its first line
        self.eof = False
        self.read_bytes = 0
        self.chunk = _STREAM_CHUNK

    def more(self, size: int | None = None) -> bool:
        if self.eof:
            return False
        try:
            data = self.src.stream.read(size or self.chunk)
        except (OSError, EOFError, ValueError) as e:
            if not self.src.compression:
                raise
            raise _read_error(self.src, e) from None
        self.read_bytes += len(data)
        try:
            text = self.dec.decode(data, final=not data)
        except UnicodeDecodeError as e:
            raise self.error(len(self.buf), f"invalid UTF-8: byte 0x{e.object[e.start]:02X}; payload files must be "
                             "UTF-8 (convert the file, e.g. with iconv)") from None
        if not data:
            self.eof = True
        if self.pos > (1 << 20) and self.pos * 2 > len(self.buf):  # drop what was read
            self.forget()
        self.buf += text
        return True

    def forget(self) -> None:
        gone = self.buf[:self.pos]
        nl = gone.count("\n")
        self.col0 = (self.col0 if nl == 0 else 0) + len(gone) - (gone.rfind("\n") + 1)
        self.line += nl
        self.buf = self.buf[self.pos:]
        self.pos = 0

    def skip_ws(self) -> str:
        """The next non-whitespace character ("" at the end of the file), not consumed."""
        while True:
            while self.pos < len(self.buf) and self.buf[self.pos] in " \t\r\n":
                self.pos += 1
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self.more():
                return ""

    def where(self, index: int) -> tuple[int, int]:
        nl = self.buf.count("\n", 0, index)
        col = index - (self.buf.rfind("\n", 0, index) + 1) + (self.col0 if nl == 0 else 0)
        return self.line + nl, col + 1

    def error(self, index: int, message: str) -> PayloadFileError:
        line, col = self.where(index)
        return PayloadFileError(self.path, message, line, col)


def _iter_json_array(path: Path, src: _Source, info: _ReadInfo,
                     progress: Progress | None) -> Iterator[tuple[int, int, Any, Any]]:
    """The records of a big top-level array, one element at a time (the file is never held whole)."""
    decoder = json.JSONDecoder(parse_constant=_reject_constant)
    r = _ArrayReader(path, src)
    info.total_bytes = total = src.total
    if progress:
        progress(0, total)
    next_report = PROGRESS_EVERY
    r.more()
    if r.buf.startswith("\ufeff"):
        info.bom = True
        r.pos = 1
        r.col0 = -1
    r.skip_ws()
    r.pos += 1  # the "["
    recno = 0
    digits = sys.get_int_max_str_digits()
    while True:
        c = r.skip_ws()
        if c == "]" and recno == 0:
            raise r.error(r.pos, "the top-level array is empty: no records")
        if c == "":
            raise r.error(r.pos, "invalid JSON: the file ends inside the top-level array (truncated?)")
        start = r.pos
        size = r.chunk
        while True:
            try:
                sys.set_int_max_str_digits(0)
                obj, end = decoder.raw_decode(r.buf, start)
                break
            except json.JSONDecodeError as e:
                # an error well before the end of what was read is real; one at its end (or a string
                # still open) may only mean the element goes on: read more, then parse it again
                if r.eof or (len(r.buf) - e.pos > 32 and not e.msg.startswith("Unterminated string")):
                    raise r.error(e.pos, f"invalid JSON: {e.msg}") from None
                r.more(size)
                size *= 2
                start = r.pos
            except ValueError as e:  # NaN / Infinity
                raise r.error(start, f"invalid JSON: {e}") from None
            finally:
                sys.set_int_max_str_digits(digits)
        recno += 1
        if type(obj) is not dict:
            raise r.error(start, f"record {recno} (array element {recno - 1}) is a {_json_kind(obj)}; every element "
                          "of the top-level array must be a JSON object")
        raw = r.buf[start:end].encode()
        r.pos = end
        line, _ = r.where(start)
        yield recno, line, obj, raw
        del obj, raw
        if progress and src.raw_pos(r.read_bytes) >= next_report:
            progress(src.raw_pos(r.read_bytes), total)
            next_report = src.raw_pos(r.read_bytes) + PROGRESS_EVERY
        c = r.skip_ws()
        if c == ",":
            r.pos += 1
        elif c == "]":
            r.pos += 1
            if r.skip_ws():
                raise r.error(r.pos, "invalid JSON: unexpected content after document")
            break
        else:
            raise r.error(r.pos, "invalid JSON: expected ',' or ']' after an array element"
                          if c else "invalid JSON: the file ends inside the top-level array (truncated?)")
    if progress:
        progress(total, total)


def _check_file(path: str | os.PathLike) -> tuple[Path, str]:
    p = Path(path)
    if not p.exists():
        raise PayloadFileError(p, "no such file")
    if p.is_dir():
        raise PayloadFileError(p, "is a directory; expected a .json, .ndjson or .jsonl file")
    if not p.is_file():  # a FIFO would block forever, a device (/dev/zero) never ends
        what = "a pipe (FIFO)" if p.is_fifo() else "a device" if p.is_char_device() or p.is_block_device() else \
            "not a regular file"
        raise PayloadFileError(p, f"is {what}; save the data to a regular file first (gzip or zstd is fine)")
    suffixes = [x.lower() for x in p.suffixes]
    if suffixes and suffixes[-1] in COMPRESSED_SUFFIXES:
        suffixes.pop()
    suffix = suffixes[-1] if suffixes else ""
    if suffix in NDJSON_SUFFIXES:
        kind = "ndjson"
    elif suffix in JSON_SUFFIXES:
        kind = "json"
    else:
        raise PayloadFileError(p, f"unknown file type {p.suffix or '(no extension)'!r}: expected .json (an object "
                               "or an array of objects) or .ndjson / .jsonl (one object per line), optionally "
                               "compressed (.gz, .zst)")
    if not os.access(p, os.R_OK):
        raise PayloadFileError(p, "cannot read the file (permission denied)")
    return p, kind


def read_records(path: str | os.PathLike, progress: Progress | None = None) -> Iterator[tuple[int, int, dict]]:
    """Yield ``(record_number, line, record)`` from a .json / .ndjson / .jsonl file (line 0: not known)."""
    p, kind = _check_file(path)
    info = _ReadInfo(kind=kind)
    it = _iter_ndjson(p, info, progress) if kind == "ndjson" else _iter_json(p, info, progress)
    for recno, line, obj, _raw in it:
        yield recno, line, obj


# ---------------------------------------------------------------------------------------------
# A user-given schema


_JSON_KEY_DOC = re.compile(re.escape(JSON_KEY_DOC) + r'("(?:[^"\\]|\\.)*")')
_CONV_DOC = re.compile(r"(?:^|; )((?:\[\*\]|\.<key>)*)(?:: )?(" + re.escape(JSON_TEXT_DOC) + "|"
                       + re.escape(BIG_INT_DOC) + ")")


def _json_key(f: Field) -> str:
    m = _JSON_KEY_DOC.match(f.doc or "")
    return json.loads(m.group(1)) if m else f.name


def _big_int_text(x: Any) -> Any:
    return int_text(x)


def _user_converter(t: Type, docs: dict[str, Callable[[Any], Any]], rel: str = "") -> Callable[[Any], Any] | None:
    """How to turn JSON values into values of a user's schema ``t``, from the conversion docs inference
    writes (``JSON key: "first-name"``, ``[*]: JSON text of the value``, ``Nullable...`` wrappers)."""
    wrapped = (isinstance(t, Record) and NULLABLE_DOC in t.doc and len(t.fields) == 1
               and t.fields[0].name == "value")
    inner = t.fields[0].type if wrapped else t  # type: ignore[union-attr]
    c: Callable[[Any], Any] | None
    if rel in docs:
        c = docs[rel]
    elif isinstance(inner, ListType):
        ic = _user_converter(inner.items, docs, rel + "[*]")
        c = None if ic is None else (lambda v, ic=ic: [ic(x) for x in v] if isinstance(v, list) else v)
    elif isinstance(inner, MapType):
        vc = _user_converter(inner.values, docs, rel + ".<key>")
        c = None if vc is None else (lambda v, vc=vc: {k: vc(x) for k, x in v.items()} if isinstance(v, dict) else v)
    elif isinstance(inner, Record):
        c = _record_converter(inner)
    else:
        c = None
    if wrapped:
        return lambda x, c=c: {"value": x if (x is None or c is None) else c(x)}
    return c


def _record_converter(rec: Record) -> Callable[[Any], Any] | None:
    if ROOT_MAP_DOC in rec.doc and [f.name for f in rec.fields] == ["entries"]:
        mc = _user_converter(rec.fields[0].type, _conv_docs(rec.fields[0]))
        return lambda v: {"entries": v if mc is None else mc(v)}
    spec = {}
    changed = False
    for f in rec.fields:
        key = _json_key(f)
        c = _user_converter(f.type, _conv_docs(f))
        spec[key] = (f.name, c)
        changed |= key != f.name or c is not None
    if not changed:
        return None

    def convert(v: Any) -> Any:
        if not isinstance(v, dict):
            return v
        out = {}
        for k, x in v.items():
            name, c = spec.get(k, (k, None))
            out[name] = x if (c is None or x is None) else c(x)
        return out

    return convert


def _conv_docs(f: Field) -> dict[str, Callable[[Any], Any]]:
    out: dict[str, Callable[[Any], Any]] = {}
    for m in _CONV_DOC.finditer(f.doc or ""):
        out[m.group(1)] = json_text if m.group(2) == JSON_TEXT_DOC else _big_int_text
    return out


def _load_schema(schema_path: str | os.PathLike) -> Record:
    p = Path(schema_path)
    if not p.exists():
        raise PayloadFileError(p, "no such schema file")
    if p.is_dir():
        raise PayloadFileError(p, "is a directory; expected a schema file (JSON, the model's form)")
    data = p.read_bytes()
    if data.startswith(_BOM):
        data = data[3:]
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError as e:
        raise _json_error(p, data, e, 1, 0, 0, "json") from None
    unknown = _unknown_schema_keys(doc)
    if unknown:
        path, key, allowed = unknown
        raise PayloadFileError(p, f"not a schema in the model's JSON form: {path}: unknown key {key!r} (a "
                               f"typo? allowed here: {', '.join(allowed)})")
    try:
        t = type_from_json(doc)
    except (ModelError, TypeError, ValueError) as e:
        raise PayloadFileError(p, f"not a schema in the model's JSON form: {e} (export one with `msgbench schema "
                               "--payload FILE --format model`)") from None
    if not isinstance(t, Record):
        raise PayloadFileError(p, f"the schema's top level must be a record, got {t.type_name}")
    return t


# The keys of the model's JSON form (payloads.model.type_to_json): anything else in an edited schema
# is a mistake that would otherwise be ignored (``optinal: true`` leaves the field required)
_SCHEMA_KEYS = {
    "record": ("type", "name", "doc", "aliases", "fields"),
    "enum": ("type", "name", "symbols", "default", "doc", "aliases", "numbers"),
    "list": ("type", "items"),
    "map": ("type", "values"),
}
_FIELD_KEYS = ("name", "id", "type", "optional", "default", "doc", "aliases")


def _unknown_schema_keys(doc: Any, path: str = "schema") -> tuple[str, str, tuple[str, ...]] | None:
    """``(path, key, allowed keys)`` of the first unknown key in a schema document, or None."""
    if not isinstance(doc, dict):
        return None
    allowed = _SCHEMA_KEYS.get(doc.get("type"))  # type: ignore[arg-type]
    if allowed is None:
        return None  # type_from_json says what is wrong with the type itself
    for k in doc:
        if k not in allowed:
            return path, k, allowed
    if doc["type"] == "list":
        return _unknown_schema_keys(doc.get("items"), f"{path}.items")
    if doc["type"] == "map":
        return _unknown_schema_keys(doc.get("values"), f"{path}.values")
    if doc["type"] == "record" and isinstance(doc.get("fields"), list):
        for i, fd in enumerate(doc["fields"]):
            where = f"{path}.fields[{i}]"
            if not isinstance(fd, dict):
                continue
            if isinstance(fd.get("name"), str):
                where += f" ({fd['name']})"
            for k in fd:
                if k not in _FIELD_KEYS:
                    return where, k, _FIELD_KEYS
            found = _unknown_schema_keys(fd.get("type"), f"{where}.type")
            if found:
                return found
    return None


def _batch_item(schema: Record, first: dict) -> Record | None:
    """The item record when ``schema`` is a batch ``{records: list<R>}`` (as exported) and ``first`` is an R."""
    if len(schema.fields) != 1:
        return None
    f = schema.fields[0]
    if not (isinstance(f.type, ListType) and isinstance(f.type.items, Record)):
        return None
    if schema.doc.startswith(BATCH_DOC) or _json_key(f) not in first:
        return f.type.items  # exported by msgbench (its doc says so), or the record cannot be the batch
    # a hand-written wrapper: the batch when the first record fits its item type and not itself
    item = f.type.items
    conv = _record_converter(item)
    try:
        validate(item, conv(first) if conv else first)
    except SchemaMismatch:
        return None
    return item


# ---------------------------------------------------------------------------------------------
# Sampling


class Sampler:
    """A uniform, deterministic sample of a stream of records under a record count and a byte budget.

    Every record offered gets a random key from ``random.Random(seed)`` (drawn in file order, so
    the same file always gives the same sample). The sample is the records with the smallest keys,
    as many as fit: at most ``max_records`` of them, and, taken in key order, while their sizes sum
    to at most ``max_bytes`` (the first one is always kept). So every record has the same chance
    to be drawn wherever it is in the file (a record larger than the whole budget only when its
    key is the smallest); the budget trims the random order, never the file's tail.

    Only the sampled items are held (``max_bytes`` plus one record at most): give it the record's
    raw bytes, not the parsed record."""

    def __init__(self, max_records: int, max_bytes: int, seed: int = SAMPLE_SEED):
        if max_records < 1:
            raise ValueError(f"max_records must be at least 1, got {max_records}")
        self.max_records = max_records
        self.max_bytes = max_bytes
        self.seed = seed
        self._rng = random.Random(seed)
        self._heap: list[tuple[float, int, int, int, Any]] = []  # (-key, recno, line, size, item)
        self.bytes = 0
        self.seen = 0
        self._barrier = 2.0  # the smallest key left out so far: no record with a larger key can be taken
        self.budget_dropped = False  # the byte budget (not the count) left records out

    def offer(self, recno: int, line: int, size: int, item: Any) -> None:
        self.seen += 1
        key = self._rng.random()
        if key >= self._barrier:
            return  # a record with a smaller key was left out: this one comes after it in key order
        heap = self._heap
        if heap and key > -heap[0][0] and (len(heap) >= self.max_records or self.bytes + size > self.max_bytes):
            self.budget_dropped |= len(heap) < self.max_records
            self._barrier = key  # it would be the first to go
            return
        heapq.heappush(heap, (-key, recno, line, size, item))
        self.bytes += size
        while len(heap) > self.max_records or (self.bytes > self.max_bytes and len(heap) > 1):
            if len(heap) <= self.max_records:
                self.budget_dropped = True
            neg, _, _, dropped, _ = heapq.heappop(heap)
            self.bytes -= dropped
            self._barrier = -neg

    def sample(self) -> list[tuple[int, int, int, Any]]:
        """``(record number, line, size, item)`` of the sampled records, in file order."""
        return sorted(((r, ln, sz, it) for _, r, ln, sz, it in self._heap), key=lambda x: x[0])


def _size(record: dict) -> int:
    try:
        return len(orjson.dumps(record))
    except (TypeError, orjson.JSONEncodeError):
        return len(json_text(record).encode())


# ---------------------------------------------------------------------------------------------
# The payload


def payload_name_for(path: str | os.PathLike) -> str:
    """The payload name users see: the file stem with anything but ``[A-Za-z0-9_.-]`` replaced by ``_``."""
    stem = _stem(path)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", stem).strip("_.-")
    return name or "payload"


def record_name_for(path: str | os.PathLike) -> str:
    """The record type name for one record of the file: ``trip_updates.ndjson`` -> ``TripUpdate``."""
    return type_name_for_key(_stem(path), plural=True, fallback="Record")


def _stem(path: str | os.PathLike) -> str:
    """The file name without its compression and JSON suffixes: ``trips.ndjson.gz`` -> ``trips``."""
    name = Path(path).name
    for suffixes in (COMPRESSED_SUFFIXES, NDJSON_SUFFIXES + JSON_SUFFIXES):
        for suffix in suffixes:
            if name.lower().endswith(suffix) and len(name) > len(suffix):
                name = name[: -len(suffix)]
                break
    return name


def load_payload_file(
    path: str | os.PathLike,
    *,
    schema_path: str | os.PathLike | None = None,
    max_records: int | None = None,
    progress: Progress | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Payload:
    """Read ``path`` (.json / .ndjson / .jsonl) into a payload; see the module doc and docs/own-payloads.md.

    ``progress(bytes_read, total_bytes)`` is called while reading. Raises :class:`PayloadFileError`."""
    p, kind = _check_file(path)
    limit = DEFAULT_MAX_RECORDS if max_records is None else max_records
    if limit < 1:
        raise PayloadFileError(p, f"max_records must be at least 1, got {limit}")
    user_schema = _load_schema(schema_path) if schema_path is not None else None
    info = _ReadInfo(kind=kind)
    it = _iter_ndjson(p, info, progress) if kind == "ndjson" else _iter_json(p, info, progress)

    sampler = Sampler(limit, max_bytes)
    inferrer = SchemaInferrer() if user_schema is None else None
    record_schema: Record | None = None
    batch_schema: Record | None = None
    rename: Callable[[Any], Any] | None = None
    count = 0
    for recno, line, obj, raw in it:
        count = recno
        if inferrer is not None:
            inferrer.observe(obj)
        else:
            assert user_schema is not None
            if record_schema is None:
                item = _batch_item(user_schema, obj)
                record_schema = item or user_schema
                batch_schema = user_schema if item else None
                rename = _record_converter(record_schema)
            try:
                validate(record_schema, rename(obj) if rename else obj)
            except SchemaMismatch as e:
                line, col = _record_position(info, recno, line)
                raise PayloadFileError(p, f"record {recno} does not match the schema {schema_path}: field {e.path}: "
                                       f"{e.reason}", line, col) from None
        # keep the line's bytes, not the parsed record: memory stays within the byte budget
        sampler.offer(recno, line, len(raw) if isinstance(raw, bytes) else _size(raw), raw)
        del obj, raw
    if count == 0:
        raise PayloadFileError(p, "the file is empty: no JSON records (only blank lines)" if info.total_bytes
                               else "the file is empty (0 bytes): no JSON records")

    notes: list[str] = []
    if info.compression:
        notes.append(f"read {info.compression}-compressed {p.name}")
    if info.bom:
        notes.append("the UTF-8 byte order mark at the start of the file was ignored")
    if info.header is not None:
        notes.append(f"the lines are arrays: the first line is a header row naming the {len(info.header)} columns; "
                     "each later line became a record with those keys")
    base = record_name_for(p)
    if inferrer is not None:
        record_schema = inferrer.schema(base, reserved=(f"{base}Batch",))
        conv = inferrer.conversions
        convert: Callable[[Any], Any] = conv.apply
        notes[:0] = [f"schema inferred from all {count} records of {p.name}"]
        notes += conv.notes
    else:
        assert record_schema is not None
        convert = rename or (lambda v: v)
        notes[:0] = [f"schema from {schema_path} (every one of the {count} records validated)"]

    sample = sampler.sample()
    originals = [_materialize(item, info.header) for _, _, _, item in sample]
    records = [convert(r) for r in originals]
    if count == 1:
        schema, value = record_schema, records[0]
    else:
        if batch_schema is None:
            batch_schema = Record(f"{record_schema.name}Batch", (Field("records", ListType(record_schema), 1),),
                                  f"{BATCH_DOC} {p.name}")
        schema = batch_schema
        value = {batch_schema.fields[0].name: records}
        notes.append(_sampling_note(count, sample, sampler, info))
    if user_schema is not None:
        notes += _schema_change_notes(record_schema, originals, records)

    payload = Payload(
        name=payload_name_for(p),
        description=f"your records from {p.name} ({count} record{'s' if count != 1 else ''}"
                    + (f", {len(sample)} sampled" if len(sample) < count else "") + ")",
        schema=schema,
        build=lambda: value,
        source=str(p),
        notes=tuple(notes),
    )
    try:
        payload.value  # noqa: B018 -- validate and normalize now, not in the middle of a run
    except SchemaMismatch as e:  # a bug in inference: say so rather than fail later
        raise PayloadFileError(p, f"internal error: the inferred schema does not fit the data at {e}; please report "
                               "it with the file, or give a schema with --schema") from None
    return payload


def _record_position(info: _ReadInfo, recno: int, line: int) -> tuple[int, int]:
    if line:
        return line, 1
    if info.kind == "json" and info.data:
        start = info.data.lstrip(_WS)[:1]
        off = _element_offset(info.data, recno - 1) if start == b"[" else len(info.data) - len(info.data.lstrip(_WS))
        return _line_col(info.data, off)
    return 1, 1


def _materialize(item: Any, header: list[str] | None) -> Any:
    if not isinstance(item, bytes):
        return item
    obj = _loads(item)
    return dict(zip(header, obj, strict=True)) if header is not None else obj


def _sampling_note(count: int, sample: list, sampler: Sampler, info: _ReadInfo) -> str:
    taken = len(sample)
    if taken == count:
        return f"value: all {count} records, in file order"
    where = ("lines" if info.kind == "ndjson" else "records")
    pos = [ln for _, ln, _, _ in sample] if info.kind == "ndjson" else [r for r, _, _, _ in sample]
    why = []
    if sampler.seen > sampler.max_records:
        why.append(f"at most max_records={sampler.max_records}")
    if sampler.budget_dropped:
        why.append(f"at most {sampler.max_bytes} bytes of JSON")
    return (f"value: a uniform random sample of {taken} of the {count} records from the whole file (each record "
            f"drew a random key, seed {SAMPLE_SEED}; the records with the smallest keys were taken, "
            + " and ".join(why) + f"; kept in file order: {where} {pos[0]}..{pos[-1]}); the schema covers every record")


def _schema_change_notes(schema: Record, originals: list, converted: list) -> list[str]:
    """With a user schema: which values normalizing changes (int -> float, absent -> null, ...), every
    changed value counted (per path, list indices as ``[*]``)."""
    by_path: dict[str, int] = {}
    total = 0
    for o, c in zip(originals, converted, strict=True):
        loss = count_differences(o, normalize(schema, c), examples=0)
        total += loss.total
        for k, n in loss.by_path.items():
            by_path[k] = by_path.get(k, 0) + n
    if not total:
        return []
    top = sorted(by_path.items(), key=lambda kv: (-kv[1], kv[0]))
    shown = ", ".join(f"{k} ({n})" for k, n in top[:30])
    more = f" and {len(top) - 30} more paths" if len(top) > 30 else ""
    return [f"the schema changes {total} sampled value{'s' if total != 1 else ''} (renamed keys, int -> float, "
            f"absent -> null, ...) at: {shown}{more}"]


__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_RECORDS",
    "PayloadFileError",
    "load_payload_file",
    "payload_name_for",
    "read_records",
    "record_name_for",
]
