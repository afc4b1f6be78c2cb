"""The built-in taxi-hailing payloads: deterministic, realistic, from ~200 B to ~250 KB as JSON.

Every payload is built from its own ``random.Random(seed)`` and a fixed base timestamp, so two
builds are equal on every machine. The record and enum types are module-level constants so that
other modules (the schema-evolution scenarios) can derive v1/v2 variants from them; a type used in
two payloads is the same object, and differently shaped types never share a name.

Positions are real streets of Lisbon; float32 fields hold float32-exact values (rounded with
:func:`payloads.model.float32_round`) so that no codec is penalised for the model's rounding.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from typing import Any

from payloads.catalog import Payload
from payloads.model import (
    BOOL,
    BYTES,
    FLOAT32,
    FLOAT64,
    INT32,
    INT64,
    STRING,
    TIMESTAMP,
    EnumType,
    Field,
    ListType,
    MapType,
    Record,
    float32_round,
)

# 2024-06-01T08:00:00Z in microseconds: every timestamp is an offset from here (never "now").
BASE_TIME_US = 1_717_228_800_000_000
_SECOND = 1_000_000

# ---------------------------------------------------------------------------------------------
# Types (shared between payloads where the shape is the same).

RIDE_TYPE = EnumType("RideType", ("ECONOMY", "COMFORT", "XL", "POOL", "PREMIUM"), doc="Product the rider asked for")
TRIP_STATUS = EnumType(
    "TripStatus",
    ("REQUESTED", "DRIVER_ASSIGNED", "DRIVER_ARRIVING", "DRIVER_ARRIVED", "IN_PROGRESS", "COMPLETED", "CANCELLED"),
    doc="Life cycle of a trip",
)
FARE_COMPONENT = EnumType(
    "FareComponent", ("BASE", "DISTANCE", "TIME", "SURGE", "TOLL", "TIP", "BOOKING_FEE", "DISCOUNT")
)
NOTIFICATION_CHANNEL = EnumType("NotificationChannel", ("PUSH", "SMS", "EMAIL", "IN_APP"))
NOTIFICATION_PRIORITY = EnumType("NotificationPriority", ("LOW", "NORMAL", "HIGH"), default="NORMAL")

GEO_POINT = Record(
    "GeoPoint",
    (
        Field("lat", FLOAT64, 1, doc="WGS84 latitude, degrees"),
        Field("lon", FLOAT64, 2, doc="WGS84 longitude, degrees"),
    ),
)

TRIP_REQUEST = Record(
    "TripRequest",
    (
        Field("rider_id", STRING, 1),
        Field("pickup", GEO_POINT, 2),
        Field("dropoff", GEO_POINT, 3),
        Field("requested_at", TIMESTAMP, 4),
        Field("ride_type", RIDE_TYPE, 5),
        Field("passengers", INT32, 6),
        Field("payment_method_id", STRING, 7),
        Field("promo_code", STRING, 8, optional=True),
        Field("wheelchair_accessible", BOOL, 10),  # 9 left free on purpose
    ),
    doc="A rider asks for a ride",
)

VEHICLE = Record(
    "Vehicle",
    (
        Field("plate", STRING, 1),
        Field("make", STRING, 2),
        Field("model", STRING, 3),
        Field("year", INT32, 4),
        Field("colour", STRING, 5),
        Field("seats", INT32, 6, optional=True),
    ),
)

DRIVER = Record(
    "Driver",
    (
        Field("id", STRING, 1),
        Field("name", STRING, 2),
        Field("rating", FLOAT32, 3),
        Field("vehicle", VEHICLE, 4),
        Field("trips_completed", INT32, 5),
        Field("phone_masked", STRING, 6, optional=True),
    ),
)

RIDER = Record(
    "Rider",
    (
        Field("id", STRING, 1),
        Field("first_name", STRING, 2),
        Field("rating", FLOAT32, 3),
        Field("locale", STRING, 4),
        Field("phone_masked", STRING, 5, optional=True),
    ),
)

ROUTE_POINT = Record(
    "RoutePoint",
    (
        Field("lat", FLOAT64, 1),
        Field("lon", FLOAT64, 2),
        Field("timestamp", TIMESTAMP, 3),
        Field("speed_kmh", FLOAT32, 4),
    ),
)

FARE_LINE_ITEM = Record(
    "FareLineItem",
    (
        Field("component", FARE_COMPONENT, 1),
        Field("label", STRING, 2),
        Field("amount_cents", INT64, 3),
    ),
)

FARE = Record(
    "Fare",
    (
        Field("currency", STRING, 1, doc="ISO 4217"),
        Field("base_cents", INT64, 2),
        Field("distance_cents", INT64, 3),
        Field("time_cents", INT64, 4),
        Field("surge_multiplier", FLOAT32, 5),
        Field("tolls_cents", INT64, 6),
        Field("tip_cents", INT64, 7, optional=True),
        Field("total_cents", INT64, 8),
        Field("line_items", ListType(FARE_LINE_ITEM), 9),
    ),
)

COMPLETED_TRIP = Record(
    "CompletedTrip",
    (
        Field("trip_id", STRING, 1),
        Field("status", TRIP_STATUS, 2),
        Field("ride_type", RIDE_TYPE, 3),
        Field("driver", DRIVER, 4),
        Field("rider", RIDER, 5),
        Field("pickup", GEO_POINT, 6),
        Field("dropoff", GEO_POINT, 7),
        Field("started_at", TIMESTAMP, 8),
        Field("ended_at", TIMESTAMP, 9),
        Field("distance_m", INT32, 10),
        Field("duration_s", INT32, 11),
        Field("route", ListType(ROUTE_POINT), 12),
        Field("fare", FARE, 13),
        Field("tags", MapType(STRING), 14),
        Field("receipt_signature", BYTES, 15, doc="HMAC-SHA-256/128 of the receipt"),
        Field("rider_rating_of_driver", INT32, 16, optional=True),
        Field("rider_comment", STRING, 17, optional=True),
        Field("promo_code", STRING, 18, optional=True),
        Field("cancellation_reason", STRING, 20, optional=True),
    ),
    doc="A finished trip as stored for receipts and analytics",
)

TRIP_UPDATE = Record(
    "TripUpdate",
    (
        Field("trip_id", STRING, 1),
        Field("driver_id", STRING, 2),
        Field("status", TRIP_STATUS, 3),
        Field("position", GEO_POINT, 4),
        Field("eta_seconds", INT32, 5),
        Field("timestamp", TIMESTAMP, 6),
        Field("message", STRING, 7, optional=True),
    ),
)

TRIP_UPDATES_BATCH = Record(
    "TripUpdatesBatch",
    (
        Field("batch_id", STRING, 1),
        Field("region", STRING, 2),
        Field("produced_at", TIMESTAMP, 3),
        Field("updates", ListType(TRIP_UPDATE), 4),
    ),
    doc="A dispatch service's batch of trip state changes",
)

GPS_FIX = Record(
    "GpsFix",
    (
        Field("lat", FLOAT64, 1),
        Field("lon", FLOAT64, 2),
        Field("altitude_m", FLOAT32, 3),
        Field("accuracy_m", FLOAT32, 4),
        Field("heading_deg", FLOAT32, 5),
        Field("speed_mps", FLOAT32, 6),
        Field("timestamp", TIMESTAMP, 7),
        Field("satellites", INT32, 8),
    ),
)

GPS_TRACK = Record(
    "GpsTrack",
    (
        Field("vehicle_id", STRING, 1),
        Field("trip_id", STRING, 2, optional=True),
        Field("sample_interval_ms", INT32, 3),
        Field("fixes", ListType(GPS_FIX), 4),
    ),
    doc="A driver app's GPS fixes along one trip",
)

NOTIFICATION = Record(
    "Notification",
    (
        Field("id", STRING, 1),
        Field("template_id", STRING, 2),
        Field("locale", STRING, 3, doc="BCP 47"),
        Field("title", STRING, 4),
        Field("body", STRING, 5),
        Field("deep_link", STRING, 6),
        Field("variables", MapType(STRING), 7),
        Field("channel", NOTIFICATION_CHANNEL, 8),
        Field("priority", NOTIFICATION_PRIORITY, 9, optional=True, default="NORMAL"),
        Field("created_at", TIMESTAMP, 10),
        Field("image_url", STRING, 11, optional=True),
        Field("collapse_key", STRING, 12, optional=True),
    ),
)

RIDER_NOTIFICATIONS = Record(
    "RiderNotifications",
    (
        Field("rider_id", STRING, 1),
        Field("notifications", ListType(NOTIFICATION), 2),
    ),
    doc="The push notifications sent to one rider over a few weeks",
)

# ---------------------------------------------------------------------------------------------
# Helpers

_ID_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32


def _id(rng: random.Random, prefix: str, n: int) -> str:
    return prefix + "".join(rng.choice(_ID_ALPHABET) for _ in range(n))


def _coord(x: float) -> float:
    return round(x, 7)


def _f32(x: float, digits: int = 1) -> float:
    return float32_round(round(x, digits))


# Real waypoints (lat, lon, altitude m): Praça do Comércio → Av. da Liberdade → Marquês de Pombal →
# Saldanha → Av. da República → Campo Grande → 2ª Circular → Aeroporto Humberto Delgado.
LISBON_AIRPORT_RUN = (
    (38.7078, -9.1366, 4.0),
    (38.7139, -9.1394, 12.0),
    (38.7158, -9.1415, 18.0),
    (38.7200, -9.1451, 38.0),
    (38.7251, -9.1500, 76.0),
    (38.7300, -9.1478, 88.0),
    (38.7347, -9.1454, 92.0),
    (38.7425, -9.1460, 96.0),
    (38.7478, -9.1486, 98.0),
    (38.7590, -9.1540, 104.0),
    (38.7620, -9.1400, 106.0),
    (38.7660, -9.1290, 102.0),
    (38.7700, -9.1281, 104.0),
)

# Saldanha → Areeiro → Av. Gago Coutinho → Rotunda do Relógio → Av. de Berlim → Gare do Oriente.
LISBON_SALDANHA_ORIENTE = (
    (38.7347, -9.1454, 92.0),
    (38.7382, -9.1400, 90.0),
    (38.7425, -9.1335, 88.0),
    (38.7530, -9.1300, 95.0),
    (38.7660, -9.1290, 102.0),
    (38.7690, -9.1100, 60.0),
    (38.7678, -9.0990, 18.0),
)

_M_PER_DEG_LAT = 111_320.0


def _drive(
    rng: random.Random, waypoints: tuple[tuple[float, float, float], ...], every_s: int, cruise_mps: float
) -> list[dict[str, float]]:
    """Simulate a car along ``waypoints`` in 1 s steps (accelerating, cruising, stopping at lights)
    and return a sample every ``every_s`` seconds: true lat/lon/alt, heading, speed, t (seconds)."""
    cos_lat = math.cos(math.radians(waypoints[0][0]))
    segs = []
    for (la1, lo1, al1), (la2, lo2, al2) in zip(waypoints, waypoints[1:], strict=False):
        dy = (la2 - la1) * _M_PER_DEG_LAT
        dx = (lo2 - lo1) * _M_PER_DEG_LAT * cos_lat
        segs.append((la1, lo1, al1, la2 - la1, lo2 - lo1, al2 - al1, math.hypot(dx, dy),
                     math.degrees(math.atan2(dx, dy)) % 360.0))
    seg, along, speed, t, stopped = 0, 0.0, 0.0, 0, 0
    out: list[dict[str, float]] = []
    while seg < len(segs):
        la, lo, al, dla, dlo, dal, length, bearing = segs[seg]
        if t % every_s == 0:
            f = along / length
            out.append({"lat": la + dla * f, "lon": lo + dlo * f, "alt": al + dal * f,
                        "heading": bearing, "speed": speed, "t": t})
        t += 1
        if stopped:
            stopped -= 1
            speed = 0.0
            continue
        if rng.random() < 0.012:  # a red light or a bus stopping in front
            stopped = rng.randint(8, 45)
            continue
        target = cruise_mps * (0.7 + 0.5 * rng.random())
        speed = max(0.0, min(speed + max(-3.0, min(2.2, 0.35 * (target - speed))) + rng.gauss(0, 0.3), 22.0))
        along += speed
        while seg < len(segs) and along >= segs[seg][6]:
            along -= segs[seg][6]
            seg += 1
    last = waypoints[-1]
    out.append({"lat": last[0], "lon": last[1], "alt": last[2], "heading": segs[-1][7], "speed": 0.0, "t": t})
    return out


# ---------------------------------------------------------------------------------------------
# 1. trip_request


def build_trip_request() -> dict[str, Any]:
    rng = random.Random(101)
    return {
        "rider_id": _id(rng, "rdr_", 16),
        "pickup": {"lat": _coord(38.7139 + rng.uniform(-5e-4, 5e-4)), "lon": _coord(-9.1394 + rng.uniform(-5e-4, 5e-4))},
        "dropoff": {"lat": _coord(38.7700 + rng.uniform(-3e-4, 3e-4)), "lon": _coord(-9.1281 + rng.uniform(-3e-4, 3e-4))},
        "requested_at": BASE_TIME_US + rng.randrange(3600 * _SECOND),
        "ride_type": "COMFORT",
        "passengers": 2,
        "payment_method_id": _id(rng, "pm_", 24),
        "promo_code": None,
        "wheelchair_accessible": False,
    }


# ---------------------------------------------------------------------------------------------
# 2. completed_trip

_DRIVER_NAMES = ("João Silva", "Ana Ferreira", "Rui Gonçalves", "Inês Carvalho", "Tiago Rodrigues")
_VEHICLES = (("Toyota", "Corolla Hybrid"), ("Tesla", "Model 3"), ("Kia", "e-Niro"), ("Peugeot", "508 SW"))
_COLOURS = ("white", "black", "silver", "dark blue", "grey")


def _plate(rng: random.Random) -> str:
    letters = "ABCDEFGHIJLMNOPRSTUVXZ"
    return f"{rng.choice(letters)}{rng.choice(letters)}-{rng.randrange(100):02d}-{rng.choice(letters)}{rng.choice(letters)}"


def build_completed_trip() -> dict[str, Any]:
    rng = random.Random(202)
    samples = _drive(rng, LISBON_SALDANHA_ORIENTE, every_s=60, cruise_mps=10.5)
    start = BASE_TIME_US + 2 * 3600 * _SECOND + rng.randrange(600 * _SECOND)
    route = [
        {"lat": _coord(s["lat"] + rng.gauss(0, 2e-5)), "lon": _coord(s["lon"] + rng.gauss(0, 2e-5)),
         "timestamp": start + int(s["t"]) * _SECOND + rng.randrange(_SECOND),
         "speed_kmh": _f32(s["speed"] * 3.6, 0)}
        for s in samples
    ]
    duration_s = int(samples[-1]["t"])
    cos_lat = math.cos(math.radians(38.75))
    distance_m = int(sum(
        math.hypot((b["lat"] - a["lat"]) * _M_PER_DEG_LAT, (b["lon"] - a["lon"]) * _M_PER_DEG_LAT * cos_lat)
        for a, b in zip(route, route[1:], strict=False)
    ))
    base, per_km, per_min, surge = 325, 92, 18, 1.25
    distance_cents = round(distance_m / 1000 * per_km)
    time_cents = round(duration_s / 60 * per_min)
    surge_cents = round((base + distance_cents + time_cents) * (surge - 1))
    booking, tolls, tip = 75, 0, 150
    total = base + distance_cents + time_cents + surge_cents + booking + tolls + tip
    make, model = rng.choice(_VEHICLES)
    return {
        "trip_id": _id(rng, "trp_", 20),
        "status": "COMPLETED",
        "ride_type": "ECONOMY",
        "driver": {
            "id": _id(rng, "drv_", 12),
            "name": rng.choice(_DRIVER_NAMES),
            "rating": _f32(4.6 + 0.39 * rng.random(), 2),
            "vehicle": {"plate": _plate(rng), "make": make, "model": model, "year": rng.randint(2018, 2024),
                        "colour": rng.choice(_COLOURS), "seats": 4},
            "trips_completed": rng.randint(800, 9000),
            "phone_masked": None,
        },
        "rider": {"id": _id(rng, "rdr_", 16), "first_name": "Mariana", "rating": _f32(4.9),
                  "locale": "pt-PT", "phone_masked": "+351 9•• ••• 417"},
        "pickup": {"lat": route[0]["lat"], "lon": route[0]["lon"]},
        "dropoff": {"lat": route[-1]["lat"], "lon": route[-1]["lon"]},
        "started_at": route[0]["timestamp"],
        "ended_at": route[-1]["timestamp"],
        "distance_m": distance_m,
        "duration_s": duration_s,
        "route": route,
        "fare": {
            "currency": "EUR",
            "base_cents": base,
            "distance_cents": distance_cents,
            "time_cents": time_cents,
            "surge_multiplier": float32_round(surge),
            "tolls_cents": tolls,
            "tip_cents": tip,
            "total_cents": total,
            "line_items": [
                {"component": "BASE", "label": "Tarifa base", "amount_cents": base},
                {"component": "DISTANCE", "label": f"Distância ({distance_m / 1000:.1f} km)", "amount_cents": distance_cents},
                {"component": "TIME", "label": f"Tempo ({duration_s // 60} min)", "amount_cents": time_cents},
                {"component": "SURGE", "label": "Procura elevada ×1,25", "amount_cents": surge_cents},
                {"component": "BOOKING_FEE", "label": "Taxa de reserva", "amount_cents": booking},
                {"component": "TIP", "label": "Gorjeta", "amount_cents": tip},
            ],
        },
        "tags": {"city": "lisbon", "airport": "false", "platform": "ios", "app_version": "5.12.1",
                 "experiment.pricing": "surge-v3-B", "zone.pickup": "saldanha", "zone.dropoff": "parque-das-nacoes"},
        "receipt_signature": rng.randbytes(16),
        "rider_rating_of_driver": 5,
        "rider_comment": "Condução tranquila, carro muito limpo. Obrigada!",
        "promo_code": None,
        # cancellation_reason left out entirely: normalization fills None
    }


# ---------------------------------------------------------------------------------------------
# 3. trip_updates_batch

_UPDATE_MESSAGES = {
    "DRIVER_ASSIGNED": ("Driver accepted your request", "O seu motorista aceitou o pedido"),
    "DRIVER_ARRIVING": ("Heavy traffic on Segunda Circular", "Driver is taking a short detour", "Trânsito na Av. da Liberdade"),
    "DRIVER_ARRIVED": ("Your driver is waiting at the pickup point", "O motorista chegou"),
    "IN_PROGRESS": ("Route updated to avoid a closed street",),
    "COMPLETED": ("Thanks for riding with us!",),
    "CANCELLED": ("Rider cancelled", "No-show after 5 minutes"),
}
_NEXT = {"DRIVER_ASSIGNED": "DRIVER_ARRIVING", "DRIVER_ARRIVING": "DRIVER_ARRIVING", "DRIVER_ARRIVED": "IN_PROGRESS",
         "IN_PROGRESS": "IN_PROGRESS"}
TRIP_UPDATES_COUNT = 1100


def build_trip_updates_batch() -> dict[str, Any]:
    rng = random.Random(303)
    t0 = BASE_TIME_US + 8 * 3600 * _SECOND

    def new_trip() -> dict[str, Any]:
        return {"trip_id": _id(rng, "trp_", 20), "driver_id": _id(rng, "drv_", 12), "status": "DRIVER_ASSIGNED",
                "lat": rng.uniform(38.695, 38.785), "lon": rng.uniform(-9.225, -9.095),
                "heading": rng.uniform(0, 2 * math.pi), "eta": rng.randint(120, 600)}

    active = [new_trip() for _ in range(70)]
    for trip in active:  # the batch is a window into ongoing activity: trips in every state
        trip["status"] = rng.choice(("DRIVER_ASSIGNED", "DRIVER_ARRIVING", "DRIVER_ARRIVING", "IN_PROGRESS",
                                     "IN_PROGRESS", "IN_PROGRESS"))
        trip["eta"] = rng.randint(20, 600)
    updates = []
    clock = t0
    for _ in range(TRIP_UPDATES_COUNT):
        clock += rng.randrange(30_000, 400_000)  # a few updates per second across the region
        k = rng.randrange(len(active))
        trip = active[k]
        trip["heading"] += rng.gauss(0, 0.35)
        step = rng.uniform(40, 180)  # metres since this trip's previous update
        trip["lat"] += step * math.cos(trip["heading"]) / _M_PER_DEG_LAT
        trip["lon"] += step * math.sin(trip["heading"]) / (_M_PER_DEG_LAT * 0.7794)
        status = trip["status"]
        eta = trip["eta"]
        message = None
        if rng.random() < 0.18:
            message = rng.choice(_UPDATE_MESSAGES[status])
        updates.append({"trip_id": trip["trip_id"], "driver_id": trip["driver_id"], "status": status,
                        "position": {"lat": _coord(trip["lat"]), "lon": _coord(trip["lon"])},
                        "eta_seconds": eta, "timestamp": clock, "message": message})
        # advance the trip's state for its next update
        if status in ("COMPLETED", "CANCELLED"):
            active[k] = new_trip()
            continue
        if rng.random() < 0.01:
            trip["status"] = "CANCELLED"
            trip["eta"] = 0
            continue
        trip["eta"] = max(0, eta - rng.randint(20, 90))
        if trip["eta"] == 0:
            if status == "DRIVER_ARRIVING" or status == "DRIVER_ASSIGNED":
                trip["status"], trip["eta"] = "DRIVER_ARRIVED", 0
            elif status == "DRIVER_ARRIVED":
                trip["status"], trip["eta"] = "IN_PROGRESS", rng.randint(240, 900)
            else:
                trip["status"] = "COMPLETED"
        elif status == "DRIVER_ARRIVED":
            trip["status"], trip["eta"] = "IN_PROGRESS", rng.randint(240, 900)
        else:
            trip["status"] = _NEXT[status]
    return {"batch_id": _id(rng, "bat_", 20), "region": "pt-lisbon", "produced_at": clock + 250_000,
            "updates": updates}


# ---------------------------------------------------------------------------------------------
# 4. gps_track


def build_gps_track() -> dict[str, Any]:
    rng = random.Random(404)
    samples = _drive(rng, LISBON_AIRPORT_RUN, every_s=4, cruise_mps=11.0)
    t0 = BASE_TIME_US + 5 * 3600 * _SECOND + 417_000
    fixes = []
    for s in samples:
        satellites = rng.randint(6, 13)
        accuracy = max(1.5, rng.gauss(14.0 - satellites, 1.2))  # fewer satellites, worse fix
        err_m = rng.gauss(0, accuracy / 2.5)
        angle = rng.uniform(0, 2 * math.pi)
        moving = s["speed"] > 0.5
        fixes.append({
            "lat": _coord(s["lat"] + err_m * math.cos(angle) / _M_PER_DEG_LAT),
            "lon": _coord(s["lon"] + err_m * math.sin(angle) / (_M_PER_DEG_LAT * 0.7806)),
            "altitude_m": _f32(s["alt"] + rng.gauss(0, 2.5)),
            "accuracy_m": _f32(accuracy),
            "heading_deg": _f32((s["heading"] + rng.gauss(0, 3.0)) % 360.0 if moving else 0.0),
            "speed_mps": _f32(max(0.0, s["speed"] + rng.gauss(0, 0.25)) if moving else 0.0, 2),
            "timestamp": t0 + int(s["t"]) * _SECOND + rng.randrange(-20_000, 20_000),
            "satellites": satellites,
        })
    return {"vehicle_id": _id(rng, "veh_", 12), "trip_id": _id(rng, "trp_", 20), "sample_interval_ms": 4000,
            "fixes": fixes}


# ---------------------------------------------------------------------------------------------
# 5. rider_notifications

# template id → locale → (title, body); {placeholders} come from the notification's variables.
_TEMPLATES: dict[str, dict[str, tuple[str, str]]] = {
    "driver_assigned": {
        "pt-PT": ("O seu motorista está a caminho 🚗", "{driver_name} chega em {eta_min} min num {vehicle} ({plate})."),
        "de-DE": ("Ihr Fahrer ist unterwegs 🚗", "{driver_name} ist in {eta_min} Min. mit einem {vehicle} ({plate}) da."),
        "en-GB": ("Your driver is on the way 🚗", "{driver_name} arrives in {eta_min} min in a {vehicle} ({plate})."),
        "ja-JP": ("ドライバーが向かっています 🚗", "{driver_name}さんが{vehicle}（{plate}）で約{eta_min}分後に到着します。"),
        "ar-SA": ("السائق في الطريق إليك 🚗", "سيصل {driver_name} خلال {eta_min} دقائق بسيارة {vehicle} ({plate})."),
    },
    "driver_arrived": {
        "pt-PT": ("O motorista chegou 📍", "{driver_name} está à sua espera em {pickup}. Espera gratuita: 3 min."),
        "de-DE": ("Ihr Fahrer ist da 📍", "{driver_name} wartet an {pickup}. Kostenlose Wartezeit: 3 Min."),
        "en-GB": ("Your driver has arrived 📍", "{driver_name} is waiting at {pickup}. Free waiting time: 3 min."),
        "ja-JP": ("ドライバーが到着しました 📍", "{driver_name}さんが{pickup}でお待ちしています。無料待機時間：3分"),
        "ar-SA": ("وصل السائق 📍", "{driver_name} بانتظارك عند {pickup}. وقت الانتظار المجاني: 3 دقائق."),
    },
    "trip_receipt": {
        "pt-PT": ("Recibo da sua viagem 🧾", "Pagou {amount} pela viagem para {destination}. Obrigado por viajar connosco!"),
        "de-DE": ("Ihre Quittung 🧾", "Sie haben {amount} für die Fahrt nach {destination} bezahlt. Danke für Ihre Fahrt!"),
        "en-GB": ("Your trip receipt 🧾", "You paid {amount} for your trip to {destination}. Thanks for riding with us!"),
        "ja-JP": ("ご乗車の領収書 🧾", "{destination}までのご乗車料金は{amount}でした。ご利用ありがとうございました！"),
        "ar-SA": ("إيصال رحلتك 🧾", "دفعت {amount} مقابل رحلتك إلى {destination}. شكرًا لركوبك معنا!"),
    },
    "rate_trip": {
        "pt-PT": ("Como foi a viagem? ⭐", "Avalie a sua viagem com {driver_name} e ajude-nos a melhorar."),
        "de-DE": ("Wie war Ihre Fahrt? ⭐", "Bewerten Sie Ihre Fahrt mit {driver_name} – das hilft uns sehr."),
        "en-GB": ("How was your ride? ⭐", "Rate your trip with {driver_name} and help us get better."),
        "ja-JP": ("乗車はいかがでしたか？⭐", "{driver_name}さんとの乗車を評価して、サービス向上にご協力ください。"),
        "ar-SA": ("كيف كانت رحلتك؟ ⭐", "قيّم رحلتك مع {driver_name} وساعدنا على التحسن."),
    },
    "promo_weekend": {
        "pt-PT": ("Fim de semana com {discount} de desconto 🎉", "Use o código {promo_code} até domingo. Válido em viagens Economy."),
        "de-DE": ("Wochenende mit {discount} Rabatt 🎉", "Code {promo_code} bis Sonntag einlösen. Gültig für Economy-Fahrten."),
        "en-GB": ("{discount} off this weekend 🎉", "Use code {promo_code} until Sunday. Valid on Economy rides."),
        "ja-JP": ("週末限定 {discount}オフ 🎉", "日曜日までコード「{promo_code}」をご利用ください。エコノミーのみ対象。"),
        "ar-SA": ("خصم {discount} في عطلة نهاية الأسبوع 🎉", "استخدم الرمز {promo_code} حتى يوم الأحد. صالح لرحلات الاقتصادية."),
    },
}
_PICKUPS = ("Rossio, Praça D. Pedro IV", "Estação do Cais do Sodré", "Av. da Liberdade 185", "Gare do Oriente, Porta 3")
_DESTINATIONS = ("Aeroporto Humberto Delgado", "Alfama", "Belém — Mosteiro dos Jerónimos", "Parque das Nações")
_NOTIFICATION_LOCALES = ("pt-PT", "pt-PT", "en-GB", "de-DE", "ja-JP", "ar-SA")
RIDER_NOTIFICATIONS_COUNT = 30


def build_rider_notifications() -> dict[str, Any]:
    rng = random.Random(505)
    rider_id = _id(rng, "rdr_", 16)
    t = BASE_TIME_US - 14 * 24 * 3600 * _SECOND
    out = []
    for i in range(RIDER_NOTIFICATIONS_COUNT):
        t += rng.randrange(600, 36 * 3600) * _SECOND
        template_id = ("driver_assigned", "driver_arrived", "trip_receipt", "rate_trip", "promo_weekend")[
            i % 5 if rng.random() < 0.8 else rng.randrange(5)]
        locale = rng.choice(_NOTIFICATION_LOCALES)
        trip_id = _id(rng, "trp_", 20)
        make, model = rng.choice(_VEHICLES)
        variables = {
            "driver_name": rng.choice(_DRIVER_NAMES).split()[0] if locale != "ja-JP" else rng.choice(("佐藤", "鈴木", "João")),
            "eta_min": str(rng.randint(2, 9)),
            "vehicle": f"{make} {model}",
            "plate": _plate(rng),
            "pickup": rng.choice(_PICKUPS),
            "destination": rng.choice(_DESTINATIONS),
            "amount": f"{rng.randint(6, 38)},{rng.randrange(100):02d} €",
            "discount": "20 %",
            "promo_code": "LISBOA20",
        }
        title, body = _TEMPLATES[template_id][locale]
        used = {k: v for k, v in variables.items() if "{" + k + "}" in title + body}
        n: dict[str, Any] = {
            "id": _id(rng, "ntf_", 20),
            "template_id": f"{template_id}.v{rng.choice((3, 4))}",
            "locale": locale,
            "title": title.format(**used),
            "body": body.format(**used),
            "deep_link": (f"taxiapp://promo/{used['promo_code']}?utm_source=push&utm_campaign=weekend"
                          if template_id == "promo_weekend"
                          else f"taxiapp://trips/{trip_id}/{template_id.replace('_', '-')}?lang={locale}"),
            "variables": used,
            "channel": "PUSH" if rng.random() < 0.85 else rng.choice(("SMS", "EMAIL", "IN_APP")),
            "created_at": t,
            "image_url": (f"https://cdn.taxiapp.example/img/{template_id}/{locale}.webp"
                          if template_id in ("promo_weekend", "trip_receipt") else None),
            "collapse_key": f"trip:{trip_id}" if template_id.startswith("driver_") else None,
        }
        if template_id in ("driver_assigned", "driver_arrived"):
            n["priority"] = "HIGH"
        elif template_id == "promo_weekend":
            n["priority"] = "LOW"
        # otherwise "priority" is absent and normalization fills the enum default (NORMAL)
        out.append(n)
    return {"rider_id": rider_id, "notifications": out}


# ---------------------------------------------------------------------------------------------

_SPECS: tuple[tuple[str, str, Record, Callable[[], Any], tuple[str, ...]], ...] = (
    ("trip_request", "A rider asks for a ride: ids, pickup/drop-off coordinates, ride type (~300 B as JSON).",
     TRIP_REQUEST, build_trip_request, ("promo_code is None: optional-unset is exercised.",)),
    ("completed_trip", "A finished trip: driver, vehicle, rider, 16-point route, fare breakdown, tags (~3 KB as JSON).",
     COMPLETED_TRIP, build_completed_trip,
     ("Three nesting levels (trip → driver → vehicle), a map, a 16-byte bytes field, float32 ratings and speeds.",
      "Optional fields set (tip, rider comment) and unset (promo code, driver phone, cancellation reason).")),
    ("trip_updates_batch",
     f"A dispatch batch of {TRIP_UPDATES_COUNT} trip status updates with positions and ETAs (~230 KB as JSON).",
     TRIP_UPDATES_BATCH, build_trip_updates_batch,
     ("Many small records with repeated ids and enum symbols: compression helps text formats a lot.",
      "About one update in six carries an optional message.")),
    ("gps_track", "A car's GPS fixes every 4 s from Baixa to Lisbon airport, mostly numbers (~50 KB as JSON).",
     GPS_TRACK, build_gps_track,
     ("Four float32 fields per fix hold float32-rounded decimal readings: their shortest float64 text is long "
      "(e.g. 3.9000000953674316), which a float32-aware text writer could shorten.",)),
    ("rider_notifications",
     f"{RIDER_NOTIFICATIONS_COUNT} push notifications to one rider in pt/en/de/ja/ar with emoji, links and "
     "template variables, mostly strings (~15 KB as JSON).",
     RIDER_NOTIFICATIONS, build_rider_notifications,
     ("Non-ASCII text (Japanese, Arabic, emoji) counts several bytes per character in UTF-8.",
      "Some notifications omit 'priority' so the enum field's default (NORMAL) is filled in.")),
)


def payloads() -> list[Payload]:
    """The five built-in taxi-hailing payloads, smallest first-ish (values are built lazily)."""
    return [Payload(name, description, schema, build, notes=notes) for name, description, schema, build, notes in _SPECS]
