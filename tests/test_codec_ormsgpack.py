"""msgpack/ormsgpack: MessagePack via ormsgpack (Rust), next to msgpack and msgspec."""

from __future__ import annotations

import pytest

pytest.importorskip("ormsgpack")
pytest.importorskip("msgpack")

from schemas import ALL, all_value, roundtrip  # noqa: E402

from formats.msgpack_msgpack import MsgpackCodec  # noqa: E402
from formats.msgpack_ormsgpack import OrmsgpackCodec  # noqa: E402
from payloads.model import SchemaMismatch, differences, normalize  # noqa: E402


def test_round_trip_every_type_kind_and_same_bytes_as_msgpack() -> None:
    import msgpack

    p = OrmsgpackCodec().prepare(ALL)
    for value in (all_value(), all_value(f64=float("nan"), f32=float("-inf"), opt_set=None, opt_rec={"name": "r"})):
        canon = normalize(ALL, value)
        data, back = roundtrip(p, canon)
        assert differences(canon, back) == []
        ref = MsgpackCodec().prepare(ALL)
        assert data == ref.encode(ref.to_native(canon))  # one format, two libraries, the same bytes
        assert differences(canon, p.from_native(msgpack.unpackb(data, raw=False))) == []


def test_floats_are_float64_and_bytes_are_bin() -> None:
    from payloads.model import BYTES, FLOAT32, Field, Record

    rec = Record("R", (Field("f", FLOAT32, 1), Field("b", BYTES, 2)))
    p = OrmsgpackCodec().prepare(rec)
    data = p.encode(p.to_native({"f": 0.5, "b": b"\x01"}))
    # fixmap(2) "f": float64 0.5, "b": bin8 of 1 byte
    assert data == b"\x82\xa1f\xcb" + bytes.fromhex("3fe0000000000000") + b"\xa1b\xc4\x01\x01"


def test_garbage_raises_and_wrong_shapes_are_refused() -> None:
    p = OrmsgpackCodec().prepare(ALL)
    for bad in (b"", b"\xc1", b"\x92\x01"):
        with pytest.raises(Exception):  # noqa: B017 - ormsgpack's MsgpackDecodeError / our SchemaMismatch
            p.from_native(p.decode(bad))
    with pytest.raises(SchemaMismatch):
        p.from_native(p.decode(b"\x05"))  # valid MessagePack, not an AllKinds


def test_registered_as_an_extra_with_its_backend() -> None:
    from formats.registry import CORE, EXTRAS, build_registry

    reg = build_registry(discover_plugins=False)
    codec = reg.codec("msgpack/ormsgpack")
    assert isinstance(codec, OrmsgpackCodec) and "msgpack/ormsgpack" in EXTRAS and "msgpack/ormsgpack" not in CORE
    assert [e.name for e in reg.select(["msgpack"])] == ["msgpack/msgpack", "msgpack/msgspec", "msgpack/ormsgpack"]
    assert codec.backend() == "Rust extension" and codec.slow_backend() is False
    assert codec.capabilities.evolution_modes == ("tolerant", "strict")
