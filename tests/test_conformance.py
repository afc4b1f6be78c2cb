"""The conformance kit against every built-in codec, and against codecs that break it on purpose."""

from __future__ import annotations

import importlib.util
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from formats.api import ALL_TYPE_KINDS, Capabilities, Codec, SimplePrepared
from formats.conformance import RULES, check_codec, conformance_tests, edge_payloads
from formats.registry import BUILTINS, CORE

ROOT = Path(__file__).resolve().parents[1]
BROKEN_SRC = ROOT / "examples" / "msgbench-plugin-broken" / "src"
EXAMPLE_SRC = ROOT / "examples" / "msgbench-plugin-example" / "src"


def _module_ready(name: str) -> bool:
    return importlib.util.find_spec(BUILTINS[name][0].partition(":")[0]) is not None


@pytest.mark.parametrize("name", list(BUILTINS))
def test_builtin_codec_conforms(name: str) -> None:
    if not _module_ready(name):
        pytest.skip(f"{BUILTINS[name][0]} is not written yet")
    report = check_codec(name)
    assert report.passed, report.text()
    rules = {r.rule for r in report if not r.skipped}
    assert {"round-trip", "garbage", "prepare", "encode-bytes", "info"} <= rules, report.text()


def test_core_and_extras_are_all_listed() -> None:
    assert set(CORE) <= set(BUILTINS)
    assert {"json/stdlib", "msgpack/msgpack", "cbor/cbor2", "json/msgspec", "msgpack/msgspec",
            "protobuf/python", "bson/pymongo"} <= set(BUILTINS) - set(CORE)


def test_protobuf_python_really_runs_the_python_backend() -> None:
    if not _module_ready("protobuf/python"):
        pytest.skip("formats/protobuf_python.py needs formats/protobuf_upb.py, not written yet")
    report = check_codec("protobuf/python", include_edge=False, payloads=[])
    env = report.for_rule("process-env")
    assert env and all(r.passed for r in env), report.text()
    assert "'python'" in env[0].message


# ------------------------------------------------------------------------------------------------
# The broken example codecs (imported from the example's source tree; test_plugins installs them)


@pytest.fixture(scope="module")
def broken():
    sys.path.insert(0, str(BROKEN_SRC))
    try:
        import msgbench_plugin_broken.codecs as mod

        yield mod
    finally:
        sys.path.remove(str(BROKEN_SRC))


def test_lossy_codec_fails_round_trip_naming_the_field(broken) -> None:
    report = check_codec(broken.LossyCodec, payloads=[])
    assert report.failed_rules() == ["round-trip"], report.text()
    msgs = " ".join(r.message for r in report.failures())
    assert "f32_max" in msgs and "statuses" in msgs  # the last field of each edge record
    assert "<absent>" in msgs


def test_lenient_codec_fails_garbage(broken) -> None:
    report = check_codec(broken.LenientCodec, payloads=[])
    assert report.failed_rules() == ["garbage"], report.text()
    assert any("not a valid" in r.message and "raise an exception" in r.message for r in report.failures())


def test_prepare_failing_codec_fails_prepare_and_unsupported(broken) -> None:
    report = check_codec(broken.PrepareFailsCodec, payloads=[])
    assert set(report.failed_rules()) >= {"prepare", "unsupported"}, report.text()
    assert any("RuntimeError" in r.message for r in report.for_rule("prepare"))
    assert any("UnsupportedSchema" in r.message for r in report.for_rule("unsupported"))


def test_example_plugin_codec_passes() -> None:
    sys.path.insert(0, str(EXAMPLE_SRC))
    try:
        from msgbench_plugin_example import PickleCodec

        report = check_codec(PickleCodec, payloads=[])
    finally:
        sys.path.remove(str(EXAMPLE_SRC))
    assert report.passed, report.text()


# ------------------------------------------------------------------------------------------------
# Hangs, crashes and contract slips are reported, not fatal


class _Base(Codec):
    format = "test"
    library = "pytest"
    description = "test codec"
    capabilities = Capabilities(binary=True, needs_schema=False, types=ALL_TYPE_KINDS)

    def _prepared(self, bad_decode):
        import pickle

        valid: set[bytes] = set()

        def encode(v):
            data = pickle.dumps(v)
            valid.add(data)
            return data

        def decode(data):
            if data not in valid:
                bad_decode()
            return pickle.loads(data)

        return SimplePrepared(encode=encode, decode=decode)


class CrashingCodec(_Base):
    name = "test/crash"

    def prepare(self, schema, reader_schema=None, policy=None):
        return self._prepared(lambda: os.kill(os.getpid(), signal.SIGSEGV))


class HangingCodec(_Base):
    name = "test/hang"

    def prepare(self, schema, reader_schema=None, policy=None):
        return self._prepared(lambda: time.sleep(60))


class SlackCodec(_Base):
    """Several slips at once: bad name, bytearray output, nondeterminism, no UnsupportedSchema."""

    name = "Slack"
    format = "slack"
    capabilities = Capabilities(binary=True, needs_schema=True, types=ALL_TYPE_KINDS - {"map"})
    counter = 0

    def prepare(self, schema, reader_schema=None, policy=None):
        import pickle

        def encode(v):
            SlackCodec.counter += 1
            return bytearray(pickle.dumps((SlackCodec.counter, v)))

        return SimplePrepared(encode=encode, decode=lambda d: pickle.loads(d)[1])


class NoMapsCodec(_Base):
    """Claims every kind but map, and says so with check_schema: conformant."""

    name = "test/nomaps"
    capabilities = Capabilities(binary=True, needs_schema=False, types=ALL_TYPE_KINDS - {"map"})

    def prepare(self, schema, reader_schema=None, policy=None):
        self.check_schema(schema)
        return self._prepared(lambda: (_ for _ in ()).throw(ValueError("not a message I wrote")))


def test_unclaimed_kinds_are_refused_with_unsupported_schema() -> None:
    report = check_codec(NoMapsCodec, payloads=[])
    assert report.passed, report.text()
    subjects = {r.subject for r in report.for_rule("unsupported")}
    assert "kind map" in subjects and any(s.startswith("conformance.edge_containers") for s in subjects)
    assert not any(r.subject.startswith("conformance.edge_containers") for r in report.for_rule("round-trip"))


def test_crash_in_decode_is_reported() -> None:
    report = check_codec(CrashingCodec, payloads=[], include_edge=True)
    bad = [r for r in report.for_rule("garbage") if not r.passed]
    assert bad and "crashed" in bad[0].message and "killed by SIGSEGV" in bad[0].message, report.text()
    assert "Fatal Python error" in bad[0].message  # faulthandler on, as in every child


def test_hang_in_decode_is_reported() -> None:
    started = time.perf_counter()
    report = check_codec(HangingCodec, payloads=[], garbage_timeout=4)
    assert time.perf_counter() - started < 20
    bad = [r for r in report.for_rule("garbage") if not r.passed]
    assert bad and "hung" in bad[0].message and bad[0].subject == "empty", report.text()


def test_slips_are_named() -> None:
    report = check_codec(SlackCodec, payloads=[])
    failed = set(report.failed_rules())
    assert {"attributes", "encode-bytes", "unsupported", "schema-text"} <= failed, report.text()
    attrs = report.for_rule("attributes")[0].message
    assert "format/variant" in attrs and "format='slack'" in attrs


def test_unknown_name_fails_load() -> None:
    report = check_codec("nosuch/codec")
    assert report.failed_rules() == ["load"] and "unknown codec" in report.results[0].message


def test_edge_payloads_are_valid_and_cover_every_kind() -> None:
    from formats.api import kinds_used

    kinds = set().union(*(kinds_used(p.schema) for p in edge_payloads()))
    assert kinds == set(ALL_TYPE_KINDS)


def test_every_rule_is_documented() -> None:
    doc = (ROOT / "docs" / "plugins.md").read_text()
    missing = [r for r in RULES if f"`{r}`" not in doc]
    assert not missing, f"docs/plugins.md does not explain rules {missing}"


# The pytest entry a plugin's own suite uses, exercised here on a built-in codec.
test_entry_point_on_json_stdlib = conformance_tests("json/stdlib", payloads=[])


# ------------------------------------------------------------------------------------------------
# Reader policies of the extra codecs (the evolution section relies on them)

EXTRA_POLICY_CODECS = ["json/stdlib", "json/msgspec", "msgpack/msgpack", "msgpack/msgspec", "msgpack/ormsgpack",
                       "cbor/cbor2", "bson/pymongo"]


@pytest.mark.parametrize("name", EXTRA_POLICY_CODECS)
def test_extra_codec_reader_policies(name: str) -> None:
    from formats.registry import build_registry
    from payloads.model import INT32, INT64, STRING, Field, Record

    v1 = Record("Trip", (Field("id", STRING, 1), Field("km", INT32, 2)))
    v2 = Record("Trip", (Field("id", STRING, 1), Field("km", INT64, 2), Field("note", STRING, 3, optional=True),
                         Field("seats", INT32, 4, optional=True, default=4)))
    codec = build_registry(discover_plugins=False).codec(name)

    def through(writer, reader, policy, value):
        p = codec.prepare(writer, reader_schema=reader, policy=policy)
        return p.from_native(p.decode(p.encode(p.to_native(value))))

    # new reader, old data: the optional field is defaulted
    assert through(v1, v2, "tolerant", {"id": "a", "km": 3}) == {"id": "a", "km": 3, "note": None, "seats": 4}
    # old reader, new data: tolerant drops the unknown fields, strict refuses them
    assert through(v2, v1, "tolerant", {"id": "a", "km": 3, "note": "x"}) == {"id": "a", "km": 3}
    with pytest.raises(Exception, match="note|seats|unknown"):
        through(v2, v1, "strict", {"id": "a", "km": 3, "note": "x"})
    # a value the old reader's int32 cannot hold is an error, never a silently wrong value
    with pytest.raises(Exception, match="int32|2147483647|less than|greater"):
        through(v2, v1, "tolerant", {"id": "a", "km": 5_000_000_000})
