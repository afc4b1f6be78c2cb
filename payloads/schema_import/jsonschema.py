"""JSON Schema (draft 2020-12 subset) -> the model; the document is checked with the
``jsonschema`` library's metaschema first.

- ``type: object`` with ``properties`` -> Record (name: ``title``, the ``$defs`` key, or the
  property name in CamelCase); field ids 1..n in ``properties`` order (``msgbench evolve``
  carries ids over from the old schema by name); ``required`` -> required, the rest optional;
  ``default`` -> field default; ``x-aliases`` -> aliases;
- ``type: object`` with only ``additionalProperties: {schema}`` -> map;
- ``type: array`` + ``items`` -> list; ``enum`` of strings -> EnumType;
- ``boolean`` -> bool; ``integer`` -> int64 (int32 with ``format: int32`` or bounds inside int32);
  ``number`` -> float64 (float32 with ``format: float``); ``string`` -> string; ``string`` with
  ``format: date-time`` -> timestamp (samples give RFC 3339 text or integer microseconds);
  ``string`` with ``contentEncoding: base64`` -> bytes;
- ``type: [T, "null"]`` or ``anyOf: [S, {type: null}]`` -> optional; ``$ref`` to ``#/$defs/...``.

Not expressible (error with the JSON pointer and its line): other ``anyOf``/``oneOf``/``allOf``,
tuples, objects with both properties and additionalProperties schemas, external ``$ref``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from payloads.model import (
    INT32_MAX,
    INT32_MIN,
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

NON_FINITE_PATTERN = "^(?:NaN|Infinity|-Infinity)$"
TIMESTAMP_DESCRIPTION = "microseconds since the Unix epoch (UTC)"


def _camel(name: str) -> str:
    parts = [p for p in name.replace("-", "_").split("_") if p]
    return "".join(p[0].upper() + p[1:] for p in parts) or "Record"


class _Importer:
    def __init__(self, path: Path, text: str, doc: dict):
        self.path, self.text, self.doc = path, text, doc
        self.named: dict[str, Type] = {}
        self.building: set[str] = set()
        self.notes: list[str] = []

    def error(self, pointer: str, message: str, needle: str | None = None) -> SchemaImportError:
        key = needle or pointer.rsplit("/", 1)[-1]
        return SchemaImportError(self.path, f"{pointer or '#'}: {message}", line_of(self.text, f'"{key}"'))

    def ref(self, ref: str, pointer: str) -> Type:
        if not ref.startswith("#/$defs/") and not ref.startswith("#/definitions/"):
            raise self.error(pointer, f"$ref {ref!r}: only local #/$defs/... references are supported", "$ref")
        key = ref.rsplit("/", 1)[-1]
        if key in self.named:
            return self.named[key]
        if key in self.building:
            raise self.error(pointer, f"$ref {ref!r} is recursive: the model cannot express recursion", "$ref")
        defs = self.doc.get("$defs") or self.doc.get("definitions") or {}
        if key not in defs:
            raise self.error(pointer, f"$ref {ref!r} is not defined", "$ref")
        self.building.add(key)
        t = self.type(defs[key], f"#/$defs/{key}", key)
        self.building.discard(key)
        self.named[key] = t
        return t

    def nullable(self, s: dict) -> tuple[dict, bool]:
        """(the schema without its null alternative, whether null was allowed)."""
        t = s.get("type")
        if isinstance(t, list) and "null" in t:
            rest = [x for x in t if x != "null"]
            return {**s, "type": rest[0] if len(rest) == 1 else rest}, True
        for key in ("anyOf", "oneOf"):
            alts = s.get(key)
            if isinstance(alts, list) and len(alts) == 2 and {"type": "null"} in alts:
                other = next(a for a in alts if a != {"type": "null"})
                merged = {k: v for k, v in s.items() if k != key}
                return {**merged, **other}, True
        return s, False

    def type(self, s: Any, pointer: str, name_hint: str) -> Type:
        if not isinstance(s, dict):
            raise self.error(pointer, f"expected a schema object, got {s!r:.40}")
        if "$ref" in s:
            return self.ref(s["$ref"], pointer)
        for key in ("anyOf", "oneOf", "allOf", "not", "if", "prefixItems"):
            if key in s:
                raise self.error(pointer, f"{key}: the model has no unions, intersections or tuples "
                                 "(only [T, \"null\"])", key)
        if "enum" in s:
            syms = s["enum"]
            if not all(isinstance(x, str) for x in syms):
                raise self.error(pointer, "enum with non-string values: the model's enums are symbols", "enum")
            t = EnumType(s.get("title") or _camel(name_hint), tuple(syms), doc=s.get("description", ""))
            return t
        kind = s.get("type")
        if sorted(kind) == ["number", "string"] if isinstance(kind, list) else False:
            if s.get("pattern") == NON_FINITE_PATTERN:  # msgbench's own export: a number or NaN/Infinity text
                return Primitive("float64")
        if isinstance(kind, list):
            raise self.error(pointer, f"type {kind}: the model has no unions (only [T, \"null\"])", "type")
        fmt = s.get("format")
        if kind == "boolean":
            return Primitive("bool")
        if kind == "integer":
            if s.get("description") == TIMESTAMP_DESCRIPTION:  # msgbench's own export of a timestamp
                return Primitive("timestamp")
            lo, hi = s.get("minimum"), s.get("maximum")
            small = fmt == "int32" or (lo is not None and hi is not None and INT32_MIN <= lo and hi <= INT32_MAX)
            return Primitive("int32" if small else "int64")
        if kind == "number":
            return Primitive("float32" if fmt == "float" else "float64")
        if kind == "string":
            if fmt == "date-time":
                return Primitive("timestamp")
            if s.get("contentEncoding") == "base64":
                return Primitive("bytes")
            if fmt:
                self.notes.append(f"{pointer}: format {fmt} imported as a plain string")
            return Primitive("string")
        if kind == "array":
            if "items" not in s or not isinstance(s["items"], dict):
                raise self.error(pointer, "an array needs one \"items\" schema", "items")
            return ListType(self.type(s["items"], f"{pointer}/items", name_hint + "_item"))
        if kind == "object" or (kind is None and "properties" in s):
            props = s.get("properties")
            extra = s.get("additionalProperties")
            if not props and isinstance(extra, dict):
                return MapType(self.type(extra, f"{pointer}/additionalProperties", name_hint + "_value"))
            if props and isinstance(extra, dict):
                raise self.error(pointer, "an object with both properties and an additionalProperties schema",
                                 "additionalProperties")
            return self.record(s, pointer, name_hint)
        raise self.error(pointer, f"type {kind!r} is not supported (object, array, string, integer, number, "
                         "boolean, enum)", "type")

    def record(self, s: dict, pointer: str, name_hint: str) -> Record:
        name = s.get("title") or _camel(name_hint)
        name = "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in name)
        required = set(s.get("required", []))
        fields = []
        for i, (pname, ps) in enumerate((s.get("properties") or {}).items(), start=1):
            fptr = f"{pointer}/properties/{pname}"
            inner, nullable = self.nullable(ps) if isinstance(ps, dict) else (ps, False)
            t = self.type(inner, fptr, pname)
            optional = nullable or pname not in required
            default = None
            if isinstance(ps, dict) and ps.get("default") is not None:
                try:
                    default = normalize(t, ps["default"])
                except (ModelError, ValueError) as e:
                    raise self.error(fptr, f"default does not fit: {e}", pname) from None
            doc = (ps or {}).get("description", "")
            fields.append(Field(pname, t, i, optional, default, "" if doc == TIMESTAMP_DESCRIPTION else doc,
                                tuple((ps or {}).get("x-aliases", ()))))
        try:
            return Record(name, tuple(fields), s.get("description", ""))
        except ModelError as e:
            raise self.error(pointer, str(e)) from None


def import_json_schema(path: Path, root: str | None = None) -> ImportedSchema:
    text = path.read_text(encoding="utf-8-sig")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise SchemaImportError(path, f"not JSON: {e.msg} (column {e.colno})", e.lineno) from None
    if not isinstance(doc, dict):
        raise SchemaImportError(path, "a JSON Schema document is an object")
    try:
        import jsonschema

        jsonschema.validators.validator_for(doc, default=jsonschema.Draft202012Validator).check_schema(doc)
    except jsonschema.SchemaError as e:
        ptr = "/".join(str(p) for p in e.absolute_path)
        raise SchemaImportError(path, f"not a valid JSON Schema at #/{ptr}: {e.message}") from None
    imp = _Importer(path, text, doc)
    if root is not None:
        defs = doc.get("$defs") or {}
        if root not in defs:
            raise SchemaImportError(path, f"no $defs entry named {root!r}; $defs: {', '.join(defs) or 'none'}")
        t = imp.ref(f"#/$defs/{root}", f"#/$defs/{root}")
    else:
        t = imp.type(doc, "", _camel(path.stem.split(".")[0]))
    if not isinstance(t, Record):
        raise SchemaImportError(path, f"the top level is {t.type_name}, not an object with properties")
    return ImportedSchema(t, "json-schema", str(path), tuple(imp.notes), ids_from_source=False)
