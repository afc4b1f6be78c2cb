"""protobuf/upb: schemas generated from the model at runtime, checked against protoc and real bytes."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

pytest.importorskip("google.protobuf")

from schemas import everything, everything_flipped, everything_value, ride  # noqa: E402

from formats import proto_schema  # noqa: E402
from formats.api import UnsupportedSchema  # noqa: E402
from formats.protobuf_upb import UpbCodec  # noqa: E402
from payloads.model import (  # noqa: E402
    BOOL,
    INT32,
    INT64,
    STRING,
    EnumType,
    Field,
    ListType,
    MapType,
    Record,
    SchemaMismatch,
    differences,
    normalize,
)

STATUS = EnumType("TripStatus", ("REQUESTED", "ACCEPTED", "UNSPECIFIED", "END"))
EVERYTHING = everything(STATUS, Field("list_of_maps", ListType(MapType(BOOL)), 25))
VALUE = everything_value(
    opt_status="REQUESTED", statuses=["ACCEPTED", "UNSPECIFIED"], field_25={"list_of_maps": [{"a": True}, {}]}
)
VALUE2 = everything_flipped(VALUE, f32=float("inf"), field_25={"list_of_maps": []})


@pytest.fixture(scope="module")
def codec() -> UpbCodec:
    return UpbCodec()


def _roundtrip(prepared, schema, value):
    canon = normalize(schema, value)
    data = prepared.encode(prepared.to_native(canon))
    assert isinstance(data, bytes)
    back = prepared.from_native(prepared.decode(data))
    return canon, data, back


@pytest.mark.parametrize("value", [VALUE, VALUE2], ids=["mostly-set", "flipped"])
def test_round_trip_every_type_kind(codec, value) -> None:
    p = codec.prepare(EVERYTHING)
    canon, _, back = _roundtrip(p, EVERYTHING, value)
    assert differences(canon, back) == []
    assert back["opt_list"] == canon["opt_list"]  # [] stays [] and None stays None (wrapped)


def test_backend_is_upb_and_reported(codec) -> None:
    from google.protobuf.internal import api_implementation

    assert codec.backend() == api_implementation.Type()
    assert codec.slow_backend() is (api_implementation.Type() == "python")
    assert codec.capabilities.lazy_decode


def test_to_native_builds_messages_with_enum_numbers(codec) -> None:
    p = codec.prepare(EVERYTHING)
    msg = p.to_native(normalize(EVERYTHING, VALUE))
    assert type(msg).DESCRIPTOR.full_name.endswith(".Everything")
    assert msg.status == 4 and list(msg.statuses) == [2, 3]  # symbols numbered 1..n
    assert msg.HasField("opt_i32") and not msg.HasField("opt_text") and not msg.HasField("opt_point")
    assert list(msg.grid[0].items) == [1, 2]
    assert p.encode(msg) == msg.SerializeToString()


def test_proto_text_compiles_with_protoc_and_decodes_our_bytes(codec, tmp_path) -> None:
    pytest.importorskip("grpc_tools")
    from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory

    text = codec.schema_text(EVERYTHING)
    assert (text.language, text.extension) == ("proto3", ".proto")
    assert "optional int32 opt_i32 = 14;" in text.text and "map<string, int64> attrs = 11;" in text.text
    assert "TRIP_STATUS_ZERO_UNSPECIFIED = 0;" in text.text  # synthetic zero, clear of the model's own symbol
    (tmp_path / "everything.proto").write_text(text.text)
    out = tmp_path / "set.pb"
    r = subprocess.run(
        [sys.executable, "-m", "grpc_tools.protoc", f"-I{tmp_path}", f"--descriptor_set_out={out}", "everything.proto"],
        capture_output=True, text=True, timeout=60,
    )
    assert r.returncode == 0, r.stderr
    fds = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes())
    (theirs,) = fds.file

    # protoc's descriptor of the text equals the one built at runtime (bar json_name and file name)
    ps = proto_schema.build(EVERYTHING)
    ours = descriptor_pb2.FileDescriptorProto()
    ours.CopyFrom(ps.file_proto)
    for fdp in (ours, theirs):
        fdp.name = "x.proto"
        for m in list(fdp.message_type) + [n for mt in fdp.message_type for n in mt.nested_type]:
            for f in m.field:
                f.ClearField("json_name")
    assert ours == theirs

    # an independent decoder (classes from protoc's output, in a pool of their own) reads our bytes
    pool = descriptor_pool.DescriptorPool()
    pool.Add(theirs)
    Ref = message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{ps.package}.Everything"))
    p = codec.prepare(EVERYTHING)
    data = p.encode(p.to_native(normalize(EVERYTHING, VALUE)))
    ref = Ref.FromString(data)
    assert ref.text == VALUE["text"] and ref.i64 == 2**63 - 1 and ref.status == 4
    assert ref.groups["g"].items[0].at.lat == 52.5 and list(ref.grid[2].items) == [3]
    kw = {"preserving_proto_field_name": True}
    assert json_format.MessageToDict(ref, **kw) == json_format.MessageToDict(p.decode(data), **kw)


def test_garbage_raises_quickly(codec) -> None:
    p = codec.prepare(EVERYTHING)
    good = p.encode(p.to_native(normalize(EVERYTHING, VALUE)))
    bad = [
        b"\xff" * 16,  # field number 0 / overlong varint
        b"\x0a\xff\xff\xff\xff\x0f",  # a length far past the end
        good[:-3] + b"\xff\xff\xff",
        b"\x32\x02\xc3\x28",  # field 6 (string) with invalid UTF-8
    ]
    for data in bad:
        t0 = time.process_time()  # CPU time: another process's load cannot fail it
        with pytest.raises(Exception):  # noqa: B017 - the library's DecodeError
            p.decode(data)
        assert time.process_time() - t0 < 1.0


def test_decode_materialises_and_parse_lazy_is_bare(codec) -> None:
    p = codec.prepare(EVERYTHING)
    data = p.encode(p.to_native(normalize(EVERYTHING, VALUE)))
    msg = p.decode(data)
    assert msg.stops[0].at.lat == 52.5 and msg.groups["g"].items[0].name == "C"
    assert p.from_native(msg) == p.from_native(p.parse_lazy(data))
    # the generated walk reads every field of every message it can reach
    walk = p.source.split("def _walk")
    for m in proto_schema.build(EVERYTHING).messages.values():
        i = list(proto_schema.build(EVERYTHING).messages).index(m.name)
        body = next(b for b in walk if b.startswith(f"{i}(m):"))
        for f in m.fields:
            assert f".{f.name}" in body or f"'{f.name}'" in body, (m.name, f.name)


def test_same_record_name_in_two_versions_does_not_clash(codec) -> None:
    v1 = Record("Trip", (Field("id", STRING, 1),))
    v2 = Record("Trip", (Field("id", STRING, 1), Field("fare", INT64, 2)))
    p1, p2 = codec.prepare(v1), codec.prepare(v2)
    assert p1.to_native({"id": "a"}).DESCRIPTOR.full_name != p2.to_native({"id": "a", "fare": 1}).DESCRIPTOR.full_name
    assert proto_schema.package_for(v1) != proto_schema.package_for(v2)


def test_evolution_add_field_both_directions(codec) -> None:
    v1 = Record("Ride", (Field("id", STRING, 1), Field("seats", INT32, 2)))
    v2 = Record(
        "Ride",
        (Field("id", STRING, 1), Field("seats", INT32, 2), Field("note", STRING, 3, optional=True),
         Field("fare", INT64, 4)),
    )
    old_data = codec.prepare(v1).encode(codec.prepare(v1).to_native({"id": "r1", "seats": 2}))
    new_reader = codec.prepare(v1, reader_schema=v2)
    assert new_reader.from_native(new_reader.decode(old_data)) == {"id": "r1", "seats": 2, "note": None, "fare": 0}

    writer = codec.prepare(v2)
    new_data = writer.encode(writer.to_native({"id": "r2", "seats": 1, "note": "hi", "fare": 900}))
    old_reader = codec.prepare(v2, reader_schema=v1)
    decoded = old_reader.decode(new_data)
    assert old_reader.from_native(decoded) == {"id": "r2", "seats": 1}
    # the old reader keeps the unknown fields: re-encoding forwards them to a new reader
    forwarded = codec.prepare(v1).encode(decoded)
    assert new_reader.from_native(new_reader.decode(forwarded))["note"] == "hi"


def test_unknown_enum_number_defaults_or_raises(codec) -> None:
    v1 = Record("E", (Field("s", EnumType("Kind", ("A", "B")), 1),))
    v1d = Record("E", (Field("s", EnumType("Kind", ("A", "B"), default="A"), 1),))
    v2 = Record("E", (Field("s", EnumType("Kind", ("A", "B", "C")), 1),))
    w = codec.prepare(v2)
    data = w.encode(w.to_native({"s": "C"}))
    r = codec.prepare(v2, reader_schema=v1)
    with pytest.raises(SchemaMismatch, match="unknown number 3"):
        r.from_native(r.decode(data))
    rd = codec.prepare(v2, reader_schema=v1d)
    assert rd.from_native(rd.decode(data)) == {"s": "A"}





def test_explicit_enum_numbers_travel_on_the_wire(codec) -> None:
    sparse = ride(EnumType("RideClass", ("UNKNOWN", "ECONOMY", "XL"), numbers=(1, 2, 5)))
    p = codec.prepare(sparse)
    msg = p.to_native({"cls": "XL", "seen": ["ECONOMY", "XL"]})
    assert msg.cls == 5 and list(msg.seen) == [2, 5]
    data = p.encode(msg)
    assert data == bytes([0x08, 5, 0x12, 2, 2, 5])  # field 1 varint 5; field 2 packed [2, 5]
    assert p.from_native(p.decode(data)) == {"cls": "XL", "seen": ["ECONOMY", "XL"]}
    text = codec.schema_text(sparse).text
    assert "RIDE_CLASS_XL = 5;" in text and "RIDE_CLASS_UNSPECIFIED = 0;" in text
    enum = proto_schema.build(sparse).pool.FindEnumTypeByName(proto_schema.build(sparse).full_name("RideClass"))
    assert {v.name: v.number for v in enum.values} == {
        "RIDE_CLASS_UNSPECIFIED": 0, "RIDE_CLASS_UNKNOWN": 1, "RIDE_CLASS_ECONOMY": 2, "RIDE_CLASS_XL": 5}


def test_proto_text_with_explicit_enum_numbers_compiles_with_protoc(tmp_path) -> None:
    pytest.importorskip("grpc_tools")
    from google.protobuf import descriptor_pb2

    schema = ride(EnumType("RideClass", ("UNKNOWN", "ECONOMY", "XL"), numbers=(1, 2, 5)))
    ps = proto_schema.build(schema)
    (tmp_path / "ride.proto").write_text(ps.text)
    out = tmp_path / "set.pb"
    r = subprocess.run(
        [sys.executable, "-m", "grpc_tools.protoc", f"-I{tmp_path}", f"--descriptor_set_out={out}", "ride.proto"],
        capture_output=True, text=True, timeout=60,
    )
    assert r.returncode == 0, r.stderr
    (theirs,) = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes()).file
    assert [(v.name, v.number) for v in theirs.enum_type[0].value] == [
        ("RIDE_CLASS_UNSPECIFIED", 0), ("RIDE_CLASS_UNKNOWN", 1), ("RIDE_CLASS_ECONOMY", 2), ("RIDE_CLASS_XL", 5)]
    assert theirs.enum_type[0] == ps.file_proto.enum_type[0]


def test_unsupported_top_level(codec) -> None:
    with pytest.raises(UnsupportedSchema):
        codec.prepare(ListType(INT32))  # type: ignore[arg-type]


def test_registered_under_its_name() -> None:
    from formats.registry import build_registry

    assert isinstance(build_registry(discover_plugins=False).codec("protobuf/upb"), UpbCodec)
