"""Access vs decode: the fixed field choice (payloads/access.py), upb's lazy access
(Prepared.make_access) and the harness's separate, checked ``access`` case (bench/measure.py)."""

from __future__ import annotations

import pytest
from schemas import everything, everything_flipped, everything_value

from bench.measure import measure_row
from bench.timing import Plan
from formats.api import ALL_TYPE_KINDS, Capabilities, Codec, SimplePrepared
from formats.protobuf_upb import UpbCodec
from payloads.access import access_paths, check_paths, values_at
from payloads.catalog import Payload, builtin_payloads, find_payloads
from payloads.model import (
    BOOL,
    FLOAT64,
    INT32,
    STRING,
    EnumType,
    Field,
    ListType,
    MapType,
    Record,
    normalize,
)

STATUS = EnumType("TripStatus", ("REQUESTED", "ACCEPTED", "BEGIN", "END"))
EVERYTHING = everything(STATUS, Field("flags", MapType(MapType(BOOL)), 25))
VALUE = normalize(EVERYTHING, everything_value(opt_status="BEGIN", statuses=["ACCEPTED"], field_25={"flags": {}}))
VALUE2 = normalize(EVERYTHING, everything_flipped(VALUE, f32=float("-inf"), field_25={"flags": {"a": {}}}))


def test_the_fixed_choice_on_the_built_in_payloads() -> None:
    got = {p.name: access_paths(p.schema) for p in builtin_payloads()}
    assert got["completed_trip"] == [("trip_id",), ("distance_m",), ("cancellation_reason",), ("driver", "id")]
    assert got["trip_request"] == [("rider_id",), ("passengers",), ("wheelchair_accessible",), ("pickup", "lat")]
    for p in builtin_payloads():
        assert access_paths(p.schema) == got[p.name]  # deterministic
        assert 1 <= len(got[p.name]) <= 4
        check_paths(p.schema, got[p.name])


def test_first_middle_last_scalars_and_a_scalar_below_the_first_record() -> None:
    inner = Record("Inner", (Field("list", ListType(INT32), 1), Field("x", FLOAT64, 2)))
    holder = Record("Holder", (Field("inner", inner, 1),))
    rec = Record("R", (
        Field("a", STRING, 1), Field("l", ListType(STRING), 2), Field("b", INT32, 3), Field("c", STATUS, 4),
        Field("h", holder, 5, optional=True), Field("d", BOOL, 6), Field("e", INT32, 7, optional=True),
        Field("other", inner, 8),
    ))
    # scalars a b c d e: first, middle, last; the first record (h) has no scalar: one level further down
    assert access_paths(rec) == [("a",), ("c",), ("e",), ("h", "inner", "x")]
    few = Record("Few", (Field("m", MapType(STRING), 1), Field("z", INT32, 2)))
    assert access_paths(few) == [("z",)]
    assert access_paths(Record("Lists", (Field("l", ListType(inner), 1),))) == []
    assert values_at({"a": "x", "c": "BEGIN", "e": None, "h": None}, access_paths(rec)) == ["x", "BEGIN", None, None]
    assert values_at({"h": {"inner": {"x": 1.5}}}, [("h", "inner", "x"), ("missing",)]) == [1.5, None]


def test_check_paths_names_a_bad_path() -> None:
    with pytest.raises(ValueError, match="'stops.name'.*not a field of a record"):
        check_paths(EVERYTHING, [("stops", "name")])  # no list steps
    with pytest.raises(ValueError, match="'pickup' does not end at a scalar"):
        check_paths(EVERYTHING, [("pickup",)])
    with pytest.raises(ValueError, match="'nope'"):
        check_paths(EVERYTHING, [("nope",)])


PATHS = [("text",), ("status",), ("blob",), ("ts",), ("opt_status",), ("opt_i32",), ("opt_bool",), ("f32",),
         ("pickup", "acc"), ("opt_point", "lat"), ("pickup", "lat")]


@pytest.mark.parametrize("value", [VALUE, VALUE2], ids=["mostly-set", "flipped"])
def test_upb_access_reads_model_values_at_any_path(value) -> None:
    p = UpbCodec().prepare(EVERYTHING)
    data = p.encode(p.to_native(value))
    access = p.make_access(PATHS)
    assert access(data) == values_at(value, PATHS)
    assert access(data) == values_at(p.from_native(p.decode(data)), PATHS)
    got = dict(zip([".".join(x) for x in PATHS], access(data), strict=True))
    if value is VALUE:
        assert got["status"] == "END" and got["blob"] == b"\x00\xff\x80" and got["ts"] == 1_700_000_000_123_456
        assert got["opt_point.lat"] is None and got["opt_i32"] == 0 and got["pickup.acc"] == 1.5
    else:
        assert got["opt_i32"] is None and got["opt_status"] is None and got["opt_point.lat"] == -1.0


def test_upb_access_is_the_lazy_parse_plus_reads_resolved_in_advance() -> None:
    p = UpbCodec().prepare(EVERYTHING)
    access = p.make_access([("text",), ("opt_point", "lat")])
    src = access.source
    assert "m = parse(data)" in src and "HasField('opt_point')" in src
    assert "_walk" not in src and "getattr" not in src and "from_native" not in src  # no full walk, no lookups
    with pytest.raises(ValueError, match="does not end at a scalar"):
        p.make_access([("stops",)])


def test_every_builtin_payload_upb_access_matches() -> None:
    for pl in builtin_payloads():
        p = UpbCodec().prepare(pl.schema)
        data = p.encode(p.to_native(pl.value))
        paths = access_paths(pl.schema)
        assert p.make_access(paths)(data) == values_at(pl.value, paths), pl.name


# ------------------------------------------------------------------------------------------------
# The harness: a separate, checked case


# a tiny real plan: only the presence and shape of the figures are checked, never their values
TINY = Plan(budget_s=0.001, conversion_budget_s=0.001, round_s=0.0001, min_rounds=3, warmup_rounds=0)


def _payload() -> Payload:
    return find_payloads(["completed_trip"])[0]


def test_measure_row_times_access_apart_for_upb_and_not_for_full_parse_codecs() -> None:
    from formats.thrift_thriftpy2 import ThriftBinaryCodec

    row = measure_row(UpbCodec(), _payload(), TINY)
    assert row["status"] == "ok" and row["error"] is None
    assert row["access"]["rounds"] >= 3 and row["decode"]["rounds"] >= 3 and row["parse_lazy"]["rounds"] >= 3
    assert row["access_paths"] == ["trip_id", "distance_m", "cancellation_reason", "driver.id"]
    assert "access_error" not in row
    row = measure_row(ThriftBinaryCodec(), _payload(), Plan(disabled=True))
    assert row["status"] == "ok" and row["access"] is None and "access_paths" not in row


class _AccessDouble(Codec):
    """A real codec (protobuf/upb underneath) whose access hook is wrong or broken on purpose."""

    name = "test/access-double"
    format = "test"
    library = "protobuf"
    capabilities = Capabilities(binary=True, needs_schema=True, types=ALL_TYPE_KINDS)
    mode = "wrong"

    def prepare(self, schema, reader_schema=None, policy=None):
        inner = UpbCodec().prepare(schema)
        honest = inner.make_access

        def make_access(paths):
            if self.mode == "raises":
                raise RuntimeError("cannot open in place")
            f = honest(paths)
            return lambda data: [*f(data)[:-1], "not the driver id"]

        return SimplePrepared(encode=inner.encode, decode=inner.decode, to_native=inner.to_native,
                              from_native=inner.from_native, make_access=make_access)


@pytest.mark.parametrize("mode", ["wrong", "raises"])
def test_a_wrong_or_failing_access_is_reported_not_timed_and_keeps_the_row(mode) -> None:
    codec = _AccessDouble()
    codec.mode = mode
    row = measure_row(codec, _payload(), TINY)
    assert row["status"] == "ok" and row["verdict"] == "exact" and row["error"] is None
    assert row["decode"]["rounds"] >= 3 and row["encode"]["rounds"] >= 3
    assert row["access"] is None
    if mode == "wrong":
        assert row["access_error"].startswith("access returned wrong values (correctness check): driver.id: expected")
        assert "'not the driver id'" in row["access_error"]
    else:
        assert row["access_error"] == "access failed: RuntimeError: cannot open in place"


def test_conformance_kit_checks_the_access_hook() -> None:
    from formats.conformance import check_codec

    report = check_codec("protobuf/upb")
    assert report.passed, report.text()
    assert [r for r in report.for_rule("access") if not r.skipped and "driver.id" in r.message]
    codec = _AccessDouble()
    report = check_codec(codec, payloads=[])
    assert "access" in report.failed_rules(), report.text()
    assert any("not the driver id" in r.message or "wrong value" in r.message for r in report.for_rule("access"))


def test_protobuf_python_backend_offers_no_access() -> None:
    """Its parser is eager: an access figure would be a full parse plus a lookup (see formats/api.py)."""
    from formats.conformance import check_codec

    report = check_codec("protobuf/python", include_edge=False)
    assert report.passed, report.text()
    assert report.for_rule("round-trip") and not report.for_rule("access")
