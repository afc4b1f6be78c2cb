"""Each evolution finding pinned twice: what the library does, with a few lines of plain library
code (fastavro, protobuf message classes, thriftpy2), next to msgbench's cell for the same change.

A library upgrade that changes behaviour fails the plain half and names the cell to re-check; a
classifier change that misreports the library fails the cell half. The cells run in-process with
:func:`bench.evolution.run_cell` (the matrix runs them in worker processes; the logic is the same).
"""

from __future__ import annotations

import functools
import io
import json

import fastavro
import pytest
import thriftpy2
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from thriftpy2.protocol import TCyBinaryProtocolFactory
from thriftpy2.utils import deserialize, serialize

from bench import evolution as ev
from formats.api import Capabilities, Codec, SimplePrepared, UnsupportedSchema
from payloads import evolution as sc

# ------------------------------------------------------------------------------------------------
# helpers: msgbench's cell, and the plain libraries


@functools.cache
def _codec(name: str) -> Codec:
    from formats.registry import build_registry

    c = build_registry(False).codec(name)
    c.check_available()
    return c


def cell(codec: str, scenario: str, direction: str, policy: str | None = None) -> dict:
    return ev.run_cell(ev._Preparer(_codec(codec), policy), sc.BY_ID[scenario], direction).to_json()


def by_label(c: dict) -> dict[str, dict]:
    return {v["label"].split(" (")[0]: v for v in c["values"]}


def avro_read(writer: dict, reader: dict, value: dict) -> dict:
    buf = io.BytesIO()
    fastavro.schemaless_writer(buf, fastavro.parse_schema(writer), value)
    buf.seek(0)
    return fastavro.schemaless_reader(buf, fastavro.parse_schema(writer), fastavro.parse_schema(reader))


def avro_record(*fields: dict) -> dict:
    return {"type": "record", "name": "Trip", "fields": list(fields)}


_T = descriptor_pb2.FieldDescriptorProto


def pb_class(pkg: str, fields: list[tuple[str, int, int]], enum: list[tuple[str, int]] | None = None):
    """A proto3 message class ``pkg.Trip`` built with the protobuf runtime alone (no msgbench)."""
    fdp = descriptor_pb2.FileDescriptorProto(name=f"{pkg}.proto", package=pkg, syntax="proto3")
    if enum:
        e = fdp.enum_type.add(name="RideClass")
        for name, number in enum:
            e.value.add(name=name, number=number)
    m = fdp.message_type.add(name="Trip")
    for name, number, typ in fields:
        f = m.field.add(name=name, number=number, type=typ, label=_T.LABEL_OPTIONAL)
        if typ == _T.TYPE_ENUM:
            f.type_name = f".{pkg}.RideClass"
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fdp)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{pkg}.Trip"))


def thrift_module(name: str, idl: str):
    return thriftpy2.load_fp(io.StringIO(idl), module_name=f"evo_findings_{name}_thrift")


def thrift_read(writer_obj, reader_cls):
    f = TCyBinaryProtocolFactory()
    return deserialize(reader_cls(), serialize(writer_obj, f), f)


# ------------------------------------------------------------------------------------------------
# 1. the outcome depends on the value: one that fits, one that does not


def test_widen_int_forward_fastavro_rejects_long_data_for_an_int_reader_whatever_the_value() -> None:
    w = avro_record({"name": "distance_m", "type": "long"})
    r = avro_record({"name": "distance_m", "type": "int"})
    for value in (23_456, 5_000_000_000):
        with pytest.raises(fastavro.read.SchemaResolutionError):
            avro_read(w, r, {"distance_m": value})
    c = cell("avro/fastavro", "widen-int", "forward")
    v = by_label(c)
    assert (v["fits int32"]["outcome"], v["fits int32"]["ideal"]) == ("error", False)
    assert (v["past int32"]["outcome"], v["past int32"]["ideal"]) == ("error", True)
    assert (c["outcome"], c["ideal"]) == ("error", False)  # the worse of the two


def test_widen_int_forward_protobuf_reads_a_fitting_value_and_truncates_one_past_int32() -> None:
    v2 = pb_class("evo_widen_v2", [("distance_m", 8, _T.TYPE_INT64)])
    v1 = pb_class("evo_widen_v1", [("distance_m", 8, _T.TYPE_INT32)])
    assert v1.FromString(v2(distance_m=23_456).SerializeToString()).distance_m == 23_456
    assert v1.FromString(v2(distance_m=5_000_000_000).SerializeToString()).distance_m == 705_032_704
    c = cell("protobuf/upb", "widen-int", "forward")
    v = by_label(c)
    assert (v["fits int32"]["outcome"], v["fits int32"]["ideal"]) == ("ok", True)
    assert v["past int32"]["outcome"] == "changed" and "got 705032704" in v["past int32"]["detail"]
    assert (c["outcome"], c["ideal"]) == ("changed", False)
    assert c["brief"].startswith("ok for fits int32") and "changed* for past int32" in c["brief"]


def test_narrow_int_backward_protobuf_truncates_only_past_int32_fastavro_always_refuses() -> None:
    v1 = pb_class("evo_narrow_v1", [("passenger_id", 2, _T.TYPE_INT64)])
    v2 = pb_class("evo_narrow_v2", [("passenger_id", 2, _T.TYPE_INT32)])
    assert v2.FromString(v1(passenger_id=4_200_017).SerializeToString()).passenger_id == 4_200_017
    assert v2.FromString(v1(passenger_id=7_000_000_001).SerializeToString()).passenger_id == -1_589_934_591
    v = by_label(cell("protobuf/upb", "narrow-int", "backward"))
    assert v["fits int32"]["outcome"] == "ok" and v["past int32"]["outcome"] == "changed"
    v = by_label(cell("avro/fastavro", "narrow-int", "backward"))
    assert [v[k]["outcome"] for k in ("fits int32", "past int32")] == ["error", "error"]
    assert not v["fits int32"]["ideal"] and v["past int32"]["ideal"]


def test_optional_to_required_backward_thrift_cell_shows_both_values() -> None:
    v = by_label(cell("thrift/binary", "optional-to-required", "backward"))
    assert v["a note"]["outcome"] == "ok"
    # thriftpy2 hands back None for the now-required note, no error; msgbench's check refuses it
    assert (v["null"]["outcome"], v["null"]["ideal"]) == ("defaulted", False)
    assert (v["null"]["adapter"]["outcome"], v["null"]["adapter"]["ideal"]) == ("error", True)


# ------------------------------------------------------------------------------------------------
# 2./3. silent loss is named, also through an old intermediary


def test_avro_add_optional_default_through_an_old_intermediary_is_silent_loss() -> None:
    v2 = avro_record({"name": "trip_id", "type": "string"},
                     {"name": "payment_method", "type": ["string", "null"], "default": "card"})
    v1 = avro_record({"name": "trip_id", "type": "string"})
    seen = avro_read(v2, v1, {"trip_id": "t", "payment_method": "cash"})  # the v1 service reads it
    assert seen == {"trip_id": "t"}
    assert avro_read(v1, v2, seen) == {"trip_id": "t", "payment_method": "card"}  # and forwards it
    c = cell("avro/fastavro", "add-optional-default", "roundtrip")
    assert (c["outcome"], c["ideal"]) == ("lost", False)
    assert "expected 'cash', got 'card'" in c["detail"]
    summary = " ".join(ev.summarize({"scenarios": [sc.BY_ID["add-optional-default"].to_json()],
                                     "codecs": ["avro/fastavro"], "safe_scenarios": [], "cells": [
                                         {"scenario": "add-optional-default", "codec": "avro/fastavro",
                                          "direction": "roundtrip", **c}]}))
    assert "avro/fastavro: no error but a wrong value in 1 cell" in summary
    assert "silently got a default or nothing instead of the written value with avro/fastavro" in summary
    assert "writer's schema" in summary  # Avro's condition


def test_protobuf_changed_field_id_is_lost_not_changed() -> None:
    v1 = pb_class("evo_renum_v1", [("note", 7, _T.TYPE_STRING)])
    v2 = pb_class("evo_renum_v2", [("note", 17, _T.TYPE_STRING)])
    read = v2.FromString(v1(note="gate B").SerializeToString())
    assert read.note == "" and read.SerializeToString() == v1(note="gate B").SerializeToString()  # kept unknown
    c = cell("protobuf/upb", "change-field-id", "backward")
    assert c["outcome"] == "lost" and "kept unknown field number(s) 7" in c["detail"]


# ------------------------------------------------------------------------------------------------
# 4. library vs msgbench's adapter


def test_protobuf_hands_back_a_bare_enum_number_and_re_emits_it() -> None:
    symbols = [("RIDE_CLASS_UNSPECIFIED", 0), ("UNKNOWN", 1), ("ECONOMY", 2), ("COMFORT", 3), ("XL", 4)]
    v1 = pb_class("evo_enum_v1", [("ride_class", 5, _T.TYPE_ENUM)], symbols)
    v2 = pb_class("evo_enum_v2", [("ride_class", 5, _T.TYPE_ENUM)], symbols + [("GREEN", 5)])
    old = v1.FromString(v2(ride_class=5).SerializeToString())
    assert old.ride_class == 5  # proto3 open enum: the number the reader does not know
    assert v2.FromString(old.SerializeToString()).ride_class == 5
    c = cell("protobuf/upb", "enum-add-symbol", "forward")
    green = by_label(c)["the new symbol"]
    assert (green["outcome"], green["ideal"]) == ("preserved-unknown", False) and "got 5 (a bare number" in green["detail"]
    assert (c["adapter"]["outcome"], c["adapter"]["ideal"]) == ("defaulted", True)  # msgbench maps 5 -> UNKNOWN
    assert cell("protobuf/upb", "enum-add-symbol", "roundtrip")["outcome"] == "preserved-unknown"


_THRIFT_V1 = """
enum RideClass { UNKNOWN = 1, ECONOMY = 2, COMFORT = 3, XL = 4 }
struct Trip { 5: required RideClass ride_class, 6: required i32 seats, 8: required i32 distance_m }
"""
_THRIFT_V2 = """
enum RideClass { UNKNOWN = 1, ECONOMY = 2, COMFORT = 3, XL = 4, GREEN = 5 }
struct Trip { 5: required RideClass ride_class, 8: required i64 distance_m }
"""


@pytest.fixture(scope="module")
def thrift_plain() -> tuple:
    return thrift_module("v1", _THRIFT_V1), thrift_module("v2", _THRIFT_V2)


def test_thriftpy2_keeps_a_bare_enum_number(thrift_plain: tuple) -> None:
    v1, v2 = thrift_plain
    old = thrift_read(v2.Trip(ride_class=5, distance_m=1), v1.Trip)
    assert old.ride_class == 5
    c = cell("thrift/binary", "enum-add-symbol", "forward")
    assert by_label(c)["the new symbol"]["outcome"] == "preserved-unknown"
    assert c["adapter"]["outcome"] == "defaulted"


def test_thriftpy2_returns_none_for_a_missing_required_field_without_error(thrift_plain: tuple) -> None:
    v1, v2 = thrift_plain
    old = thrift_read(v2.Trip(ride_class=2, distance_m=1), v1.Trip)  # v2 has no seats
    assert old.seats is None
    c = cell("thrift/binary", "remove-required", "forward")
    assert (c["outcome"], c["ideal"]) == ("defaulted", False) and "seats" in c["detail"]
    assert (c["adapter"]["outcome"], c["adapter"]["ideal"]) == ("error", True)  # msgbench's own check


def test_thriftpy2_skips_a_field_whose_wire_type_changed(thrift_plain: tuple) -> None:
    v1, v2 = thrift_plain
    new = thrift_read(v1.Trip(ride_class=2, seats=1, distance_m=12_345), v2.Trip)  # i32 on the wire, i64 reader
    assert new.distance_m is None
    c = cell("thrift/binary", "widen-int", "backward")
    assert (c["outcome"], c["ideal"]) == ("lost", False) and "distance_m: expected 12345, got None" in c["detail"]
    a = c["adapter"]
    assert a["outcome"] == "error" and "different wire type" in a["detail"] and "missing from" not in a["detail"]


# ------------------------------------------------------------------------------------------------
# 6. backward-direction preservation: does a new reader re-emit what it dropped?


def test_a_new_intermediary_re_emits_a_removed_field_with_protobuf_not_avro_or_thrift() -> None:
    v1 = pb_class("evo_rm_v1", [("trip_id", 1, _T.TYPE_STRING), ("note", 7, _T.TYPE_STRING)])
    v2 = pb_class("evo_rm_v2", [("trip_id", 1, _T.TYPE_STRING)])
    forwarded = v2.FromString(v1(trip_id="t", note="gate B").SerializeToString()).SerializeToString()
    assert v1.FromString(forwarded).note == "gate B"
    c = cell("protobuf/upb", "remove-optional", "backward-roundtrip")
    assert (c["outcome"], c["ideal"]) == ("preserved-unknown", True)

    a1 = avro_record({"name": "trip_id", "type": "string"},
                     {"name": "note", "type": ["null", "string"], "default": None})
    a2 = avro_record({"name": "trip_id", "type": "string"})
    seen = avro_read(a1, a2, {"trip_id": "t", "note": "gate B"})  # the v2 service reads it
    assert avro_read(a2, a1, seen)["note"] is None  # and forwards it: the v1 reader's default
    assert cell("avro/fastavro", "remove-optional", "backward-roundtrip")["outcome"] == "lost"
    assert cell("thrift/binary", "remove-optional", "backward-roundtrip")["outcome"] == "lost"


# ------------------------------------------------------------------------------------------------
# 5. a codec that declares no evolution mode is still asked for a reader of the other schema


class _OwnSchemaOnly(Codec):
    name = "test/own-schema-only"
    format = "test"
    library = "json"
    capabilities = Capabilities(binary=False, needs_schema=False)  # no evolution_modes

    def prepare(self, schema, reader_schema=None, policy=None):
        if reader_schema is not None and reader_schema != schema:
            raise UnsupportedSchema(f"{self.name} reads only data written with its own schema")
        return SimplePrepared(encode=lambda v: json.dumps(v).encode(), decode=json.loads)


def test_a_codec_without_evolution_modes_shows_unsupported_not_unearned_verdicts() -> None:
    prep = ev._Preparer(_OwnSchemaOnly(), None)
    for d in sc.DIRECTIONS:
        c = ev.run_cell(prep, sc.BY_ID["add-optional-default"], d).to_json()
        assert c["outcome"] == "unsupported" and "reads only" in c["detail"], (d, c)


# ------------------------------------------------------------------------------------------------
# 4. tolerant text readers: the reader's own enum default; no silent [] for text in a list position


@pytest.mark.parametrize("codec", ["json/orjson", "xml/lxml"])
def test_tolerant_text_readers_honour_the_readers_enum_default(codec: str) -> None:
    tolerant = cell(codec, "enum-add-symbol", "forward", "tolerant")
    green = by_label(tolerant)["the new symbol"]
    assert (green["outcome"], green["ideal"]) == ("defaulted", True) and "ride_class='UNKNOWN'" in green["detail"]
    assert tolerant["ideal"]
    strict = by_label(cell(codec, "enum-add-symbol", "forward", "strict"))["the new symbol"]
    assert strict["outcome"] == "error"  # a strict reader validates against its own schema


def test_tolerant_xml_reader_refuses_text_where_a_list_is_expected() -> None:
    from lxml import etree

    from formats.xml_lxml import XmlDecodeError
    from payloads.model import STRING, Field, ListType, Record

    el = etree.fromstring(b"<T><note>hello</note></T>")[0]
    assert (len(el), el.text) == (0, "hello")  # no <item> children: a reader that only loops finds []
    schema = Record("T", (Field("note", ListType(STRING), 1),))
    prep = _codec("xml/lxml").prepare(schema, reader_schema=schema, policy="tolerant")
    with pytest.raises(XmlDecodeError, match="holds the text 'hello'"):
        prep.decode(b"<T><note>hello</note></T>")
    assert prep.decode(b"<T><note/></T>") == {"note": []}


def test_summary_marks_a_single_value_cell_that_is_not_ideal() -> None:
    """The summary's safe-change list says '(* = not ideal for that value)': a cell that tried one
    value must carry the star too (thrift/binary's widen-int backward printed as plain 'lost')."""
    cells = [{"scenario": "widen-int", "codec": "thrift/binary", "direction": "backward", "outcome": "lost",
              "ideal": False, "detail": "d"},
             {"scenario": "widen-int", "codec": "thrift/binary", "direction": "forward", "outcome": "ok",
              "ideal": True, "detail": "d"}]
    summary = " ".join(ev.summarize({"scenarios": [sc.BY_ID["widen-int"].to_json()], "codecs": ["thrift/binary"],
                                     "safe_scenarios": ["widen-int"], "cells": cells}))
    assert "thrift/binary (widen-int backward: lost*)" in summary, summary
