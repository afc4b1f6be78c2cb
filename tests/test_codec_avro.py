"""avro/fastavro: round trips with the real fastavro, the generated schema against fastavro and the
official ``avro`` package (both parse it; avro reads msgbench's bytes), schema resolution, errors."""

from __future__ import annotations

import io
import json

import avro.io
import avro.schema
import fastavro
import pytest
from schemas import ALL, all_value, roundtrip

from formats.api import SchemaText, UnsupportedSchema
from formats.avro_fastavro import AvroDecodeError, FastavroCodec
from formats.avro_schema import avro_schema, avsc_text
from formats.registry import build_registry
from payloads.model import (
    BOOL,
    BYTES,
    FLOAT32,
    FLOAT64,
    INT32,
    INT32_MAX,
    INT32_MIN,
    INT64,
    INT64_MAX,
    INT64_MIN,
    STRING,
    TIMESTAMP,
    EnumType,
    Field,
    ListType,
    MapType,
    Record,
    differences,
    normalize,
)


def official_read(schema: Record, data: bytes, reader: Record | None = None):
    writer = avro.schema.parse(avsc_text(schema))
    rs = avro.schema.parse(avsc_text(reader)) if reader is not None else None
    return avro.io.DatumReader(writer, rs).read(avro.io.BinaryDecoder(io.BytesIO(data)))


@pytest.fixture(scope="module")
def codec():
    return FastavroCodec()


def test_registry_capabilities_and_backend(codec):
    c = build_registry(discover_plugins=False).codec("avro/fastavro")
    assert isinstance(c, FastavroCodec)
    assert c.capabilities.binary and c.capabilities.needs_schema
    assert c.backend() == "C extension"  # the wheel ships the compiled modules
    assert c.slow_backend() is False


def test_roundtrip_every_kind(codec):
    expected = normalize(ALL, all_value())
    data, back = roundtrip(codec.prepare(ALL), expected)
    assert differences(expected, back) == []
    assert type(back["ts"]) is int  # plain long, not a datetime
    nonfinite = normalize(ALL, all_value(f64=float("nan"), f32=float("-inf")))
    assert differences(nonfinite, roundtrip(codec.prepare(ALL), nonfinite)[1]) == []


def test_timestamps_cover_the_whole_int64_range(codec):
    r = Record("T", (Field("t", TIMESTAMP, 1),))
    for t in (INT64_MIN, -1, 0, INT64_MAX):
        assert roundtrip(codec.prepare(r), {"t": t})[1] == {"t": t}


def test_generated_schema_parses_in_fastavro_and_official_avro(codec):
    st = codec.schema_text(ALL)
    assert isinstance(st, SchemaText) and (st.language, st.extension) == ("avro", ".avsc")
    d = json.loads(st.text)
    fastavro.parse_schema(d, named_schemas={})
    parsed = avro.schema.parse(st.text)
    assert parsed.fullname == "msgbench.AllKinds"
    # named types are defined once, then referenced by full name
    assert st.text.count('"name": "Inner"') == 1 and '"msgbench.Inner"' in st.text
    assert st.text.count('"name": "Color"') == 1 and '"msgbench.Color"' in st.text
    fields = {f["name"]: f for f in d["fields"]}
    assert fields["opt_set"]["type"] == ["null", "int"] and fields["opt_set"]["default"] is None
    assert fields["i64"]["type"] == "long" and fields["f32"]["type"] == "float" and fields["ts"]["type"] == "long"
    assert fields["color"]["type"]["default"] == "RED"


def test_official_avro_decodes_msgbench_bytes(codec):
    expected = normalize(ALL, all_value())
    data, _ = roundtrip(codec.prepare(ALL), expected)
    assert differences(expected, official_read(ALL, data)) == []


def test_official_avro_bytes_decode_in_msgbench(codec):
    expected = normalize(ALL, all_value())
    out = io.BytesIO()
    avro.io.DatumWriter(avro.schema.parse(avsc_text(ALL))).write(expected, avro.io.BinaryEncoder(out))
    prepared = codec.prepare(ALL)
    assert differences(expected, prepared.from_native(prepared.decode(out.getvalue()))) == []


V1 = Record("Rider", (Field("id", INT64, 1), Field("name", STRING, 2), Field("level", EnumType("Level", ("A", "B", "C"), default="A"), 3)))
V2 = Record(
    "Rider",
    (
        Field("id", INT64, 1),
        Field("full_name", STRING, 2, aliases=("name",)),
        Field("level", EnumType("Level", ("A", "B"), default="A"), 3),
        Field("rating", FLOAT64, 4, optional=True, default=5.0),
        Field("vip", BOOL, 5, optional=True),
        Field("seats", INT32, 6, default=4),
    ),
)


def test_evolution_reader_adds_fields_with_defaults(codec):
    w = codec.prepare(V1)
    data = w.encode(w.to_native({"id": 7, "name": "Bo", "level": "C"}))
    r = codec.prepare(V1, reader_schema=V2)
    got = r.from_native(r.decode(data))
    # added fields get their defaults, the renamed field is found by its alias, an enum symbol the
    # reader lacks becomes the reader's enum default
    assert got == {"id": 7, "full_name": "Bo", "level": "A", "rating": 5.0, "vip": None, "seats": 4}
    # the official avro package (1.12) agrees where it implements resolution: it applies neither
    # enum defaults nor field aliases, so compare on a reader without the rename and a known symbol
    v2_same_names = Record("Rider", (V1.fields[0], V1.fields[1], *V2.fields[2:]))
    data_b = w.encode({"id": 7, "name": "Bo", "level": "B"})
    r2 = codec.prepare(V1, reader_schema=v2_same_names)
    assert r2.from_native(r2.decode(data_b)) == official_read(V1, data_b, v2_same_names)


def test_evolution_bytes_default_comes_back_as_bytes(codec):
    r1 = Record("R", (Field("n", INT32, 2),))
    r2 = Record("R", (Field("b", BYTES, 1, optional=True, default=b"\x00\xff"), Field("n", INT32, 2),
                      Field("l", ListType(Record("S", (Field("c", BYTES, 1, default=b"ab"),))), 3, optional=True,
                            default=[{"c": b"x"}])))
    p = codec.prepare(r1, reader_schema=r2)
    assert p.from_native(p.decode(p.encode({"n": 1}))) == {"b": b"\x00\xff", "n": 1, "l": [{"c": b"x"}]}


def test_evolution_old_reader_skips_new_fields(codec):
    w = codec.prepare(V2)
    data = w.encode({"id": 1, "full_name": "X", "level": "B", "rating": 1.5, "vip": True, "seats": 2})
    old_reader = Record("Rider", (Field("id", INT64, 1),))
    r = codec.prepare(V2, reader_schema=old_reader)
    assert r.decode(data) == {"id": 1}


def test_policy_other_than_schema_resolution_is_unsupported(codec):
    with pytest.raises(UnsupportedSchema, match="schema-resolution"):
        codec.prepare(V1, policy="strict")
    codec.prepare(V1, policy="schema-resolution")


@pytest.mark.parametrize("garbage", [b"", b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", b"\x01\x02\x03", b"\x80" * 40])
def test_garbage_raises(codec, garbage):
    with pytest.raises(AvroDecodeError, match="AllKinds"):
        codec.prepare(ALL).decode(garbage)


def test_trailing_bytes_are_rejected(codec):
    p = codec.prepare(V1)
    data = p.encode({"id": 1, "name": "a", "level": "B"})
    with pytest.raises(AvroDecodeError, match="left over"):
        p.decode(data + b"\x00")


def test_names_must_be_avro_names():
    with pytest.raises(UnsupportedSchema, match="not a valid Avro name"):
        avro_schema(Record("R", (Field("bad-name", INT32, 1),)))
    with pytest.raises(UnsupportedSchema, match="symbol"):
        avro_schema(Record("R", (Field("e", EnumType("E", ("ok", "not ok")), 1),)))


def test_defaults_aliases_and_docs_carry_over():
    r = Record(
        "R",
        (
            Field("b", BYTES, 1, optional=True, default=b"\x00\xff", aliases=("blob",), doc="raw"),
            Field("n", INT32, 2, default=3),
            Field("m", MapType(ListType(INT32)), 3, optional=True),
        ),
        doc="a record",
        aliases=("OldR",),
        namespace="taxi.v1",
    )
    d = avro_schema(r)
    assert d["namespace"] == "taxi.v1" and d["aliases"] == ["OldR"] and d["doc"] == "a record"
    b = d["fields"][0]
    assert b["type"] == ["bytes", "null"] and b["default"] == "\x00\xff" and b["aliases"] == ["blob"]
    assert d["fields"][1] == {"name": "n", "type": "int", "default": 3}
    avro.schema.parse(json.dumps(d))
    fastavro.parse_schema(d, named_schemas={})
    p = FastavroCodec().prepare(r)
    v = {"b": b"\x00\xff", "n": 5, "m": {"k": [1, 2]}}
    assert p.decode(p.encode(v)) == v


def test_int_extremes_and_float32(codec):
    r = Record("N", (Field("a", INT32, 1), Field("b", INT64, 2), Field("c", FLOAT32, 3)))
    for v in ({"a": INT32_MIN, "b": INT64_MIN, "c": 0.1}, {"a": INT32_MAX, "b": INT64_MAX, "c": -0.0}):
        e = normalize(r, v)
        assert differences(e, roundtrip(codec.prepare(r), e)[1]) == []
