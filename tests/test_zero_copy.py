"""The zero-copy formats: Cap'n Proto (pycapnp, packed and unpacked) and FlatBuffers (official runtime).

- Wire proofs. Cap'n Proto: the packed codec's bytes, unpacked by an implementation of the
  packing rules written here from the spec, are byte for byte the unpacked codec's bytes, and each
  codec's reader reads the other's bytes after (un)packing; the reference ``capnp`` tool reads
  both with the exported ``.capnp`` and re-encodes them byte-identically. FlatBuffers: ``flatc`` (the
  FlatBuffers compiler, C++) with the ``.fbs`` that ``msgbench encode --schema-out`` exports reads
  our bytes (``flatc --json``) to the payload, and bytes that ``flatc -b`` writes from the payload's
  JSON decode to the payload.
- The access hook: ``prepared.make_access(paths)`` reads the values at explicit paths of
  completed_trip (scalars, enum, timestamp, bytes, nested fields, set and unset optionals, whole
  sub-records/lists/maps) equal to the payload's; FlatBuffers' access reads in place, so it still
  answers when bytes it does not touch are corrupt (while the full decode fails).
- Mapping details that decide evolution: Cap'n Proto's dense ordinals in field-id order, enum
  numbers kept as enumerant ordinals; FlatBuffers' slot = field id - 1 with deprecated placeholders.
- The evolution matrix for these codecs shows what the formats really do (a removed field shifts
  Cap'n Proto's layout; FlatBuffers skips a removed slot).
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from bench.cli import main
from formats.api import UnsupportedSchema
from formats.registry import build_registry
from payloads.catalog import find_payloads
from payloads.model import EnumType, Field, ListType, MapType, Primitive, Record, differences, normalize

pytest.importorskip("capnp")
pytest.importorskip("flatbuffers")

PAYLOADS = ["trip_request", "completed_trip", "rider_notifications", "gps_track"]
CODECS = ["capnp/unpacked", "capnp/packed", "flatbuffers/python"]


@pytest.fixture(autouse=True)
def _no_plugins(monkeypatch):
    monkeypatch.setenv("MSGBENCH_NO_PLUGINS", "1")


def _codec(name: str):
    return build_registry(False).codec(name)


def _payload(name: str):
    p = find_payloads([name])[0]
    return p.schema, normalize(p.schema, p.value)


def _encode_cli(capsys, tmp_path: Path, payload: str, codec: str) -> tuple[bytes, Path]:
    """``msgbench encode PAYLOAD --codec CODEC --schema-out DIR``: the bytes and the schema file."""
    out = tmp_path / f"{payload}.{codec.replace('/', '_')}.bin"
    rc = main(["encode", payload, "--codec", codec, "-o", str(out), "--schema-out", str(tmp_path / "schemas")])
    assert rc == 0, capsys.readouterr().err
    side = json.loads(Path(str(out) + ".msgbench.json").read_text())
    return out.read_bytes(), Path(side["schema"])


# ------------------------------------------------------------------------------------------------
# Cap'n Proto packing, from the spec (capnproto.org/encoding.html#packing), independent of pycapnp.


def capnp_unpack(data: bytes) -> bytes:
    out, i = bytearray(), 0
    while i < len(data):
        tag = data[i]
        i += 1
        word = bytearray(8)
        for bit in range(8):
            if tag & (1 << bit):
                word[bit] = data[i]
                i += 1
        out += word
        if tag == 0x00:
            out += bytes(8 * data[i])
            i += 1
        elif tag == 0xFF:
            n = data[i]
            i += 1
            out += data[i:i + 8 * n]
            i += 8 * n
    return bytes(out)


def capnp_pack(data: bytes) -> bytes:
    """A valid (not necessarily the C++ packer's byte-identical) packing of ``data``."""
    assert len(data) % 8 == 0
    words = [data[i:i + 8] for i in range(0, len(data), 8)]
    out, k = bytearray(), 0
    while k < len(words):
        w = words[k]
        tag = sum(1 << b for b in range(8) if w[b])
        out.append(tag)
        out += bytes(x for x in w if x)
        k += 1
        if tag == 0x00:
            n = 0
            while k < len(words) and n < 255 and not any(words[k]):
                n, k = n + 1, k + 1
            out.append(n)
        elif tag == 0xFF:
            out.append(0)  # no verbatim run: each following word gets its own tag
    return bytes(out)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_capnp_packed_and_unpacked_are_one_message_and_read_each_other(payload: str) -> None:
    schema, value = _payload(payload)
    unpacked = _codec("capnp/unpacked").prepare(schema)
    packed = _codec("capnp/packed").prepare(schema)
    ub = unpacked.encode(unpacked.to_native(value))
    pb = packed.encode(packed.to_native(value))
    assert len(pb) < len(ub)
    assert capnp_unpack(pb) == ub  # the packed codec's bytes are the unpacked codec's message, packed
    assert differences(value, unpacked.from_native(unpacked.decode(capnp_unpack(pb)))) == []
    assert differences(value, packed.from_native(packed.decode(capnp_pack(ub)))) == []


def _capnp_tool() -> str:
    exe = shutil.which("capnp")
    if exe is None:
        pytest.skip("capnp tool not found (apt-get install capnproto)")
    return exe


@pytest.mark.parametrize("payload", PAYLOADS)
@pytest.mark.parametrize("codec", ["capnp/unpacked", "capnp/packed"])
def test_capnp_reference_tool_reads_our_bytes_and_writes_them_back_identically(capsys, tmp_path, payload, codec):
    """The Cap'n Proto reference tool (Debian's ``capnp``, its own libcapnp build) with the schema
    that ``msgbench encode --schema-out`` exports: ``capnp decode`` reads our message into its text
    form, ``capnp encode`` turns that text back into bytes identical to ours, and ``capnp convert
    binary:json`` shows the payload's values under the Cap'n Proto names."""
    tool = _capnp_tool()
    data, schema_path = _encode_cli(capsys, tmp_path, payload, codec)
    flag = ["--packed"] if codec == "capnp/packed" else []
    root = find_payloads([payload])[0].schema.name
    text = subprocess.run([tool, "decode", *flag, str(schema_path), root], input=data, capture_output=True,
                          timeout=60)
    assert text.returncode == 0, text.stderr.decode()
    again = subprocess.run([tool, "encode", *flag, str(schema_path), root], input=text.stdout, capture_output=True,
                           timeout=60)
    assert again.returncode == 0, again.stderr.decode()
    assert again.stdout == data
    conv = subprocess.run([tool, "convert", f"{'packed' if flag else 'binary'}:json", str(schema_path), root],
                          input=data, capture_output=True, timeout=60)
    assert conv.returncode == 0, conv.stderr.decode()
    doc = json.loads(conv.stdout)
    from formats import capnp_schema

    schema, value = _payload(payload)
    cs = capnp_schema.describe(schema)
    for info in cs.fields[schema.name]:
        x = value[info.name]
        if isinstance(info.type, Primitive) and info.type.kind in ("string", "int32", "bool"):
            if info.union:
                assert doc[info.cname] == ({"none": None} if x is None else {"value": x}), info.name
            elif x is not None:
                assert doc[info.cname] == x, info.name
        elif isinstance(info.type, EnumType) and not info.union:
            assert doc[info.cname] == cs.enum_names[info.type.name][x], info.name


def test_capnp_schema_mapping_dense_ordinals_unions_and_enum_numbers(capsys, tmp_path) -> None:
    _, path = _encode_cli(capsys, tmp_path, "trip_request", "capnp/unpacked")
    text = path.read_text()
    assert path.suffix == ".capnp" and text.startswith("@0x")
    # TripRequest leaves id 9 free: ordinals stay dense, wheelchair_accessible (id 10) gets @8
    assert "wheelchairAccessible @8 :Bool;  # model field wheelchair_accessible (id 10)" in text
    assert "promoCode @7 :Text;  # model field promo_code (id 8), optional (null pointer = None)" in text
    assert "  unspecified @0;" in text and "  economy @1;" in text
    # explicit, sparse enum numbers keep their numbers as ordinals, gaps are placeholders
    from formats import capnp_schema

    e = EnumType("Sparse", ("A", "B"), numbers=(2, 5))
    rec = Record("HasSparse", (Field("s", e, 1), Field("n", Primitive("int32"), 3, optional=True)))
    t = capnp_schema.describe(rec).text
    assert "  a @2;" in t and "  b @5;" in t and "reserved1 @1;" in t and "reserved4 @4;" in t
    assert "n :union {" in t and "none @1 :Void;" in t and "value @2 :Int32;" in t
    prepared = _codec("capnp/packed").prepare(rec)
    for v in ({"s": "B", "n": None}, {"s": "A", "n": 0}, {"s": "B", "n": -7}):
        assert prepared.from_native(prepared.decode(prepared.encode(prepared.to_native(v)))) == v


# ------------------------------------------------------------------------------------------------
# FlatBuffers: flatc reads our bytes and writes bytes we read.


def _flatc() -> str:
    exe = shutil.which("flatc")
    if exe is None:
        pytest.skip("flatc not found (apt-get install flatbuffers-compiler)")
    return exe


def to_flatc_json(t: Any, v: Any, names: dict | None = None) -> Any:
    """The payload value as flatc's JSON for the exported .fbs (enums by name, bytes as ubyte
    arrays, maps as entry tables, list/map/bytes elements of a list in one-field wrapper tables;
    ``names``: the .fbs field names where they differ from the model's, FbsSchema.field_names)."""
    names = names or {}
    if v is None:
        return None
    if isinstance(t, Record):
        return {names.get((t.name, f.name), f.name): to_flatc_json(f.type, v[f.name], names)
                for f in t.fields if v[f.name] is not None}
    if isinstance(t, ListType):
        items = [to_flatc_json(t.items, x, names) for x in v]
        if isinstance(t.items, (ListType, MapType)):
            return [{"items" if isinstance(t.items, ListType) else "entries": x} for x in items]
        if isinstance(t.items, Primitive) and t.items.kind == "bytes":
            return [{"data": x} for x in items]
        return items
    if isinstance(t, MapType):
        return [{"key": k, "value": to_flatc_json(t.values, x, names)} for k, x in v.items()]
    if isinstance(t, Primitive) and t.kind == "bytes":
        return list(v)
    if isinstance(t, Primitive) and t.kind in ("float32", "float64"):
        return float(v)
    return v


def _close(expected: Any, actual: Any, path: str = "") -> list[str]:
    """Differences, floats compared to flatc's printing precision."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        out = [f"{path}.{k}: missing" for k in expected if k not in actual]
        out += [f"{path}.{k}: unexpected {actual[k]!r}" for k in actual if k not in expected]
        for k in expected.keys() & actual.keys():
            out += _close(expected[k], actual[k], f"{path}.{k}")
        return out
    if isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            return [f"{path}: {len(expected)} items, got {len(actual)}"]
        return [d for i, (e, a) in enumerate(zip(expected, actual, strict=True)) for d in _close(e, a, f"{path}[{i}]")]
    if isinstance(expected, float) and isinstance(actual, (int, float)) and not isinstance(actual, bool):
        ok = math.isclose(expected, actual, rel_tol=1e-6, abs_tol=1e-9)
        return [] if ok else [f"{path}: {expected!r} != {actual!r}"]
    return [] if expected == actual and type(expected) is type(actual) else [f"{path}: {expected!r} != {actual!r}"]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_flatc_reads_our_flatbuffers(capsys, tmp_path, payload: str) -> None:
    flatc = _flatc()
    data, fbs_path = _encode_cli(capsys, tmp_path, payload, "flatbuffers/python")
    assert fbs_path.suffix == ".fbs"
    binf = tmp_path / "msg.bin"
    binf.write_bytes(data)
    proc = subprocess.run([flatc, "--json", "--strict-json", "--raw-binary", "-o", str(tmp_path), str(fbs_path),
                           "--", str(binf)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    got = json.loads((tmp_path / "msg.json").read_text())
    schema, value = _payload(payload)
    expected = to_flatc_json(schema, value)
    # flatc leaves out a scalar equal to its default, as our writer does: fill those in from the schema
    _fill_defaults(schema, expected, got)
    assert _close(expected, got) == []


def _fill_defaults(t: Any, expected: Any, got: Any, names: dict | None = None) -> None:
    names = names or {}
    if isinstance(t, Record) and isinstance(expected, dict) and isinstance(got, dict):
        for f in t.fields:
            n = names.get((t.name, f.name), f.name)
            if n in expected and n not in got and not f.optional:
                if isinstance(f.type, Primitive) and f.type.kind not in ("string", "bytes"):
                    got[n] = type(expected[n])(f.default or 0)
            elif n in expected and n in got:
                _fill_defaults(f.type, expected[n], got[n], names)
    elif isinstance(t, ListType) and isinstance(expected, list) and isinstance(got, list):
        items = [x.get("items", x.get("entries")) if isinstance(x, dict) and isinstance(t.items, (ListType, MapType))
                 else x for x in got]
        for e, g in zip(expected, items, strict=False):
            if isinstance(t.items, (ListType, MapType)) and isinstance(e, dict):
                e = e.get("items", e.get("entries"))
            _fill_defaults(t.items, e, g, names)
    elif isinstance(t, MapType) and isinstance(expected, list) and isinstance(got, list):
        for e, g in zip(expected, got, strict=False):
            _fill_defaults(t.values, e.get("value"), g.get("value"), names)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_we_read_flatbuffers_written_by_flatc(capsys, tmp_path, payload: str) -> None:
    flatc = _flatc()
    _, fbs_path = _encode_cli(capsys, tmp_path, payload, "flatbuffers/python")
    schema, value = _payload(payload)
    (tmp_path / "msg.json").write_text(json.dumps(to_flatc_json(schema, value)))
    proc = subprocess.run([flatc, "-b", "-o", str(tmp_path), str(fbs_path), str(tmp_path / "msg.json")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    theirs = (tmp_path / "msg.bin").read_bytes()
    f = tmp_path / "theirs.bin"
    f.write_bytes(theirs)
    rc = main(["decode", "--codec", "flatbuffers/python", "--payload", payload, "--check", str(f)])
    cap = capsys.readouterr()
    assert rc == 0, cap.err
    assert "equals payload" in cap.err


def test_flatbuffers_schema_slots_follow_field_ids(capsys, tmp_path) -> None:
    _, path = _encode_cli(capsys, tmp_path, "trip_request", "flatbuffers/python")
    text = path.read_text()
    assert "reserved_id_8: bool (id: 8, deprecated);" in text  # id 9 is free in TripRequest
    assert "wheelchair_accessible: bool (id: 9);" in text
    assert "promo_code: string (id: 7);" in text
    assert "root_type TripRequest;" in text
    assert "RideType_UNSPECIFIED = 0," in text and "ECONOMY = 1," in text


# ------------------------------------------------------------------------------------------------
# The access hook


ACCESS_PATHS = [
    ("trip_id",),
    ("status",),
    ("started_at",),
    ("distance_m",),
    ("driver", "vehicle", "plate"),
    ("driver", "rating"),
    ("driver", "phone_masked"),  # optional, unset
    ("fare", "tip_cents"),  # optional, set
    ("promo_code",),  # optional, unset
    ("rider_rating_of_driver",),
    ("receipt_signature",),
    ("pickup",),  # a whole sub-record
    ("route",),  # a list of records
    ("tags",),  # a map
    ("fare", "line_items"),
]


def _at(value: Any, path: tuple[str, ...]) -> Any:
    for name in path:
        value = None if value is None else value[name]
    return value


@pytest.mark.parametrize("codec", CODECS)
def test_access_reads_the_values_at_explicit_paths(codec: str) -> None:
    schema, value = _payload("completed_trip")
    prepared = _codec(codec).prepare(schema)
    data = prepared.encode(prepared.to_native(value))
    access = prepared.make_access(ACCESS_PATHS)
    got = access(data)
    assert isinstance(got, list) and len(got) == len(ACCESS_PATHS)
    for path, g in zip(ACCESS_PATHS, got, strict=True):
        assert differences(_at(value, path), g) == [], path
    assert _at(value, ("promo_code",)) is None and _at(value, ("fare", "tip_cents")) is not None
    assert isinstance(got[ACCESS_PATHS.index(("receipt_signature",))], bytes)
    assert got[ACCESS_PATHS.index(("status",))] == "COMPLETED"
    assert access(data) == got  # the returned function is reusable


@pytest.mark.parametrize("codec", CODECS)
def test_access_rejects_bad_paths_when_made(codec: str) -> None:
    schema, _ = _payload("completed_trip")
    prepared = _codec(codec).prepare(schema)
    with pytest.raises(UnsupportedSchema, match="no field"):
        prepared.make_access([("driver", "nope")])
    with pytest.raises(UnsupportedSchema, match="nested records only"):
        prepared.make_access([("trip_id", "x")])


def test_flatbuffers_access_reads_in_place_without_touching_the_rest() -> None:
    """Corrupt the bytes of the route (a length points past the end): the full decode fails,
    access to fields elsewhere still answers: it never walks the route."""
    schema, value = _payload("completed_trip")
    prepared = _codec("flatbuffers/python").prepare(schema)
    data = bytearray(prepared.encode(value))
    from formats.flatbuffers_runtime import _U16, _U32

    root = _U32(data, 0)[0]
    vt = root - int.from_bytes(data[root:root + 4], "little", signed=True)
    field_off = _U16(data, vt + 4 + 2 * 11)[0]  # route: id 12 -> slot 11
    vec = root + field_off + _U32(data, root + field_off)[0]
    data[vec:vec + 4] = (10**9).to_bytes(4, "little")  # the route claims a billion points
    with pytest.raises(Exception, match="past the end"):
        prepared.decode(bytes(data))
    access = prepared.make_access([("trip_id",), ("driver", "vehicle", "plate"), ("fare", "total_cents")])
    assert access(bytes(data)) == [value["trip_id"], value["driver"]["vehicle"]["plate"], value["fare"]["total_cents"]]


# ------------------------------------------------------------------------------------------------
# Evolution: what the formats really do


@pytest.fixture(scope="module")
def matrix() -> dict:
    from bench import evolution as ev
    from payloads import evolution as sc

    codecs = [build_registry(False).codec(n) for n in CODECS]
    wanted = {"remove-required", "add-required", "enum-add-symbol", "change-field-id", "rename-field"}
    scenarios = [s for s in sc.SCENARIOS if s.id in wanted]
    assert {s.id for s in scenarios} == wanted
    return ev.run_matrix(codecs, scenarios, plugins=False)


def _cell(matrix: dict, scenario: str, codec: str, direction: str) -> dict:
    found = [c for c in matrix["cells"] if (c["scenario"], c["codec"], c["direction"]) == (scenario, codec, direction)]
    assert len(found) == 1, (scenario, codec, direction)
    return found[0]


@pytest.mark.parametrize("codec", ["capnp/unpacked", "capnp/packed"])
def test_capnp_removed_field_shifts_the_layout(matrix: dict, codec: str) -> None:
    # dense ordinals: without the removed field, later fields take its place, read as wrong values
    cell = _cell(matrix, "remove-required", codec, "backward")
    assert cell["outcome"] == "changed" and not cell["ideal"], cell  # a different value, no error
    assert _cell(matrix, "change-field-id", codec, "backward")["outcome"] == "ok"  # ids are not on the wire
    # an enumerant the old reader does not know reads as the enum's default (the native form is the
    # model value, so an old intermediary re-encoding it forwards that default: the final reader
    # silently loses the written symbol)
    assert _cell(matrix, "enum-add-symbol", codec, "forward")["outcome"] == "defaulted"
    assert _cell(matrix, "enum-add-symbol", codec, "roundtrip")["outcome"] == "lost"


def test_flatbuffers_skips_removed_slots_and_matches_by_id(matrix: dict) -> None:
    codec = "flatbuffers/python"
    assert _cell(matrix, "remove-required", codec, "backward")["outcome"] == "dropped"
    assert _cell(matrix, "add-required", codec, "forward")["outcome"] == "dropped"
    assert _cell(matrix, "rename-field", codec, "backward")["outcome"] == "ok"
    assert _cell(matrix, "change-field-id", codec, "backward")["outcome"] == "lost"  # the slot moved: empty


def test_flatbuffers_reused_builder_gives_the_bytes_of_a_fresh_one() -> None:
    """encode reuses one Builder (Clear()); a small message after a large one is byte-identical
    to the same message from a fresh prepared object."""
    p = find_payloads(["trip_updates_batch"])[0]
    value = normalize(p.schema, p.value)
    small = dict(value, updates=value["updates"][:3])
    codec = _codec("flatbuffers/python")
    prepared = codec.prepare(p.schema)
    big = prepared.encode(value)
    assert prepared.encode(small) == codec.prepare(p.schema).encode(small)
    assert prepared.encode(value) == big
    assert prepared.decode(prepared.encode(small)) == small


def test_flatbuffers_explicit_enum_numbers_are_the_wire_values() -> None:
    from formats import flatbuffers_schema

    e = EnumType("Sparse", ("A", "B"), numbers=(2, 5))
    rec = Record("HasSparse", (Field("s", e, 1), Field("n", Primitive("int32"), 3, optional=True),
                               Field("f", Primitive("float64"), 4)))
    text = flatbuffers_schema.describe(rec).text
    assert "A = 2," in text and "B = 5," in text and "Sparse_UNSPECIFIED = 0," in text
    assert "n: int = null (id: 2);" in text and "reserved_id_1: bool (id: 1, deprecated);" in text
    prepared = _codec("flatbuffers/python").prepare(rec)
    for v in ({"s": "B", "n": None, "f": -0.0}, {"s": "A", "n": 0, "f": 0.0}, {"s": "B", "n": -7, "f": 1.5}):
        data = prepared.encode(v)
        back = prepared.decode(data)
        assert back == v and math.copysign(1.0, back["f"]) == math.copysign(1.0, v["f"])
    assert (5).to_bytes(4, "little") in prepared.encode({"s": "B", "n": None, "f": 0.0})


# ------------------------------------------------------------------------------------------------
# Hostile bytes: declared sizes that would make a reader loop or allocate without end


_PT = Record("Pt", (Field("lat", Primitive("float64"), 1), Field("lon", Primitive("float64"), 2)))
_BOX = Record("Box", (Field("pts", ListType(_PT), 1),))


@pytest.mark.parametrize("codec", ["capnp/unpacked", "capnp/packed"])
def test_capnp_zero_size_element_amplification_is_refused(codec: str) -> None:
    """A struct list declaring 2**29-1 elements of zero words takes no bytes at all; Cap'n
    Proto's traversal limit (8 Mi words by default, kept by the codec) refuses it at once."""
    import struct
    import time

    unpacked = _codec("capnp/unpacked").prepare(_BOX)
    b = bytearray(unpacked.encode({"pts": [{"lat": 1.0, "lon": 2.0}]}))
    # segment table, root struct pointer, list pointer (inline composite), tag word, the element
    list_ptr = struct.unpack_from("<Q", b, 16)[0]
    assert list_ptr & 3 == 1 and (list_ptr >> 32) & 7 == 7
    struct.pack_into("<Q", b, 16, (list_ptr & 0xFFFFFFFF) | (7 << 32))  # 0 words of content
    struct.pack_into("<Q", b, 24, ((1 << 29) - 1) << 2)  # tag: 2**29-1 elements of 0 data/0 pointer words
    data = bytes(b) if codec == "capnp/unpacked" else capnp_pack(bytes(b))
    prepared = _codec(codec).prepare(_BOX)
    t0 = time.process_time()  # CPU time: another process's load cannot fail it
    with pytest.raises(Exception, match="traversal limit"):
        prepared.decode(data)
    assert time.process_time() - t0 < 5


def test_flatbuffers_huge_declared_lengths_raise_before_reading() -> None:
    prepared = _codec("flatbuffers/python").prepare(_BOX)
    data = bytearray(prepared.encode({"pts": [{"lat": 1.0, "lon": 2.0}] * 3}))
    from formats.flatbuffers_runtime import _I32, _U16, _U32

    root = _U32(data, 0)[0]
    vt = root - _I32(data, root)[0]
    field = root + _U16(data, vt + 4)[0]  # pts: id 1 -> slot 0
    at = field + _U32(data, field)[0]  # the vector's element count
    assert _U32(data, at)[0] == 3
    for huge in (0x7FFFFFFF, 0xFFFFFFFF):
        data[at:at + 4] = huge.to_bytes(4, "little")
        with pytest.raises(Exception, match="past the end"):
            prepared.decode(bytes(data))


# ------------------------------------------------------------------------------------------------
# Shapes the built-in payloads do not have: nested containers, optionals of every kind, names
# that need rewriting for Cap'n Proto (camelCase, no underscores) or collide with keywords.

_COLOUR = EnumType("Colour", ("RED", "GREEN", "DARK_BLUE"), numbers=(1, 4, 9), default="RED")
_LEAF = Record("Leaf", (Field("a_b", Primitive("int32"), 1), Field("aB", Primitive("string"), 2)))
_NESTED = Record("Nested_shapes", (
    Field("grid", ListType(ListType(Primitive("int32"))), 1),
    Field("nested_maps", MapType(MapType(Primitive("string"))), 2),
    Field("list_of_maps", ListType(MapType(Primitive("int64"))), 3),
    Field("blobs", ListType(Primitive("bytes")), 4),
    Field("opt_list", ListType(Primitive("float32")), 5, optional=True),
    Field("opt_map", MapType(_LEAF), 6, optional=True),
    Field("opt_leaf", _LEAF, 7, optional=True),
    Field("colours", ListType(_COLOUR), 8),
    Field("colour_map", MapType(_COLOUR), 9),
    Field("opt_colour", _COLOUR, 10, optional=True),
    Field("opt_float", Primitive("float64"), 11, optional=True),
    Field("struct", Primitive("string"), 12),
    Field("table", Primitive("bool"), 13),
    Field("enum", _COLOUR, 40),
    Field("leaves", ListType(_LEAF), 41),
))
_FULL = {
    "grid": [[1, 2], [], [-3]], "nested_maps": {"x": {"y": "z", "": ""}, "e": {}},
    "list_of_maps": [{"a": 1}, {}], "blobs": [b"", b"\x00\xff"], "opt_list": [0.5, -1.25],
    "opt_map": {"k": {"a_b": 1, "aB": "one"}}, "opt_leaf": {"a_b": -1, "aB": ""},
    "colours": ["DARK_BLUE", "RED"], "colour_map": {"c": "GREEN"}, "opt_colour": "DARK_BLUE",
    "opt_float": -0.0, "struct": "s", "table": True, "enum": "GREEN",
    "leaves": [{"a_b": 7, "aB": "seven"}],
}
_EMPTY = {
    "grid": [], "nested_maps": {}, "list_of_maps": [], "blobs": [], "opt_list": None, "opt_map": None,
    "opt_leaf": None, "colours": [], "colour_map": {}, "opt_colour": None, "opt_float": None, "struct": "",
    "table": False, "enum": "RED", "leaves": [],
}


@pytest.mark.parametrize("codec", CODECS)
@pytest.mark.parametrize("value", [_FULL, _EMPTY], ids=["full", "empty"])
def test_nested_containers_optionals_and_awkward_names_round_trip(codec: str, value: dict) -> None:
    v = normalize(_NESTED, value)
    prepared = _codec(codec).prepare(_NESTED)
    back = prepared.from_native(prepared.decode(prepared.encode(prepared.to_native(v))))
    assert differences(v, back) == []
    if value is _FULL:
        assert math.copysign(1.0, back["opt_float"]) < 0  # -0.0 keeps its sign
    paths = [("opt_leaf", "a_b"), ("opt_leaf", "aB"), ("opt_colour",), ("enum",), ("grid",), ("nested_maps",)]
    assert prepared.make_access(paths)(prepared.encode(prepared.to_native(v))) == [_at(v, p) for p in paths]


def test_flatc_reads_and_writes_the_nested_shapes(tmp_path) -> None:
    flatc = _flatc()
    from formats import flatbuffers_schema

    fs = flatbuffers_schema.describe(_NESTED)
    assert fs.field_names[("Nested_shapes", "struct")] == "struct_"  # flatc keywords get a trailing _
    fbs_path = tmp_path / "nested.fbs"
    fbs_path.write_text(fs.text)
    v = normalize(_NESTED, _FULL)
    prepared = _codec("flatbuffers/python").prepare(_NESTED)
    (tmp_path / "ours.bin").write_bytes(prepared.encode(v))
    proc = subprocess.run([flatc, "--json", "--strict-json", "--raw-binary", "-o", str(tmp_path), str(fbs_path),
                           "--", str(tmp_path / "ours.bin")], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    got = json.loads((tmp_path / "ours.json").read_text())
    expected = to_flatc_json(_NESTED, v, fs.field_names)
    _fill_defaults(_NESTED, expected, got, fs.field_names)
    assert _close(expected, got) == []
    (tmp_path / "theirs.json").write_text(json.dumps(expected))
    proc = subprocess.run([flatc, "-b", "-o", str(tmp_path), str(fbs_path), str(tmp_path / "theirs.json")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert differences(v, prepared.decode((tmp_path / "theirs.bin").read_bytes())) == []


@pytest.mark.parametrize("codec", CODECS)
def test_fault_probe_runs_the_zero_copy_codecs_isolated(codec: str, tmp_path) -> None:
    """The harness's fault probe (child process, 1 GiB address-space limit, watchdog) over
    truncated, bit-flipped, random and huge-size inputs: every trial is answered, none hangs
    or takes the process down (a generous watchdog: a slow machine must not turn into a hang)."""
    from bench import faults
    from bench.worker import dump_payloads

    pfile = tmp_path / "payloads.pkl"
    dump_payloads(find_payloads(["trip_request", "completed_trip"]), str(pfile))
    entry = faults.probe_codec(codec, {}, str(pfile), 3, False, tmp_path / "faults.log", trial_timeout=60.0)
    assert "error" not in entry, entry
    totals = {o: sum(entry["kinds"][k][o] for k in faults.KINDS) for o in faults.OUTCOMES}
    assert totals["hang"] == 0 and totals["crash"] == 0, entry["examples"]
    assert totals["clean_error"] + totals["silent_garbage"] + entry["skipped"] == 3 * len(faults.KINDS)
    assert entry["kinds"]["truncated"]["clean_error"] >= 1  # an empty or cut message is refused


def test_capnp_schema_file_is_not_left_behind(tmp_path, monkeypatch) -> None:
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    rec = Record("LeftBehind", (Field("x", Primitive("int32"), 1),))
    prepared = _codec("capnp/unpacked").prepare(rec)
    assert prepared.decode(prepared.encode({"x": 5})) == {"x": 5}
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------------------------------------
# Properties: generated schemas (sparse ids, explicit enum numbers, nested containers, optionals)
# and values (extreme ints, NaN/-0.0/float32, any unicode, NUL) round-trip exactly, and access
# reads what decode reads.

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from test_model import records, values_for  # noqa: E402


def _scalar_paths(rec: Record, prefix: tuple[str, ...] = (), depth: int = 0) -> list[tuple[str, ...]]:
    out = []
    for f in rec.fields:
        if isinstance(f.type, Record) and depth < 3:
            out += _scalar_paths(f.type, (*prefix, f.name), depth + 1)
        out.append((*prefix, f.name))
    return out


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data())
@pytest.mark.parametrize("codec", CODECS)
def test_generated_schemas_and_values_round_trip(codec: str, data: Any) -> None:
    schema = data.draw(records())
    value = normalize(schema, data.draw(values_for(schema)))
    prepared = _codec(codec).prepare(schema)
    encoded = prepared.encode(prepared.to_native(value))
    back = prepared.from_native(prepared.decode(encoded))
    assert differences(value, back) == []
    paths = _scalar_paths(schema)
    got = prepared.make_access(paths)(encoded)
    for p, g in zip(paths, got, strict=True):
        assert differences(_at(value, p), g) == [], p
