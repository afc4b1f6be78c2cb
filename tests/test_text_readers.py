"""The text readers (json/orjson, json/stdlib, json/msgspec, xml/lxml) take what OTHER writers send.

Every document here is written by something other than the codec under test: ``xml.etree``,
``xmlrpc.client``, the ``json`` module, ``base64.encodebytes`` / ``urlsafe_b64encode``, float32
values as their shortest text (what Java's ``Float.toString``, Go's ``FormatFloat(f, 'g', -1,
32)`` and .NET write; computed here, or written out by hand). Whether a form is valid is decided
by the generated schema's own validator (``jsonschema``, lxml's ``XMLSchema``), never by the
reader under test; the few places where the reader deliberately differs from the validator are
pinned as such.
"""

from __future__ import annotations

import base64
import json
import math
import random
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
import xmlrpc.client
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from lxml import etree

from formats.json_orjson import JsonSchemaViolation, OrjsonCodec
from formats.json_schema import json_schema
from formats.json_stdlib import StdlibJsonCodec
from formats.msgspec_codecs import MsgspecJsonCodec
from formats.native_convert import FLOAT32_MAX
from formats.xml_lxml import LxmlCodec, XmlDecodeError
from formats.xsd_schema import xml_schema
from payloads.catalog import builtin_payloads
from payloads.model import (
    BOOL,
    BYTES,
    FLOAT32,
    FLOAT64,
    INT32,
    INT64,
    TIMESTAMP,
    EnumType,
    Field,
    ListType,
    MapType,
    Primitive,
    Record,
    SchemaMismatch,
    float32_round,
)

ROOT = Path(__file__).resolve().parents[1]
COLOR = EnumType("Color", ("RED", "GREEN", "BLUE"))
INNER = Record("Inner", (Field("g", FLOAT32, 1),))
READING = Record("Reading", (
    Field("f32", FLOAT32, 1), Field("f64", FLOAT64, 2), Field("n", INT32, 3), Field("big", INT64, 4),
    Field("ts", TIMESTAMP, 5), Field("ok", BOOL, 6), Field("raw", BYTES, 7), Field("color", COLOR, 8),
    Field("f32s", ListType(FLOAT32), 9), Field("inner", INNER, 10),
))
DATA = bytes(range(256)) * 2  # every byte value; base64 of it holds '+' and '/'


def _bits32(x: float) -> bytes:
    return struct.pack("<f", x)


def _shortest32(x: float) -> str:
    """The shortest text that reads back as float32 ``x``: what Java's ``Float.toString``, Go's
    ``FormatFloat(f, 'g', -1, 32)`` and .NET write (9 significant digits always suffice). Zero is
    written as Java does, ``-0.0``: Go's ``-0`` is a JSON integer, and the parsers (orjson, json)
    read it as the int 0, so the sign is gone before any reader code runs."""
    if x == 0:
        return "-0.0" if math.copysign(1, x) < 0 else "0.0"
    for digits in range(1, 10):
        text = f"{x:.{digits}g}"
        try:
            if struct.pack("<f", float(text)) == struct.pack("<f", x):
                return text
        except OverflowError:  # rounded up beyond float32's range: needs more digits
            continue
    raise AssertionError(f"no float32 text for {x!r}")


def _float32_sample(n: int = 2000, seed: int = 5) -> list[float]:
    rng = random.Random(seed)
    out: list[float] = []
    while len(out) < n:
        x = struct.unpack("<f", rng.getrandbits(32).to_bytes(4, "little"))[0]
        if math.isfinite(x):
            out.append(x)
    return out + [FLOAT32_MAX, -FLOAT32_MAX, float32_round(1e-45), float32_round(4.97), float32_round(0.1), 0.0, -0.0]


# ------------------------------------------------------------------------------------------------
# JSON


JSON_READERS = [("json/orjson", "tolerant"), ("json/orjson", "strict"), ("json/stdlib", "tolerant"),
                ("json/stdlib", "strict")]
JSON_CODECS = {"json/orjson": OrjsonCodec, "json/stdlib": StdlibJsonCodec, "json/msgspec": MsgspecJsonCodec}


@pytest.fixture(scope="module")
def validator():
    schema = json_schema(READING)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _json_doc(**numbers: str) -> bytes:
    """A Reading as another JSON writer sends it; ``numbers`` are raw JSON texts of fields."""
    fields = {"f32": "1.5", "f64": "2.5", "n": "7", "big": "8", "ts": "1700000000123456", "ok": "true",
              "raw": json.dumps(base64.b64encode(b"hi").decode()), "color": '"GREEN"', "f32s": "[]",
              "inner": '{"g": 0.25}'}
    fields.update(numbers)
    return ("{" + ", ".join(f'"{k}": {v}' for k, v in fields.items()) + "}").encode()


def _json_read(name: str, policy: str | None, data: bytes) -> Any:
    p = JSON_CODECS[name]().prepare(READING, policy=policy)
    return p.from_native(p.decode(data))


@pytest.mark.parametrize("name, policy", JSON_READERS + [("json/msgspec", None)])
def test_json_float32_shortest_text_reads_as_that_float32(name, policy, validator):
    xs = _float32_sample()
    texts = [_shortest32(x) for x in xs]
    java = ["4.97", "3.4028235E38", "1.4E-45", "1.17549435E-38", "16777217"]  # Float.toString, and an int
    data = _json_doc(f32="4.97", f32s="[" + ", ".join(texts + java) + "]", inner='{"g": 3.4028235E38}')
    validator.validate(json.loads(data))  # valid per the generated JSON Schema
    v = _json_read(name, policy, data)
    assert _bits32(v["f32"]) == _bits32(4.97) and v["f32"] == float32_round(4.97) != 4.97
    assert [_bits32(x) for x in v["f32s"][:len(xs)]] == [_bits32(x) for x in xs]
    f = float32_round
    assert v["f32s"][len(xs):] == [f(4.97), FLOAT32_MAX, f(1e-45), f(1.17549435e-38), 16777216.0]
    assert v["inner"]["g"] == FLOAT32_MAX


@pytest.mark.parametrize("name, policy", JSON_READERS + [("json/msgspec", None)])
@pytest.mark.parametrize("where, path", [("f32", "f32"), ("f32s", "f32s[1]"), ("inner", "inner.g")])
@pytest.mark.parametrize("text", ["1e300", "-3.5e38", "3.4028236E38"])
def test_json_float32_out_of_range_is_an_error_naming_the_field(name, policy, where, path, text, validator):
    doc = {"f32": _json_doc(f32=text), "f32s": _json_doc(f32s=f"[1, {text}]"),
           "inner": _json_doc(inner=f'{{"g": {text}}}')}[where]
    assert not validator.is_valid(json.loads(doc))  # the generated JSON Schema's bounds refuse it too
    if (name, policy) == ("json/orjson", "strict"):  # the JSON Schema check is part of its decode
        with pytest.raises(JsonSchemaViolation, match=rf"{path.replace('.', '/').replace('[', '/').rstrip(']')}: "):
            _json_read(name, policy, doc)
        return
    with pytest.raises(SchemaMismatch, match="out of range for float32") as ei:
        _json_read(name, policy, doc)
    assert ei.value.path == path


@pytest.mark.parametrize("name, policy", JSON_READERS)
def test_json_integers_written_as_whole_floats(name, policy, validator):
    # JSON Schema draft 2020-12: an integer is any number with a zero fraction
    data = _json_doc(n="5.0", big="-4.2e1", ts="1.700000000123456e15", f32s="[3]")
    validator.validate(json.loads(data))
    v = _json_read(name, policy, data)
    assert (v["n"], v["big"], v["ts"]) == (5, -42, 1_700_000_000_123_456)
    assert all(type(v[k]) is int for k in ("n", "big", "ts"))
    assert _json_read(name, policy, _json_doc(n="5e0"))["n"] == 5
    assert _json_read(name, policy, _json_doc(n="-0.0"))["n"] == 0


@pytest.mark.parametrize("name, policy", JSON_READERS)
@pytest.mark.parametrize("field, text, schema_valid, reason", [
    ("n", "5.5", False, "expected int32"),
    ("n", "2147483648.0", False, "does not fit in int32"),
    # valid per the JSON Schema, but the float orjson/json parse may not be the integer written
    # (9007199254740993.0 parses as 2**53): refused, saying how to write it
    ("big", "9007199254740993.0", True, "without a fraction or exponent"),
    ("ts", "1e16", True, "without a fraction or exponent"),
])
def test_json_integer_floats_that_are_not_exact_integers_are_refused(name, policy, field, text, schema_valid, reason,
                                                                     validator):
    doc = _json_doc(**{field: text})
    assert validator.is_valid(json.loads(doc)) is schema_valid
    if (name, policy) == ("json/orjson", "strict") and not schema_valid:
        with pytest.raises(JsonSchemaViolation, match=f"{field}: "):
            _json_read(name, policy, doc)
        return
    with pytest.raises(SchemaMismatch, match=reason) as ei:
        _json_read(name, policy, doc)
    assert ei.value.path == field


@pytest.mark.parametrize("name, policy", JSON_READERS)
def test_json_non_finite_floats_as_strings(name, policy, validator):
    # json/orjson and protobuf's JSON mapping (e.g. Java's JsonFormat) write NaN/Infinity as strings
    data = _json_doc(f64='"NaN"', f32='"-Infinity"', f32s='["Infinity", 1]')
    validator.validate(json.loads(data))
    v = _json_read(name, policy, data)
    assert math.isnan(v["f64"]) and v["f32"] == -math.inf and v["f32s"] == [math.inf, 1.0]
    for bad in ('"nan"', '"inf"', "[1.5]"):
        with pytest.raises((SchemaMismatch, JsonSchemaViolation), match="f64"):
            _json_read(name, policy, _json_doc(f64=bad))


BASE64_FORMS = {
    "standard": base64.b64encode(DATA).decode(),
    "encodebytes": base64.encodebytes(DATA).decode(),  # 76-char lines, as MIME / XML-RPC write
    "mime-crlf": base64.encodebytes(DATA).decode().replace("\n", "\r\n"),
    "urlsafe": base64.urlsafe_b64encode(DATA).decode(),
    "urlsafe-unpadded": base64.urlsafe_b64encode(DATA[:-1]).decode().rstrip("="),
    "unpadded": base64.b64encode(DATA[:-3]).decode().rstrip("="),
}
EXPECTED_BYTES = {"urlsafe-unpadded": DATA[:-1], "unpadded": DATA[:-3]}


@pytest.mark.parametrize("name, policy", JSON_READERS)
@pytest.mark.parametrize("form", list(BASE64_FORMS))
def test_json_base64_as_other_writers_send_it(name, policy, form, validator):
    text = BASE64_FORMS[form]
    data = json.dumps({**json.loads(_json_doc()), "raw": text}).encode()  # the json module writes it
    schema_valid = validator.is_valid(json.loads(data))
    assert schema_valid is (form == "standard")  # the JSON Schema describes the standard form only
    if (name, policy) == ("json/orjson", "strict") and not schema_valid:
        with pytest.raises(JsonSchemaViolation, match="raw: "):
            _json_read(name, policy, data)
        return
    # the tolerant readers (and json/stdlib, whose strict policy is about unknown fields only)
    # take every form other writers send
    assert _json_read(name, policy, data)["raw"] == EXPECTED_BYTES.get(form, DATA)


@pytest.mark.parametrize("name, policy", JSON_READERS)
@pytest.mark.parametrize("text", ["QQ==QQ==", "Q", "QUJD$", "QUJD!!!!", "QU JD\u00a0"])
def test_json_invalid_base64_is_an_error_naming_the_field(name, policy, text):
    data = json.dumps({**json.loads(_json_doc()), "raw": text}).encode()
    with pytest.raises((SchemaMismatch, JsonSchemaViolation), match="raw"):
        _json_read(name, policy, data)


# ------------------------------------------------------------------------------------------------
# XML


@pytest.fixture(scope="module")
def xsd():
    return xml_schema(READING)


def _xml_doc(**texts: str | list[str]) -> bytes:
    """A Reading written with xml.etree (pretty-printed); ``texts`` are the fields' element texts."""
    fields: dict[str, Any] = {"f32": "1.5", "f64": "2.5", "n": "7", "big": "8", "ts": "1700000000123456",
                              "ok": "true", "raw": base64.b64encode(b"hi").decode(), "color": "GREEN", "f32s": [],
                              "inner": "0.25"}
    fields.update(texts)
    root = ET.Element("Reading")
    for k, v in fields.items():
        el = ET.SubElement(root, k)
        if k == "f32s":
            for t in v:
                ET.SubElement(el, "item").text = t
        elif k == "inner":
            ET.SubElement(el, "g").text = v
        else:
            el.text = v
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _xml_read(policy: str, data: bytes) -> Any:
    return LxmlCodec().prepare(READING, policy=policy).decode(data)


@pytest.mark.parametrize("policy", ["tolerant", "strict"])
def test_xml_every_lexical_form_the_xsd_allows(policy, xsd):
    data = _xml_doc(
        f32=" 4.97\n", f64="\n .5 ", n="\n\t+0042 ", big="-9223372036854775808", ts=" 1700000000123456\n",
        ok=" 1 ", raw=base64.encodebytes(DATA).decode(), color="BLUE", inner=" 3.4028235E38 ",
        f32s=["1.", "1E5", "-1.5e-3", "INF", "-INF", "NaN", "1.4E-45", "0", "-0", " 007 "],
    )
    assert xsd.validate(etree.fromstring(data)), xsd.error_log
    v = _xml_read(policy, data)
    assert v["f32"] == float32_round(4.97) and v["f64"] == 0.5 and v["n"] == 42
    assert v["big"] == -(2**63) and v["ts"] == 1_700_000_000_123_456 and v["ok"] is True
    assert v["raw"] == DATA and v["color"] == "BLUE" and v["inner"] == {"g": FLOAT32_MAX}
    f = v["f32s"]
    assert f[:5] == [1.0, 1e5, float32_round(-1.5e-3), math.inf, -math.inf] and math.isnan(f[5])
    assert f[6:] == [float32_round(1e-45), 0.0, -0.0, 7.0] and math.copysign(1, f[8]) == -1
    assert _xml_read(policy, _xml_doc(ok="0"))["ok"] is False
    assert _xml_read(policy, _xml_doc(ok="\nfalse "))["ok"] is False


@pytest.mark.parametrize("policy", ["tolerant", "strict"])
def test_xml_float32_shortest_text_reads_as_that_float32(policy, xsd):
    xs = _float32_sample()
    data = _xml_doc(f32s=[_shortest32(x) for x in xs])
    assert xsd.validate(etree.fromstring(data))
    assert [_bits32(x) for x in _xml_read(policy, data)["f32s"]] == [_bits32(x) for x in xs]


def test_xml_rpc_base64_is_read(xsd):
    # xmlrpc.client writes base64 with base64.encodebytes: 76-character lines
    rpc = xmlrpc.client.dumps((xmlrpc.client.Binary(DATA),))
    text = ET.fromstring(rpc).find(".//base64").text
    assert "\n" in text.strip()
    data = _xml_doc(raw=text)
    assert xsd.validate(etree.fromstring(data))
    for policy in ("tolerant", "strict"):
        assert _xml_read(policy, data)["raw"] == DATA


@pytest.mark.parametrize("field, text", [
    ("n", "1_000"), ("n", "\u0665"), ("n", "5.0"), ("n", "5e0"), ("ts", "2026-01-01T00:00:00Z"),
    ("f64", "inf"), ("f64", "nan"), ("f64", "Infinity"), ("f64", "+INF"), ("f64", "1_0.5"), ("f64", "0x10"),
    ("ok", "TRUE"), ("ok", "yes"), ("ok", ""),
    ("raw", "-_8="), ("raw", "QQ"), ("raw", "QQ==QQ=="), ("raw", "QU$D"),
    ("color", " GREEN "),
])
def test_xml_refuses_what_the_xsd_refuses_naming_the_field(field, text, xsd):
    data = _xml_doc(**{field: text})
    assert not xsd.validate(etree.fromstring(data))
    with pytest.raises(XmlDecodeError, match=rf"field Reading\.{field}: "):
        _xml_read("tolerant", data)
    with pytest.raises(XmlDecodeError):
        _xml_read("strict", data)


@pytest.mark.parametrize("policy", ["tolerant", "strict"])
@pytest.mark.parametrize("where, named", [("f32", "Reading.f32"), ("f32s", "Reading.f32s"), ("inner", "Inner.g")])
@pytest.mark.parametrize("text", ["1e300", "-3.5e38", "3.4028236E38"])
def test_xml_float32_out_of_range_is_an_error_naming_the_field(policy, where, named, text, xsd):
    data = _xml_doc(**{where: [text] if where == "f32s" else text})
    # libxml2 accepts an xs:float beyond float32's range (XSD 1.1 maps it to INF): the reader
    # deliberately refuses it instead of turning a wrong value into infinity
    assert xsd.validate(etree.fromstring(data))
    with pytest.raises(XmlDecodeError, match=rf"field {named}: .* is out of range for float32"):
        _xml_read(policy, data)


@pytest.mark.parametrize("text", ["1e400", "-1e999"])
def test_xml_float64_beyond_double_is_refused_not_infinity(text, xsd):
    data = _xml_doc(f64=text)
    assert xsd.validate(etree.fromstring(data))  # libxml2 takes it (XSD 1.1 would make it INF)
    with pytest.raises(XmlDecodeError, match=rf"field Reading\.f64: '{text}' is out of range for float64"):
        _xml_read("tolerant", data)


# ------------------------------------------------------------------------------------------------
# a whole built-in payload written by other writers, checked with `msgbench decode --check`


def _walk(t: Any, v: Any, leaf: Any) -> Any:
    """``v`` (of type ``t``) with every primitive/enum value ``x`` replaced by ``leaf(t, x)``."""
    if v is None:
        return None
    if isinstance(t, (Primitive, EnumType)):
        return leaf(t, v)
    if isinstance(t, ListType):
        return [_walk(t.items, x, leaf) for x in v]
    if isinstance(t, MapType):
        return {k: _walk(t.values, x, leaf) for k, x in v.items()}
    return {f.name: _walk(f.type, v[f.name], leaf) for f in t.fields if v.get(f.name) is not None}


def _foreign_json(schema: Record, value: dict, wrap_base64: bool = True) -> bytes:
    """JSON as a Java/Go/JavaScript service writes it: float32 as shortest text, timestamps as
    doubles, bytes as line-wrapped base64 (``base64.encodebytes``) unless ``wrap_base64`` is off."""
    raw: list[str] = []

    def leaf(t: Any, x: Any) -> Any:
        if isinstance(t, Primitive) and t.kind == "float32":
            raw.append(_shortest32(x))
            return f"@float32:{len(raw) - 1}@"
        if isinstance(t, Primitive) and t.kind == "bytes":
            return base64.encodebytes(x).decode() if wrap_base64 else base64.b64encode(x).decode()
        if isinstance(t, Primitive) and t.kind == "timestamp":
            return float(x) if abs(x) < 2**53 else x  # JavaScript: every number is a double
        return x

    text = json.dumps(_walk(schema, value, leaf), indent=2)
    for i, r in enumerate(raw):
        text = text.replace(f'"@float32:{i}@"', r)
    return text.encode()


def _foreign_xml(schema: Record, value: dict) -> bytes:
    """XML written with xml.etree: shortest float32 text, 1/0 booleans, base64 lines, indentation."""

    def text(t: Any, x: Any) -> str:
        if isinstance(t, EnumType) or t.kind == "string":
            return x
        if t.kind == "bool":
            return "1" if x else "0"
        if t.kind == "bytes":
            return base64.encodebytes(x).decode()
        if t.kind == "float32":
            return _shortest32(x)
        if t.kind == "float64":
            return repr(x).replace("inf", "INF").replace("nan", "NaN")
        return f" {x}\n"

    def fill(el: Any, t: Any, x: Any) -> None:
        if isinstance(t, (Primitive, EnumType)):
            el.text = text(t, x)
        elif isinstance(t, ListType):
            for y in x:
                fill(ET.SubElement(el, "item"), t.items, y)
        elif isinstance(t, MapType):
            for k, y in x.items():
                fill(ET.SubElement(el, "entry", key=k), t.values, y)
        else:
            for f in t.fields:
                if x.get(f.name) is not None:
                    fill(ET.SubElement(el, f.name), f.type, x[f.name])

    root = ET.Element(schema.name)
    fill(root, schema, value)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


@pytest.mark.parametrize("codec, write", [("json/orjson", _foreign_json), ("json/stdlib", _foreign_json),
                                          ("xml/lxml", _foreign_xml)])
def test_msgbench_decode_check_accepts_a_payload_from_another_writer(codec, write, tmp_path):
    payload = next(p for p in builtin_payloads() if p.name == "completed_trip")
    # the payload has float32 values whose shortest text is not their float64 value
    f32: list[float] = []
    _walk(payload.schema, payload.value, lambda t, x: f32.append(x) if getattr(t, "kind", "") == "float32" else None)
    assert any(float(_shortest32(x)) != x for x in f32)
    data = write(payload.schema, payload.value)
    if codec == "xml/lxml":
        assert xml_schema(payload.schema).validate(etree.fromstring(data))
        assert b"<item>" in data and b"\n  " in data
    else:
        schema = json_schema(payload.schema)
        valid = json.loads(_foreign_json(payload.schema, payload.value, wrap_base64=False))
        jsonschema.validators.validator_for(schema)(schema).validate(valid)
        assert any(isinstance(x, float) and x.is_integer() and x > 1e15 for x in _numbers(json.loads(data)))
    # the decoded value, written back by the codec, is valid per the schema's own validator
    prepared = {"json/orjson": OrjsonCodec, "json/stdlib": StdlibJsonCodec, "xml/lxml": LxmlCodec}[codec]().prepare(
        payload.schema)
    back = prepared.encode(prepared.to_native(prepared.from_native(prepared.decode(data))))
    if codec == "xml/lxml":
        assert xml_schema(payload.schema).validate(etree.fromstring(back))
    else:
        jsonschema.validators.validator_for(schema)(schema).validate(json.loads(back))
    f = tmp_path / "foreign.bin"
    f.write_bytes(data)
    proc = subprocess.run([sys.executable, "-m", "bench.cli", "--no-plugins", "decode", "--codec", codec, "--payload",
                           "completed_trip", "--check", str(f)], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-1500:]
    assert "decoded value equals payload completed_trip" in proc.stderr


def _numbers(v: Any) -> list:
    if isinstance(v, dict):
        return [y for x in v.values() for y in _numbers(x)]
    if isinstance(v, list):
        return [y for x in v for y in _numbers(x)]
    return [v] if isinstance(v, (int, float)) and not isinstance(v, bool) else []


def test_float32_rounder_reaches_every_float32_and_names_the_path():
    from formats.native_convert import make_float32_rounder

    point = Record("Pt", (Field("x", FLOAT32, 1), Field("note", FLOAT64, 2), Field("o", FLOAT32, 3, optional=True)))
    schema = Record("S", (
        Field("pts", ListType(point), 1), Field("by", MapType(FLOAT32), 2),
        Field("grid", ListType(ListType(FLOAT32)), 3),
        Field("named", MapType(point), 4), Field("d", FLOAT64, 5),
    ))
    assert make_float32_rounder(Record("N", (Field("d", FLOAT64, 1), Field("l", ListType(INT32), 2)))) is None
    r = make_float32_rounder(schema)
    v = {"pts": [{"x": 4.97, "note": 4.97, "o": None}], "by": {"a": 0.1}, "grid": [[1.1, math.inf], []],
         "named": {"k": {"x": math.nan, "note": 0.1, "o": 2.2}}, "d": 0.1}
    out = r(v)
    assert out is v  # in place
    f = float32_round
    assert v["pts"] == [{"x": f(4.97), "note": 4.97, "o": None}] and v["by"] == {"a": f(0.1)}
    assert v["grid"] == [[f(1.1), math.inf], []] and v["d"] == 0.1
    assert math.isnan(v["named"]["k"]["x"]) and v["named"]["k"]["o"] == f(2.2) and v["named"]["k"]["note"] == 0.1
    for bad, path in [({"pts": [{"x": 1.0}, {"x": 1e300}]}, "pts[1].x"), ({"by": {"z": -1e39}}, "by['z']"),
                      ({"grid": [[], [1.0, 3.5e38]]}, "grid[1][1]"),
                      ({"named": {"k": {"x": 0.0, "o": 1e300}}}, "named['k'].o")]:
        with pytest.raises(SchemaMismatch, match="out of range for float32") as ei:
            r(bad)
        assert ei.value.path == path
