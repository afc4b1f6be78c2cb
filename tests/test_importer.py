"""Bring your own payload: payloads.importer over the sample files in tests/samples/."""

from __future__ import annotations

import json
import random
import tracemalloc
from pathlib import Path

import orjson
import pytest

from formats.api import MsgbenchError
from payloads.importer import (
    DEFAULT_MAX_RECORDS,
    PayloadFileError,
    load_payload_file,
    payload_name_for,
    read_records,
    record_name_for,
)
from payloads.model import (
    FLOAT64,
    INT32,
    INT64,
    STRING,
    ListType,
    MapType,
    Record,
    differences,
    named_types,
    type_to_json,
    validate,
)

SAMPLES = Path(__file__).parent / "samples"


def _records(name: str) -> list[dict]:
    return [r for _, _, r in read_records(SAMPLES / name)]


def _items(p) -> list:
    assert p.schema.name.endswith("Batch") and [f.name for f in p.schema.fields] == ["records"]
    return p.value["records"]


def _record_type(p) -> Record:
    return p.schema.fields[0].type.items


# -- good files --------------------------------------------------------------------------------


def test_trips_ndjson():
    p = load_payload_file(SAMPLES / "trips.ndjson")
    assert p.name == "trips" and p.source.endswith("trips.ndjson")
    assert p.schema.name == "TripBatch"
    trip = _record_type(p)
    assert trip.name == "Trip"
    assert [f.id for f in trip.fields] == list(range(1, len(trip.fields) + 1))
    by = {f.name: f for f in trip.fields}
    assert by["requested_at"].type == INT64
    assert by["prices"].type == MapType(FLOAT64)
    assert by["route"].type.items.name == "Route"
    assert by["driver"].optional and by["driver"].type.name == "Driver"
    assert by["driver"].type.field("vehicle").type.name == "Vehicle"
    assert by["promo_code"].optional and by["promo_code"].type == STRING
    assert by["notes"].optional and not by["status"].optional
    assert by["passenger"].type.field("rating").type == FLOAT64
    assert len(_items(p)) == 12
    validate(p.schema, p.value)
    notes = "\n".join(p.notes)
    assert "schema inferred from all 12 records" in notes
    assert "passenger.rating: integers and floats mixed" in notes
    assert "value: all 12 records, in file order" in notes


def test_values_match_the_file_except_where_noted():
    p = load_payload_file(SAMPLES / "trips.ndjson")
    originals = _records("trips.ndjson")
    for orig, got in zip(originals, _items(p), strict=True):
        for d in differences(orig, got, limit=100):
            # the only changes: absent optional keys read back as null, integer ratings become floats
            assert (d.expected == "<absent>" and d.actual is None) or d.path == "passenger.rating", d.describe()


def test_single_record_json_is_the_value_itself():
    p = load_payload_file(SAMPLES / "single_trip.json")
    assert p.name == "single_trip" and p.schema.name == "SingleTrip"
    assert isinstance(p.value, dict) and p.value["trip_id"] == "t-1000"
    assert not any(n.startswith("value:") for n in p.notes)


def test_numbers():
    p = load_payload_file(SAMPLES / "numbers.ndjson")
    by = {f.name: f.type for f in _record_type(p).fields}
    assert by["small"] == INT32 and by["i32max"] == INT32
    assert by["over32"] == INT64 and by["i64max"] == INT64 and by["neg64"] == INT64
    assert by["over64"] == STRING and by["huge"] == STRING
    first = _items(p)[0]
    assert first["over64"] == "9223372036854775808"
    assert first["huge"] == "123456789012345678901234567890"  # exact: not orjson's float
    assert first["negzero"] == 0.0 and str(first["negzero"]) == "-0.0"
    assert first["big_float"] == 1.7976931348623157e308
    notes = "\n".join(p.notes)
    assert "over64: integers outside int64" in notes and "huge: integers outside int64" in notes


def test_unicode_keys_and_values_survive():
    p = load_payload_file(SAMPLES / "unicode.ndjson")
    rec = _record_type(p)
    keys = {}
    for f in rec.fields:
        keys[json.loads(f.doc.removeprefix("JSON key: ")) if f.doc.startswith("JSON key: ") else f.name] = f.name
    assert keys["first_name"] == "first_name"  # a valid key keeps its name even when a renamed key wants it
    assert keys["first-name"] == "first_name_2" and keys["2fa"] == "f_2fa" and keys["größe"] == "grosse"
    for orig, got in zip(_records("unicode.ndjson"), _items(p), strict=True):
        for k, v in orig.items():
            assert got[keys[k]] == v  # emoji, RTL marks, combining characters: byte-exact
    assert "🚕🚖👩🏽‍✈️" in _items(p)[0].values()
    notes = "\n".join(p.notes)
    for k in ("名前", "first-name", "2fa", '""', "größe"):
        assert f"{k}: key renamed" in notes


def test_mixed_and_heterogeneous():
    p = load_payload_file(SAMPLES / "mixed.json")
    rec = _record_type(p)
    assert rec.field("flag").type == STRING and rec.field("code").type == STRING
    assert rec.field("matrix").type == ListType(ListType(FLOAT64))
    first = _items(p)[0]
    assert [orjson.loads(x["value"]) if x["value"] is not None else None for x in first["values"]] == \
        [1, "a", True, None, 2.5]
    notes = "\n".join(p.notes)
    for path in ("values[*]: mixed kinds", "values[*]: list items include null", "flag: mixed kinds (bool, integer)",
                 "code: mixed kinds (integer, string)", "matrix[*][*]: integers and floats", "maybe[*]: list items"):
        assert path in notes


def test_maps_with_data_keys():
    p = load_payload_file(SAMPLES / "prices.ndjson")
    rec = _record_type(p)
    assert rec.field("prices").type == MapType(FLOAT64)
    assert rec.field("stock_by_date").type == MapType(INT32)
    store = rec.field("by_store").type
    assert isinstance(store, MapType) and isinstance(store.values, Record)
    assert store.values.field("note").optional
    assert _items(p)[1]["prices"] == {"EUR": 2.0, "GBP": 1.7, "JPY": 310.0}


def test_deep_nesting():
    p = load_payload_file(SAMPLES / "deep.json")
    assert any("nested deeper than" in n and n.startswith("tree.child.child") for n in p.notes)
    names = [t.name for t in named_types(p.schema)]
    assert len(names) == len(set(names))
    validate(p.schema, p.value)


def test_bom_at_start_is_accepted_and_noted():
    p = load_payload_file(SAMPLES / "bom.json")
    assert p.value == {"id": 1, "name": "bom"}
    assert any("byte order mark" in n for n in p.notes)


# -- errors: file, line, column ----------------------------------------------------------------


@pytest.mark.parametrize(
    "name, line, column, text",
    [
        ("invalid.ndjson", 3, 29, "invalid JSON: invalid literal"),
        ("invalid.json", 4, 11, "invalid JSON: trailing comma"),
        ("latin1.ndjson", 2, 14, "invalid UTF-8: byte 0xE9 at byte offset 32"),
        ("mixed_encoding.ndjson", 2, 14, "mixes encodings"),
        ("bom_midfile.ndjson", 2, 1, "byte order mark"),
        ("scalar.json", 2, 3, "the top level is a number"),
        ("array_with_scalar.json", 3, 3, "record 2 (array element 1) is a string"),
        ("scalar_line.ndjson", 2, 1, "got array"),
    ],
)
def test_errors_name_file_line_column(name, line, column, text):
    with pytest.raises(PayloadFileError) as ei:
        load_payload_file(SAMPLES / name)
    e = ei.value
    assert isinstance(e, MsgbenchError)
    assert (e.line, e.column) == (line, column), str(e)
    assert str(e).startswith(f"{SAMPLES / name}:{line}:{column}: ")
    assert text in str(e)


def test_latin1_error_says_what_to_do():
    with pytest.raises(PayloadFileError, match=r"Latin-1.*iconv -f latin1 -t utf-8"):
        load_payload_file(SAMPLES / "latin1.ndjson")


@pytest.mark.parametrize("name, text", [("empty.json", r"empty \(0 bytes\)"), ("blank.ndjson", "only blank lines")])
def test_empty_files(name, text):
    with pytest.raises(PayloadFileError, match=text) as ei:
        load_payload_file(SAMPLES / name)
    assert str(SAMPLES / name) in str(ei.value)


def test_missing_directory_and_unknown_type(tmp_path):
    with pytest.raises(PayloadFileError, match="no such file"):
        load_payload_file(tmp_path / "nope.ndjson")
    with pytest.raises(PayloadFileError, match="is a directory"):
        load_payload_file(tmp_path)
    (tmp_path / "x.csv").write_text("a,b\n")
    with pytest.raises(PayloadFileError, match="unknown file type '.csv'"):
        load_payload_file(tmp_path / "x.csv")


def test_ndjson_content_in_a_json_file_gets_a_hint(tmp_path):
    f = tmp_path / "lines.json"
    f.write_text('{"a": 1}\n{"a": 2}\n')
    with pytest.raises(PayloadFileError, match=r"lines.json:2:1: .*name it .ndjson"):
        load_payload_file(f)


def test_utf16_is_rejected(tmp_path):
    f = tmp_path / "u16.json"
    f.write_bytes('{"a": 1}'.encode("utf-16"))
    with pytest.raises(PayloadFileError, match="UTF-16"):
        load_payload_file(f)


def test_empty_array(tmp_path):
    f = tmp_path / "none.json"
    f.write_text("  []")
    with pytest.raises(PayloadFileError, match=r"none.json:1:3: the top-level array is empty"):
        load_payload_file(f)


# -- a user-given schema -----------------------------------------------------------------------


def _write_schema(tmp_path, schema) -> Path:
    f = tmp_path / "schema.json"
    f.write_text(json.dumps(type_to_json(schema), ensure_ascii=False))
    return f


@pytest.mark.parametrize("sample", ["trips.ndjson", "unicode.ndjson", "mixed.json", "numbers.ndjson",
                                    "prices.ndjson", "deep.json", "single_trip.json"])
def test_exported_schema_round_trips(tmp_path, sample):
    """Export the inferred schema (model form), give it back: the same schema and value, no inference.
    Renamed keys, JSON-text fallbacks, big integers and null wrappers are read back from the docs."""
    inferred = load_payload_file(SAMPLES / sample)
    schemas = [inferred.schema]
    if inferred.schema.name.endswith("Batch"):
        schemas.append(_record_type(inferred))  # the batch (as exported) or one record
    for schema in schemas:
        p = load_payload_file(SAMPLES / sample, schema_path=_write_schema(tmp_path, schema))
        assert p.schema == inferred.schema
        assert p.value == inferred.value
        assert p.notes[0].startswith("schema from ")


def test_exported_schema_round_trips_for_a_top_level_map(tmp_path):
    data = tmp_path / "stock.ndjson"
    data.write_text('{"1001": {"qty": 1}, "1002": [1, "x"]}\n{"1003": null}\n')
    inferred = load_payload_file(data)
    assert _record_type(inferred).fields[0].name == "entries"
    p = load_payload_file(data, schema_path=_write_schema(tmp_path, inferred.schema))
    assert p.value == inferred.value


def test_schema_mismatch_names_record_line_and_field(tmp_path):
    trip = _record_type(load_payload_file(SAMPLES / "trips.ndjson"))
    doc = type_to_json(trip)
    for f in doc["fields"]:
        if f["name"] == "driver":
            f.pop("optional")
    path = tmp_path / "strict.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(PayloadFileError) as ei:
        load_payload_file(SAMPLES / "trips.ndjson", schema_path=path)
    assert str(ei.value).startswith(f"{SAMPLES / 'trips.ndjson'}:2:1: record 2 does not match the schema")
    assert "field driver: required field is missing" in str(ei.value)


def test_schema_mismatch_in_json_array_names_the_element_line(tmp_path):
    data = tmp_path / "arr.json"
    data.write_text(json.dumps([{"id": 1, "tags": ["a"]}, {"id": 2, "tags": []}, {"id": "3", "tags": ["[", "{"]}],
                               indent=2))
    schema = tmp_path / "s.json"
    schema.write_text(json.dumps({"type": "record", "name": "Row", "fields": [
        {"name": "id", "id": 1, "type": "int32"}, {"name": "tags", "id": 2, "type": {"type": "list", "items": "string"}}]}))
    lines = data.read_text().splitlines()
    line = lines.index('    "id": "3",')  # 0-based index of the key = 1-based line of the record's "{"
    with pytest.raises(PayloadFileError) as ei:
        load_payload_file(data, schema_path=schema)
    assert (ei.value.line, ei.value.column) == (line, 3)
    assert "record 3 does not match" in str(ei.value) and "field id: expected int32, got str" in str(ei.value)


def test_user_schema_changes_are_noted(tmp_path):
    doc = {"type": "record", "name": "N", "fields": [{"name": "small", "id": 1, "type": "float64"}]}
    data = tmp_path / "n.ndjson"
    data.write_text('{"small": 1}\n{"small": 2}\n')
    path = tmp_path / "s.json"
    path.write_text(json.dumps(doc))
    p = load_payload_file(data, schema_path=path)
    assert p.value == {"records": [{"small": 1.0}, {"small": 2.0}]}
    assert any("records[*].small" not in n and "small (2)" in n for n in p.notes)


def test_bad_schema_files(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"type": "record", "name": "X", "fields": [{"name": "a"}]}')
    with pytest.raises(PayloadFileError, match=r"bad.json: not a schema in the model's JSON form"):
        load_payload_file(SAMPLES / "trips.ndjson", schema_path=bad)
    notjson = tmp_path / "nj.json"
    notjson.write_text('{"type": \n  oops}')
    with pytest.raises(PayloadFileError, match=r"nj.json:2:3: invalid JSON"):
        load_payload_file(SAMPLES / "trips.ndjson", schema_path=notjson)
    prim = tmp_path / "prim.json"
    prim.write_text('"string"')
    with pytest.raises(PayloadFileError, match="must be a record"):
        load_payload_file(SAMPLES / "trips.ndjson", schema_path=prim)


# -- sampling, progress, names -----------------------------------------------------------------


def test_sampling_is_deterministic_in_file_order_and_noted():
    a = load_payload_file(SAMPLES / "trips.ndjson", max_records=5)
    b = load_payload_file(SAMPLES / "trips.ndjson", max_records=5)
    ids = [r["trip_id"] for r in _items(a)]
    assert len(ids) == 5 and ids == sorted(ids)
    assert ids == [r["trip_id"] for r in _items(b)]
    assert ids != [f"t-{1000 + i}" for i in range(5)]  # a reservoir sample, not the first five
    assert a.schema == load_payload_file(SAMPLES / "trips.ndjson").schema  # inferred from every record
    assert any("uniform random sample of 5 of the 12 records from the whole file" in n and "seed 0" in n
               for n in a.notes)
    with pytest.raises(PayloadFileError, match="max_records must be at least 1"):
        load_payload_file(SAMPLES / "trips.ndjson", max_records=0)
    assert DEFAULT_MAX_RECORDS == 1000


def test_byte_budget_cuts_the_sample():
    p = load_payload_file(SAMPLES / "trips.ndjson", max_bytes=1000)
    assert 1 <= len(_items(p)) < 12
    assert any("at most 1000 bytes of JSON" in n for n in p.notes)


def test_progress_reports_bytes():
    calls: list[tuple[int, int]] = []
    load_payload_file(SAMPLES / "trips.ndjson", progress=lambda done, total: calls.append((done, total)))
    size = (SAMPLES / "trips.ndjson").stat().st_size
    assert calls[0] == (0, size) and calls[-1] == (size, size)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_names_from_file_stem():
    assert payload_name_for("/x/my trips (v2).ndjson") == "my_trips_v2"
    assert payload_name_for("/x/名前.json") == "payload"
    assert record_name_for("/x/trip_updates.ndjson") == "TripUpdate"
    assert record_name_for("/x/名前.json") == "Record"


# -- big input: streamed with bounded memory ----------------------------------------------------


def test_large_ndjson_is_streamed_with_bounded_memory(tmp_path):
    f = tmp_path / "big.ndjson"
    filler = "x" * 2000
    with open(f, "wb") as out:
        chunk = []
        for i in range(10_000):
            chunk.append(orjson.dumps({"id": i, "kind": ("a", "b")[i % 2], "at": [i, i + 0.5], "text": filler}))
            if len(chunk) == 1000:
                out.write(b"\n".join(chunk) + b"\n")
                chunk = []
    size = f.stat().st_size
    assert size > 20_000_000
    calls = []
    tracemalloc.start()
    try:
        p = load_payload_file(f, progress=lambda d, t: calls.append(d))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16_000_000, f"peak {peak / 1e6:.1f} MB for a {size / 1e6:.0f} MB file: not streamed?"
    assert len(calls) >= 20  # about one per MiB
    rec = _record_type(p)
    assert rec.field("at").type == ListType(FLOAT64)
    assert 0 < len(_items(p)) <= DEFAULT_MAX_RECORDS
    assert any("of the 10000 records" in n for n in p.notes)


def test_encoding_error_position_in_a_json_array(tmp_path):
    f = tmp_path / "enc.json"
    f.write_bytes('[\n {"city": "Zürich"},\n '.encode() + '{"city": "Genève"}\n]'.encode("latin-1"))
    with pytest.raises(PayloadFileError) as ei:
        load_payload_file(f)
    assert (ei.value.line, ei.value.column) == (3, 15) and "mixes encodings" in str(ei.value)


def test_too_deep_for_the_parser_is_a_clear_error(tmp_path):
    f = tmp_path / "deep.ndjson"
    f.write_text('{"ok": 1}\n{"x": ' + "[" * 1100 + "]" * 1100 + "}\n")
    with pytest.raises(PayloadFileError, match=r"deep.ndjson:2:\d+: invalid JSON: .*nested too deeply"):
        load_payload_file(f)


def test_integers_beyond_64_bits_are_read_exactly(tmp_path):
    f = tmp_path / "big.json"
    f.write_bytes(b'\xef\xbb\xbf[{"id": 123456789012345678901, "s": "12345678901234567890"}, {"id": -1, "s": "x"}]')
    p = load_payload_file(f)
    assert _items(p)[0] == {"id": "123456789012345678901", "s": "12345678901234567890"}
    assert any("id: integers outside int64" in n for n in p.notes)


# -- issue 15: a fair sample, bounded memory, real-data shapes ------------------------------------


def _write_ndjson(path: Path, records) -> Path:
    with open(path, "wb") as out:
        for r in records:
            out.write(orjson.dumps(r) + b"\n")
    return path


def test_sample_is_drawn_from_the_whole_file_not_its_start(tmp_path):
    # 3,000 records of ~5 KB: the 1 MB budget takes ~200; they used to all come from lines 1-632
    f = _write_ndjson(tmp_path / "wide.ndjson", ({"line": i + 1, "text": "x" * 5000} for i in range(3000)))
    p = load_payload_file(f)
    lines = [r["line"] for r in _items(p)]
    assert 150 <= len(lines) <= 200 and lines == sorted(lines)
    per_tenth = [0] * 10
    for ln in lines:
        per_tenth[(ln - 1) * 10 // 3000] += 1
    assert min(per_tenth) >= 8, per_tenth  # ~20 expected in each tenth of the file
    (note,) = [n for n in p.notes if n.startswith("value:")]
    assert f"uniform random sample of {len(lines)} of the 3000 records from the whole file" in note
    assert "at most 1000000 bytes of JSON" in note and f"lines {lines[0]}..{lines[-1]}" in note


def test_memory_stays_within_the_budget_for_large_records(tmp_path):
    """Records of 1 MB: memory must not grow with their number (it used to hold every sampled record
    parsed). Parsing one 1 MB line costs its own transient memory; 24 records must cost no more than 4."""
    big = "y" * 1_000_000
    peaks = {}
    for n in (4, 24):
        f = _write_ndjson(tmp_path / f"big{n}.ndjson", ({"id": i, "blob": big, "n": [i, i]} for i in range(n)))
        tracemalloc.start()
        try:
            p = load_payload_file(f)
            peaks[n] = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert len(_items(p)) == 1  # one record is always kept, even beyond the budget
    assert peaks[24] - peaks[4] < 2_000_000, f"peaks {peaks}: memory grows with the number of records"
    assert peaks[24] < 40_000_000


@pytest.mark.parametrize("compression", ["gzip", "zstd"])
def test_compressed_files_are_recognised_by_their_magic_bytes(tmp_path, compression):
    import gzip

    import zstandard

    raw = (SAMPLES / "trips.ndjson").read_bytes()
    packed = gzip.compress(raw) if compression == "gzip" else zstandard.ZstdCompressor().compress(raw)
    plain = load_payload_file(SAMPLES / "trips.ndjson")
    for name in ("trips.ndjson.gz" if compression == "gzip" else "trips.jsonl.zst", "trips.ndjson"):
        f = tmp_path / compression / name
        f.parent.mkdir(exist_ok=True)
        f.write_bytes(packed)
        calls = []
        p = load_payload_file(f, progress=lambda d, t, calls=calls: calls.append((d, t)))
        assert _record_type(p) == _record_type(plain) and p.value == plain.value and p.name == "trips"
        assert f"read {compression}-compressed {name}" in p.notes
        assert calls[-1] == (len(packed), len(packed))
    f.write_bytes(packed[: len(packed) // 2])
    with pytest.raises(PayloadFileError, match=f"cannot read the {compression} data"):
        load_payload_file(f)


def test_binary_files_are_not_json(tmp_path):
    f = tmp_path / "blob.json"
    f.write_bytes(random_bytes := random.Random(0).randbytes(4096))
    with pytest.raises(PayloadFileError) as ei:
        load_payload_file(f)
    assert "not JSON: the file looks binary" in str(ei.value) and "Latin-1" not in str(ei.value)
    assert "\n" not in str(ei.value)
    f.write_bytes(b"\x89PNG\r\n\x1a\n" + random_bytes)
    with pytest.raises(PayloadFileError, match="not JSON: the file is a PNG image"):
        load_payload_file(f)
    f.write_bytes(b"BZh91AY&SY" + random_bytes)
    with pytest.raises(PayloadFileError, match="bzip2-compressed .*decompress it first"):
        load_payload_file(f)
    with pytest.raises(PayloadFileError, match="Latin-1"):  # text in another encoding is still told so
        load_payload_file(SAMPLES / "latin1.ndjson")
    f.write_bytes('[{"city": "Zürich"}]'.encode("utf-16-le"))  # no byte order mark
    with pytest.raises(PayloadFileError, match="is it UTF-16 or UTF-32 without a byte order mark"):
        load_payload_file(f)


def test_ndjson_lines_that_are_arrays_after_a_header_row(tmp_path):
    f = tmp_path / "rows.ndjson"
    f.write_text('["id", "name", "score"]\n[1, "a", 0.5]\n\n[2, "b", 1.5]\n[3, null, 2.5]\n')
    p = load_payload_file(f)
    assert _items(p) == [{"id": 1, "name": "a", "score": 0.5}, {"id": 2, "name": "b", "score": 1.5},
                         {"id": 3, "name": None, "score": 2.5}]
    assert any("first line is a header row naming the 3 columns" in n for n in p.notes)
    f.write_text('["id", "name"]\n[1, "a"]\n[2]\n')
    with pytest.raises(PayloadFileError, match=r"rows.ndjson:3:1: this row has 1 values, the header row has 2"):
        load_payload_file(f)
    f.write_text('[1, "a"]\n[2, "b"]\n')
    with pytest.raises(PayloadFileError, match=r":1:1: the first line is an array but not a header row"):
        load_payload_file(f)
    f.write_text('["id"]\n{"id": 1}\n')
    with pytest.raises(PayloadFileError, match=r":2:1: expected an array of 1 values \(the header row on line 1"):
        load_payload_file(f)
    f.write_text('[{"id": 1}, {"id": 2}]\n')
    with pytest.raises(PayloadFileError, match="array of records belongs in a .json file"):
        load_payload_file(f)


@pytest.mark.parametrize("digits", [400, 5000])
def test_integers_beyond_float64_range_are_read_exactly(tmp_path, digits):
    big = "9" * digits
    f = tmp_path / "huge.ndjson"
    f.write_text(f'{{"n": {big}, "k": 1}}\n{{"n": -1, "k": 2}}\n')
    p = load_payload_file(f)
    assert _items(p)[0]["n"] == big and _record_type(p).field("n").type == STRING
    assert any("n: integers outside int64" in n for n in p.notes)
    f.write_text(f'{{"n": {big}, "k": }}\n')
    with pytest.raises(PayloadFileError, match=r"huge.ndjson:1:\d+: invalid JSON"):
        load_payload_file(f)


def test_exported_schema_reimports_when_records_have_a_records_key(tmp_path):
    f = _write_ndjson(tmp_path / "dns.ndjson", ({"zone": f"z{i}.example", "records": [{"type": "A", "ttl": i}]}
                                                for i in range(5)))
    p = load_payload_file(f)
    schema = tmp_path / "dns.schema.json"
    schema.write_text(json.dumps(type_to_json(p.schema)))
    again = load_payload_file(f, schema_path=schema)
    assert again.schema == p.schema and again.value == p.value


def test_unknown_keys_in_an_edited_schema_name_the_path(tmp_path):
    p = load_payload_file(SAMPLES / "trips.ndjson")
    doc = type_to_json(p.schema)
    doc["fields"][0]["type"]["items"]["fields"][2]["optinal"] = True
    f = tmp_path / "typo.schema.json"
    f.write_text(json.dumps(doc))
    name = doc["fields"][0]["type"]["items"]["fields"][2]["name"]
    with pytest.raises(PayloadFileError, match=rf"schema.fields\[0\] \(records\).type.items.fields\[2\] \({name}\): "
                                               r"unknown key "
                                               r"'optinal' \(a typo\? allowed here: name, id, type, optional"):
        load_payload_file(SAMPLES / "trips.ndjson", schema_path=f)
    doc = type_to_json(p.schema)
    doc["fields"][0]["type"]["itemz"] = doc["fields"][0]["type"]["items"]
    f.write_text(json.dumps(doc))
    with pytest.raises(PayloadFileError, match=r"schema.fields\[0\] \(records\).type: unknown key 'itemz'"):
        load_payload_file(SAMPLES / "trips.ndjson", schema_path=f)


def test_user_schema_change_notes_count_every_value(tmp_path):
    f = _write_ndjson(tmp_path / "pts.ndjson", ({"xs": [1, 2, 3, 4, 5] * 20} for _ in range(3)))
    p = load_payload_file(f)
    doc = type_to_json(p.schema)
    doc["fields"][0]["type"]["items"]["fields"][0]["type"]["items"] = "float64"  # int32 -> float64
    s = tmp_path / "pts.schema.json"
    s.write_text(json.dumps(doc))
    again = load_payload_file(f, schema_path=s)
    assert any("the schema changes 300 sampled values" in n and "at: xs[*] (300)" in n for n in again.notes)


@pytest.fixture
def stream_json(monkeypatch):
    """Read every .json top-level array element by element (as files over 16 MB are), in tiny chunks."""
    import payloads.importer as imp

    monkeypatch.setattr(imp, "STREAM_JSON_BYTES", 0)
    monkeypatch.setattr(imp, "_STREAM_CHUNK", 97)


def test_big_json_arrays_are_read_element_by_element_with_the_same_result(tmp_path, monkeypatch):
    recs = [{"id": i, "name": f"n{i}", "vals": [i * 0.5, None], "big": 10**30 + i, "s": "é" * (i % 7),
             "long": "x" * (i % 3) * 300} for i in range(400)]
    f = tmp_path / "arr.json"
    f.write_text("\ufeff[\n" + ",\n".join(json.dumps(r, ensure_ascii=False) for r in recs) + "\n]\n", encoding="utf-8")
    whole = load_payload_file(f, max_records=50)
    import payloads.importer as imp

    monkeypatch.setattr(imp, "STREAM_JSON_BYTES", 0)
    monkeypatch.setattr(imp, "_STREAM_CHUNK", 97)
    calls = []
    streamed = load_payload_file(f, max_records=50, progress=lambda d, t: calls.append((d, t)))
    assert streamed.schema == whole.schema and streamed.value == whole.value and streamed.notes == whole.notes
    assert calls[0] == (0, f.stat().st_size) and calls[-1] == (f.stat().st_size, f.stat().st_size)


@pytest.mark.parametrize("text, line, column, message", [
    ('[{"a": 1},\n {"a": tru}]', 2, 8, "invalid JSON"),
    ('[{"a": 1}, 3]', 1, 12, "record 2 (array element 1) is a number"),
    ('[{"a": 1}, {"a": 2}', 1, 20, "the file ends inside the top-level array"),
    ('[ ]', 1, 3, "the top-level array is empty"),
    ('[{"a": 1}] {"a": 2}', 1, 12, "unexpected content after document"),
    ('[{"a": 1},\n  {"a": NaN}]', 2, 3, "invalid JSON: NaN is not JSON"),
])
def test_errors_in_a_streamed_json_array_name_line_and_column(tmp_path, stream_json, text, line, column, message):
    f = tmp_path / "bad.json"
    f.write_text(text)
    with pytest.raises(PayloadFileError) as ei:
        load_payload_file(f)
    assert (ei.value.line, ei.value.column) == (line, column) and message in str(ei.value)


def test_memory_of_a_streamed_json_array_does_not_grow_with_records(tmp_path, monkeypatch):
    import payloads.importer as imp

    monkeypatch.setattr(imp, "STREAM_JSON_BYTES", 0)
    big = "y" * 1_000_000
    peaks = {}
    for n in (4, 24):
        f = tmp_path / f"big{n}.json"
        f.write_bytes(b"[" + b",".join(orjson.dumps({"id": i, "blob": big}) for i in range(n)) + b"]")
        tracemalloc.start()
        try:
            p = load_payload_file(f)
            peaks[n] = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert len(_items(p)) == 1
    assert peaks[24] - peaks[4] < 2_000_000, f"peaks {peaks}: memory grows with the number of records"
