"""``msgbench evolve --old v1.avsc --new v2.avsc [--new v3.avsc] [--payload ...] [--level ...]``:
the user's own schema change, observed in every format, next to the ecosystems' rule verdicts.

1. The versions are imported (:mod:`payloads.schema_import`). Formats without field ids in the
   source (Avro, JSON Schema) get them carried over from the previous version by name or alias,
   as each tagged format's user would (a kept field keeps its tag, a new one takes the next free
   number, enum symbols keep their numbers): that is the change "in each format's idiom", and
   :func:`mapping` shows the generated .avsc/.proto/.thrift/JSON Schema diff per format.
2. Each pair of versions (v1->v2, v2->v3, and v1->v3 ... for the transitive view) becomes a
   :class:`payloads.evolution.Scenario` whose ideals are derived from the schemas by
   :func:`ideal_read` (the reader gets the writer's value converted without loss, its declared
   default, or refuses). The cells are run by the evolution engine's own ``run_cell`` in a worker
   process per codec (``python -m bench.user_evolution --worker``): the same directions
   (backward, forward, roundtrip through an old intermediary) and the same outcome vocabulary as
   the built-in matrix.
3. :mod:`bench.rules` gives the rule-based verdicts (Confluent levels via Apache Avro's checker,
   buf breaking WIRE/WIRE_JSON, Thrift's IDL rules); :func:`disagreements` lists where a rule and
   the bytes of the same format disagree, each with its evidence cell.
4. :func:`level_check` decides a ``--level`` (exit status 1 when violated); :func:`markdown` is
   the short answer for a pull request.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from payloads.evolution import DIRECTIONS, Ideal, Scenario, Variant, ideal, reject, zero_value
from payloads.model import (
    INT32_MAX,
    INT32_MIN,
    INT64_MAX,
    INT64_MIN,
    EnumType,
    Field,
    ListType,
    MapType,
    Primitive,
    Record,
    Type,
    normalize,
)
from payloads.schema_import import ImportedSchema, import_schema

TOOL_FORMAT = {"avro": "avro", "buf": "protobuf", "thrift": "thrift"}
LANG_TOOL = {"avro": "avro", "proto": "buf", "thrift": "thrift", "json-schema": None}


# ------------------------------------------------------------------------------------------------
# Versions and ids


def load_versions(paths: list[str], root: str | None = None, include_dirs: list[str] | None = None) -> list[ImportedSchema]:
    from formats.api import MsgbenchError

    versions = [import_schema(p, root, include_dirs) for p in paths]
    langs = {v.language for v in versions}
    if len(langs) > 1:
        raise MsgbenchError(f"the versions are in different schema languages ({', '.join(sorted(langs))}); "
                            "give every version in the same language")
    if len(versions) < 2:
        raise MsgbenchError("give at least two versions: --old FILE --new FILE")
    out = [versions[0]]
    for v in versions[1:]:
        if not v.ids_from_source:
            v = replace(v, record=align(out[-1].record, v.record))
        out.append(v)
    return out


def _field_match(a: Field, b: Field) -> bool:
    return a.name == b.name or a.name in b.aliases or b.name in a.aliases


def align(old: Record, new: Record) -> Record:
    """``new`` with ids and enum numbers carried over from ``old`` (matched by name or alias); new
    fields and symbols take the next free number. Nested records and enums are aligned too."""
    cache: dict[str, Type] = {}

    def typ(o: Type | None, n: Type) -> Type:
        if isinstance(n, ListType):
            return ListType(typ(o.items if isinstance(o, ListType) else None, n.items))
        if isinstance(n, MapType):
            return MapType(typ(o.values if isinstance(o, MapType) else None, n.values))
        if isinstance(n, EnumType):
            if n.name in cache:
                return cache[n.name]
            old_nums = o.symbol_numbers() if isinstance(o, EnumType) else {}
            nxt = max(old_nums.values(), default=0) + 1
            nums = []
            for s in n.symbols:
                if s in old_nums:
                    nums.append(old_nums[s])
                else:
                    nums.append(nxt)
                    nxt += 1
            t = replace(n, numbers=tuple(nums))
            cache[n.name] = t
            return t
        if isinstance(n, Record):
            if n.name in cache:
                return cache[n.name]
            orec = o if isinstance(o, Record) else None
            used = {f.id for f in orec.fields} if orec else set()
            nxt = max(used, default=0) + 1
            fields = []
            for f in n.fields:
                of = next((x for x in orec.fields if _field_match(x, f)), None) if orec else None
                if of is not None:
                    fid = of.id
                else:
                    fid = nxt
                    nxt += 1
                fields.append(replace(f, id=fid, type=typ(of.type if of else None, f.type)))
            t = replace(n, fields=tuple(fields))
            cache[n.name] = t
            return t
        return n

    return typ(old, new)  # type: ignore[return-value]


# ------------------------------------------------------------------------------------------------
# The ideal reader, derived from the two schemas


class _Reject(Exception):
    pass


_INT = ("int32", "int64", "timestamp")
_RANGE = {"int32": (INT32_MIN, INT32_MAX), "int64": (INT64_MIN, INT64_MAX), "timestamp": (INT64_MIN, INT64_MAX)}


def _read(wt: Type, rt: Type, v: Any, path: str, subs: list[str], lenient: bool, zero: bool = False) -> Any:
    def no(reason: str) -> Any:
        if lenient:
            return v
        raise _Reject(reason)

    if v is None:
        return None
    if isinstance(rt, Primitive) and isinstance(wt, Primitive):
        wk, rk = wt.kind, rt.kind
        if wk == rk:
            return v
        if wk in _INT and rk in _INT:
            lo, hi = _RANGE[rk]
            return v if lo <= v <= hi else no(f"{path}: {v} does not fit in {rk}")
        if wk in _INT and rk in ("float32", "float64"):
            return float(v) if float(v) == v else no(f"{path}: {v} has no exact {rk}")
        if wk in ("float32", "float64") and rk in _INT:
            if isinstance(v, float) and v.is_integer() and _RANGE[rk][0] <= v <= _RANGE[rk][1]:
                return int(v)
            return no(f"{path}: {v} is not an integer")
        if wk == "float32" and rk == "float64":
            return v
        if wk == "float64" and rk == "float32":
            from payloads.model import float32_round

            return v if float32_round(v) == v else no(f"{path}: {v} has no exact float32")
        if wk == "string" and rk == "bytes":
            return v.encode()
        if wk == "bytes" and rk == "string":
            try:
                return v.decode()
            except UnicodeDecodeError:
                return no(f"{path}: bytes that are not UTF-8 text")
        return no(f"{path}: a {wk} written where the reader expects a {rk}")
    if isinstance(rt, EnumType) and isinstance(wt, EnumType):
        if v in rt.symbols:
            return v
        if rt.default is not None:
            subs.append(path)
            return rt.default
        return no(f"{path}: symbol {v} is not in the reader's enum {rt.name}, which has no default")
    if isinstance(rt, ListType):
        if isinstance(wt, ListType):
            return [_read(wt.items, rt.items, x, path, subs, lenient, zero) for x in v]
        return [_read(wt, rt.items, v, path, subs, lenient, zero)]
    if isinstance(wt, ListType):
        if len(v) == 1:
            return _read(wt.items, rt, v[0], path, subs, lenient, zero)
        return no(f"{path}: {len(v)} items cannot be read as one")
    if isinstance(rt, MapType) and isinstance(wt, MapType):
        return {k: _read(wt.values, rt.values, x, path, subs, lenient, zero) for k, x in v.items()}
    if isinstance(rt, Record) and isinstance(wt, Record):
        out: dict[str, Any] = {}
        for rf in rt.fields:
            fpath = f"{path}.{rf.name}" if path else rf.name
            wf = next((f for f in wt.fields if f.id == rf.id or _field_match(f, rf)), None)
            wv = v.get(wf.name) if wf is not None else None
            if wv is None:
                if rf.has_default:
                    out[rf.name] = rf.default
                elif rf.optional:
                    out[rf.name] = None
                elif zero and not isinstance(rf.type, Record):  # proto3: no presence, absent = zero value
                    out[rf.name] = zero_value(rf.type)
                elif lenient:
                    continue
                else:
                    raise _Reject(f"{fpath}: the writer's data has no {rf.name}, which the reader requires "
                                  "and declares no default for")
                continue
            out[rf.name] = _read(wf.type, rf.type, wv, fpath, subs, lenient, zero)
        return out
    return no(f"{path}: a {wt.type_name} written where the reader expects a {rt.type_name}")


# A value of the writer's type that the reader's type cannot hold, per (writer kind, reader kind):
# issue 12's rule that a type change is judged with a value that fits and one that does not.
_EDGE = {
    ("int64", "int32"): 5_000_000_000, ("timestamp", "int32"): 5_000_000_000,
    ("int32", "float32"): 16_777_217, ("int64", "float32"): 16_777_217, ("timestamp", "float32"): 16_777_217,
    ("int64", "float64"): 2**53 + 1, ("timestamp", "float64"): 2**53 + 1,
    ("float32", "int32"): 0.5, ("float64", "int32"): 0.5, ("float32", "int64"): 0.5, ("float64", "int64"): 0.5,
    ("float32", "timestamp"): 0.5, ("float64", "timestamp"): 0.5,
    ("float64", "float32"): 0.1,
    ("bytes", "string"): b"\xff\xfe",
}


def edge_value(wt: Type, rt: Type, v: Any, path: str = "", changed: list[str] | None = None) -> Any:
    """``v`` (a ``wt`` value) with every leaf whose type the reader changed replaced by a value of
    the writer's type the reader's type cannot hold (5,000,000,000 for an int64 read as int32, a
    symbol the reader's enum lacks, ...); ``changed`` collects the paths replaced. Leaves the reader
    reads unchanged keep their values, so the result differs from ``v`` only where the change bites."""
    changed = [] if changed is None else changed
    if v is None:
        return None
    if isinstance(wt, Primitive) and isinstance(rt, Primitive):
        e = _EDGE.get((wt.kind, rt.kind))
        if e is None:
            return v
        changed.append(path)
        return e
    if isinstance(wt, EnumType) and isinstance(rt, EnumType):
        missing = [s for s in wt.symbols if s not in rt.symbols]
        if missing and v in rt.symbols:
            changed.append(path)
            return missing[0]
        return v
    if isinstance(wt, ListType) and isinstance(rt, ListType):
        return [edge_value(wt.items, rt.items, x, path, changed) for x in v]
    if isinstance(wt, MapType) and isinstance(rt, MapType):
        return {k: edge_value(wt.values, rt.values, x, path, changed) for k, x in v.items()}
    if isinstance(wt, Record) and isinstance(rt, Record):
        out = dict(v)
        for wf in wt.fields:
            rf = next((f for f in rt.fields if f.id == wf.id or _field_match(wf, f)), None)
            if rf is not None and out.get(wf.name) is not None:
                out[wf.name] = edge_value(wf.type, rf.type, out[wf.name], f"{path}.{wf.name}" if path else wf.name,
                                          changed)
        return out
    return v


def ideal_read(writer: Record, reader: Record, value: dict, zero_defaults: bool = False) -> Ideal:
    """What the ideal reader of ``reader`` makes of ``value`` written with ``writer``.
    ``zero_defaults``: a missing non-optional field reads as its zero value (proto3 semantics:
    the schema came from a .proto, where a field without presence has no "missing")."""
    subs: list[str] = []
    zero = zero_defaults
    try:
        got = _read(writer, reader, value, "", subs, False, zero)
        return ideal(normalize(reader, got), tuple(subs))
    except _Reject as e:
        return reject(str(e), reference=_read(writer, reader, value, "", [], True, zero))
    except (ValueError, TypeError) as e:
        return reject(f"the writer's value does not fit the reader's schema: {e}",
                      reference=_read(writer, reader, value, "", [], True, zero))


# ------------------------------------------------------------------------------------------------
# Scenarios


def version_values(versions: list[ImportedSchema], samples: list[str] | None = None) -> list[dict]:
    """One value per version: ``samples[i]`` (a JSON/NDJSON file, first record) for version i+1
    when given (it must fit that version), else the last given sample if it fits, else a value
    generated with a different seed per version (so a value from the wrong version shows)."""
    from payloads.model import SchemaMismatch
    from payloads.schema_payload import read_samples
    from payloads.schema_values import generate

    samples = list(samples or [])
    out = []
    for i, v in enumerate(versions):
        val = None
        if i < len(samples):
            val = read_samples(v, samples[i], 1)[0]  # positional: must fit (a clear error says why not)
        elif samples:
            try:
                val = read_samples(v, samples[-1], 1)[0]
            except (SchemaMismatch, ValueError):
                val = None
        out.append(val if val is not None else generate(v.record, seed=i + 1))
    return out


def scenarios_for(versions: list[ImportedSchema], values: list[dict],
                  given: list[bool] | None = None) -> list[Scenario]:
    """v(i)->v(i+1) for every step, then v(i)->v(j) for the transitive pairs. ``given[i]``: version
    i's value came from the user's sample (else it was generated)."""
    n = len(versions)
    given = list(given) if given is not None else [False] * n
    pairs = [(i, i + 1) for i in range(n - 1)] + [(i, j) for i in range(n) for j in range(i + 2, n)]
    out = []
    for i, j in pairs:
        old, new = versions[i].record, versions[j].record
        a, b = values[i], values[j]
        zero = versions[0].language == "proto"
        back = ideal_read(old, new, a, zero)
        fwd = ideal_read(new, old, b, zero)
        sid = f"v{i + 1}->v{j + 1}"
        title = f"{Path(versions[i].source).name} -> {Path(versions[j].source).name}"
        what = f"your change from version {i + 1} to version {j + 1}" + (" (transitive)" if j > i + 1 else "")
        # a changed type is also tried with a value past what the other side's type holds (the
        # scenario's own values, judged after the given/generated ones; a cell shows both)
        hit: list[str] = []
        a_edge, b_edge = edge_value(old, new, a, "", hit), edge_value(new, old, b, "", hit)
        if hit:
            back_e, fwd_e = ideal_read(old, new, a_edge, zero), ideal_read(new, old, b_edge, zero)
            label = "past the other type (" + ", ".join(dict.fromkeys(hit))[:80] + ")"
            out.append(Scenario(
                sid, title, what, "user", old, new, a_edge, b_edge,
                not any(x.reject for x in (back, fwd, back_e, fwd_e)), backward=back_e, forward=fwd_e,
                value_label=label, variants=(Variant("as given" if given[i] or given[j] else "generated", a, b,
                                                     back, fwd),)))
        else:
            out.append(Scenario(sid, title, what, "user", old, new, a, b, not back.reject and not fwd.reject,
                                backward=back, forward=fwd))
    return out


# ------------------------------------------------------------------------------------------------
# The change in each format's idiom


def _texts(rec: Record) -> dict[str, str]:
    import re

    from formats import avro_schema, json_schema, proto_schema, thrift_schema

    out: dict[str, str] = {}
    for name, make in (
        ("avro", lambda: avro_schema.avsc_text(rec)),
        ("protobuf", lambda: re.sub(r"^package .*;$", "package msgbench;", proto_schema.describe(rec).text, flags=re.M)),
        ("thrift", lambda: thrift_schema.describe(rec).idl),
        ("json", lambda: json.dumps(json_schema.json_schema(rec), indent=2) + "\n"),
    ):
        try:
            out[name] = make()
        except Exception as e:  # a format that cannot express the schema says so
            out[name] = f"(cannot express this schema: {type(e).__name__}: {e})\n"
    return out


def mapping(old: Record, new: Record) -> dict[str, str]:
    """Format -> unified diff of msgbench's generated schema text, old -> new."""
    a, b = _texts(old), _texts(new)
    out = {}
    for fmt in a:
        d = difflib.unified_diff(a[fmt].splitlines(), b[fmt].splitlines(), "old", "new", lineterm="", n=1)
        lines = [ln for ln in d if not ln.startswith(("---", "+++"))]
        out[fmt] = "\n".join(lines) if lines else "(no change)"
    return out


# ------------------------------------------------------------------------------------------------
# Rules


def rules_for(versions: list[ImportedSchema]) -> dict:
    from bench import rules
    from formats.avro_schema import avro_schema

    lang = versions[0].language
    if lang == "avro":
        avsc = [json.loads(Path(v.source).read_text(encoding="utf-8-sig")) for v in versions]
        if isinstance(avsc[0], list):
            avsc = [avro_schema(v.record) for v in versions]
    else:
        avsc = [avro_schema(v.record) for v in versions]
    old, new = versions[-2], versions[-1]
    buf = rules.buf_breaking(old.record, new.record, new.reserved if lang == "proto" else {})
    thrift = rules.thrift_rules(old.record, new.record,
                                old.requiredness if lang == "thrift" else None,
                                new.requiredness if lang == "thrift" else None)
    return {
        "avro": {"levels": rules.avro_levels(avsc), "source": "your .avsc files" if lang == "avro" else
                 "msgbench's Avro mapping of your schemas", "checker": "Apache Avro ReaderWriterCompatibilityChecker"},
        "buf": {"categories": rules.buf_verdict(buf), "findings": [f.to_json() for f in buf],
                "source": "your .proto files (reserved numbers/names included)" if lang == "proto" else
                "msgbench's proto3 mapping of your schemas (no reserved statements)"},
        "thrift": {"ok": not thrift, "findings": [f.to_json() for f in thrift],
                   "source": "your .thrift files (requiredness as written)" if lang == "thrift" else
                   "msgbench's Thrift mapping of your schemas (optional / required)"},
    }


def _rule_ok(rules_data: dict, tool: str, direction: str) -> tuple[bool, str]:
    """Does ``tool``'s rule verdict allow ``direction`` for the last step? (ok, rule text)."""
    if tool == "avro":
        lv = rules_data["avro"]["levels"]["BACKWARD" if direction == "backward" else "FORWARD"]
        return lv["ok"], ("; ".join(lv["why"]) or "compatible")
    if tool == "buf":
        c = rules_data["buf"]["categories"]["WIRE"]
        return c["ok"], (", ".join(c["rules"]) or "no WIRE rule broken")
    found = [f for f in rules_data["thrift"]["findings"] if direction in f["directions"]]
    return not found, ("; ".join(f"{f['rule']}: {f['message']}" for f in found) or "no rule broken")


def observed_ok(cell: dict, exp_reject: bool) -> bool:
    """The bytes allow this direction: the ideal reader accepts and the codec did what it should."""
    return bool(cell.get("ideal")) and not exp_reject and cell["outcome"] not in ("error", "changed", "lost", "corrupted",
                                                                                   "unsupported")


def disagreements(rules_data: dict, matrix: dict, scenarios: list[Scenario]) -> list[dict]:
    """Where a tool's rule verdict and the same format's observed cells disagree (last step only)."""
    last = next(s for s in scenarios if s.id == f"v{_n_versions(scenarios) - 1}->v{_n_versions(scenarios)}")
    out = []
    for tool, fmt in TOOL_FORMAT.items():
        for col in matrix["codecs"]:
            if col.split("/")[0] != fmt:
                continue
            both = all(_rule_ok(rules_data, tool, d)[0] for d in ("backward", "forward"))
            for d in DIRECTIONS:
                cell = next((c for c in matrix["cells"] if c["scenario"] == last.id and c["codec"] == col
                             and c["direction"] == d), None)
                if cell is None:
                    continue
                if d in ("roundtrip", "backward-roundtrip"):  # the rules do not look at intermediaries:
                    # compatible both ways claims it is safe to deploy readers and writers in any order
                    rok, why = both, "compatible in both directions" if both else "not compatible both ways"
                    if not rok:
                        continue
                else:
                    rok, why = _rule_ok(rules_data, tool, d)
                exp = last.expectation(d)
                ook = observed_ok(cell, bool(exp.reject)) or (d in ("roundtrip", "backward-roundtrip")
                                                              and bool(cell.get("ideal")))
                if rok != ook:
                    out.append({"tool": tool, "codec": col, "direction": d, "scenario": last.id,
                                "rule": "compatible" if rok else "breaking", "rule_detail": why,
                                "observed": cell["outcome"], "ideal": cell.get("ideal"), "evidence": cell["detail"],
                                "ideal_reader": exp.reject or "accepts"})
    return out


def _n_versions(scenarios: list[Scenario]) -> int:
    return max(int(s.id.split("->v")[1]) for s in scenarios)


# ------------------------------------------------------------------------------------------------
# Running the cells: the engine's own matrix (scenarios travel to its workers as data)


def run_user_matrix(codecs: list[Any], scenarios: list[Scenario], plugins: bool | None = None,
                    log: Any = lambda m: None, jobs: int = 2) -> dict:
    """The scenarios x codec columns x directions, through ``bench.evolution.run_matrix``: the same
    cells, vocabulary, per-cell time limits and restarts as the built-in matrix."""
    from bench.evolution import run_matrix

    data = run_matrix(codecs, scenarios, plugins=plugins, log=log, jobs=jobs)
    data["safe_scenarios"] = []  # "safe in common guidance" is a property of the built-in scenarios only
    return data


# ------------------------------------------------------------------------------------------------
# The answer


def level_check(level: str, lang: str, rules_data: dict, matrix: dict, scenarios: list[Scenario],
                formats: list[str] | None = None) -> list[str]:
    """Why ``level`` is violated (empty: it holds). It holds when (a) the rule tool of the input
    language allows it, and (b) every observed cell of the directions it needs is compatible
    (transitive levels: every earlier version against the last one) for the input language's own
    format (``formats``: these formats instead; JSON Schema: the tolerant JSON reader)."""
    from bench.rules import level_directions

    dirs, transitive = level_directions(level)
    if not dirs:
        return []
    why: list[str] = []
    tool = LANG_TOOL.get(lang)
    if tool == "avro":
        lv = rules_data["avro"]["levels"][level]
        if not lv["ok"]:
            why += [f"Avro rules: {w}" for w in lv["why"]]
    elif tool == "buf" and not rules_data["buf"]["categories"]["WIRE"]["ok"]:
        why.append("buf breaking (WIRE): " + ", ".join(rules_data["buf"]["categories"]["WIRE"]["rules"]))
    elif tool == "thrift":
        bad = [f for f in rules_data["thrift"]["findings"] if set(f["directions"]) & set(dirs)]
        why += [f"Thrift rules: {f['rule']}: {f['message']}" for f in bad]
    n = _n_versions(scenarios)
    wanted = {f"v{i}->v{n}" for i in range(1, n)} if transitive else {f"v{n - 1}->v{n}"}
    by_id = {s.id: s for s in scenarios}
    for c in matrix["cells"]:
        if c["scenario"] not in wanted or c["direction"] not in dirs:
            continue
        col = c["codec"]
        if not _judged(col, lang, formats):
            continue
        exp = by_id[c["scenario"]].expectation(c["direction"])
        if not observed_ok(c, bool(exp.reject)):
            what = f"the ideal reader refuses ({exp.reject})" if exp.reject else c["detail"]
            why.append(f"observed {c['codec']} {c['scenario']} {c['direction']}: {c['outcome']}: {what}"[:300])
    return why


LANG_FORMAT = {"avro": "avro", "proto": "protobuf", "thrift": "thrift", "json-schema": "json"}


def _judged(column: str, lang: str, formats: list[str] | None) -> bool:
    codec = column.split(" ")[0]
    if formats:
        return codec in formats or codec.split("/")[0] in formats
    if lang == "json-schema":
        return codec.split("/")[0] == "json" and "(strict)" not in column
    return codec.split("/")[0] == LANG_FORMAT.get(lang)


def build_report(paths: list[str], root: str | None = None, samples: list[str] | None = None,
                 codecs: list[Any] | None = None, plugins: bool | None = None, log: Any = lambda m: None,
                 include_dirs: list[str] | None = None) -> tuple[dict, list[Scenario]]:
    versions = load_versions(paths, root, include_dirs)
    values = version_values(versions, samples)
    scenarios = scenarios_for(versions, values, [bool(samples)] * len(versions))
    matrix = run_user_matrix(codecs or [], scenarios, plugins, log)
    rules_data = rules_for(versions)
    n = len(versions)
    doc = {
        "versions": [{"file": v.source, "language": v.language, "record": v.record.name, "notes": list(v.notes)}
                     for v in versions],
        "mapping": {f"v{i}->v{i + 1}": mapping(versions[i - 1].record, versions[i].record) for i in range(1, n)},
        "ideal": {s.id: {d: (s.expectation(d).reject or "accepts") for d in ("backward", "forward")}
                  for s in scenarios},
        "rules": rules_data,
        "matrix": matrix,
        "disagreements": disagreements(rules_data, matrix, scenarios),
    }
    return doc, scenarios


def markdown(doc: dict, level: str | None = None, violated: list[str] | None = None) -> str:
    """A short answer for a pull request."""
    v = doc["versions"]
    lines = [f"### msgbench evolve: {' -> '.join(Path(x['file']).name for x in v)} ({v[0]['language']})", ""]
    if level:
        lines.append(f"**{level}: {'VIOLATED' if violated else 'holds'}**")
        for w in (violated or [])[:8]:
            lines.append(f"- {w}")
        if len(violated or []) > 8:
            lines.append(f"- (+{len(violated or []) - 8} more in evolve.json)")
        lines.append("")
    notes = [n for x in v for n in x["notes"]]
    if notes:
        more = f" (+{len(notes) - 3} more in evolve.json)" if len(notes) > 3 else ""
        lines += ["Import notes: " + "; ".join(dict.fromkeys(notes[:3])) + more, ""]
    r = doc["rules"]
    lv = r["avro"]["levels"]
    lines.append("| rule tool | verdict |")
    lines.append("|---|---|")
    lines.append("| Avro / Confluent ({}) | {} |".format(
        r["avro"]["source"], ", ".join(f"{k} {'ok' if lv[k]['ok'] else 'no'}" for k in ("BACKWARD", "FORWARD", "FULL",
                                                                                         "FULL_TRANSITIVE"))))
    bc = r["buf"]["categories"]
    lines.append("| buf breaking ({}) | {} |".format(r["buf"]["source"], "; ".join(
        f"{c}: {'ok' if bc[c]['ok'] else ', '.join(bc[c]['rules'])}" for c in bc)))
    lines.append("| Thrift IDL rules ({}) | {} |".format(r["thrift"]["source"], "ok" if r["thrift"]["ok"] else "; ".join(
        f"{f['rule']} ({f['where']})" for f in r["thrift"]["findings"][:4])))
    m = doc["matrix"]
    last = m["scenarios"][len(doc["mapping"]) - 1]["id"] if doc["mapping"] else m["scenarios"][0]["id"]
    lines += ["", f"Observed, {last} (backward = new reader/old data, forward = old reader/new data, "
              "roundtrip = through an old intermediary, backward-roundtrip = through a new one; "
              "* = not what the ideal reader does):", ""]
    lines.append("| codec | " + " | ".join(DIRECTIONS) + " |")
    lines.append("|---" * (len(DIRECTIONS) + 1) + "|")
    for col in m["codecs"]:
        row = [col]
        for d in DIRECTIONS:
            c = next((c for c in m["cells"] if c["scenario"] == last and c["codec"] == col and c["direction"] == d), None)
            row.append("" if c is None else c["outcome"] + ("" if c.get("ideal") else "*"))
        lines.append("| " + " | ".join(row) + " |")
    ide = doc["ideal"].get(last, {})
    lines += ["", f"Ideal reader: backward {ide.get('backward')}; forward {ide.get('forward')}."]
    if doc["disagreements"]:
        lines += ["", "Where the rules and the bytes disagree:"]
        for d in doc["disagreements"][:8]:
            lines.append(f"- {d['tool']} says {d['rule']} ({d['rule_detail'][:120]}); {d['codec']} {d['direction']} "
                         f"observed {d['observed']}{'' if d['ideal'] else '*'}: {d['evidence'][:160]}")
        if len(doc["disagreements"]) > 8:
            lines.append(f"- (+{len(doc['disagreements']) - 8} more in evolve.json)")
    return "\n".join(lines) + "\n"
