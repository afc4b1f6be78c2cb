"""thrift/apache-binary and thrift/apache-compact: Apache Thrift's own library (C fastbinary) with
struct classes built from the model in memory; the same IDL and wire format as thriftpy2."""

from __future__ import annotations

import sys
import time
import tracemalloc

import pytest

pytest.importorskip("thrift")
pytest.importorskip("thriftpy2")

from schemas import RIDE_V1, everything, everything_flipped, everything_value, ride  # noqa: E402

from formats import thrift_apache  # noqa: E402
from formats.thrift_apache import ApacheThriftBinaryCodec, ApacheThriftCompactCodec  # noqa: E402
from formats.thrift_thriftpy2 import ThriftBinaryCodec, ThriftCompactCodec  # noqa: E402
from payloads.model import (  # noqa: E402
    BOOL,
    INT32,
    STRING,
    EnumType,
    Field,
    MapType,
    Record,
    SchemaMismatch,
    differences,
    normalize,
)

STATUS = EnumType("TripStatus", ("REQUESTED", "ACCEPTED", "BEGIN", "END"))
# "read"/"write" would shadow TBase's methods: the IDL names them read_/write_
EVERYTHING = everything(STATUS, Field("read", MapType(MapType(BOOL)), 25))
VALUE = everything_value(
    opt_status="BEGIN", statuses=["ACCEPTED", "REQUESTED"], field_25={"read": {"a": {"x": True}, "b": {}}}
)
VALUE2 = everything_flipped(VALUE, f32=float("-inf"), field_25={"read": {}})
CODECS = [ApacheThriftBinaryCodec(), ApacheThriftCompactCodec()]
PEERS = {"thrift/apache-binary": ThriftBinaryCodec(), "thrift/apache-compact": ThriftCompactCodec()}
IDS = [c.name for c in CODECS]


def _encode(prepared, value):
    canon = normalize(EVERYTHING, value)
    return canon, prepared.encode(prepared.to_native(canon))


def test_the_c_accelerator_is_built_and_used() -> None:
    from thrift.protocol import fastbinary

    for c in CODECS:
        assert c.backend() == "C accelerator (fastbinary)" and c.slow_backend() is False
    p = CODECS[0].prepare(EVERYTHING)
    _, data = _encode(p, VALUE)
    cls = thrift_apache.build(EVERYTHING).root
    assert data == fastbinary.encode_binary(p.to_native(normalize(EVERYTHING, VALUE)), [cls, cls.thrift_spec])


@pytest.mark.parametrize("codec", CODECS, ids=IDS)
@pytest.mark.parametrize("value", [VALUE, VALUE2], ids=["mostly-set", "flipped"])
def test_round_trip_every_type_kind_and_same_bytes_as_thriftpy2(codec, value) -> None:
    p = codec.prepare(EVERYTHING)
    canon, data = _encode(p, value)
    assert differences(canon, p.from_native(p.decode(data))) == []
    peer = PEERS[codec.name].prepare(EVERYTHING)
    assert peer.encode(peer.to_native(canon)) == data  # one wire format, two libraries
    assert differences(canon, p.from_native(p.decode(peer.encode(peer.to_native(canon))))) == []


def test_structs_look_like_generated_code() -> None:
    from thrift.protocol.TBase import TBase
    from thrift.Thrift import TType

    s = thrift_apache.build(EVERYTHING)
    cls = s.root
    assert issubclass(cls, TBase) and cls.__name__ == "Everything" and "read_" in cls.__slots__
    spec = cls.thrift_spec
    assert spec[0] is None and len(spec) == 27
    assert spec[6] == (6, TType.STRING, "text", "UTF8", None)
    assert spec[7] == (7, TType.STRING, "blob", "BINARY", None)
    assert spec[12][1] == TType.STRUCT and spec[12][3][0] is s.classes["Point"]
    assert spec[12][3][1] is s.classes["Point"].thrift_spec  # wired by thrift.TRecursive.fix_spec
    assert spec[23] == (23, TType.LIST, "statuses", (TType.I32, None, False), None)
    obj = cls()
    assert all(getattr(obj, a) is None for a in cls.__slots__)
    assert thrift_apache.build(EVERYTHING) is s


def test_idl_defaults_are_init_defaults_and_what_an_old_writer_leaves_out_reads_as_the_default() -> None:
    enum = EnumType("RideClass", ("UNKNOWN", "ECONOMY", "XL"), numbers=(1, 2, 5))
    v1 = Record("Ride", (Field("id", STRING, 1),))
    v2 = Record("Ride", (Field("id", STRING, 1), Field("cls", enum, 2, optional=True, default="XL"),
                         Field("seats", INT32, 3, optional=True, default=4)))
    assert thrift_apache.build(v2).root().cls == 5
    for codec in CODECS:
        w = codec.prepare(v1)
        r = codec.prepare(v1, reader_schema=v2)
        assert r.from_native(r.decode(w.encode(w.to_native({"id": "a"})))) == {"id": "a", "cls": "XL", "seats": 4}
        old = codec.prepare(v2, reader_schema=v1)
        w2 = codec.prepare(v2)
        assert old.from_native(old.decode(w2.encode(w2.to_native({"id": "b", "cls": "ECONOMY", "seats": 1})))) == {
            "id": "b"}


@pytest.mark.parametrize("codec", CODECS, ids=IDS)
def test_decode_materialises(codec) -> None:
    p = codec.prepare(EVERYTHING)
    _, data = _encode(p, VALUE)
    obj = p.decode(data)
    assert obj.stops[0].at.lat == 52.5 and obj.groups["g"][0].name == "C" and obj.blob == b"\x00\xff\x80"
    assert isinstance(obj.text, str) and isinstance(obj.flag, bool) and obj.read_ == {"a": {"x": True}, "b": {}}


@pytest.mark.parametrize("codec", CODECS, ids=IDS)
def test_garbage_truncation_and_huge_counts_raise_quickly_without_allocating(codec) -> None:
    p = codec.prepare(EVERYTHING)
    _, good = _encode(p, VALUE)
    binary = codec.name.endswith("binary")
    bad = [b"", good[: len(good) // 2], good[:-1]]
    if binary:
        bad += [b"\x0f\x00\x0d\x0c\x7f\xff\xff\xff",  # field 13: a list of 2**31-1 structs, no data
                b"\x0f\x00\x0a\x0b\x00\x10\x00\x00"]  # field 10: a list of a million strings, no data
    else:
        bad += [b"\xd9\xfc\xff\xff\xff\xff\x07",  # field 13 (delta 13, list): 2**31-1 structs, no data
                b"\xa9\xf8\xff\xff\xff\x07"]  # field 10 (delta 10, list of binary): 2**31-1 strings
    tracemalloc.start()
    try:
        for data in bad:
            t0 = time.process_time()  # CPU time: another process's load cannot fail it
            with pytest.raises(Exception):  # noqa: B017 - the library's own exception types
                p.from_native(p.decode(data))
            assert time.process_time() - t0 < 1.0, data
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 << 20, peak


@pytest.mark.parametrize("codec", CODECS, ids=IDS)
def test_invalid_utf8_is_replaced_not_rejected_by_the_library(codec) -> None:
    """fastbinary decodes strings with errors='replace' (thriftpy2's codec raises): recorded in the
    notes because the fault probe will count it as silent garbage."""
    rec = Record("Note", (Field("text", STRING, 1),))
    p = codec.prepare(rec)
    data = p.encode(p.to_native({"text": "ab"}))
    bad = data.replace(b"ab", b"\xc3(")
    assert p.from_native(p.decode(bad)) == {"text": "\ufffd("}
    assert any("U+FFFD" in n for n in codec.capabilities.notes)
    peer = PEERS[codec.name].prepare(rec)
    if codec.name.endswith("binary"):  # thriftpy2's compiled binary protocol decodes strictly
        with pytest.raises(UnicodeDecodeError):
            peer.decode(bad)


def test_missing_required_field_is_reported() -> None:
    v1 = Record("Ride", (Field("id", STRING, 1),))
    v2 = Record("Ride", (Field("id", STRING, 1), Field("seats", INT32, 2)))
    for codec in CODECS:
        w, r = codec.prepare(v1), codec.prepare(v1, reader_schema=v2)
        with pytest.raises(SchemaMismatch, match="seats"):
            r.from_native(r.decode(w.encode(w.to_native({"id": "x"}))))


def test_wire_type_change_is_skipped_by_the_c_decoder() -> None:
    v1 = Record("Ride", (Field("id", STRING, 1), Field("n", INT32, 2, optional=True)))
    v2 = Record("Ride", (Field("id", STRING, 1), Field("n", STRING, 2, optional=True)))
    for codec in CODECS:
        w, r = codec.prepare(v1), codec.prepare(v1, reader_schema=v2)
        assert r.from_native(r.decode(w.encode(w.to_native({"id": "x", "n": 7})))) == {"id": "x", "n": None}


def test_enum_numbers_travel_and_unknown_numbers_are_refused() -> None:
    for codec in CODECS:
        w = codec.prepare(ride(RIDE_V1))
        data = w.encode(w.to_native({"cls": "XL", "seen": ["ECONOMY", "XL"]}))
        assert w.decode(data).cls == 4
        positional = codec.prepare(
            ride(RIDE_V1), reader_schema=ride(EnumType("RideClass", ("UNKNOWN", "ECONOMY", "XL"))))
        with pytest.raises(SchemaMismatch, match="unknown number 4"):
            positional.from_native(positional.decode(data))


def test_without_the_accelerator_it_falls_back_warns_and_says_so(monkeypatch) -> None:
    import thrift.protocol

    monkeypatch.setitem(sys.modules, "thrift.protocol.fastbinary", None)  # `import` now raises ImportError
    monkeypatch.delattr(thrift.protocol, "fastbinary", raising=False)
    assert thrift_apache.fastbinary() is None
    for codec in (ApacheThriftBinaryCodec(), ApacheThriftCompactCodec()):
        assert codec.slow_backend() is True and codec.backend().startswith("pure Python")
        with pytest.warns(RuntimeWarning, match="fastbinary is missing"):
            p = codec.prepare(EVERYTHING)
        canon, data = _encode(p, VALUE)
        assert differences(canon, p.from_native(p.decode(data))) == []
        peer = PEERS[codec.name].prepare(EVERYTHING)
        assert peer.encode(peer.to_native(canon)) == data


def test_registered_in_core_with_the_thrift_idl() -> None:
    from formats.registry import CORE, build_registry

    reg = build_registry(discover_plugins=False)
    assert isinstance(reg.codec("thrift/apache-binary"), ApacheThriftBinaryCodec)
    assert isinstance(reg.codec("thrift/apache-compact"), ApacheThriftCompactCodec)
    assert {"thrift/apache-binary", "thrift/apache-compact", "thrift/binary", "thrift/compact"} <= set(CORE)
    assert [e.name for e in reg.select(["thrift"])] == ["thrift/binary", "thrift/compact", "thrift/apache-binary",
                                                         "thrift/apache-compact"]
    text = CODECS[1].schema_text(EVERYTHING)
    assert text == ThriftBinaryCodec().schema_text(EVERYTHING) and text.extension == ".thrift"
    assert all(c.capabilities.evolution_modes == ("tagged",) for c in CODECS)


PROBE = """
import json, sys
from pathlib import Path
from bench.faults import produce
from bench.runner import SectionContext
from bench.timing import Plan
from payloads.catalog import builtin_payloads
ctx = SectionContext(sys.argv[2:], builtin_payloads(), Plan(disabled=True), "untimed", Path(sys.argv[1]), None,
                     lambda m: None)
print(json.dumps(produce(ctx)))
"""


def test_fault_probe_covers_them_with_their_length_fields_and_no_crash_or_hang(tmp_path) -> None:
    """The fault probe picks the new codecs up, walks their bytes for real length fields (the same
    binary/compact layouts as thriftpy2's) and the C decoder neither crashes nor hangs."""
    import json
    import os
    import subprocess
    from pathlib import Path

    from bench.faults import KINDS

    root = Path(__file__).resolve().parents[1]
    env = dict(os.environ, MSGBENCH_NO_PLUGINS="1")
    proc = subprocess.run([sys.executable, "-c", PROBE, str(tmp_path), *IDS], capture_output=True, text=True,
                          timeout=240, cwd=root, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    section = json.loads(proc.stdout.strip().splitlines()[-1])
    by = {c["codec"]: c for c in section["codecs"]}
    assert set(by) == set(IDS)
    for c in by.values():
        assert "error" not in c, c
        for kind in KINDS:
            assert c["kinds"][kind]["crash"] == 0 and c["kinds"][kind]["hang"] == 0, (c["codec"], kind, c["kinds"])
        assert c["kinds"]["truncated"]["clean_error"] == section["trials_per_kind"]
        assert c["memory_errors"] == 0
        assert not any("heuristic" in e for e in c["examples"]), c["examples"]


def test_evolution_matrix_has_their_columns_and_shows_where_the_two_libraries_differ() -> None:
    """Every scenario runs for the new codecs (tagged mode). Apache Thrift's C decoder agrees with
    thriftpy2 cell for cell except on a retyped map value: thriftpy2 hands back a wrong value
    silently, fastbinary refuses the whole message ("got wrong ttype while reading field")."""
    from bench import evolution as ev
    from payloads import evolution as sc

    codecs = [ThriftBinaryCodec(), ThriftCompactCodec(), *CODECS]
    m = ev.run_matrix(codecs, list(sc.SCENARIOS), plugins=False)
    assert m["codecs"] == ["thrift/binary", "thrift/compact", "thrift/apache-binary", "thrift/apache-compact"]
    cells = {(c["scenario"], c["codec"], c["direction"]): c for c in m["cells"]}
    assert len(cells) == len(sc.SCENARIOS) * len(sc.DIRECTIONS) * 4
    differ = set()
    for (scenario, codec, direction), cell in cells.items():
        if not codec.startswith("thrift/apache-"):
            continue
        assert not cell["detail"].startswith(("crash:", "timeout:", "not run")), cell
        peer = cells[(scenario, codec.replace("apache-", ""), direction)]
        if (cell["outcome"], cell["ideal"]) != (peer["outcome"], peer["ideal"]):
            differ.add((scenario, direction))
            assert peer["outcome"] in ("changed", "lost") and cell["outcome"] == "error", (cell, peer)
            assert "got wrong ttype while reading field" in cell["detail"]
    assert {s for s, _ in differ} == {"map-value-type"}, differ
