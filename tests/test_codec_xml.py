"""xml/lxml: round trips with the real lxml, the generated XSD against the codec's output, the
hardened reader (XXE, entity expansion, PIs, comments), reader policies, errors."""

from __future__ import annotations

import pytest
from lxml import etree
from schemas import ALL, COLOR, INNER, all_value, roundtrip

from formats.api import SchemaText, UnsupportedSchema
from formats.registry import build_registry
from formats.xml_lxml import LxmlCodec, XmlDecodeError, XmlRejected
from formats.xsd_schema import xml_schema, xsd_text
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
    SchemaMismatch,
    differences,
    normalize,
)


@pytest.fixture(scope="module")
def codec():
    return LxmlCodec()


def test_registry_and_capabilities(codec):
    c = build_registry(discover_plugins=False).codec("xml/lxml")
    assert isinstance(c, LxmlCodec)
    assert c.capabilities.binary is False and c.capabilities.needs_schema is False
    assert c.capabilities.evolution_modes == ("tolerant", "strict")
    assert any("schema-guided" in n for n in c.capabilities.notes)
    assert c.backend().startswith("libxml2")


@pytest.mark.parametrize("policy", [None, "strict"])
def test_roundtrip_every_kind(codec, policy):
    expected = normalize(ALL, all_value())
    data, back = roundtrip(codec.prepare(ALL, policy=policy), expected)
    assert differences(expected, back) == []
    assert data.startswith(b"<AllKinds><b>true</b>")


def test_floats_and_whitespace_are_exact(codec):
    expected = normalize(
        ALL,
        all_value(
            f64=float("nan"), f32=float("inf"), nested=[[float("-inf"), 1e-45]],
            s=" \r\n \t lead/trail whitespace, CR and CRLF \r\n ", tags=["\n", "   ", "\r", ""],
        ),
    )
    for policy in ("tolerant", "strict"):
        assert differences(expected, roundtrip(codec.prepare(ALL, policy=policy), expected)[1]) == []


def test_empty_list_differs_from_absent_optional_list(codec):
    p = codec.prepare(ALL)
    for opt_list in (None, [], [INT64_MIN]):
        expected = normalize(ALL, all_value(opt_list=opt_list))
        assert roundtrip(p, expected)[1]["opt_list"] == opt_list


@pytest.mark.parametrize("bad", ["nul\x00", "bell\x07", "esc\x1b", "lone \ud800 surrogate", "\ufffe"])
def test_strings_xml_cannot_hold_are_unsupported_not_changed(codec, bad):
    p = codec.prepare(ALL)
    with pytest.raises(UnsupportedSchema, match="XML"):
        p.encode(normalize(ALL, all_value(s=bad)))
    with pytest.raises(UnsupportedSchema):
        p.encode(normalize(ALL, all_value(attrs={bad: 1})))  # map key (an attribute)


def test_xsd_validates_the_output(codec):
    st = codec.schema_text(ALL)
    assert isinstance(st, SchemaText) and (st.language, st.extension) == ("xsd", ".xsd")
    schema = etree.XMLSchema(etree.fromstring(st.text.encode()))
    p = codec.prepare(ALL)
    for v in (all_value(), all_value(opt_list=[1, 2], opt_rec={"name": "r"}, f64=float("-inf"))):
        doc = etree.fromstring(p.encode(normalize(ALL, v)))
        assert schema.validate(doc), schema.error_log
    # ... and rejects an unknown element, a missing required one, a bad enum symbol
    good = p.encode(normalize(ALL, all_value()))
    for bad in (
        good.replace(b"<b>true</b>", b"<b>true</b><zzz>1</zzz>"),
        good.replace(b"<b>true</b>", b""),
        good.replace(b"<color>BLUE</color>", b"<color>PINK</color>"),
        good.replace(b"<i32>-2147483648</i32>", b"<i32>-2147483649</i32>"),
    ):
        assert not schema.validate(etree.fromstring(bad))


def test_xsd_types():
    text = xsd_text(ALL)
    for snippet in ('type="xs:int"', 'type="xs:long"', 'type="xs:float"', 'type="xs:double"', 'type="xs:boolean"',
                    'type="xs:base64Binary"', '<xs:enumeration value="GREEN"/>', 'name="opt_set" type="xs:int" minOccurs="0"',
                    '<xs:complexType name="Inner">', '<xs:element name="AllKinds" type="AllKinds"/>'):
        assert snippet in text


@pytest.fixture()
def secret_file(tmp_path):
    p = tmp_path / "secret.txt"
    p.write_text("TOP-SECRET-7f3a9c")
    return p


def xxe_docs(secret_file):
    uri = secret_file.as_uri()
    return {
        "xxe": f'<?xml version="1.0"?><!DOCTYPE V1 [<!ENTITY x SYSTEM "{uri}">]><V1><id>1</id><name>&x;</name></V1>',
        "xxe_param": f'<?xml version="1.0"?><!DOCTYPE V1 [<!ENTITY % p SYSTEM "{uri}"> %p;]><V1><id>1</id><name>a</name></V1>',
        "external_dtd": f'<?xml version="1.0"?><!DOCTYPE V1 SYSTEM "{uri}"><V1><id>1</id><name>a</name></V1>',
        "laughs": '<?xml version="1.0"?><!DOCTYPE V1 [<!ENTITY a "lol">'
        + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(9))
        + "]><V1><id>1</id><name>&j;</name></V1>",
    }


@pytest.mark.parametrize("policy", ["tolerant", "strict"])
@pytest.mark.parametrize("kind", ["xxe", "xxe_param", "external_dtd", "laughs"])
def test_hostile_documents_are_rejected_without_leaking(codec, secret_file, kind, policy):
    doc = xxe_docs(secret_file)[kind].encode()
    p = codec.prepare(V1, policy=policy)
    with pytest.raises((XmlRejected, XmlDecodeError)) as info:
        p.decode(doc)
    assert "TOP-SECRET" not in str(info.value)
    assert isinstance(info.value, XmlRejected) or "not well-formed" in str(info.value)


@pytest.mark.parametrize(
    "doc",
    [
        b"<V1><id>1</id><?evil pi?><name>a</name></V1>",
        b"<V1><id>1</id><name>a<!-- c --></name></V1>",
        b"<V1><!-- c --><id>1</id><name>a</name></V1>",
        b"<?pi x?><V1><id>1</id><name>a</name></V1>",
        b"<V1><id>1</id><name>a</name></V1><!-- trailing -->",
    ],
)
def test_non_element_nodes_are_rejected(codec, doc):
    with pytest.raises(XmlRejected):
        codec.prepare(V1).decode(doc)


@pytest.mark.parametrize(
    "garbage",
    [b"", b"\x00\xff\x13garbage", b"<V1><id>1</id>", b"{\"id\": 1}", b"<V1><id>x</id><name>a</name></V1>",
     b"<Other><id>1</id><name>a</name></Other>", b"<V1><id>1<b/></id><name>a</name></V1>"],
)
def test_garbage_raises(codec, garbage):
    with pytest.raises(XmlDecodeError):
        codec.prepare(V1).decode(garbage)


V1 = Record("V1", (Field("id", INT64, 1), Field("name", STRING, 2)))
V2 = Record(
    "V1",
    (
        Field("id", INT64, 1),
        Field("full_name", STRING, 2, aliases=("name",)),
        Field("rating", FLOAT64, 3, optional=True, default=5.0),
        Field("vip", BOOL, 4, optional=True),
    ),
)


def test_tolerant_reader(codec):
    p = codec.prepare(V1, reader_schema=V2, policy="tolerant")
    # old data, new reader: alias followed, optional fields defaulted
    assert p.decode(b"<V1><id>7</id><name>Bo</name></V1>") == {"id": 7, "full_name": "Bo", "rating": 5.0, "vip": None}
    # unknown elements ignored (wherever they are, whatever they hold)
    old = codec.prepare(V2, reader_schema=V1)
    assert old.decode(b"<V1><id>1</id><x><y>2</y></x><name>a</name><rating>2.5</rating></V1>") == {"id": 1, "name": "a"}
    with pytest.raises(XmlDecodeError, match="required field V1.name is missing"):
        old.decode(b"<V1><id>1</id><full_name>a</full_name></V1>")
    with pytest.raises(XmlDecodeError, match="twice"):
        old.decode(b"<V1><id>1</id><id>2</id><name>a</name></V1>")


def test_strict_reader_validates_against_the_xsd(codec):
    p = codec.prepare(V1, policy="strict")
    assert p.decode(b"<V1><id>1</id><name>a</name></V1>") == {"id": 1, "name": "a"}
    for bad in (b"<V1><id>1</id><name>a</name><extra/></V1>", b"<V1><id>1</id></V1>",
                b"<V1><name>a</name><id>1</id></V1>", b"<V1><id>99999999999999999999</id><name>a</name></V1>"):
        with pytest.raises(XmlDecodeError, match="not valid"):
            p.decode(bad)
    tolerant = codec.prepare(V1)
    assert tolerant.decode(b"<V1><name>a</name><id>1</id><extra/></V1>") == {"id": 1, "name": "a"}


def test_invalid_xml_names_are_unsupported(codec):
    for r in (Record("R", (Field("has space", INT32, 1),)), Record("R", (Field("1st", INT32, 1),)),
              Record("R", (Field("a:b", INT32, 1),)), Record("Bad Name", (Field("a", INT32, 1),))):
        with pytest.raises(UnsupportedSchema, match="not a valid XML"):
            codec.prepare(r)


def test_unknown_policy_and_null_required(codec):
    with pytest.raises(UnsupportedSchema, match="policy"):
        codec.prepare(V1, policy="lenient")
    with pytest.raises(SchemaMismatch):
        codec.prepare(V1).encode({"id": 1, "name": None})


def test_int_extremes_and_bools(codec):
    r = Record("N", (Field("a", INT32, 1), Field("b", INT64, 2), Field("c", BOOL, 3), Field("t", TIMESTAMP, 4),
                     Field("e", EnumType("E", ("x y", "z")), 5), Field("f", FLOAT32, 6)))
    p = codec.prepare(r)
    for v in ({"a": INT32_MIN, "b": INT64_MIN, "c": False, "t": INT64_MIN, "e": "x y", "f": 0.1},
              {"a": INT32_MAX, "b": INT64_MAX, "c": True, "t": INT64_MAX, "e": "z", "f": -0.0}):
        e = normalize(r, v)
        assert differences(e, roundtrip(p, e)[1]) == []
    with pytest.raises(XmlDecodeError, match="does not fit"):
        p.decode(b"<N><a>2147483648</a><b>0</b><c>true</c><t>0</t><e>z</e><f>0</f></N>")


def test_xml_schema_compiles_for_maps_of_every_value_kind():
    r = Record("M", (Field("m1", MapType(INT32), 1), Field("m2", MapType(INNER), 2),
                     Field("m3", MapType(ListType(STRING)), 3), Field("m4", MapType(MapType(COLOR)), 4),
                     Field("m5", MapType(BYTES), 5), Field("l", ListType(MapType(FLOAT32)), 6)))
    schema = xml_schema(r)
    p = LxmlCodec().prepare(r, policy="strict")
    v = normalize(r, {"m1": {"a": 1}, "m2": {"b": {"name": "n"}}, "m3": {"c": ["x", ""]}, "m4": {"d": {"e": "RED"}},
                      "m5": {"f": b"\x01"}, "l": [{"g": 1.5}, {}]})
    data = p.encode(v)
    assert schema.validate(etree.fromstring(data)), schema.error_log
    assert differences(v, p.decode(data)) == []
