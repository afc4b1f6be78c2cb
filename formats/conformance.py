"""The codec conformance kit: does a codec honour the contract in :mod:`formats.api`?

Three ways in::

    from formats.conformance import check_codec
    report = check_codec("pickle/example")        # a registered name, a Codec class or instance
    assert report.passed, report.text()

    # in a plugin's own test suite (one pytest test per rule):
    from formats.conformance import conformance_tests
    test_my_codec = conformance_tests("myformat/mylib")

    msgbench check-plugin myformat/mylib           # -> check_plugin_main(name), a pass/fail table

Rules (``RULES``): every result names its rule id and says what to fix. The garbage-input rule
runs the codec in a child process with a time limit, so a decoder that hangs or crashes the
interpreter is reported, not fatal. A codec with a ``process_env`` (e.g. protobuf/python needs
``PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION=python`` before protobuf is imported) is checked as a
whole in a child process with that environment, exactly as the harness measures it; if it
declares ``expected_backend``, the kit verifies ``backend()`` returns it there.
"""

from __future__ import annotations

import copy
import os
import random
import re
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from formats.api import ALL_TYPE_KINDS, Capabilities, Codec, MsgbenchError, SchemaText, UnsupportedSchema, kinds_used
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
    Primitive,
    Record,
    Type,
    differences,
    normalize,
    validate,
)

RULES: dict[str, str] = {
    "load": "the codec can be found and imported",
    "attributes": "class attributes name ('format/variant'), format, library, description are set",
    "capabilities": "capabilities is a formats.api.Capabilities with known type kinds",
    "available": "check_available() passes (its libraries are installed)",
    "info": "library_version() and backend() return non-empty strings",
    "prepare": "prepare() works for every payload whose type kinds the codec claims",
    "unsupported": "prepare() raises formats.api.UnsupportedSchema for type kinds the codec does not claim",
    "encode-bytes": "encode() returns bytes",
    "round-trip": "from_native(decode(encode(to_native(v)))) equals payloads.model.normalize(schema, v)",
    "deterministic": "a codec declaring deterministic=True encodes the same value to the same bytes",
    "garbage": "decode of garbage (random, truncated, empty bytes) raises an Exception, in time, without crashing",
    "schema-text": "a codec that needs a schema exports it with schema_text()",
    "lazy-decode": "a codec declaring lazy_decode=True offers Prepared.parse_lazy",
    "access": "a codec offering Prepared.make_access returns the payload's values at payloads.access.access_paths",
    "process-env": "a codec with process_env runs under it and reports the backend it declares",
}

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.+-]*/[a-z0-9][a-z0-9_.+-]*$")


# ------------------------------------------------------------------------------------------------
# Results


@dataclass
class RuleResult:
    rule: str
    passed: bool
    message: str
    subject: str = ""  # the payload or garbage input the result is about
    skipped: bool = False


@dataclass
class ConformanceReport:
    """The outcome of :func:`check_codec`: a list of rule results."""

    codec: str
    results: list[RuleResult] = field(default_factory=list)
    source: str = ""
    duration_s: float = 0.0

    def add(self, rule: str, passed: bool, message: str, subject: str = "", skipped: bool = False) -> RuleResult:
        r = RuleResult(rule, passed, message, subject, skipped)
        self.results.append(r)
        return r

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)

    def failures(self) -> list[RuleResult]:
        return [r for r in self.results if not r.passed]

    def failed_rules(self) -> list[str]:
        return sorted({r.rule for r in self.failures()})

    def for_rule(self, rule: str) -> list[RuleResult]:
        return [r for r in self.results if r.rule == rule]

    def __iter__(self) -> Iterator[RuleResult]:
        return iter(self.results)

    def __len__(self) -> int:
        return len(self.results)

    def to_dict(self) -> dict[str, Any]:
        return {"codec": self.codec, "source": self.source, "duration_s": self.duration_s,
                "passed": self.passed, "results": [asdict(r) for r in self.results]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ConformanceReport:
        return cls(d["codec"], [RuleResult(**r) for r in d["results"]], d.get("source", ""), d.get("duration_s", 0.0))

    def text(self) -> str:
        """Plain text: one line per result, failures first."""
        lines = [f"conformance of {self.codec}: {'PASS' if self.passed else 'FAIL'} "
                 f"({len(self.failures())} failed of {len(self.results)} checks)"]
        for r in sorted(self.results, key=lambda r: r.passed):
            status = "skip" if r.skipped else ("ok" if r.passed else "FAIL")
            subject = f" [{r.subject}]" if r.subject else ""
            lines.append(f"  {status:4} {r.rule}{subject}: {r.message}")
        return "\n".join(lines)

    def print(self, console: Any = None) -> None:
        from rich.console import Console
        from rich.table import Table

        console = console or Console()
        table = Table(title=f"conformance: {self.codec}" + (f" ({self.source})" if self.source else ""))
        table.add_column("rule")
        table.add_column("subject")
        table.add_column("result")
        table.add_column("message", overflow="fold")
        for r in self.results:
            result = "[yellow]skip[/]" if r.skipped else ("[green]pass[/]" if r.passed else "[bold red]FAIL[/]")
            table.add_row(r.rule, r.subject, result, r.message)
        console.print(table)
        n_fail = len(self.failures())
        verdict = "[green]PASS[/]" if not n_fail else f"[bold red]FAIL[/]: {n_fail} failed ({', '.join(self.failed_rules())})"
        console.print(f"{self.codec}: {verdict} - {len(self.results)} checks in {self.duration_s:.1f} s")


# ------------------------------------------------------------------------------------------------
# Payloads: the built-in ones plus the kit's edge cases


@dataclass(frozen=True)
class CasePayload:
    name: str
    schema: Record
    value: Any  # already normalized
    # The kit's own payloads (built-in and edge) use only portable names, so a codec claiming
    # their kinds must handle them; a caller's payload may be refused with UnsupportedSchema.
    must_support: bool = True


_STATUS = EnumType("ConfStatus", ("UNKNOWN", "ACTIVE", "DONE"))
_POINT = Record("ConfPoint", (Field("lat", FLOAT64, 1), Field("lon", FLOAT64, 2), Field("acc", FLOAT32, 3, optional=True)))


def edge_payloads() -> list[CasePayload]:
    """Small payloads with the edge values a codec gets wrong first (limits, empties, unicode)."""
    scalars = Record("ConfScalars", (
        Field("t", BOOL, 1), Field("f", BOOL, 2),
        Field("i32_min", INT32, 3), Field("i32_max", INT32, 4),
        Field("i64_min", INT64, 5), Field("i64_max", INT64, 6), Field("zero", INT64, 7),
        Field("f64", FLOAT64, 8), Field("f64_tiny", FLOAT64, 9), Field("f64_big", FLOAT64, 10),
        Field("f64_neg", FLOAT64, 11), Field("f32", FLOAT32, 12),
        Field("text", STRING, 13), Field("empty_text", STRING, 14),
        Field("blob", BYTES, 15), Field("empty_blob", BYTES, 16),
        Field("ts", TIMESTAMP, 17), Field("ts_before_1970", TIMESTAMP, 18),
        Field("f64_neg_zero", FLOAT64, 19), Field("f64_17_digits", FLOAT64, 20),
        Field("f64_sub_max", FLOAT64, 21), Field("f32_neg_zero", FLOAT32, 22), Field("f32_sub_min", FLOAT32, 23),
        Field("f32_max", FLOAT32, 24),
    ))
    scalars_value = {
        "t": True, "f": False, "i32_min": -(2**31), "i32_max": 2**31 - 1,
        "i64_min": -(2**63), "i64_max": 2**63 - 1, "zero": 0,
        "f64": 0.1, "f64_tiny": 5e-324, "f64_big": 1.7976931348623157e308, "f64_neg": -2.5, "f32": 3.14159,
        "text": "Zürich → 東京 🚕 \"quoted\" <tag> & 'apos' \\ /", "empty_text": "",
        "blob": bytes(range(256)), "empty_blob": b"",
        "ts": 1_700_000_000_123_456, "ts_before_1970": -86_400_000_000,
        # -0.0 keeps its sign; 17 significant digits survive text; the largest float64 subnormal, and
        # float32's smallest subnormal and largest finite value (exactly representable in float32)
        "f64_neg_zero": -0.0, "f64_17_digits": 0.30000000000000004, "f64_sub_max": 2.225073858507201e-308,
        "f32_neg_zero": -0.0, "f32_sub_min": 1.401298464324817e-45, "f32_max": 3.4028234663852886e38,
    }
    containers = Record("ConfContainers", (
        Field("id", STRING, 1),
        Field("status", _STATUS, 2),
        Field("tags", ListType(STRING), 3),
        Field("no_tags", ListType(STRING), 4),
        Field("route", ListType(_POINT), 5),
        Field("attrs", MapType(STRING), 6),
        Field("no_attrs", MapType(INT64), 7),
        Field("counts", MapType(ListType(INT32)), 8),
        Field("note", STRING, 9, optional=True),
        Field("retries", INT32, 10, optional=True, default=3),
        Field("origin", _POINT, 11, optional=True),
        Field("statuses", ListType(_STATUS), 12),
    ))
    containers_value = {
        "id": "c-1", "status": "DONE", "tags": ["a", "", "ü"], "no_tags": [],
        "route": [{"lat": 47.37, "lon": 8.54, "acc": 5.5}, {"lat": -33.9, "lon": 151.2, "acc": None}],
        "attrs": {"k": "v", "with space": "x", "ünïcode": "y", "": "empty key"},
        "no_attrs": {}, "counts": {"a": [1, 2, 3], "b": []},
        "note": None, "origin": None, "statuses": ["ACTIVE", "UNKNOWN"],
        # "retries" absent: normalize fills in its default 3
    }
    return [
        CasePayload("conformance.edge_scalars", scalars, normalize(scalars, scalars_value)),
        CasePayload("conformance.edge_containers", containers, normalize(containers, containers_value)),
    ]


_KIND_TYPES: dict[str, Type] = {
    **{k: Primitive(k) for k in ("bool", "int32", "int64", "float32", "float64", "string", "bytes", "timestamp")},
    "enum": _STATUS,
    "list": ListType(STRING),
    "map": MapType(STRING),
}


def unsupported_probe(kind: str) -> Record:
    """A one-field record whose field has type kind ``kind`` (lists/maps of strings)."""
    return Record(f"ConfOnly_{kind}", (Field("x", _KIND_TYPES[kind], 1),))


_BUILTIN_CACHE: list[CasePayload] | None = None


def builtin_cases() -> tuple[list[CasePayload], str | None]:
    """The project's built-in payloads (cached) and, if they cannot be loaded, why."""
    global _BUILTIN_CACHE
    if _BUILTIN_CACHE is None:
        try:
            from payloads.catalog import builtin_payloads

            _BUILTIN_CACHE = [CasePayload(p.name, p.schema, p.value) for p in builtin_payloads()]
        except Exception as e:  # built-ins not available: edge payloads only, and say so
            return [], f"{type(e).__name__}: {e}"
    return _BUILTIN_CACHE, None


def _as_cases(payloads: Iterable[Any]) -> list[CasePayload]:
    out = []
    for p in payloads:
        if isinstance(p, CasePayload):
            out.append(p)
        elif isinstance(p, tuple):
            name, schema, value = p
            out.append(CasePayload(name, schema, normalize(schema, value), must_support=False))
        else:  # payloads.catalog.Payload
            out.append(CasePayload(p.name, p.schema, p.value, must_support=False))
    return out


# ------------------------------------------------------------------------------------------------
# Resolving what to check


def _resolve(codec_or_name: Any, report: ConformanceReport) -> tuple[Codec | None, str | None]:
    """(codec, spec for a child process) or (None, None) with a failed 'load' result."""
    if isinstance(codec_or_name, str):
        from formats.registry import build_registry

        try:
            entry = build_registry().entry(codec_or_name)
        except MsgbenchError as e:
            report.add("load", False, str(e))
            return None, None
        report.source = entry.source
        try:
            codec = entry.codec()
        except Exception as e:
            report.add("load", False, f"{e} - fix the import error (run `python -c 'import {entry.target.split(':')[0]}'`)")
            return None, None
        report.add("load", True, f"loaded {entry.target} ({entry.source})")
        return codec, f"name:{codec_or_name}"
    if isinstance(codec_or_name, type):
        if not issubclass(codec_or_name, Codec):
            report.add("load", False, f"{codec_or_name!r} is not a formats.api.Codec subclass; subclass it")
            return None, None
        try:
            codec_or_name = codec_or_name()
        except Exception as e:
            report.add("load", False, f"{codec_or_name.__name__}() raised {type(e).__name__}: {e}; the class "
                       "must be constructible without arguments")
            return None, None
    if not isinstance(codec_or_name, Codec):
        report.add("load", False, f"{codec_or_name!r} is not a formats.api.Codec instance; subclass formats.api.Codec")
        return None, None
    cls = type(codec_or_name)
    report.source = report.source or f"{cls.__module__}.{cls.__qualname__}"
    report.add("load", True, f"checking {cls.__module__}:{cls.__qualname__}")
    spec = f"target:{cls.__module__}:{cls.__qualname__}" if "<locals>" not in cls.__qualname__ else None
    return codec_or_name, spec


def _load_spec(spec: str) -> Codec:
    kind, _, rest = spec.partition(":")
    if kind == "name":
        from formats.registry import build_registry

        return build_registry().codec(rest)
    import importlib

    mod, _, qual = rest.partition(":")
    obj: Any = importlib.import_module(mod)
    for part in qual.split("."):
        obj = getattr(obj, part)
    return obj()


# ------------------------------------------------------------------------------------------------
# The checks


def check_codec(
    codec_or_name: Any,
    payloads: Iterable[Any] | None = None,
    *,
    include_edge: bool = True,
    garbage_timeout: float = 30.0,
) -> ConformanceReport:
    """Check a codec (registered name, ``Codec`` class or instance) against every rule.

    ``payloads``: ``payloads.catalog.Payload`` objects or ``(name, schema, value)`` tuples; by
    default the project's built-in payloads. The kit's edge-case payloads are added unless
    ``include_edge=False``. ``garbage_timeout`` bounds the child process that feeds garbage.
    """
    started = time.perf_counter()
    name = codec_or_name if isinstance(codec_or_name, str) else getattr(codec_or_name, "name", repr(codec_or_name))
    report = ConformanceReport(str(name))
    codec, spec = _resolve(codec_or_name, report)
    if codec is not None:
        report.codec = str(getattr(codec, "name", report.codec))
        if payloads is None:
            cases, why = builtin_cases()
            if why:
                report.add("prepare", True, f"built-in payloads unavailable ({why}); checked edge payloads only",
                           skipped=True)
        else:
            cases = _as_cases(payloads)
        if include_edge:
            cases = cases + edge_payloads()
        env = dict(getattr(codec, "process_env", None) or {})
        if env and any(os.environ.get(k) != v for k, v in env.items()):
            _check_in_child(codec, spec, cases, env, garbage_timeout, report)
        else:
            _check_here(codec, spec, cases, garbage_timeout, report)
    report.duration_s = round(time.perf_counter() - started, 3)
    return report


def _check_here(codec: Codec, spec: str | None, cases: list[CasePayload], garbage_timeout: float,
                report: ConformanceReport) -> None:
    caps = _check_static(codec, report)
    try:
        codec.check_available()
        report.add("available", True, "libraries importable")
    except Exception as e:
        report.add("available", False, f"{e} (install the dependency, or fix check_available/modules)")
        return
    _check_info(codec, report)
    env = dict(getattr(codec, "process_env", None) or {})
    expected = getattr(codec, "expected_backend", None)
    if env or expected:
        try:
            actual = codec.backend()
        except Exception as e:
            actual = f"<backend() raised {e}>"
        setting = " ".join(f"{k}={v}" for k, v in env.items()) or "the current environment"
        if expected and actual != expected:
            report.add("process-env", False, f"under {setting} backend() is {actual!r}, but the codec declares "
                       f"expected_backend={expected!r}: the environment did not take effect (is the library "
                       "imported before process_env is applied?)")
        else:
            report.add("process-env", True, f"under {setting} backend() is {actual!r}")
    if caps is None:
        return
    claimed = set(caps.types)
    first_ok: CasePayload | None = None
    encoded: list[CasePayload] = []
    for case in cases:
        needed = kinds_used(case.schema)
        lacking = sorted(needed - claimed)
        if lacking:
            _expect_unsupported(codec, case.schema, f"{case.name} (uses {', '.join(lacking)})", report)
            continue
        if _round_trip(codec, caps, case, report):
            encoded.append(case)
            first_ok = first_ok or case
    probes = sorted((set(ALL_TYPE_KINDS) - claimed) & set(_KIND_TYPES))
    for kind in probes:
        _expect_unsupported(codec, unsupported_probe(kind), f"kind {kind}", report)
    if not probes:
        report.add("unsupported", True, "claims every type kind; nothing to refuse", skipped=True)
    schema_case = first_ok or next((c for c in cases if not (kinds_used(c.schema) - claimed)), None)
    _check_schema_text(codec, caps, schema_case, report)
    if first_ok is None:
        if report.failures():
            report.add("garbage", False, "the codec encoded no payload, so no garbage could be derived from a valid "
                       "message; fix the failures above first")
        else:
            report.add("garbage", True, "no payload to derive garbage from", skipped=True)
        return
    smallest = min(encoded, key=lambda c: len(repr(c.value)))
    _check_garbage(codec, spec, smallest, garbage_timeout, report)


def _check_static(codec: Codec, report: ConformanceReport) -> Capabilities | None:
    cls = type(codec)
    problems = []
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not NAME_RE.match(name):
        problems.append(f"name={name!r} must look like 'format/variant' (lowercase, e.g. 'json/orjson')")
    fmt = getattr(cls, "format", None)
    if not isinstance(fmt, str) or not fmt:
        problems.append("set the class attribute format (e.g. 'json')")
    elif isinstance(name, str) and name.split("/")[0] != fmt:
        problems.append(f"format={fmt!r} must equal the part of name before '/' ({name.split('/')[0]!r})")
    lib = getattr(cls, "library", None)
    if not isinstance(lib, str) or not lib:
        problems.append("set the class attribute library to the distribution whose version is reported")
    if not isinstance(getattr(cls, "description", ""), str) or not getattr(cls, "description", ""):
        problems.append("set a one-line description (shown by `msgbench list` and the report)")
    if not isinstance(getattr(cls, "modules", ()), tuple):
        problems.append("modules must be a tuple of module names")
    if cls.prepare is Codec.prepare:
        problems.append("implement prepare(schema, reader_schema=None, policy=None)")
    if problems:
        report.add("attributes", False, "; ".join(problems))
    else:
        report.add("attributes", True, f"name {name!r}, format {fmt!r}, library {lib!r}")
    caps = getattr(cls, "capabilities", None)
    if not isinstance(caps, Capabilities):
        report.add("capabilities", False, f"capabilities={caps!r}: declare formats.api.Capabilities(binary=..., "
                   "needs_schema=..., types=...)")
        return None
    cproblems = []
    unknown = set(caps.types) - set(ALL_TYPE_KINDS)
    if unknown:
        cproblems.append(f"unknown type kinds {sorted(unknown)} (known: {sorted(ALL_TYPE_KINDS)})")
    if "record" not in caps.types:
        cproblems.append("every payload is a record: 'record' must be among the types")
    for attr in ("binary", "needs_schema", "deterministic", "lazy_decode"):
        if not isinstance(getattr(caps, attr), bool):
            cproblems.append(f"{attr} must be a bool")
    if cproblems:
        report.add("capabilities", False, "; ".join(cproblems))
        return None
    report.add("capabilities", True, f"binary={caps.binary} needs_schema={caps.needs_schema} "
               f"deterministic={caps.deterministic} types={len(caps.types)}/{len(ALL_TYPE_KINDS)}")
    return caps


def _check_info(codec: Codec, report: ConformanceReport) -> None:
    problems = []
    for meth in ("library_version", "backend"):
        try:
            v = getattr(codec, meth)()
        except Exception as e:
            problems.append(f"{meth}() raised {type(e).__name__}: {e}")
            continue
        if not isinstance(v, str) or not v:
            problems.append(f"{meth}() returned {v!r}; return a non-empty string")
        elif meth == "library_version" and v == "unknown":
            problems.append(f"library_version() is 'unknown': library={codec.library!r} is not an installed "
                            "distribution; set library to the pip distribution name or override library_version()")
    if problems:
        report.add("info", False, "; ".join(problems))
    else:
        report.add("info", True, f"{codec.library} {codec.library_version()}, backend {codec.backend()}")


def _expect_unsupported(codec: Codec, schema: Record, subject: str, report: ConformanceReport) -> None:
    try:
        codec.prepare(schema)
    except UnsupportedSchema as e:
        report.add("unsupported", True, f"UnsupportedSchema: {e}", subject)
        return
    except Exception as e:
        report.add("unsupported", False, f"prepare raised {type(e).__name__}: {e}; raise formats.api.UnsupportedSchema "
                   "for type kinds the codec does not claim (Codec.check_schema does it)", subject)
        return
    report.add("unsupported", False, "prepare accepted a schema with a type kind the codec does not claim; call "
               "self.check_schema(schema) in prepare, or add the kind to capabilities.types", subject)


def _round_trip(codec: Codec, caps: Capabilities, case: CasePayload, report: ConformanceReport) -> bool:
    """Check one payload; True when the codec at least encoded it (garbage probes can use it)."""
    subject = case.name
    try:
        prepared = codec.prepare(case.schema)
    except UnsupportedSchema as e:
        if not case.must_support:
            report.add("prepare", True, f"UnsupportedSchema: {e} (reported as unsupported, not a failure)", subject,
                       skipped=True)
            return False
        report.add("prepare", False, f"prepare raised UnsupportedSchema: {e}; the codec claims every type kind this "
                   f"payload uses ({', '.join(sorted(kinds_used(case.schema)))}): support it, or drop the kind from "
                   "capabilities.types", subject)
        return False
    except Exception as e:
        report.add("prepare", False, f"prepare raised {type(e).__name__}: {e}; the codec claims every type kind "
                   f"this payload uses ({', '.join(sorted(kinds_used(case.schema)))}); raise "
                   "formats.api.UnsupportedSchema if it cannot express this schema", subject)
        return False
    missing = [m for m in ("to_native", "from_native", "encode", "decode") if not callable(getattr(prepared, m, None))]
    if missing:
        report.add("prepare", False, f"prepare returned {type(prepared).__name__} without callable {', '.join(missing)}; "
                   "return a formats.api.SimplePrepared or an object with the four methods", subject)
        return False
    report.add("prepare", True, "prepared", subject)
    if caps.lazy_decode:
        if callable(getattr(prepared, "parse_lazy", None)):
            report.add("lazy-decode", True, "parse_lazy offered", subject)
        else:
            report.add("lazy-decode", False, "capabilities.lazy_decode=True but the prepared object has no callable "
                       "parse_lazy", subject)
    expected = case.value
    original = copy.deepcopy(case.value)
    step = "to_native"
    try:
        native = prepared.to_native(case.value)
        step = "encode"
        data = prepared.encode(native)
    except Exception as e:
        report.add("round-trip", False, f"{step} raised {type(e).__name__}: {e}", subject)
        return False
    if type(data) is not bytes:
        report.add("encode-bytes", False, f"encode returned {type(data).__name__}; return bytes (e.g. bytes(buf))",
                   subject)
        return False
    report.add("encode-bytes", True, f"{len(data)} bytes", subject)
    try:
        step = "decode"
        back = prepared.decode(data)
        step = "from_native"
        value = prepared.from_native(back)
    except Exception as e:
        report.add("round-trip", False, f"{step} raised {type(e).__name__}: {e} (on {len(data)} bytes it encoded)",
                   subject)
        return True
    mutated = differences(original, case.value, limit=3)
    if mutated:
        report.add("round-trip", False, "to_native/encode modified the caller's value: "
                   + "; ".join(d.describe() for d in mutated) + "; copy instead of mutating", subject)
        return True
    diffs = differences(expected, value, limit=8)
    if diffs:
        report.add("round-trip", False, f"{len(diffs)}{'+' if len(diffs) == 8 else ''} difference(s) from "
                   "normalize(schema, value): " + "; ".join(d.describe() for d in diffs), subject)
        return True
    report.add("round-trip", True, f"equal after {len(data)} bytes", subject)
    if callable(getattr(prepared, "make_access", None)):
        _check_access(prepared, case, data, report)
    if caps.deterministic:
        try:
            again = prepared.encode(native)
            fresh = prepared.encode(prepared.to_native(copy.deepcopy(case.value)))
        except Exception as e:
            report.add("deterministic", False, f"encoding a second time raised {type(e).__name__}: {e}", subject)
            return True
        if again != data or fresh != data:
            which = "the same native object" if again != data else "an equal value"
            report.add("deterministic", False, f"encoding {which} twice gave different bytes; declare "
                       "Capabilities(deterministic=False) or fix the encoder", subject)
        else:
            report.add("deterministic", True, "same bytes twice", subject)
    return True


def _check_access(prepared: Any, case: CasePayload, data: bytes, report: ConformanceReport) -> None:
    from payloads.access import access_paths, path_text, values_at

    paths = access_paths(case.schema)
    if not paths:
        report.add("access", True, "no scalar fields to read in this schema", case.name, skipped=True)
        return
    names = [path_text(p) for p in paths]
    try:
        got = prepared.make_access(paths)(data)
    except Exception as e:
        report.add("access", False, f"make_access({names})(data) raised {type(e).__name__}: {e}", case.name)
        return
    expected = values_at(case.value, paths)
    if not isinstance(got, list) or len(got) != len(paths):
        report.add("access", False, f"access returned {got!r:.80}; return a list of {len(paths)} values, one per path",
                   case.name)
        return
    wrong = [f"{n}: expected {e!r:.40}, got {g!r:.40}" for n, e, g in zip(names, expected, got, strict=True)
             if differences(e, g)]
    if wrong:
        report.add("access", False, "wrong value(s) " + "; ".join(wrong[:3]) + " (enum -> symbol, timestamp -> int "
                   "µs, absent optional -> None)", case.name)
    else:
        report.add("access", True, f"{', '.join(names)}", case.name)


def _check_schema_text(codec: Codec, caps: Capabilities, case: CasePayload | None, report: ConformanceReport) -> None:
    if case is None:
        return
    try:
        st = codec.schema_text(case.schema)
    except Exception as e:
        report.add("schema-text", False, f"schema_text raised {type(e).__name__}: {e}", case.name)
        return
    if st is None:
        if caps.needs_schema:
            report.add("schema-text", False, "needs_schema=True but schema_text() returned None; return the generated "
                       "schema as formats.api.SchemaText so users can inspect it", case.name)
        else:
            report.add("schema-text", True, "schemaless: no schema text", case.name, skipped=True)
        return
    if not isinstance(st, SchemaText) or not isinstance(st.text, str) or not st.text.strip():
        report.add("schema-text", False, f"schema_text returned {type(st).__name__} with empty or non-str text; return "
                   "SchemaText(language, extension, text)", case.name)
        return
    report.add("schema-text", True, f"{st.language} ({len(st.text)} chars)", case.name)


# ------------------------------------------------------------------------------------------------
# Garbage input, in a child process


def garbage_inputs(valid: bytes, seed: int = 20240601) -> list[tuple[str, bytes]]:
    rnd = random.Random(seed)
    inputs = [("empty", b"")]
    for n in (1, 7, 64, 1000):
        inputs.append((f"random {n} bytes", bytes(rnd.getrandbits(8) for _ in range(n))))
    if len(valid) > 1:
        inputs.append(("truncated to half", valid[: len(valid) // 2]))
        inputs.append(("truncated by 1 byte", valid[:-1]))
    inputs.append(("valid message + 16 random bytes", valid + bytes(rnd.getrandbits(8) for _ in range(16))))
    return inputs


def _probe_input(prepared: Any, schema: Record, data: bytes) -> tuple[str, str]:
    """(outcome, detail): outcome is 'raised', 'accepted' (a schema-valid value) or 'invalid'."""
    try:
        native = prepared.decode(data)
        value = prepared.from_native(native)
    except Exception as e:
        return "raised", f"{type(e).__name__}: {str(e)[:120]}"
    try:
        validate(schema, value)
    except Exception as e:
        return "invalid", f"returned {type(value).__name__} {value!r:.60}, which is not a valid {schema.name}: {e}"
    return "accepted", f"decoded to a valid {schema.name}"


def _use_sys_path(paths: list[str]) -> None:
    """In the child: the parent's import path, so a codec class defined in a plugin author's test
    module (not installed) imports the same way there."""
    for p in reversed(paths):
        if p not in sys.path:
            sys.path.insert(0, p)


def garbage_task(job: dict[str, Any], start: int = 0) -> Iterator[dict[str, Any]]:
    """Isolation stream task: item 0 lists the inputs' labels, then one outcome per input."""
    _use_sys_path(job.get("sys_path", []))
    codec = _load_spec(job["spec"])
    schema, value = job["schema"], job["value"]
    prepared = codec.prepare(schema)
    valid = prepared.encode(prepared.to_native(value))
    inputs = garbage_inputs(valid)
    if start == 0:
        yield {"event": "labels", "labels": [label for label, _ in inputs]}
    for i, (label, data) in enumerate(inputs):
        if i + 1 < start:
            continue
        outcome, detail = _probe_input(prepared, schema, data)
        yield {"event": "end", "i": i, "label": label, "outcome": outcome, "detail": detail}


def check_task(job: dict[str, Any]) -> dict[str, Any]:
    """Isolation once task: the whole check under the codec's process_env; the report as a dict."""
    _use_sys_path(job.get("sys_path", []))
    codec = _load_spec(job["spec"])
    rep = ConformanceReport(codec.name)
    _check_here(codec, job["spec"], job["cases"], job["garbage_timeout"], rep)
    return rep.to_dict()


def _run_child(mode: str, job: dict[str, Any], env: dict[str, str] | None, timeout: float) -> tuple[list[dict], str]:
    """Run a garbage or check task through ``formats.isolation``; (events, problem) where problem
    describes a timeout or an abnormal end ("" when the child finished normally)."""
    from formats.isolation import Died, Limits, Task, TaskDied, run, run_once

    job = dict(job, sys_path=[p for p in sys.path if p])
    if mode == "check":
        try:
            return [{"event": "report", "report": run_once(Task("formats.conformance:check_task", job, env or {}),
                                                           Limits(total_s=timeout))}], ""
        except TaskDied as e:
            d = e.died
            if d.reason == "error":
                return [{"event": "error", "error": d.detail}], ""
            return [], f"timed out after {timeout:.0f} s" if d.reason == "timeout" else d.detail
    events: list[dict] = []
    labels: list[str] = []
    limits = Limits(item_s=timeout, total_s=max(timeout * 4, 60.0))
    for index, item in run(Task("formats.conformance:garbage_task", job, env or {}), limits):
        if isinstance(item, Died):
            if item.reason in ("setup", "error") and not labels:
                events.append({"event": "error", "error": item.detail})
                return events, ""
            if index >= 1 and index - 1 < len(labels):
                events.append({"event": "begin", "i": index - 1, "label": labels[index - 1]})
            return events, f"timed out after {timeout:.0f} s" if item.reason == "timeout" else item.detail
        if item["event"] == "labels":
            labels = item["labels"]
        else:
            events.append({"event": "begin", "i": item["i"], "label": item["label"]})
            events.append(item)
    events.append({"event": "done"})
    return events, ""


def _check_garbage(codec: Codec, spec: str | None, case: CasePayload, timeout: float,
                   report: ConformanceReport) -> None:
    if spec is None:
        report.add("garbage", True, "codec class is not importable by a child process (defined in a function?); "
                   "garbage checks skipped", skipped=True)
        return
    job = {"spec": spec, "schema": case.schema, "value": case.value}
    events, problem = _run_child("garbage", job, None, timeout)
    errors = [e for e in events if e["event"] == "error"]
    if errors:
        report.add("garbage", False, f"could not set up the garbage probe in a child process: {errors[0]['error']}")
        return
    begun = {e["i"]: e["label"] for e in events if e["event"] == "begin"}
    ended = {e["i"]: e for e in events if e["event"] == "end"}
    for _i, e in sorted(ended.items()):
        subject = f"{e['label']}"
        if e["outcome"] == "raised":
            report.add("garbage", True, f"raised {e['detail']}", subject)
        elif e["outcome"] == "accepted":
            report.add("garbage", True, f"accepted: {e['detail']} (the format cannot tell; not an error)", subject)
        else:
            report.add("garbage", False, f"decode+from_native {e['detail']}; raise an exception on malformed input",
                       subject)
    pending = [i for i in begun if i not in ended]
    if problem:
        if pending:
            label = begun[pending[0]]
            what = "hung" if problem.startswith("timed out") else "crashed the interpreter"
            report.add("garbage", False, f"decode {what} ({problem}); it must raise an exception on malformed input "
                       "promptly", label)
        elif not any(e["event"] == "done" for e in events):
            report.add("garbage", False, f"garbage probe failed before decoding anything: {problem}")


# ------------------------------------------------------------------------------------------------
# A whole check in a child process (codecs with a process_env)


def _check_in_child(codec: Codec, spec: str | None, cases: list[CasePayload], env: dict[str, str],
                    timeout: float, report: ConformanceReport) -> None:
    setting = " ".join(f"{k}={v}" for k, v in env.items())
    if spec is None:
        report.add("process-env", False, f"the codec needs {setting} but its class cannot be imported by a child "
                   "process; define it at module level")
        return
    job = {"spec": spec, "cases": cases, "garbage_timeout": timeout}
    events, problem = _run_child("check", job, env, timeout=max(120.0, timeout * 2))
    reports = [e for e in events if e["event"] == "report"]
    if not reports:
        errors = [e["error"] for e in events if e["event"] == "error"]
        report.add("process-env", False, f"the check in a child process with {setting} did not finish: "
                   f"{problem or (errors[0] if errors else 'no report')}")
        return
    child = ConformanceReport.from_dict(reports[0]["report"])
    report.results.extend(r for r in child.results if r.rule != "load")


# ------------------------------------------------------------------------------------------------
# pytest entry and CLI entry


def conformance_tests(codec_or_name: Any, payloads: Iterable[Any] | None = None, **kwargs: Any) -> Any:
    """A pytest test function, parametrised over the rules, for a plugin's own test suite::

        from formats.conformance import conformance_tests
        test_conformance = conformance_tests("myformat/mylib")

    The check runs once (on first use) and each rule passes, fails with the kit's messages, or is
    skipped when it does not apply."""
    import pytest

    cache: dict[str, ConformanceReport] = {}

    def report() -> ConformanceReport:
        if "r" not in cache:
            cache["r"] = check_codec(codec_or_name, payloads, **kwargs)
        return cache["r"]

    @pytest.mark.parametrize("rule", list(RULES))
    def test_conformance(rule: str) -> None:
        rep = report()
        results = rep.for_rule(rule)
        if rule != "load" and any(r.rule == "load" and not r.passed for r in rep.results):
            pytest.fail(f"{rep.codec}: " + rep.for_rule("load")[0].message, pytrace=False)
        if not results or all(r.skipped for r in results):
            pytest.skip(results[0].message if results else f"rule {rule} does not apply to {rep.codec}")
        failed = [r for r in results if not r.passed]
        if failed:
            pytest.fail(f"{rep.codec} breaks rule {rule!r} ({RULES[rule]}):\n"
                        + "\n".join(f"  [{r.subject}] {r.message}" if r.subject else f"  {r.message}" for r in failed),
                        pytrace=False)

    return test_conformance


def check_plugin_main(name: str, payloads: Iterable[Any] | None = None) -> int:
    """``msgbench check-plugin NAME``: run the kit, print a pass/fail table; 0 = conformant."""
    from rich.console import Console

    console = Console()
    report = check_codec(name, payloads)
    report.print(console)
    if not report.passed:
        console.print("see docs/plugins.md for what each rule means")
    return 0 if report.passed else 1


if __name__ == "__main__":
    if len(sys.argv) == 2:
        sys.exit(check_plugin_main(sys.argv[1]))
    print("usage: python -m formats.conformance CODEC_NAME", file=sys.stderr)
    sys.exit(2)
