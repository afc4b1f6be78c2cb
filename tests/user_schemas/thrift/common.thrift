namespace py rides.common

enum Currency {
  EUR = 1,
  USD = 2,
  GBP = 3,
}

struct GeoPoint {
  1: required double lat,
  2: required double lon,
}

struct Money {
  1: required i64 cents,
  2: required Currency currency = Currency.EUR,
}
