"""``.avsc`` -> the model, parsed (and so validated) with fastavro.

- record -> Record (namespace, doc, aliases); field ids 1..n in declaration order (Avro has none:
  ``msgbench evolve`` carries ids over from the old schema by name/alias);
- boolean/int/long/float/double/string/bytes -> bool/int32/int64/float32/float64/string/bytes;
- ``{"type": "long", "logicalType": "timestamp-micros"}`` -> timestamp; other logical types keep
  their underlying type (noted: ``date`` -> int32, ``timestamp-millis`` -> int64, ``uuid`` ->
  string, ``decimal`` on bytes -> bytes);
- enum -> EnumType (symbols numbered 1..n, ``default``, ``aliases``); array -> list; map -> map;
- ``["null", T]`` / ``[T, "null"]`` -> optional T (default kept); field defaults and aliases kept.

Not expressible (a clear error naming the construct and its line): other unions, ``fixed``,
recursive records, a bare non-record top level.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from payloads.model import (
    BYTES,
    EnumType,
    Field,
    ListType,
    MapType,
    ModelError,
    Primitive,
    Record,
    Type,
    normalize,
)
from payloads.schema_import.common import ImportedSchema, SchemaImportError, line_of

PRIMS = {"boolean": "bool", "int": "int32", "long": "int64", "float": "float32", "double": "float64",
         "string": "string", "bytes": "bytes"}
LOGICAL_NOTES = {"date": "days since the epoch", "timestamp-millis": "milliseconds since the epoch",
                 "time-millis": "milliseconds after midnight", "time-micros": "microseconds after midnight",
                 "local-timestamp-millis": "local milliseconds", "local-timestamp-micros": "local microseconds",
                 "uuid": "a UUID string", "decimal": "a two's-complement decimal"}


class _Importer:
    def __init__(self, path: Path, text: str):
        self.path, self.text = path, text
        self.named: dict[str, Type] = {}  # full name -> type
        self.building: set[str] = set()
        self.notes: list[str] = []

    def error(self, message: str, needle: str | None = None) -> SchemaImportError:
        return SchemaImportError(self.path, message, line_of(self.text, needle) if needle else None)

    def full(self, name: str, ns: str | None) -> str:
        return name if "." in name or not ns else f"{ns}.{name}"

    def type(self, t: Any, ns: str | None, where: str) -> Type:
        if isinstance(t, str):
            if t in PRIMS:
                return Primitive(PRIMS[t])
            if t == "null":
                raise self.error(f"{where}: a bare \"null\" type; the model has null only as an optional field "
                                 "([\"null\", T])", '"null"')
            full = self.full(t, ns)
            for cand in (full, t):
                if cand in self.building:
                    raise self.error(f"{where}: recursive type {cand}: the model cannot express recursion",
                                     f'"{t.split(".")[-1]}"')
                if cand in self.named:
                    return self.named[cand]
            raise self.error(f"{where}: unknown type {t!r}", f'"{t}"')
        if isinstance(t, list):
            raise self.error(f"{where}: union {json.dumps(t)}: the model has only [\"null\", T] unions "
                             "(an optional field)", json.dumps(t[0]) if t else None)
        if not isinstance(t, dict):
            raise self.error(f"{where}: not an Avro type: {t!r:.60}")
        kind = t.get("type")
        logical = t.get("logicalType")
        if kind in PRIMS or (isinstance(kind, str) and kind in ("null",)):
            if logical == "timestamp-micros" and kind == "long":
                return Primitive("timestamp")
            if logical:
                self.notes.append(f"{where}: logical type {logical} imported as its underlying {kind} "
                                  f"({LOGICAL_NOTES.get(logical, 'as written')})")
            return self.type(kind, ns, where)
        if kind == "array":
            return ListType(self.type(t["items"], ns, f"{where}[]"))
        if kind == "map":
            return MapType(self.type(t["values"], ns, f"{where}{{}}"))
        if kind == "fixed":
            if logical == "duration" or logical == "decimal":
                pass
            raise self.error(f"{where}: fixed {t.get('name')!r} (size {t.get('size')}): the model has no "
                             "fixed-size bytes; use \"bytes\"", f'"{t.get("name")}"')
        if kind == "enum":
            name = t["name"]
            full = self.full(name, t.get("namespace", ns))
            e = EnumType(name.split(".")[-1], tuple(t["symbols"]), t.get("default"), t.get("doc", ""),
                         tuple(t.get("aliases", ())))
            self.named[full] = e
            self.named.setdefault(name.split(".")[-1], e)
            return e
        if kind == "record" or kind == "error":
            return self.record(t, ns, where)
        if isinstance(kind, (dict, list)) or (isinstance(kind, str) and kind not in PRIMS):
            return self.type(kind, ns, where)
        raise self.error(f"{where}: unknown Avro type {kind!r}")

    def record(self, t: dict, ns: str | None, where: str) -> Record:
        name = t["name"]
        rns = t.get("namespace", name.rpartition(".")[0] if "." in name else ns)
        short = name.split(".")[-1]
        full = self.full(short, rns)
        self.building.add(full)
        fields = []
        for i, fd in enumerate(t.get("fields", []), start=1):
            fname = fd["name"]
            fwhere = f"{short}.{fname}"
            ft, optional, default = fd["type"], False, fd.get("default")
            has_default = "default" in fd
            if isinstance(ft, list):
                branches = [b for b in ft if b != "null"]
                if len(ft) == 2 and len(branches) == 1:
                    optional = True
                    ft = branches[0]
                else:
                    raise self.error(f"field {fwhere}: union {json.dumps(fd['type'])}: the model has only "
                                     "[\"null\", T] unions (an optional field)", f'"{fname}"')
            mt = self.type(ft, rns, fwhere)
            if has_default and default is not None:
                default = self.default(mt, default, fwhere, fname)
            else:
                default = None
            try:
                fields.append(Field(fname, mt, i, optional, default, fd.get("doc", ""), tuple(fd.get("aliases", ()))))
            except ModelError as e:
                raise self.error(f"field {fwhere}: {e}", f'"{fname}"') from None
        try:
            r = Record(short, tuple(fields), t.get("doc", ""), tuple(t.get("aliases", ())), rns or "msgbench")
        except ModelError as e:
            raise self.error(f"record {short}: {e}", f'"{short}"') from None
        self.building.discard(full)
        self.named[full] = r
        self.named.setdefault(short, r)
        return r

    def default(self, t: Type, value: Any, where: str, needle: str) -> Any:
        if isinstance(t, Primitive) and t.kind == "bytes" and isinstance(value, str):
            value = value.encode("latin-1")
        try:
            return normalize(t, _bytes_defaults(t, value))
        except (ModelError, ValueError) as e:
            raise self.error(f"field {where}: default {value!r:.60} does not fit: {e}", f'"{needle}"') from None


def _bytes_defaults(t: Type, v: Any) -> Any:
    if t == BYTES and isinstance(v, str):
        return v.encode("latin-1")
    if isinstance(t, ListType) and isinstance(v, list):
        return [_bytes_defaults(t.items, x) for x in v]
    if isinstance(t, MapType) and isinstance(v, dict):
        return {k: _bytes_defaults(t.values, x) for k, x in v.items()}
    if isinstance(t, Record) and isinstance(v, dict):
        return {f.name: _bytes_defaults(f.type, v[f.name]) for f in t.fields if f.name in v}
    return v


def import_avsc(path: Path, root: str | None = None) -> ImportedSchema:
    import fastavro

    text = path.read_text(encoding="utf-8-sig")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise SchemaImportError(path, f"not JSON: {e.msg} (column {e.colno})", e.lineno) from None
    try:
        fastavro.parse_schema(doc, _write_hint=False)
    except Exception as e:  # fastavro's SchemaParseException, UnknownType, ...
        raise SchemaImportError(path, f"not a valid Avro schema (fastavro: {e})") from None
    imp = _Importer(path, text)
    tops = doc if isinstance(doc, list) else [doc]
    records: list[Record] = []
    for t in tops:
        mt = imp.type(t, None, "schema")
        if isinstance(mt, Record):
            records.append(mt)
    if not records:
        raise SchemaImportError(path, "the top-level type is not a record; wrap it in a record")
    if root is not None:
        chosen = next((r for r in records if r.name == root), None)
        if chosen is None:
            raise SchemaImportError(path, f"no top-level record named {root!r}; records: "
                                    f"{', '.join(r.name for r in records)}")
    else:
        chosen = records[-1]  # a schema list defines dependencies first, the main record last
    return ImportedSchema(chosen, "avro", str(path), tuple(imp.notes), ids_from_source=False)
