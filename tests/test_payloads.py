"""The built-in taxi payloads: valid, deterministic, sized as stated, and of the advertised mix."""

from __future__ import annotations

import base64
import json
import time
from collections import Counter
from typing import Any

import pytest

from payloads import taxi
from payloads.catalog import builtin_payloads, find_payloads
from payloads.model import (
    EnumType,
    ListType,
    Primitive,
    Record,
    differences,
    float32_round,
    named_types,
    normalize,
    validate,
)

EXPECTED_ORDER = ["trip_request", "completed_trip", "trip_updates_batch", "gps_track", "rider_notifications"]

# Compact JSON sizes (bytes as base64), inclusive bounds from the brief.
SIZE_RANGES = {
    "trip_request": (100, 300),
    "completed_trip": (1_000, 3_000),
    "trip_updates_batch": (150_000, 300_000),
    "gps_track": (20_000, 60_000),
    "rider_notifications": (5_000, 20_000),
}


@pytest.fixture(scope="module")
def built() -> dict[str, Any]:
    return {p.name: p for p in taxi.payloads()}


def compact_json(value: Any) -> bytes:
    return json.dumps(
        value, separators=(",", ":"), ensure_ascii=False, allow_nan=False,
        default=lambda b: base64.b64encode(b).decode("ascii"),
    ).encode("utf-8")


def leaf_kinds(value: Any, out: Counter | None = None) -> Counter:
    """Count leaf values by JSON-ish kind: number, string, bytes, bool, null."""
    out = Counter() if out is None else out
    if isinstance(value, dict):
        for v in value.values():
            leaf_kinds(v, out)
    elif isinstance(value, list):
        for v in value:
            leaf_kinds(v, out)
    elif value is None:
        out["null"] += 1
    elif isinstance(value, bool):
        out["bool"] += 1
    elif isinstance(value, (int, float)):
        out["number"] += 1
    elif isinstance(value, str):
        out["string"] += 1
    elif isinstance(value, bytes):
        out["bytes"] += 1
    else:
        raise AssertionError(f"unexpected leaf {value!r}")
    return out


def float32_values(t: Any, v: Any) -> list[float]:
    """Every value held by a float32 field, walking schema and value together."""
    if v is None:
        return []
    if isinstance(t, Primitive):
        return [v] if t.kind == "float32" else []
    if isinstance(t, ListType):
        return [x for item in v for x in float32_values(t.items, item)]
    if isinstance(t, Record):
        return [x for f in t.fields for x in float32_values(f.type, v.get(f.name))]
    if isinstance(t, EnumType):
        return []
    return [x for item in v.values() for x in float32_values(t.values, item)]


def test_names_order_and_uniqueness(built) -> None:
    names = [p.name for p in taxi.payloads()]
    assert names == EXPECTED_ORDER
    assert len(set(names)) == len(names)
    assert [p.name for p in builtin_payloads()] == EXPECTED_ORDER
    assert [p.name for p in find_payloads(["gps_track", "trip_request"])] == ["gps_track", "trip_request"]


@pytest.mark.parametrize("name", EXPECTED_ORDER)
def test_payload_validates_and_is_canonical(built, name: str) -> None:
    p = built[name]
    raw = p.build()
    validate(p.schema, raw)
    assert not differences(p.value, normalize(p.schema, p.value)), "normalize must be idempotent"
    assert p.description and "\n" not in p.description
    assert p.source == "built-in"
    list(named_types(p.schema))  # no two different types share a name inside the payload


@pytest.mark.parametrize("name", EXPECTED_ORDER)
def test_float32_fields_hold_float32_exact_values(built, name: str) -> None:
    p = built[name]
    raw = p.build()
    for x in float32_values(p.schema, raw):
        assert float32_round(x) == x, f"{name}: {x!r} is not float32-exact"


@pytest.mark.parametrize("name", EXPECTED_ORDER)
def test_size_in_stated_range(built, name: str) -> None:
    lo, hi = SIZE_RANGES[name]
    size = len(compact_json(built[name].value))
    assert lo <= size <= hi, f"{name}: {size} bytes of JSON, expected {lo}..{hi}"
    assert size < 400_000


def test_generation_is_deterministic() -> None:
    first = {p.name: p.build() for p in taxi.payloads()}
    second = {p.name: p.build() for p in taxi.payloads()}
    for name in EXPECTED_ORDER:
        assert not differences(first[name], second[name]), name
        assert compact_json(first[name]) == compact_json(second[name])


def test_generation_is_fast() -> None:
    t0 = time.process_time()  # CPU time: another process's load cannot fail it
    for p in taxi.payloads():
        p.value  # noqa: B018 - build + normalize
    assert time.process_time() - t0 < 1.0  # ~0.05 s here


def test_types_are_shared_not_redefined() -> None:
    """Across all payloads, one name means one shape (a codec may put them all in one namespace)."""
    by_name: dict[str, Any] = {}
    for p in taxi.payloads():
        for t in named_types(p.schema):
            assert by_name.setdefault(t.name, t) == t, f"two different types named {t.name}"
    assert by_name["GeoPoint"] is taxi.GEO_POINT
    assert by_name["TripStatus"] is taxi.TRIP_STATUS
    assert {"TripRequest", "CompletedTrip", "Driver", "Vehicle", "Rider", "RoutePoint", "Fare", "TripUpdate",
            "GpsFix", "Notification"} <= set(by_name)


def test_field_ids_start_at_one_and_are_unique() -> None:
    for p in taxi.payloads():
        for t in named_types(p.schema):
            if isinstance(t, Record):
                ids = [f.id for f in t.fields]
                assert min(ids) == 1 and len(set(ids)) == len(ids), t.name


def test_numeric_payload_is_mostly_numbers(built) -> None:
    kinds = leaf_kinds(built["gps_track"].value)
    total = sum(kinds.values())
    assert kinds["number"] / total > 0.95, kinds


def test_string_payload_is_mostly_strings(built) -> None:
    value = built["rider_notifications"].value
    kinds = leaf_kinds(value)
    non_null = sum(kinds.values()) - kinds["null"]
    assert kinds["string"] / non_null > 0.85, kinds
    text = "".join(n["title"] + n["body"] for n in value["notifications"])
    assert any("\u3040" <= c <= "\u30ff" for c in text), "Japanese kana expected"
    assert any("\u0600" <= c <= "\u06ff" for c in text), "Arabic expected"
    assert any(ord(c) > 0xFFFF for c in text), "emoji (astral plane) expected"
    assert "ç" in text or "ã" in text or "á" in text
    assert "ü" in text or "ä" in text or "ß" in text or "ö" in text
    assert all(n["deep_link"].startswith("taxiapp://") for n in value["notifications"])


def test_optional_fields_are_exercised(built) -> None:
    req = built["trip_request"].value
    assert req["promo_code"] is None
    trip = built["completed_trip"].value
    assert trip["promo_code"] is None and trip["cancellation_reason"] is None and trip["driver"]["phone_masked"] is None
    assert trip["rider_comment"] and trip["fare"]["tip_cents"] is not None
    assert "cancellation_reason" not in built["completed_trip"].build()  # absent, filled by normalize
    assert isinstance(trip["receipt_signature"], bytes) and len(trip["receipt_signature"]) == 16
    assert 15 <= len(trip["route"]) <= 25
    notes = built["rider_notifications"]
    raw_priorities = [n.get("priority", "<absent>") for n in notes.build()["notifications"]]
    assert "<absent>" in raw_priorities
    assert {n["priority"] for n in notes.value["notifications"]} >= {"NORMAL", "HIGH"}


def test_completed_trip_is_internally_consistent(built) -> None:
    trip = built["completed_trip"].value
    fare = trip["fare"]
    items = sum(li["amount_cents"] for li in fare["line_items"])
    assert items == fare["total_cents"]
    assert trip["started_at"] < trip["ended_at"]
    stamps = [p["timestamp"] for p in trip["route"]]
    assert stamps == sorted(stamps)


def test_trip_updates_batch_shape(built) -> None:
    batch = built["trip_updates_batch"].value
    updates = batch["updates"]
    assert 800 <= len(updates) <= 1500
    stamps = [u["timestamp"] for u in updates]
    assert stamps == sorted(stamps)
    statuses = Counter(u["status"] for u in updates)
    assert len(statuses) >= 5, statuses
    with_message = sum(u["message"] is not None for u in updates)
    assert 0.05 < with_message / len(updates) < 0.5


def test_gps_track_is_a_plausible_drive_in_lisbon(built) -> None:
    fixes = built["gps_track"].value["fixes"]
    assert all(38.70 < f["lat"] < 38.78 and -9.16 < f["lon"] < -9.12 for f in fixes)
    # consecutive fixes 4 s apart are never more than ~100 m apart (no teleporting noise)
    for a, b in zip(fixes, fixes[1:], strict=False):
        dy = (b["lat"] - a["lat"]) * 111_320
        dx = (b["lon"] - a["lon"]) * 111_320 * 0.78
        assert (dx * dx + dy * dy) ** 0.5 < 120
        assert 3_500_000 < b["timestamp"] - a["timestamp"] < 4_500_000
    start, end = fixes[0], fixes[-1]
    assert start["lat"] < 38.71 and end["lat"] > 38.765  # Baixa → airport
    assert all(0.0 <= f["heading_deg"] < 360.0 and 0.0 <= f["speed_mps"] < 30 for f in fixes)
    assert all(6 <= f["satellites"] <= 13 for f in fixes)


def test_coordinates_have_at_most_seven_decimals(built) -> None:
    for name in ("trip_request", "trip_updates_batch", "gps_track"):
        text = compact_json(built[name].value).decode()
        for key in ('"lat":', '"lon":'):
            for chunk in text.split(key)[1:50]:
                number = chunk.split(",", 1)[0].split("}", 1)[0]
                assert len(number.split(".")[1]) <= 7, (name, number)
