"""Every user mistake: one line ``msgbench: error: ...`` on stderr, a non-zero exit, no traceback.

Most cases call ``bench.cli.main`` in-process (fast: an exception escaping ``main`` fails the
test just like a traceback would); a few run the real entry point as a subprocess.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.cli import main

ROOT = Path(__file__).resolve().parents[1]


def _call(capsys, *args: str) -> tuple[int, list[str]]:
    os.environ["MSGBENCH_NO_PLUGINS"] = "1"
    try:
        try:
            rc = main(list(args))
        except SystemExit as e:  # argparse exits
            rc = e.code if isinstance(e.code, int) else 2
    finally:
        os.environ.pop("MSGBENCH_NO_PLUGINS", None)
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    return rc, lines


def _assert_one_error(rc: int, lines: list[str], *needles: str) -> None:
    assert rc not in (0, None), lines
    errors = [ln for ln in lines if ln.startswith("msgbench: error:")]
    assert len(errors) == 1, lines
    assert not any("Traceback" in ln for ln in lines), lines
    for n in needles:
        assert n.lower() in errors[0].lower(), errors[0]


@pytest.fixture
def results_dir(tmp_path) -> Path:
    return tmp_path


def test_bad_flag(capsys) -> None:
    rc, lines = _call(capsys, "run", "--no-such-flag")
    _assert_one_error(rc, lines, "--no-such-flag")
    assert len(lines) == 1


def test_bad_flag_value(capsys) -> None:
    rc, lines = _call(capsys, "run", "--timeout", "soon")
    _assert_one_error(rc, lines, "timeout")


def test_unknown_command(capsys) -> None:
    rc, lines = _call(capsys, "frobnicate")
    _assert_one_error(rc, lines, "frobnicate")


def test_unknown_codec(capsys, tmp_path) -> None:
    rc, lines = _call(capsys, "run", "--untimed", "--payloads", "trip_request", "--formats", "nosuch/codec",
                      "--out", str(tmp_path / "out"), "--sections", "--no-report")
    _assert_one_error(rc, lines, "nosuch/codec", "known")


def test_unknown_codec_for_encode(capsys, tmp_path) -> None:
    rc, lines = _call(capsys, "encode", "trip_request", "--codec", "nosuch", "-o", str(tmp_path / "m.bin"))
    _assert_one_error(rc, lines, "nosuch")
    assert not (tmp_path / "m.bin").exists()


def test_unknown_payload(capsys, tmp_path) -> None:
    rc, lines = _call(capsys, "run", "--untimed", "--payloads", "no_such_payload", "--formats", "json/orjson",
                      "--out", str(tmp_path / "out"), "--sections", "--no-report")
    _assert_one_error(rc, lines, "no_such_payload", "trip_request")


def test_unknown_payload_for_schema(capsys) -> None:
    rc, lines = _call(capsys, "schema", "no_such_payload", "--format", "avro")
    _assert_one_error(rc, lines, "no_such_payload")


def test_missing_payload_file(capsys, tmp_path) -> None:
    rc, lines = _call(capsys, "schema", "--payload", str(tmp_path / "missing.json"), "--format", "model")
    _assert_one_error(rc, lines, "missing.json")


def test_missing_message_file_for_decode(capsys, tmp_path) -> None:
    rc, lines = _call(capsys, "decode", "--codec", "json/orjson", "--payload", "trip_request",
                      str(tmp_path / "missing.bin"))
    _assert_one_error(rc, lines, "missing.bin")


def test_decode_without_sidecar_or_payload(capsys, tmp_path) -> None:
    f = tmp_path / "m.bin"
    f.write_bytes(b"{}")
    rc, lines = _call(capsys, "decode", "--codec", "json/orjson", str(f))
    _assert_one_error(rc, lines, "--payload")


def test_decode_garbage(capsys, tmp_path) -> None:
    f = tmp_path / "m.bin"
    f.write_bytes(b"\x00\xff garbage")
    rc, lines = _call(capsys, "decode", "--codec", "protobuf/upb", "--payload", "trip_request", str(f))
    _assert_one_error(rc, lines, "cannot decode")


def test_missing_results(capsys, tmp_path) -> None:
    rc, lines = _call(capsys, "report", str(tmp_path / "results.json"))
    _assert_one_error(rc, lines, "no such results file")


@pytest.mark.parametrize("content", [b'{"schema_version": 1, "rows": [', b"\xff\xfe\x00garbage", b"[1, 2, 3]",
                                     b'{"schema_version": 99, "rows": [], "codecs": [], "payloads": []}'])
def test_unreadable_results(capsys, tmp_path, content) -> None:
    path = tmp_path / "results.json"
    path.write_bytes(content)
    rc, lines = _call(capsys, "report", str(path))
    _assert_one_error(rc, lines, str(path))
    assert not (tmp_path / "index.html").exists()


def test_results_path_is_a_directory(capsys, tmp_path) -> None:
    rc, lines = _call(capsys, "report", str(tmp_path))
    _assert_one_error(rc, lines)


def test_unwritable_out(capsys, tmp_path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    rc, lines = _call(capsys, "run", "--untimed", "--payloads", "trip_request", "--formats", "json/orjson",
                      "--out", str(blocker / "out"), "--sections", "--no-report")
    _assert_one_error(rc, lines, "--out")


def test_unwritable_encode_output(capsys, tmp_path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    rc, lines = _call(capsys, "encode", "trip_request", "--codec", "json/orjson", "-o", str(blocker / "m.json"))
    _assert_one_error(rc, lines)


@pytest.mark.parametrize("content", ["{not json", "", "[1, 2, 3]", '"just a string"', "[]"])
def test_malformed_payload_file(capsys, tmp_path, content) -> None:
    pytest.importorskip("payloads.importer", reason="the JSON importer has not landed")
    path = tmp_path / "bad.json"
    path.write_text(content)
    rc, lines = _call(capsys, "schema", "--payload", str(path), "--format", "model")
    _assert_one_error(rc, lines, "bad.json")


def test_real_entry_point_bad_flag_and_debug_traceback(tmp_path) -> None:
    env = dict(os.environ, MSGBENCH_NO_PLUGINS="1", PYTHONPATH=str(ROOT))
    missing = str(tmp_path / "results.json")
    proc = subprocess.run([sys.executable, "-m", "bench.cli", "report", missing], capture_output=True, text=True,
                          timeout=60, cwd=ROOT, env=env)
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert proc.returncode == 2 and len(lines) == 1 and lines[0].startswith("msgbench: error:"), proc.stderr
    proc = subprocess.run([sys.executable, "-m", "bench.cli", "--debug", "report", missing], capture_output=True,
                          text=True, timeout=60, cwd=ROOT, env=env)
    assert proc.returncode != 0
    assert "Traceback (most recent call last)" in proc.stderr
    assert "ResultsError" in proc.stderr
