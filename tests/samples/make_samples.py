"""Regenerate the sample payload files next to this script: `python tests/samples/make_samples.py`.

The files are committed; tests read them and assert on exact lines and columns, so keep this in sync.
"""

import json
from pathlib import Path

HERE = Path(__file__).parent


def main() -> None:
    # real-world shaped trips: nested records, sparse optional keys, lists of records, maps with data keys
    trips = []
    for i in range(12):
        t = {
            "trip_id": f"t-{1000 + i}",
            "requested_at": 1717000000000000 + i * 1_000_000,
            "passenger": {"id": 500 + i, "name": ["Ana", "Bo", "Chen", "Dana"][i % 4], "rating": [4.9, 5, 4.7, 4][i % 4]},
            "pickup": {"lat": 52.52 + i / 1000, "lon": 13.405},
            "route": [{"lat": 52.5 + k / 100, "lon": 13.4 + k / 100, "t": k} for k in range(i % 4)],
            "prices": {c: round(10 + i * 0.5 * r, 2)
                       for c, r in [("EUR", 1.0), ("USD", 1.08), ("GBP", 0.85), ("CHF", 0.97)][: 1 + i % 4]},
            "status": ["requested", "accepted", "completed"][i % 3],
        }
        if i % 3 == 0:
            t["driver"] = {"id": 77 + i, "name": f"Driver {i}", "vehicle": {"plate": f"B-TX {i:04d}", "seats": 4}}
        if i % 4 == 1:
            t["promo_code"] = None
        if i % 5 == 2:
            t["promo_code"] = "SPRING24"
        if i == 7:
            t["notes"] = "wheelchair"
        trips.append(t)
    with open(HERE / "trips.ndjson", "w") as f:
        for t in trips:
            f.write(json.dumps(t, ensure_ascii=False) + "\n")
        f.write("\n")  # a trailing blank line is ignored
    with open(HERE / "single_trip.json", "w") as f:
        json.dump(trips[0], f, indent=2)

    def nest(n):
        v = {"leaf": n}
        for k in range(n):
            v = {"level": k, "child": v}
        return v

    with open(HERE / "deep.json", "w") as f:
        json.dump({"name": "deep", "tree": nest(60), "ok": nest(3)}, f)

    mixed = [
        {"id": 1, "values": [1, "a", True, None, 2.5], "flag": True, "code": 7, "matrix": [[1, 2], [3, 4]],
         "maybe": [1, None, 3]},
        {"id": 2, "values": [], "flag": 1, "code": "7b", "matrix": [[5.5]], "maybe": []},
        {"id": 3, "values": [{"x": 1}, [1, 2]], "flag": False, "code": None, "matrix": [], "maybe": [None]},
    ]
    with open(HERE / "mixed.json", "w") as f:
        json.dump(mixed, f, indent=2)

    uni = [
        {"名前": "山田太郎", "first-name": "Zoë", "2fa": True, "": "empty key", "emoji": "🚕🚖👩🏽‍✈️",
         "rtl": "مرحبا بالعالم", "hebrew": "שלום", "combining": "e\u0301 n\u0303 a\u030a",
         "zalgo": "Z\u0351\u0357a\u0353l\u0316g\u0326o", "city": "Zürich", "first_name": "clash"},
        {"名前": "Ωmega", "first-name": "Ленин", "2fa": False, "": "", "emoji": "\U0001F600",
         "rtl": "\u200fשלום\u200e", "hebrew": "", "combining": "", "zalgo": "", "city": "東京", "first_name": "x",
         "größe": 1.85},
    ]
    with open(HERE / "unicode.ndjson", "w", encoding="utf-8") as f:
        for r in uni:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")

    with open(HERE / "numbers.ndjson", "w") as f:
        f.write('{"small": 1, "i32max": 2147483647, "over32": 2147483648, "i64max": 9223372036854775807, '
                '"over64": 9223372036854775808, "huge": 123456789012345678901234567890, '
                '"neg64": -9223372036854775808, "mix": 1, "negzero": -0.0, "tiny": 5e-324, '
                '"big_float": 1.7976931348623157e308}\n')
        f.write('{"small": -5, "i32max": -2147483648, "over32": -1, "i64max": 0, "over64": 1, "huge": -1, '
                '"neg64": 0, "mix": 2.5, "negzero": 0.0, "tiny": 0, "big_float": 1e300}\n')

    rows = [
        {"sku": "A-1", "prices": {"EUR": 1.0, "USD": 1.1}, "stock_by_date": {"2024-06-01": 3, "2024-06-02": 5},
         "by_store": {"1001": {"qty": 3}, "1002": {"qty": 0, "note": "x"}}},
        {"sku": "B-2", "prices": {"EUR": 2.0, "GBP": 1.7, "JPY": 310}, "stock_by_date": {"2024-06-03": 1},
         "by_store": {"1003": {"qty": 9}}},
        {"sku": "C-3", "prices": {}, "stock_by_date": {}, "by_store": {}},
    ]
    with open(HERE / "prices.ndjson", "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")

    # invalid JSON: NDJSON line 3, column 29 (`tru`); .json line 4, column 11 (the trailing comma)
    with open(HERE / "invalid.ndjson", "w") as f:
        f.write('{"id": 1, "ok": true}\n\n{"id": 2, "ok": false, "x": tru}\n')
    with open(HERE / "invalid.json", "w") as f:
        f.write('[\n  {"id": 1},\n  {"id": 2,\n   "x": [1,],\n  }\n]\n')

    (HERE / "empty.json").write_bytes(b"")
    (HERE / "blank.ndjson").write_text("\n   \n\t\n")

    (HERE / "bom.json").write_bytes(b"\xef\xbb\xbf" + json.dumps({"id": 1, "name": "bom"}).encode())
    (HERE / "bom_midfile.ndjson").write_bytes(b'{"id": 1}\n\xef\xbb\xbf{"id": 2}\n')

    # Latin-1: the e-acute of "Café" on line 2, column 14; mixed: UTF-8 line 1, Latin-1 line 2
    (HERE / "latin1.ndjson").write_bytes(b'{"city": "Berlin"}\n' + '{"city": "Café"}\n'.encode("latin-1"))
    (HERE / "mixed_encoding.ndjson").write_bytes('{"city": "Zürich"}\n'.encode()
                                                 + '{"city": "Genève"}\n'.encode("latin-1"))

    (HERE / "scalar.json").write_text("\n  42\n")  # line 2, column 3
    (HERE / "array_with_scalar.json").write_text('[\n  {"id": 1},\n  "oops",\n  {"id": 3}\n]\n')  # line 3, col 3
    (HERE / "scalar_line.ndjson").write_text('{"id": 1}\n[1, 2]\n')  # line 2


if __name__ == "__main__":
    main()
