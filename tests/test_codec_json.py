"""json/orjson: round trips with the real orjson, non-finite floats, reader policies (tolerant and
strict with the generated JSON Schema), errors on garbage."""

from __future__ import annotations

import json

import jsonschema
import orjson
import pytest
from schemas import ALL, all_value, roundtrip

from formats.api import SchemaText, UnsupportedSchema
from formats.json_orjson import JsonSchemaViolation, OrjsonCodec
from formats.json_schema import json_schema
from formats.registry import build_registry
from payloads.model import (
    BOOL,
    BYTES,
    FLOAT64,
    INT32,
    INT32_MAX,
    INT64,
    INT64_MIN,
    STRING,
    TIMESTAMP,
    Field,
    Record,
    SchemaMismatch,
    differences,
    normalize,
)


@pytest.fixture(scope="module")
def codec():
    return OrjsonCodec()


def test_registry_and_capabilities(codec):
    c = build_registry(discover_plugins=False).codec("json/orjson")
    assert isinstance(c, OrjsonCodec)
    assert (c.format, c.library, c.modules) == ("json", "orjson", ("orjson",))
    assert c.capabilities.binary is False and c.capabilities.needs_schema is False
    assert c.capabilities.evolution_modes == ("tolerant", "strict")
    c.check_available()
    assert c.library_version() != "unknown"


@pytest.mark.parametrize("policy", [None, "tolerant", "strict"])
def test_roundtrip_every_kind(codec, policy):
    expected = normalize(ALL, all_value())
    assert expected["f32"] != 0.1  # float32 rounding happened in normalize
    prepared = codec.prepare(ALL, policy=policy)
    data, back = roundtrip(prepared, expected)
    assert differences(expected, back) == []
    doc = json.loads(data)
    assert doc["ts"] == 1_700_000_000_123_456 and doc["color"] == "BLUE"
    assert isinstance(doc["raw"], str)  # base64


def test_roundtrip_unnormalized_input_and_whole_floats(codec):
    # ints in float fields and missing optional fields: from_native restores normalize's form
    # (float32 values chosen exact: to_native/from_native do not round float32, normalize does)
    value = all_value(f64=3, route=[{"lat": 1, "lon": 2, "t": 3}], f32=0.5, f32_list=[2], nested=[[1]])
    prepared = codec.prepare(ALL)
    _, back = roundtrip(prepared, value)
    assert differences(normalize(ALL, value), back) == []
    assert type(back["f64"]) is float and type(back["route"][0]["lat"]) is float


def test_non_finite_floats_survive(codec):
    value = normalize(ALL, all_value(f64=float("nan"), f32=float("-inf"), nested=[[float("inf")]]))
    prepared = codec.prepare(ALL)
    data, back = roundtrip(prepared, value)
    assert differences(value, back) == []
    assert b'"f64":"NaN"' in data  # orjson would write NaN as null without to_native's mapping
    # the strict reader's JSON Schema accepts them too
    strict = codec.prepare(ALL, policy="strict")
    assert differences(value, strict.from_native(strict.decode(data))) == []


def test_to_native_is_identity_without_bytes_or_floats(codec):
    plain = Record("Plain", (Field("s", STRING, 1), Field("n", INT64, 2)))
    v = {"s": "x", "n": 1}
    assert codec.prepare(plain).to_native(v) is v


def test_schema_text_is_a_valid_json_schema_that_accepts_the_output(codec):
    st = codec.schema_text(ALL)
    assert isinstance(st, SchemaText) and (st.language, st.extension) == ("json-schema", ".schema.json")
    schema = json.loads(st.text)
    jsonschema.Draft202012Validator.check_schema(schema)
    prepared = codec.prepare(ALL)
    doc = orjson.loads(prepared.encode(prepared.to_native(normalize(ALL, all_value()))))
    jsonschema.Draft202012Validator(schema).validate(doc)
    assert schema["additionalProperties"] is False
    assert "opt_set" not in schema["required"] and "b" in schema["required"]
    assert set(schema["$defs"]) == {"Color", "Point", "Inner"}


V1 = Record("Rider", (Field("id", INT64, 1), Field("name", STRING, 2)))
V2 = Record(
    "Rider",
    (
        Field("id", INT64, 1),
        Field("full_name", STRING, 2, aliases=("name",)),
        Field("rating", FLOAT64, 3, optional=True, default=5.0),
        Field("vip", BOOL, 4, optional=True),
    ),
)


def test_tolerant_reader_ignores_unknown_defaults_missing_and_follows_aliases(codec):
    writer = codec.prepare(V2)
    data = writer.encode(writer.to_native({"id": 1, "full_name": "A", "rating": 4.5, "vip": True}))
    old = codec.prepare(V2, reader_schema=V1, policy="tolerant")
    # old data, new reader: the renamed field is found under its alias, optional fields defaulted
    w1 = codec.prepare(V1)
    old_data = w1.encode(w1.to_native({"id": 7, "name": "Bo"}))
    new = codec.prepare(V1, reader_schema=V2, policy="tolerant")
    assert new.from_native(new.decode(old_data)) == {"id": 7, "full_name": "Bo", "rating": 5.0, "vip": None}
    # new data, old reader: unknown keys ignored, but the required 'name' is missing -> error
    with pytest.raises(SchemaMismatch, match="name"):
        old.from_native(old.decode(data))


def test_strict_reader_rejects_unknown_and_missing_fields(codec):
    strict = codec.prepare(V1, policy="strict")
    assert strict.from_native(strict.decode(b'{"id": 1, "name": "A"}')) == {"id": 1, "name": "A"}
    with pytest.raises(JsonSchemaViolation, match="extra"):
        strict.decode(b'{"id": 1, "name": "A", "extra": 2}')
    with pytest.raises(JsonSchemaViolation, match="name"):
        strict.decode(b'{"id": 1}')
    with pytest.raises(JsonSchemaViolation):
        strict.decode(b'{"id": "1", "name": "A"}')
    with pytest.raises(JsonSchemaViolation):
        strict.decode(b'{"id": 9223372036854775808, "name": "A"}')  # beyond int64
    tolerant = codec.prepare(V1, policy="tolerant")
    assert tolerant.from_native(tolerant.decode(b'{"id": 1, "name": "A", "extra": 2}')) == {"id": 1, "name": "A"}
    # a reader whose new optional field is absent from old data: strict accepts (not required)
    strict2 = codec.prepare(V2, policy="strict")
    assert strict2.from_native(strict2.decode(b'{"id": 1, "full_name": "A"}')) == {
        "id": 1, "full_name": "A", "rating": 5.0, "vip": None,
    }


def test_unknown_policy_is_reported(codec):
    with pytest.raises(UnsupportedSchema, match="policy"):
        codec.prepare(V1, policy="lenient")


@pytest.mark.parametrize("garbage", [b"", b"\xff\xfe\x00", b"{", b'{"id": 1,}', b"nul", b"\x00\x01\x02"])
def test_garbage_raises(codec, garbage):
    prepared = codec.prepare(ALL)
    with pytest.raises(ValueError):
        prepared.from_native(prepared.decode(garbage))


@pytest.mark.parametrize("doc", [b"[1, 2]", b"42", b'{"b": "yes"}', b'{"id": 1.5, "name": "A"}', b'"x"'])
def test_valid_json_of_the_wrong_shape_is_rejected_by_from_native(codec, doc):
    prepared = codec.prepare(V1)
    with pytest.raises(SchemaMismatch):
        prepared.from_native(prepared.decode(doc))


def test_error_paths_name_the_field(codec):
    prepared = codec.prepare(ALL)
    doc = prepared.to_native(normalize(ALL, all_value()))
    doc["route"][1]["lat"] = "far"
    with pytest.raises(SchemaMismatch, match=r"route\[1\]\.lat"):
        prepared.from_native(orjson.loads(orjson.dumps(doc)))
    doc = prepared.to_native(normalize(ALL, all_value()))
    doc["raw"] = "not base64!"
    with pytest.raises(SchemaMismatch, match="raw"):
        prepared.from_native(orjson.loads(orjson.dumps(doc)))


def test_json_schema_int_bounds():
    s = json_schema(Record("R", (Field("a", INT32, 1), Field("b", TIMESTAMP, 2), Field("c", BYTES, 3))))
    v = jsonschema.Draft202012Validator(s)
    assert v.is_valid({"a": INT32_MAX, "b": INT64_MIN, "c": "AAE="})
    assert not v.is_valid({"a": INT32_MAX + 1, "b": 0, "c": ""})
    assert not v.is_valid({"a": 0, "b": 0, "c": "%%%"})


def test_inlined_json_schema_is_equivalent(codec):
    inlined = json_schema(ALL, inline=True)
    assert "$defs" not in inlined and "$ref" not in json.dumps(inlined)
    prepared = codec.prepare(ALL)
    doc = orjson.loads(prepared.encode(prepared.to_native(normalize(ALL, all_value()))))
    for s in (inlined, json_schema(ALL)):
        v = jsonschema.Draft202012Validator(s)
        assert v.is_valid(doc)
        assert not v.is_valid({**doc, "inner": {"name": "n", "zzz": 1}})
        assert not v.is_valid({**doc, "colors": ["PINK"]})
