"""Hand-built "every type kind" schemas and values shared by the codec tests.

- ``ALL`` / :func:`all_value` / :func:`roundtrip`: the json, xml and avro tests (one schema; a test
  varies the value with ``all_value(**changes)``).
- :func:`everything` / :func:`everything_value` / :func:`everything_flipped`: the protobuf and
  thrift tests, whose IDL is generated from the schema. Each test file passes its own enum, field 25
  and the values that use them: those are the names and symbols that are edge cases for its own
  code generator, so they stay written out in the test file.
"""

from __future__ import annotations

from typing import Any

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
)

# ---- json, xml, avro

COLOR = EnumType("Color", ("RED", "GREEN", "BLUE"), default="RED")
POINT = Record("Point", (Field("lat", FLOAT64, 1), Field("lon", FLOAT64, 2), Field("t", TIMESTAMP, 3)))
INNER = Record("Inner", (Field("name", STRING, 1), Field("note", STRING, 2, optional=True)))
ALL = Record(
    "AllKinds",
    (
        Field("b", BOOL, 1),
        Field("i32", INT32, 2),
        Field("i64", INT64, 3),
        Field("f32", FLOAT32, 4),
        Field("f64", FLOAT64, 5),
        Field("s", STRING, 6),
        Field("raw", BYTES, 7),
        Field("ts", TIMESTAMP, 8),
        Field("color", COLOR, 9),
        Field("tags", ListType(STRING), 10),
        Field("attrs", MapType(INT64), 11),
        Field("inner", INNER, 12),
        Field("opt_set", INT32, 13, optional=True),
        Field("opt_unset", STRING, 14, optional=True),
        Field("route", ListType(POINT), 15),
        Field("empty_list", ListType(INT32), 16),
        Field("empty_map", MapType(STRING), 17),
        Field("by_name", MapType(INNER), 18),
        Field("colors", ListType(COLOR), 19),
        Field("opt_rec", INNER, 20, optional=True),
        Field("nested", ListType(ListType(FLOAT32)), 21),
        Field("fmap", MapType(ListType(BYTES)), 22),
        Field("opt_list", ListType(INT64), 23, optional=True),
        Field("f32_list", ListType(FLOAT32), 24),
    ),
)


def all_value(**changes):
    v = {
        "b": True,
        "i32": INT32_MIN,
        "i64": INT64_MAX,
        "f32": 0.1,
        "f64": 0.1,
        "s": "héllo <&>\"' ]]> \u2603 \U0001f695 \t\n end",
        "raw": bytes(range(256)),
        "ts": 1_700_000_000_123_456,
        "color": "BLUE",
        "tags": ["a", "", "b c", "  "],
        "attrs": {"x": INT64_MIN, "y": 0, "ü <&>": INT64_MAX},
        "inner": {"name": "n", "note": "x"},
        "opt_set": INT32_MAX,
        "route": [{"lat": 1e300, "lon": -0.0, "t": 0}, {"lat": 5e-324, "lon": 1.7976931348623157e308, "t": -1}],
        "empty_list": [],
        "empty_map": {},
        "by_name": {"k": {"name": "q"}, "": {"name": "", "note": ""}},
        "colors": ["RED", "GREEN"],
        "nested": [[1.5, -0.0], []],
        "fmap": {"a": [b"", b"\x00\xff"]},
        "f32_list": [3.4028234663852886e38, -1e-45, 16777217.0],
    }
    v.update(changes)
    return v


def roundtrip(prepared, value):
    data = prepared.encode(prepared.to_native(value))
    assert isinstance(data, bytes)
    return data, prepared.from_native(prepared.decode(data))


# ---- protobuf, thrift

TRIP_POINT = Record(
    "Point", (Field("lat", FLOAT64, 1), Field("lon", FLOAT64, 2), Field("acc", FLOAT32, 3, optional=True))
)
STOP = Record("Stop", (Field("name", STRING, 1), Field("at", TRIP_POINT, 2), Field("eta", TIMESTAMP, 3, optional=True)))
PT = {"lat": 52.5, "lon": 13.4, "acc": 1.5}


def everything(status: EnumType, field_25: Field) -> Record:
    """The "Everything" record; ``status`` is the enum of fields 9, 17 and 23, ``field_25`` the test's own."""
    return Record(
        "Everything",
        (
            Field("flag", BOOL, 1),
            Field("i32", INT32, 2),
            Field("i64", INT64, 3),
            Field("f32", FLOAT32, 4),
            Field("f64", FLOAT64, 5),
            Field("text", STRING, 6),
            Field("blob", BYTES, 7),
            Field("ts", TIMESTAMP, 8),
            Field("status", status, 9),
            Field("tags", ListType(STRING), 10),
            Field("attrs", MapType(INT64), 11),
            Field("pickup", TRIP_POINT, 12),
            Field("stops", ListType(STOP), 13),
            Field("opt_i32", INT32, 14, optional=True),
            Field("opt_text", STRING, 15, optional=True),
            Field("opt_point", TRIP_POINT, 16, optional=True),
            Field("opt_status", status, 17, optional=True),
            Field("opt_list", ListType(INT32), 18, optional=True),
            Field("opt_map", MapType(STRING), 19, optional=True),
            Field("grid", ListType(ListType(INT32)), 20),
            Field("groups", MapType(ListType(STOP)), 21),
            Field("from", STRING, 22),  # a Python keyword as a field name (and reserved in thriftpy2)
            Field("statuses", ListType(status), 23),
            Field("by_name", MapType(TRIP_POINT), 24),
            field_25,
            Field("opt_bool", BOOL, 26, optional=True),
        ),
    )


def everything_value(*, opt_status: str, statuses: list[str], field_25: dict[str, Any]) -> dict[str, Any]:
    """A value of :func:`everything` with most fields set (the enum symbols and field 25 are the test's)."""
    return {
        "flag": True, "i32": -(2**31), "i64": 2**63 - 1, "f32": 0.1, "f64": -1e300, "text": "héllo ☃ 🚕 \x00",
        "blob": b"\x00\xff\x80", "ts": 1_700_000_000_123_456, "status": "END", "tags": ["a", ""],
        "attrs": {"min": -(2**63), "zero": 0, "ü": 1}, "pickup": PT,
        "stops": [{"name": "A", "at": PT, "eta": 5}, {"name": "B", "at": {"lat": 0.0, "lon": -0.0}}],
        "opt_i32": 0, "opt_text": None, "opt_point": None, "opt_status": opt_status, "opt_list": [], "opt_map": None,
        "grid": [[1, 2], [], [3]], "groups": {"g": [{"name": "C", "at": PT}], "empty": []}, "from": "x",
        "statuses": statuses, "by_name": {"p": PT}, **field_25,
        "opt_bool": False,
    }


def everything_flipped(value: dict[str, Any], *, f32: float, field_25: dict[str, Any]) -> dict[str, Any]:
    """The other side of every optional: set where ``value`` leaves it unset and vice versa, extremes flipped."""
    return dict(
        value, flag=False, i32=2**31 - 1, i64=-(2**63), f32=f32, f64=float("nan"), text="", blob=b"",
        opt_i32=None, opt_text="ß", opt_point={"lat": -1.0, "lon": 1e-300}, opt_status=None, opt_list=None,
        opt_map={"k": "v", "": ""}, opt_bool=None, tags=[], attrs={}, stops=[], grid=[], groups={}, by_name={},
        **field_25, statuses=[],
    )


# Enum numbers that stay stable across versions (the enum tests of the tag-based codecs).
RIDE_V1 = EnumType("RideClass", ("UNKNOWN", "ECONOMY", "COMFORT", "XL"), numbers=(1, 2, 3, 4))
RIDE_V2 = EnumType("RideClass", ("UNKNOWN", "ECONOMY", "XL"), numbers=(1, 2, 4))  # COMFORT removed, XL stays 4


def ride(enum: EnumType) -> Record:
    return Record("Ride", (Field("cls", enum, 1), Field("seen", ListType(enum), 2)))

