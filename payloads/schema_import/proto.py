"""``.proto`` -> the model, compiled by a real protobuf compiler (protoc from grpcio-tools) into a
``FileDescriptorSet`` (imports included, source info for ``file:line`` in errors).

- message -> Record (nested messages too); field numbers -> field ids;
- double/float -> float64/float32; int64/sint64/sfixed64 -> int64, int32/sint32/sfixed32 ->
  int32, uint32/fixed32 -> int64, uint64/fixed64 -> int64 (the other encodings are noted: msgbench
  writes them as plain varints); bool/string/bytes as is;
- enum -> EnumType with the value numbers; the zero value (proto3's ``X_UNSPECIFIED``) is the
  model's implicit one and is dropped, the ``ENUM_NAME_`` prefix is removed from value names
  (msgbench's generator adds both back);
- ``repeated`` -> list; ``map<string, V>`` -> map; proto3 ``optional``, message-typed fields and
  proto2 ``optional`` -> optional; proto3 singular scalars and proto2 ``required`` -> required;
- ``oneof`` members -> optional fields (the model cannot say "at most one": noted);
- ``reserved`` numbers and names -> :attr:`ImportedSchema.reserved` (the buf rules use them).

Not expressible: maps with non-string keys, groups, recursive messages, field numbers above
32767 or in 19000..19999 (a clear error with ``file:line``).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from payloads.model import EnumType, Field, ListType, MapType, ModelError, Primitive, Record, Type
from payloads.schema_import.common import ImportedSchema, SchemaImportError, pick_root

INSTALL_HINT = "importing .proto files needs protoc from grpcio-tools: pip install grpcio-tools"

# FieldDescriptorProto.Type -> (model kind, note when the wire encoding differs)
TYPES: dict[int, tuple[str, str]] = {
    1: ("float64", ""), 2: ("float32", ""), 3: ("int64", ""), 4: ("int64", "uint64"), 5: ("int32", ""),
    6: ("int64", "fixed64"), 7: ("int32", "fixed32"), 8: ("bool", ""), 9: ("string", ""),
    12: ("bytes", ""), 13: ("int64", "uint32"), 15: ("int32", "sfixed32"), 16: ("int64", "sfixed64"),
    17: ("int32", "sint32"), 18: ("int64", "sint64"),
}
TYPE_GROUP, TYPE_MESSAGE, TYPE_ENUM = 10, 11, 14
LABEL_OPTIONAL, LABEL_REQUIRED, LABEL_REPEATED = 1, 2, 3


def upper_snake(name: str) -> str:
    import re

    s = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name)
    return re.sub(r"[^A-Za-z0-9]+", "_", s).strip("_").upper() or "E"


def compile_descriptor_set(path: Path, include_dirs: list[str] | None = None) -> Any:
    """``protoc --include_imports --include_source_info`` -> a FileDescriptorSet; protoc's own
    ``file:line:col: message`` on failure."""
    try:
        import grpc_tools
        from grpc_tools import protoc
    except ImportError:
        raise SchemaImportError(path, INSTALL_HINT) from None
    from google.protobuf import descriptor_pb2

    wkt = str(Path(grpc_tools.__file__).parent / "_proto")
    incs = [str(path.resolve().parent)] + [str(Path(d).resolve()) for d in include_dirs or []] + [wkt]
    with tempfile.TemporaryDirectory(prefix="msgbench-protoc-") as tmp:
        out = os.path.join(tmp, "set.pb")
        err_path = os.path.join(tmp, "stderr")
        args = ["protoc", *[f"-I{d}" for d in incs], "--include_imports", "--include_source_info",
                f"--descriptor_set_out={out}", str(path.resolve())]
        saved = os.dup(2)
        with open(err_path, "wb") as err:
            os.dup2(err.fileno(), 2)
            try:
                rc = protoc.main(args)
            finally:
                os.dup2(saved, 2)
                os.close(saved)
        if rc != 0 or not os.path.exists(out):
            text = Path(err_path).read_text("utf-8", "replace").strip()
            first = text.splitlines()[0] if text else f"protoc exited with status {rc}"
            raise SchemaImportError(path, f"protoc: {first}")
        fds = descriptor_pb2.FileDescriptorSet()
        fds.ParseFromString(Path(out).read_bytes())
        return fds


class _Importer:
    def __init__(self, path: Path, fds: Any):
        self.path = path
        self.fds = fds
        self.messages: dict[str, tuple[Any, Any, list[int]]] = {}  # full name -> (DescriptorProto, file, path)
        self.enums: dict[str, tuple[Any, Any, list[int]]] = {}
        self.lines: dict[tuple[str, tuple[int, ...]], int] = {}
        for f in fds.file:
            for loc in f.source_code_info.location:
                if loc.span:
                    self.lines[(f.name, tuple(loc.path))] = loc.span[0] + 1
            pkg = f"{f.package}." if f.package else ""
            for i, m in enumerate(f.message_type):
                self._index(m, f, pkg, [4, i])
            for i, e in enumerate(f.enum_type):
                self.enums[f".{pkg}{e.name}"] = (e, f, [5, i])
        self.built: dict[str, Type] = {}
        self.building: set[str] = set()
        self.notes: list[str] = []
        self.reserved: dict[str, tuple] = {}
        self.requiredness: dict[tuple[str, str], str] = {}

    def _index(self, m: Any, f: Any, prefix: str, path: list[int]) -> None:
        full = f".{prefix}{m.name}"
        self.messages[full] = (m, f, path)
        for i, n in enumerate(m.nested_type):
            self._index(n, f, f"{prefix}{m.name}.", path + [3, i])
        for i, e in enumerate(m.enum_type):
            self.enums[f"{full}.{e.name}"] = (e, f, path + [4, i])

    def error(self, message: str, file: Any = None, path: list[int] | None = None) -> SchemaImportError:
        line = self.lines.get((file.name, tuple(path))) if file is not None and path is not None else None
        where = Path(file.name).name if file is not None else self.path
        if file is not None and Path(file.name).name == self.path.name:
            where = self.path
        return SchemaImportError(where, message, line)

    def enum(self, full: str) -> EnumType:
        if full in self.built:
            return self.built[full]  # type: ignore[return-value]
        e, f, path = self.enums[full]
        prefix = upper_snake(e.name) + "_"
        symbols, numbers = [], []
        for v in e.value:
            if v.number == 0:
                continue
            if v.number < 0:
                raise self.error(f"enum {e.name} value {v.name} = {v.number}: the model numbers enum symbols "
                                 "from 1", f, path)
            name = v.name[len(prefix):] if v.name.startswith(prefix) and len(v.name) > len(prefix) else v.name
            symbols.append(name)
            numbers.append(v.number)
        if not symbols:
            raise self.error(f"enum {e.name} has only its zero value; the model needs at least one symbol", f, path)
        try:
            t = EnumType(e.name, tuple(symbols), numbers=tuple(numbers))
        except ModelError as err:
            raise self.error(str(err), f, path) from None
        self.built[full] = t
        return t

    def message(self, full: str) -> Record:
        if full in self.built:
            return self.built[full]  # type: ignore[return-value]
        m, f, path = self.messages[full]
        if full in self.building:
            raise self.error(f"message {m.name} contains itself (recursion): the model cannot express it", f, path)
        self.building.add(full)
        real_oneofs = {i: o.name for i, o in enumerate(m.oneof_decl)}
        fields = []
        for i, fd in enumerate(m.field):
            fpath = path + [2, i]
            where = f"{m.name}.{fd.name}"
            t = self.field_type(fd, f, fpath, where)
            optional = False
            if fd.label == LABEL_REPEATED:
                pass  # list / map: present (possibly empty)
            elif fd.HasField("oneof_index") and not fd.proto3_optional:
                optional = True
                self.notes.append(f"{where}: member of oneof {real_oneofs[fd.oneof_index]}, imported as an optional "
                                  "field (the model cannot say \"at most one of\")")
            elif fd.proto3_optional or fd.type == TYPE_MESSAGE or (f.syntax != "proto3" and fd.label == LABEL_OPTIONAL):
                optional = True
            if f.syntax != "proto3" and fd.label != LABEL_REPEATED:
                self.requiredness[(m.name, fd.name)] = "required" if fd.label == LABEL_REQUIRED else "optional"
            default = None
            if fd.HasField("default_value") and isinstance(t, (Primitive, EnumType)):
                default = self.default(t, fd.default_value)
            if not 1 <= fd.number <= 32767 or 19000 <= fd.number <= 19999:
                raise self.error(f"field {where} = {fd.number}: the model's field ids are 1..32767 outside "
                                 "19000..19999", f, fpath)
            fields.append(Field(fd.name, t, fd.number, optional, default, ""))
        try:
            r = Record(m.name, tuple(fields), namespace=f.package or "msgbench")
        except ModelError as err:
            raise self.error(str(err), f, path) from None
        ranges = tuple((rr.start, rr.end - 1) for rr in m.reserved_range)
        if ranges or m.reserved_name:
            self.reserved[m.name] = (ranges, tuple(m.reserved_name))
        self.building.discard(full)
        self.built[full] = r
        return r

    def default(self, t: Type, text: str) -> Any:
        if isinstance(t, EnumType):
            prefix = upper_snake(t.name) + "_"
            return text[len(prefix):] if text.startswith(prefix) and text[len(prefix):] in t.symbols else text
        k = t.kind  # type: ignore[union-attr]
        if k == "bool":
            return text == "true"
        if k in ("int32", "int64"):
            return int(text)
        if k in ("float32", "float64"):
            return float(text)
        if k == "bytes":
            return text.encode("latin-1")
        return text

    def field_type(self, fd: Any, f: Any, fpath: list[int], where: str) -> Type:
        if fd.type == TYPE_GROUP:
            raise self.error(f"field {where}: proto2 group: the model has no groups; use a message", f, fpath)
        if fd.type == TYPE_MESSAGE:
            m = self.messages[fd.type_name][0]
            if fd.label == LABEL_REPEATED and m.options.map_entry:
                key, val = m.field[0], m.field[1]
                if key.type != 9:
                    raise self.error(f"field {where}: map with {TYPES.get(key.type, ('?',))[0]} keys: the model's "
                                     "maps have string keys", f, fpath)
                return MapType(self.single(val, f, fpath, where + "{}"))
        t = self.single(fd, f, fpath, where)
        return ListType(t) if fd.label == LABEL_REPEATED else t

    def single(self, fd: Any, f: Any, fpath: list[int], where: str) -> Type:
        if fd.type == TYPE_MESSAGE:
            return self.message(fd.type_name)
        if fd.type == TYPE_ENUM:
            return self.enum(fd.type_name)
        kind, note = TYPES[fd.type]
        if note:
            self.notes.append(f"{where}: {note} imported as {kind} (msgbench writes {kind}'s varint encoding)")
        return Primitive(kind)


def import_proto(path: Path, root: str | None = None, include_dirs: list[str] | None = None) -> ImportedSchema:
    fds = compile_descriptor_set(path, include_dirs)
    imp = _Importer(path, fds)
    main = fds.file[-1]  # --include_imports lists dependencies first
    pkg = f".{main.package}." if main.package else "."
    tops = [f"{pkg}{m.name}" for m in main.message_type]
    used = set()
    for full in tops:
        for fd in imp.messages[full][0].field:
            if fd.type == TYPE_MESSAGE:
                used.add(fd.type_name)
    names = [t.rsplit(".", 1)[-1] for t in tops]
    roots = [t.rsplit(".", 1)[-1] for t in tops if t not in used]
    chosen = pick_root(path, roots, names, root, "message")
    rec = imp.message(f"{pkg}{chosen}")
    return ImportedSchema(rec, "proto", str(path), tuple(dict.fromkeys(imp.notes)), imp.reserved, imp.requiredness)
