"""Tag-based formats carry enum *numbers*: symbols are matched by number, not by position, and a
number the reader does not know is never silently taken for another symbol."""

from dataclasses import replace

import pytest
from schemas import RIDE_V1, RIDE_V2, ride

from formats.protobuf_upb import UpbCodec
from formats.thrift_thriftpy2 import ThriftBinaryCodec, ThriftCompactCodec
from payloads.model import EnumType, SchemaMismatch

CODECS = [UpbCodec(), ThriftBinaryCodec(), ThriftCompactCodec()]


@pytest.mark.parametrize("codec", CODECS, ids=[c.name for c in CODECS])
def test_enum_symbols_are_matched_by_number_not_position(codec) -> None:
    w = codec.prepare(ride(RIDE_V1))
    data = w.encode(w.to_native({"cls": "XL", "seen": ["ECONOMY", "XL"]}))
    r = codec.prepare(ride(RIDE_V1), reader_schema=ride(RIDE_V2))
    assert r.from_native(r.decode(data)) == {"cls": "XL", "seen": ["ECONOMY", "XL"]}
    # the same bytes read by a reader numbering its symbols by position: 4 is nothing it knows
    positional = codec.prepare(ride(RIDE_V1), reader_schema=ride(EnumType("RideClass", ("UNKNOWN", "ECONOMY", "XL"))))
    with pytest.raises(SchemaMismatch, match=r"unknown number 4; the model numbers its symbols 1\.\.3"):
        positional.from_native(positional.decode(data))
    # a removed symbol's number: proto3 enums are open and thriftpy2 does not check enum values,
    # so the decoded object holds the bare int; our conversion refuses it or uses the enum default
    old = w.encode(w.to_native({"cls": "COMFORT", "seen": []}))
    assert r.decode(old).cls == 3
    with pytest.raises(SchemaMismatch, match="unknown number 3; the model numbers its symbols UNKNOWN=1, ECONOMY=2, XL=4"):
        r.from_native(r.decode(old))
    rd = codec.prepare(ride(RIDE_V1), reader_schema=ride(replace(RIDE_V2, default="UNKNOWN")))
    assert rd.from_native(rd.decode(old)) == {"cls": "UNKNOWN", "seen": []}
