include "common.thrift"

namespace py rides.v1

enum TripStatus {
  REQUESTED = 1,
  ACCEPTED = 2,
  STARTED = 3,
  COMPLETED = 4,
  CANCELLED = 6,
}

/** A trip's lifecycle event, as published on the rides topic. */
struct TripEvent {
  1: required string trip_id,
  2: required i64 occurred_at,
  3: required TripStatus status = TripStatus.REQUESTED,
  4: required i64 rider_id,
  5: optional i64 driver_id,
  6: required common.GeoPoint pickup,
  7: required list<common.GeoPoint> route,
  8: optional common.Money fare,
  10: required map<string, i32> surcharges,
  11: optional string note,
  12: optional binary receipt_pdf,
  13: required list<string> tags,
  14: i32 seats = 1,
}
