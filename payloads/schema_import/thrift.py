"""``.thrift`` -> the model, parsed with thriftpy2 (includes resolved from the file's folder and
``include_dirs``).

- struct -> Record (field ids kept); bool/i32/i64/double/string/binary -> bool/int32/int64/
  float64/string/bytes; byte/i16 -> int32 (noted); enum -> EnumType with its values (a 0 value
  cannot be a model symbol number: error); list<T> -> list; map<string,T> -> map;
- ``required`` -> required, ``optional`` -> optional, default requiredness -> required (noted:
  it is written whenever set, which is always in msgbench's model); the requiredness written in
  the IDL is kept in :attr:`ImportedSchema.requiredness` for the Thrift rules;
- scalar and enum defaults -> field defaults.

Not expressible: set<T>, union, exception, maps with non-string keys, recursive structs.
thriftpy2's spec does not keep ``optional`` apart from default requiredness or source lines, so
both are read from the IDL text of each struct.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from payloads.model import EnumType, Field, ListType, MapType, ModelError, Primitive, Record, Type
from payloads.schema_import.common import ImportedSchema, SchemaImportError, line_of, pick_root

T_BOOL, T_BYTE, T_DOUBLE, T_I16, T_I32, T_I64, T_STRING, T_STRUCT, T_MAP, T_SET, T_LIST, T_BINARY = (
    2, 3, 4, 6, 8, 10, 11, 12, 13, 14, 15, 18)
PRIMS = {T_BOOL: "bool", T_DOUBLE: "float64", T_I32: "int32", T_I64: "int64", T_STRING: "string",
         T_BINARY: "bytes", T_BYTE: "int32", T_I16: "int32"}
_FIELD = re.compile(r"^\s*(-?\d+)\s*:\s*(required|optional)?\b", re.M)


class _Importer:
    def __init__(self, path: Path, module: Any):
        self.path = path
        self.module = module
        self.built: dict[Any, Type] = {}
        self.building: set[Any] = set()
        self.notes: list[str] = []
        self.requiredness: dict[tuple[str, str], str] = {}
        self.texts: dict[str, str] = {}

    def source_of(self, cls: Any) -> tuple[Path, str]:
        mod = cls.__module__
        f = getattr(__import__("sys").modules.get(mod), "__thrift_file__", None) or str(self.path)
        if f not in self.texts:
            try:
                self.texts[f] = Path(f).read_text(encoding="utf-8-sig")
            except OSError:
                self.texts[f] = ""
        return Path(f), self.texts[f]

    def struct_block(self, cls: Any) -> tuple[Path, str, int]:
        """(file, the struct's body text, offset of the body in the file)."""
        path, text = self.source_of(cls)
        m = re.search(r"\b(struct|union|exception)\s+" + re.escape(cls.__name__) + r"\s*\{", text)
        if not m:
            return path, "", 0
        depth, i = 1, m.end()
        while i < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        return path, text[m.end(): i - 1], m.end()

    def error(self, cls: Any, message: str, needle: str | None = None) -> SchemaImportError:
        path, text = self.source_of(cls)
        line = None
        if text:
            m = re.search(r"\b(struct|union|exception|enum)\s+" + re.escape(cls.__name__) + r"\b", text)
            start = m.start() if m else 0
            line = line_of(text, needle, start) if needle else (text.count("\n", 0, start) + 1 if m else None)
        return SchemaImportError(path, message, line)

    def struct(self, cls: Any) -> Record:
        if cls in self.built:
            return self.built[cls]  # type: ignore[return-value]
        name = cls.__name__
        if cls in self.building:
            raise self.error(cls, f"struct {name} contains itself (recursion): the model cannot express it")
        if getattr(cls, "_tspec", None) is None and "union" in str(getattr(cls, "__bases__", "")).lower():
            raise self.error(cls, f"union {name}: the model has no unions")
        self.building.add(cls)
        path, body, _ = self.struct_block(cls)
        kinds = {int(m.group(1)): (m.group(2) or "default") for m in _FIELD.finditer(body)}
        defaults = dict(cls.default_spec)
        fields = []
        for fid, spec in sorted(cls.thrift_spec.items()):
            ttype, fname = spec[0], spec[1]
            where = f"{name}.{fname}"
            t = self.type(cls, ttype, spec[2] if len(spec) == 4 else None, where, fname)
            kind = kinds.get(fid, "required" if spec[-1] is True else "default")
            self.requiredness[(name, fname)] = kind
            if kind == "default":
                self.notes.append(f"{where}: default requiredness imported as required (written whenever set)")
            default = defaults.get(fname)
            if isinstance(t, EnumType) and isinstance(default, int):
                default = t.symbol_of(default)
            elif isinstance(t, (ListType, MapType, Record)):
                default = None
            if not 1 <= fid <= 32767 or 19000 <= fid <= 19999:
                raise self.error(cls, f"field {where} id {fid}: the model's field ids are 1..32767 outside "
                                 "19000..19999", f"{fid}:")
            fields.append(Field(fname, t, fid, kind == "optional", default))
        try:
            r = Record(name, tuple(fields), namespace=cls.__module__.removesuffix("_thrift") or "msgbench")
        except ModelError as e:
            raise self.error(cls, f"struct {name}: {e}") from None
        self.building.discard(cls)
        self.built[cls] = r
        return r

    def enum(self, cls: Any) -> EnumType:
        if cls in self.built:
            return self.built[cls]  # type: ignore[return-value]
        items = sorted(cls._VALUES_TO_NAMES.items())
        bad = [(n, s) for n, s in items if n < 1]
        if bad:
            raise self.error(cls, f"enum {cls.__name__} value {bad[0][1]} = {bad[0][0]}: the model numbers enum "
                             "symbols from 1 (0 is protobuf's UNSPECIFIED)", bad[0][1])
        order = [(cls._NAMES_TO_VALUES[s], s) for s in cls._NAMES_TO_VALUES]
        t = EnumType(cls.__name__, tuple(s for _, s in order), numbers=tuple(n for n, _ in order))
        self.built[cls] = t
        return t

    def type(self, owner: Any, ttype: int, arg: Any, where: str, needle: str) -> Type:
        if ttype in PRIMS:
            if ttype in (T_BYTE, T_I16):
                self.notes.append(f"{where}: {'byte' if ttype == T_BYTE else 'i16'} imported as int32")
            if ttype == T_I32 and isinstance(arg, type):  # an enum
                return self.enum(arg)
            return Primitive(PRIMS[ttype])
        if ttype == T_STRUCT:
            return self.struct(arg)
        if ttype == T_LIST:
            et, ea = (arg if isinstance(arg, tuple) else (arg, None))
            return ListType(self.type(owner, et, ea, where + "[]", needle))
        if ttype == T_MAP:
            (kt, *_), (vt, va) = _pair(arg[0]), _pair(arg[1])
            if kt != T_STRING:
                raise self.error(owner, f"field {where}: map with non-string keys: the model's maps have string "
                                 "keys", needle)
            return MapType(self.type(owner, vt, va, where + "{}", needle))
        if ttype == T_SET:
            raise self.error(owner, f"field {where}: set<...>: the model has no sets; use a list", needle)
        raise self.error(owner, f"field {where}: thrift type {ttype} is not in the model", needle)


def _pair(spec: Any) -> tuple[int, Any]:
    return (spec[0], spec[1]) if isinstance(spec, tuple) else (spec, None)


def import_thrift(path: Path, root: str | None = None, include_dirs: list[str] | None = None) -> ImportedSchema:
    import sys

    import thriftpy2
    from thriftpy2.parser.exc import ThriftGrammarError, ThriftParserError

    stem = re.sub(r"\W", "_", path.stem)
    modname = f"{stem}_thrift"
    dirs = [str(path.resolve().parent)] + [str(Path(d).resolve()) for d in include_dirs or []]
    # thriftpy2 caches parsed files by module name (an include "common.thrift" is module
    # common_thrift wherever it lives): forget the ones this file uses so that v1 and v2 in
    # different folders each get their own includes
    text = path.read_text(encoding="utf-8-sig")
    mine = {modname} | {re.sub(r"\W", "_", Path(m).stem) + "_thrift"
                        for m in re.findall(r'^\s*include\s+"([^"]+)"', text, re.M)}
    for k in mine:
        sys.modules.pop(k, None)
    try:
        from thriftpy2.parser import parser as _p
        _p.thrift_cache.clear()
    except (ImportError, AttributeError):
        pass
    try:
        module = thriftpy2.load(str(path), module_name=modname, include_dirs=dirs)
    except (ThriftParserError, ThriftGrammarError) as e:
        text = str(e)
        m = re.search(r"line (\d+)", text)
        raise SchemaImportError(path, f"thriftpy2: {text}", int(m.group(1)) if m else None) from None
    imp = _Importer(path, module)
    meta = getattr(module, "__thrift_meta__", {})
    for kind in ("unions", "exceptions"):
        if meta.get(kind):
            cls = meta[kind][0]
            raise imp.error(cls, f"{kind[:-1]} {cls.__name__}: the model has no {kind}")
    structs = list(meta.get("structs", []))
    used = {spec[2] for s in structs for spec in s.thrift_spec.values() if spec[0] == T_STRUCT}
    names = [s.__name__ for s in structs]
    roots = [s.__name__ for s in structs if s not in used]
    chosen = pick_root(path, roots, names, root, "struct")
    rec = imp.struct(next(s for s in structs if s.__name__ == chosen))
    return ImportedSchema(rec, "thrift", str(path), tuple(dict.fromkeys(imp.notes)), {}, imp.requiredness)
