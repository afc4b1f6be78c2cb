import json
import os

import pytest

from reports import results


def _doc():
    return {"schema_version": results.SCHEMA_VERSION, "rows": [], "codecs": [], "payloads": [],
            "run": {"partial": False}}


def test_save_load_round_trip(tmp_path):
    p = tmp_path / "r.json"
    doc = _doc()
    doc["rows"].append({"codec": "x/y", "payload": "p", "blob": b"\x00\x01"})
    results.save(doc, p)
    back = results.load(p)
    assert back["rows"][0]["codec"] == "x/y"
    assert back["rows"][0]["blob"] == {"$bytes_hex": "0001"}
    assert not [f for f in os.listdir(tmp_path) if f.endswith(".tmp")]


def test_write_atomic_keeps_old_file_when_interrupted(tmp_path, monkeypatch):
    p = tmp_path / "r.json"
    results.write_atomic(p, "old")

    def boom(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(KeyboardInterrupt):
        results.write_atomic(p, "new")
    assert p.read_text() == "old"
    assert [f.name for f in tmp_path.iterdir()] == ["r.json"]


def test_truncated_file_gives_clear_error(tmp_path):
    p = tmp_path / "r.json"
    p.write_text(json.dumps(_doc())[:20])
    with pytest.raises(results.ResultsError, match=r"not a valid results file .*line 1"):
        results.load(p)


def test_newer_version_rejected(tmp_path):
    p = tmp_path / "r.json"
    doc = _doc()
    doc["schema_version"] = results.SCHEMA_VERSION + 1
    p.write_text(json.dumps(doc))
    with pytest.raises(results.ResultsError, match="newer msgbench"):
        results.load(p)


def test_missing_file_and_not_results(tmp_path):
    with pytest.raises(results.ResultsError, match="no such results file"):
        results.load(tmp_path / "nope.json")
    p = tmp_path / "other.json"
    p.write_text("{}")
    with pytest.raises(results.ResultsError, match="no schema_version"):
        results.load(p)
