"""Hostile documents: XXE, entity-expansion bombs, absurd nesting and numbers.

Each case runs in a subprocess with ``RLIMIT_AS`` (address space) capped, reports its peak RSS
(``ru_maxrss``), and must end in a clear error. For XXE a local file holding a secret marker is
created; the marker must never appear in any output, exception message or decoded value.

The payload importer (``payloads/importer.py``) reads JSON/NDJSON only (no XML), so it gets the
JSON equivalents instead: 100,000 levels of nested arrays, a 100,000-digit integer and a float
literal beyond double range, through ``msgbench schema --payload FILE`` (one ``msgbench: error:``
line, no traceback).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MEMORY_LIMIT = 1 << 30  # address space of each child
MAX_RSS_MB = 400  # what a rejected hostile document may cost at most
SECRET = "MSGBENCH-SECRET-7f3a9c-do-not-leak"


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def _run(code: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT), MSGBENCH_NO_PLUGINS="1")
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=timeout,
                          cwd=ROOT, env=env, preexec_fn=_limit)


# The child decodes argv[1] (a file) with xml/lxml under a one-string-field schema and prints one
# JSON line: what happened, the exception text or the decoded value, and the peak RSS.
XML_CHILD = textwrap.dedent("""
    import json, resource, sys
    from formats.registry import build_registry
    from payloads.model import Field, Record, STRING
    schema = Record("Note", (Field("text", STRING, 1),))
    prepared = build_registry(False).codec("xml/lxml").prepare(schema)
    data = open(sys.argv[1], "rb").read()
    out = {}
    try:
        out["value"] = repr(prepared.from_native(prepared.decode(data)))
        out["outcome"] = "accepted"
    except Exception as e:
        out["outcome"] = "rejected"
        out["error"] = f"{type(e).__name__}: {e}"
    out["maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))
""")


def _note_document() -> bytes:
    """A valid xml/lxml encoding of {"text": "PLACEHOLDER"} (so only the hostile part differs)."""
    from formats.registry import build_registry
    from payloads.model import STRING, Field, Record

    prepared = build_registry(False).codec("xml/lxml").prepare(Record("Note", (Field("text", STRING, 1),)))
    data = prepared.encode(prepared.to_native({"text": "PLACEHOLDER"}))
    assert b"PLACEHOLDER" in data and b"<!DOCTYPE" not in data
    return data


def _with_doctype(doc: bytes, doctype: str, body_text: str) -> bytes:
    root = doc.split(b"<", 2)[1].split(b">")[0].split()[0].decode()  # the root element's name
    body = doc.replace(b"PLACEHOLDER", body_text.encode())
    if body.startswith(b"<?xml"):
        decl, rest = body.split(b"?>", 1)
        return decl + b"?>\n" + doctype.replace("ROOT", root).encode() + b"\n" + rest.lstrip()
    return b'<?xml version="1.0"?>\n' + doctype.replace("ROOT", root).encode() + b"\n" + body


@pytest.fixture(scope="module")
def secret_file(tmp_path_factory) -> Path:
    p = tmp_path_factory.mktemp("secret") / "secret.txt"
    p.write_text(SECRET + "\n")
    return p


def _xml_cases(secret: Path) -> dict[str, tuple[str, str]]:
    lol = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 if i > 1 else "")) * 10}">' for i in range(1, 10))
    return {
        "xxe-general-entity": (f'<!DOCTYPE ROOT [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>', "&xxe;"),
        "xxe-parameter-entity": (
            f'<!DOCTYPE ROOT [<!ENTITY % ext SYSTEM "{secret.as_uri()}"> %ext;]>', "x"),
        "xxe-external-dtd": (f'<!DOCTYPE ROOT SYSTEM "{secret.as_uri()}">', "x"),
        "billion-laughs": (f"<!DOCTYPE ROOT [{lol}]>", "&lol9;"),
        "quadratic-blowup": (
            '<!DOCTYPE ROOT [<!ENTITY a "' + "a" * 50_000 + '">]>', "&a;" * 50_000),
    }


CASES = ["xxe-general-entity", "xxe-parameter-entity", "xxe-external-dtd", "billion-laughs", "quadratic-blowup"]


@pytest.mark.parametrize("case", CASES)
def test_xml_decode_rejects_hostile_documents(case, secret_file, tmp_path) -> None:
    doctype, body = _xml_cases(secret_file)[case]
    doc = _with_doctype(_note_document(), doctype, body)
    path = tmp_path / f"{case}.xml"
    path.write_bytes(doc)
    proc = _run(XML_CHILD, str(path))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert SECRET not in proc.stdout and SECRET not in proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["outcome"] == "rejected", out
    err = out["error"]
    assert "DOCTYPE" in err or "entit" in err.lower(), err  # says why, not a generic parse error
    assert len(err) < 400
    assert out["maxrss_mb"] < MAX_RSS_MB, out


def test_xml_decode_rejects_bare_entity_reference_without_doctype(tmp_path) -> None:
    doc = _note_document().replace(b"PLACEHOLDER", b"&undefined;")
    path = tmp_path / "entity.xml"
    path.write_bytes(doc)
    out = json.loads(_run(XML_CHILD, str(path)).stdout.strip().splitlines()[-1])
    assert out["outcome"] == "rejected", out


# ------------------------------------------------------------------------------------------------
# The JSON payload importer, through the CLI.


def _hostile_json(kind: str) -> str:
    if kind == "deep-nesting":
        return "[" * 100_000 + "]" * 100_000
    if kind == "deep-nesting-in-record":
        return '{"trip": ' + '{"a": ' * 100_000 + "1" + "}" * 100_000 + "}"
    if kind == "huge-integer":
        return '[{"fare": 1' + "0" * 100_000 + "}]"
    if kind == "huge-float":
        return '[{"fare": 1e999999}]'
    raise ValueError(kind)


def test_importer_reads_a_100000_digit_integer_exactly_as_text(tmp_path) -> None:
    """Integers of any length are data real files hold (issue 15): kept exactly, as decimal text."""
    path = tmp_path / "huge-integer.json"
    path.write_text(_hostile_json("huge-integer"))
    proc = _run("import sys\nfrom bench.cli import main\nsys.exit(main(sys.argv[1:]))", "schema", "--payload",
                str(path), "--format", "model")
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    schema = json.loads(proc.stdout)
    assert schema["fields"][0]["type"] == "string" and "outside int64" in schema["fields"][0]["doc"]


@pytest.mark.parametrize("kind", ["deep-nesting", "deep-nesting-in-record", "huge-float"])
def test_importer_rejects_hostile_json_with_one_clear_line(kind, tmp_path) -> None:
    pytest.importorskip("payloads.importer", reason="the JSON importer has not landed")
    path = tmp_path / f"{kind}.json"
    path.write_text(_hostile_json(kind))
    code = textwrap.dedent("""
        import resource, sys
        from bench.cli import main
        rc = main(sys.argv[1:])
        print(f"MAXRSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}", file=sys.stderr)
        sys.exit(rc)
    """)
    proc = _run(code, "schema", "--payload", str(path), "--format", "model")
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip() and not ln.startswith("MAXRSS")]
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert proc.returncode != 0 and proc.returncode != 1, (proc.returncode, proc.stdout[-500:], proc.stderr[-1000:])
    assert len(lines) == 1 and lines[0].startswith("msgbench: error:"), proc.stderr[-2000:]
    assert len(lines[0]) < 500
    rss = float(proc.stderr.split("MAXRSS ")[-1].split()[0])
    assert rss < MAX_RSS_MB, rss


# ------------------------------------------------------------------------------------------------
# msgbench decode of untrusted bytes runs under time and memory limits, in a child process


def _decode_cli(path, *extra):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "bench.cli", "--no-plugins", "decode", "--codec", *extra,
                           str(path)], capture_output=True, text=True, timeout=120,
                          cwd=str(Path(__file__).resolve().parents[1]))


def test_decode_of_a_14_byte_thrift_compact_bomb_ends_with_a_one_line_error(tmp_path) -> None:
    """An unknown list of 2**62 zero-size elements: thriftpy2's compact protocol loops forever."""
    import time

    from bench.faults import bombs

    bad = tmp_path / "bomb.bin"
    bad.write_bytes(bombs(b"\x00", "thrift/compact", "thrift")[0][0])
    assert len(bad.read_bytes()) <= 14
    t0 = time.monotonic()
    proc = _decode_cli(bad, "thrift/compact", "--payload", "trip_request", "--timeout", "2")
    assert proc.returncode != 0 and time.monotonic() - t0 < 30
    err = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(err) == 1 and "no answer within 2 s" in err[0] and "Traceback" not in proc.stderr, proc.stderr


def test_decode_memory_limit_turns_a_forged_length_into_a_clean_error(tmp_path) -> None:
    import struct

    # a Thrift binary string field (type 11, id 1) declaring 2**31-1 bytes: thriftpy2 allocates it
    bad = tmp_path / "len.bin"
    bad.write_bytes(bytes([11]) + struct.pack(">hi", 1, 0x7FFFFFFF) + b"x" * 8)
    proc = _decode_cli(bad, "thrift/binary", "--payload", "trip_request", "--memory-limit", str(256 << 20))
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert "msgbench: error:" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_decode_refuses_a_fifo_and_a_device(tmp_path) -> None:
    import os

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for path in (fifo, Path("/dev/zero")):
        proc = _decode_cli(path, "json/orjson", "--payload", "trip_request")
        assert proc.returncode != 0 and "not a regular file" in proc.stderr, proc.stderr


def test_payload_files_that_are_pipes_or_devices_are_refused_at_once(tmp_path) -> None:
    """A FIFO would block the importer forever and a link to /dev/zero never ends (issue 18)."""
    fifo = tmp_path / "data.ndjson"
    os.mkfifo(fifo)
    zero = tmp_path / "zero.ndjson"
    zero.symlink_to("/dev/zero")
    for path, what in ((fifo, "is a pipe"), (zero, "is a device")):
        proc = _run("import sys\nfrom bench.cli import main\nsys.exit(main(sys.argv[1:]))", "schema", "--payload",
                    str(path), "--format", "model", timeout=30)
        assert proc.returncode == 2 and what in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
