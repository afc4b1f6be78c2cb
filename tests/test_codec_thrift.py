"""thrift/binary and thrift/compact (thriftpy2): IDL generated from the model at runtime."""

from __future__ import annotations

import io
import time

import pytest

pytest.importorskip("thriftpy2")

from schemas import everything, everything_flipped, everything_value, ride  # noqa: E402

from formats import thrift_schema  # noqa: E402
from formats.thrift_thriftpy2 import ThriftBinaryCodec, ThriftCompactCodec  # noqa: E402
from payloads.model import (  # noqa: E402
    BOOL,
    INT32,
    INT64,
    STRING,
    EnumType,
    Field,
    MapType,
    Record,
    SchemaMismatch,
    differences,
    normalize,
)

STATUS = EnumType("TripStatus", ("REQUESTED", "ACCEPTED", "BEGIN", "END"))  # BEGIN/END: reserved in thriftpy2
# "read" would shadow the struct's read() method
EVERYTHING = everything(STATUS, Field("read", MapType(MapType(BOOL)), 25))
VALUE = everything_value(
    opt_status="BEGIN", statuses=["ACCEPTED", "REQUESTED"], field_25={"read": {"a": {"x": True}, "b": {}}}
)
VALUE2 = everything_flipped(VALUE, f32=float("-inf"), field_25={"read": {}})
CODECS = [ThriftBinaryCodec(), ThriftCompactCodec()]
IDS = [c.name for c in CODECS]


def _encode(prepared, schema, value):
    canon = normalize(schema, value)
    return canon, prepared.encode(prepared.to_native(canon))


@pytest.mark.parametrize("codec", CODECS, ids=IDS)
@pytest.mark.parametrize("value", [VALUE, VALUE2], ids=["mostly-set", "flipped"])
def test_round_trip_every_type_kind(codec, value) -> None:
    p = codec.prepare(EVERYTHING)
    canon, data = _encode(p, EVERYTHING, value)
    assert isinstance(data, bytes)
    assert differences(canon, p.from_native(p.decode(data))) == []


def test_backends() -> None:
    binary, compact = CODECS
    assert binary.backend() == "cybin" and binary.slow_backend() is False
    assert compact.backend() == "pure-python (no compiled compact protocol in thriftpy2)"
    assert compact.slow_backend() is False
    assert any("no compiled compact protocol" in n for n in compact.capabilities.notes)


def test_idl_loads_with_thriftpy2_and_names_are_mangled(tmp_path) -> None:
    import thriftpy2

    text = CODECS[0].schema_text(EVERYTHING)
    assert (text.language, text.extension) == ("thrift", ".thrift")
    idl = text.text
    assert "22: required string from_," in idl and "25: required map<string, map<string, bool>> read_," in idl
    assert "4: required double f32,  // float32 widened to double" in idl
    assert "END_ = 4," in idl and "BEGIN_ = 3," in idl
    assert "18: optional list<i32> opt_list," in idl
    path = tmp_path / "everything.thrift"
    path.write_text(idl)
    mod = thriftpy2.load(str(path), module_name="independent_everything_thrift")
    spec = mod.Everything.thrift_spec
    assert spec[22][1] == "from_" and spec[2][1] == "i32_" and mod.TripStatus.END_ == 4
    assert spec[9][3] is True and spec[14][2] is False  # required / optional


def test_to_native_builds_structs_with_enum_ints() -> None:
    p = CODECS[0].prepare(EVERYTHING)
    obj = p.to_native(normalize(EVERYTHING, VALUE))
    assert type(obj).__name__ == "Everything"
    assert obj.status == 4 and obj.statuses == [2, 1] and obj.opt_status == 3
    assert obj.from_ == "x" and obj.opt_text is None and type(obj.stops[0].at).__name__ == "Point"


def test_binary_bytes_match_pure_python_protocol_both_ways() -> None:
    from thriftpy2.protocol.binary import TBinaryProtocolFactory
    from thriftpy2.transport import TMemoryBuffer
    from thriftpy2.utils import deserialize

    p = CODECS[0].prepare(EVERYTHING)
    canon, data = _encode(p, EVERYTHING, VALUE)
    cls = thrift_schema.build(EVERYTHING).root
    # an independent reader: thriftpy2's pure-Python binary protocol over a pure-Python buffer
    trans = TMemoryBuffer(data)
    ref = cls()
    TBinaryProtocolFactory().get_protocol(trans).read_struct(ref)
    assert differences(canon, p.from_native(ref)) == []
    # and the pure-Python writer's bytes decode with the codec
    out = TMemoryBuffer()
    TBinaryProtocolFactory().get_protocol(out).write_struct(p.to_native(canon))
    assert out.getvalue() == data
    assert differences(canon, p.from_native(p.decode(out.getvalue()))) == []
    assert deserialize(cls(), data, TBinaryProtocolFactory()) == p.decode(data)


@pytest.mark.parametrize("codec", CODECS, ids=IDS)
def test_garbage_and_truncation_raise_quickly(codec) -> None:
    p = codec.prepare(EVERYTHING)
    _, good = _encode(p, EVERYTHING, VALUE)
    bad = [
        b"",
        good[: len(good) // 2],
        good[:-1],
        b"\x0f\x00\x0d\x0c\x7f\xff\xff\xff",  # field 13: a list of 2**31-1 structs, no data
        b"\x0f\x00\x0a\x0b\x00\x10\x00\x00",  # field 10: a list of a million strings, no data
        b"\x0b\x00\x06\x00\x00\x00\x02\xc3\x28\x00",  # field 6 (string) with invalid UTF-8
    ]
    for data in bad:
        t0 = time.process_time()  # CPU time: another process's load cannot fail it
        with pytest.raises(Exception):  # noqa: B017 - the library's own exception types
            p.from_native(p.decode(data))
        assert time.process_time() - t0 < 1.0, data


def test_cymemorybuffer_would_not_raise() -> None:
    """Why decode reads through TCyBufferedTransport: TCyMemoryBuffer reads past the end silently
    (here: 65536 enum values out of 8 bytes; a list of strings would allocate garbage lengths)."""
    from thriftpy2.protocol.cybin import TCyBinaryProtocol
    from thriftpy2.transport.memory.cymemory import TCyMemoryBuffer

    cls = thrift_schema.build(EVERYTHING).root
    obj = cls()
    TCyBinaryProtocol(TCyMemoryBuffer(b"\x0f\x00\x17\x08\x00\x01\x00\x00")).read_struct(obj)
    assert len(obj.statuses) == 65536


@pytest.mark.parametrize("codec", CODECS, ids=IDS)
def test_decode_materialises(codec) -> None:
    p = codec.prepare(EVERYTHING)
    _, data = _encode(p, EVERYTHING, VALUE)
    obj = p.decode(data)
    assert obj.stops[0].at.lat == 52.5 and obj.groups["g"][0].name == "C" and obj.blob == b"\x00\xff\x80"
    assert isinstance(obj.text, str) and isinstance(obj.flag, bool)


@pytest.mark.parametrize("codec", CODECS, ids=IDS)
def test_evolution_add_field_both_directions(codec) -> None:
    v1 = Record("Ride", (Field("id", STRING, 1), Field("seats", INT32, 2)))
    v2 = Record(
        "Ride",
        (Field("id", STRING, 1), Field("seats", INT32, 2), Field("note", STRING, 3, optional=True),
         Field("pay", STRING, 4, optional=True, default="card")),
    )
    w1 = codec.prepare(v1)
    old_data = w1.encode(w1.to_native({"id": "r1", "seats": 2}))
    new_reader = codec.prepare(v1, reader_schema=v2)
    assert new_reader.from_native(new_reader.decode(old_data)) == {"id": "r1", "seats": 2, "note": None, "pay": "card"}

    w2 = codec.prepare(v2)
    new_data = w2.encode(w2.to_native({"id": "r2", "seats": 1, "note": "hi", "pay": "cash"}))
    old_reader = codec.prepare(v2, reader_schema=v1)
    assert old_reader.from_native(old_reader.decode(new_data)) == {"id": "r2", "seats": 1}





def test_explicit_enum_numbers_in_the_idl_and_on_the_wire() -> None:
    sparse = ride(EnumType("RideClass", ("UNKNOWN", "ECONOMY", "XL"), numbers=(1, 2, 5)))
    idl = CODECS[0].schema_text(sparse).text
    assert "  UNKNOWN = 1,\n  ECONOMY = 2,\n  XL = 5,\n" in idl
    ts = thrift_schema.build(sparse)
    assert ts.module.RideClass.XL == 5 and ts.module.RideClass._VALUES_TO_NAMES[5] == "XL"
    p = CODECS[0].prepare(sparse)
    obj = p.to_native({"cls": "XL", "seen": ["ECONOMY", "XL"]})
    assert obj.cls == 5 and obj.seen == [2, 5]
    data = p.encode(obj)
    # field 1: i32 5; field 2: list of 2 i32 [2, 5]; stop
    assert data == bytes.fromhex("08 0001 00000005  0f 0002 08 00000002 00000002 00000005  00")
    assert p.from_native(p.decode(data)) == {"cls": "XL", "seen": ["ECONOMY", "XL"]}


def test_explicit_enum_default_uses_its_number() -> None:
    enum = EnumType("RideClass", ("UNKNOWN", "ECONOMY", "XL"), numbers=(1, 2, 5))
    idl = thrift_schema.describe(Record("Ride", (Field("cls", enum, 1, optional=True, default="XL"),))).idl
    assert "1: optional RideClass cls = 5," in idl


def test_missing_required_field_is_reported() -> None:
    v1 = Record("Ride", (Field("id", STRING, 1),))
    v2 = Record("Ride", (Field("id", STRING, 1), Field("seats", INT32, 2)))
    w = CODECS[0].prepare(v1)
    r = CODECS[0].prepare(v1, reader_schema=v2)
    with pytest.raises(SchemaMismatch, match="seats"):
        r.from_native(r.decode(w.encode(w.to_native({"id": "x"}))))


def test_two_versions_of_one_record_get_their_own_modules() -> None:
    v1 = Record("Trip", (Field("id", STRING, 1),))
    v2 = Record("Trip", (Field("id", STRING, 1), Field("fare", INT64, 2)))
    a, b = thrift_schema.build(v1), thrift_schema.build(v2)
    assert a.module_name != b.module_name and a.root is not b.root
    assert a.module_name.endswith("_thrift") and thrift_schema.build(v1) is a


def test_compact_is_smaller_and_reads_from_bytesio() -> None:
    pb, pc = (c.prepare(EVERYTHING) for c in CODECS)
    _, b = _encode(pb, EVERYTHING, VALUE)
    _, c = _encode(pc, EVERYTHING, VALUE)
    assert len(c) < len(b)
    from thriftpy2.protocol.compact import TCompactProtocol

    ref = thrift_schema.build(EVERYTHING).root()
    TCompactProtocol(io.BytesIO(c)).read_struct(ref)
    assert ref == pc.decode(c)


def test_registered_under_their_names() -> None:
    from formats.registry import build_registry

    reg = build_registry(discover_plugins=False)
    assert isinstance(reg.codec("thrift/binary"), ThriftBinaryCodec)
    assert isinstance(reg.codec("thrift/compact"), ThriftCompactCodec)
