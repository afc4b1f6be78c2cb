"""One registry for built-in and plugin codecs.

Built-ins are listed in ``BUILTINS`` (name -> "module:Class", pip name) and imported only when
used. ``CORE`` are the ones a default run measures; the others (``EXTRAS``) join when selected:
``--formats msgpack`` (a format), ``--formats msgpack/msgspec`` (a codec), ``--formats extras``,
``--formats all`` (every usable built-in plus every plugin) or ``--formats core``.

Third-party codecs register under the entry-point group ``msgbench.formats``; the entry point's
name is the codec name and its value ``package.module:CodecClass``. ``MSGBENCH_NO_PLUGINS=1``
disables discovery. A plugin that fails to load is kept as an entry with ``error`` set, so that
``msgbench list`` and the report show it; it never stops a run. Two different registrations of
one name are an error naming both sources (the same distribution seen twice on ``sys.path`` is
not). :func:`describe_entries` gives what ``msgbench list`` shows.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from formats.api import Codec, MissingDependency, MsgbenchError, PluginError, UnknownCodec

ENTRY_POINT_GROUP = "msgbench.formats"

# name -> (module:Class, the pip package that brings its library)
BUILTINS: dict[str, tuple[str, str]] = {
    "json/orjson": ("formats.json_orjson:OrjsonCodec", "orjson"),
    "xml/lxml": ("formats.xml_lxml:LxmlCodec", "lxml"),
    "avro/fastavro": ("formats.avro_fastavro:FastavroCodec", "fastavro"),
    "protobuf/upb": ("formats.protobuf_upb:UpbCodec", "protobuf"),
    "thrift/binary": ("formats.thrift_thriftpy2:ThriftBinaryCodec", "thriftpy2"),
    "thrift/compact": ("formats.thrift_thriftpy2:ThriftCompactCodec", "thriftpy2"),
    "thrift/apache-binary": ("formats.thrift_apache:ApacheThriftBinaryCodec", "thrift"),
    "thrift/apache-compact": ("formats.thrift_apache:ApacheThriftCompactCodec", "thrift"),
    # extras: not in CORE; `pip install 'msgbench[extras]'` brings all their libraries
    "json/stdlib": ("formats.json_stdlib:StdlibJsonCodec", ""),
    "json/msgspec": ("formats.msgspec_codecs:MsgspecJsonCodec", "msgspec"),
    "msgpack/msgpack": ("formats.msgpack_msgpack:MsgpackCodec", "msgpack"),
    "msgpack/msgspec": ("formats.msgspec_codecs:MsgspecMsgpackCodec", "msgspec"),
    "msgpack/ormsgpack": ("formats.msgpack_ormsgpack:OrmsgpackCodec", "ormsgpack"),
    "cbor/cbor2": ("formats.cbor_cbor2:Cbor2Codec", "cbor2"),
    "bson/pymongo": ("formats.bson_pymongo:BsonCodec", "pymongo"),
    "protobuf/python": ("formats.protobuf_python:PythonProtobufCodec", "protobuf"),
    "capnp/unpacked": ("formats.capnp_pycapnp:CapnpUnpackedCodec", "pycapnp"),
    "capnp/packed": ("formats.capnp_pycapnp:CapnpPackedCodec", "pycapnp"),
    "flatbuffers/python": ("formats.flatbuffers_runtime:FlatbuffersCodec", "flatbuffers"),
}

# The codecs a default run benchmarks (extras join when selected, see ``Registry.select``).
CORE = (
    "json/orjson",
    "xml/lxml",
    "avro/fastavro",
    "protobuf/upb",
    "thrift/binary",
    "thrift/compact",
    "thrift/apache-binary",
    "thrift/apache-compact",
)
EXTRAS = tuple(n for n in BUILTINS if n not in CORE)
EXTRAS_PIP = "'msgbench[extras]'"

# pip package -> the module whose presence says it is installed (checked without importing it)
_PIP_MODULE = {"protobuf": "google.protobuf", "pymongo": "bson", "pycapnp": "capnp"}

# Selector words accepted by ``Registry.select`` besides codec and format names.
SELECTORS = {
    "all": "every usable built-in codec and every plugin",
    "core": "the core built-ins (the default without plugins)",
    "extras": "the extra built-ins (msgpack, ormsgpack, cbor, bson, msgspec, json/stdlib, protobuf/python, capnp, flatbuffers)",
    "plugins": "every plugin codec",
}


def pip_hint(name: str) -> str:
    """The exact command that makes built-in ``name`` usable ("" when nothing is needed)."""
    pip = BUILTINS.get(name, ("", ""))[1]
    if not pip:
        return ""
    if name in EXTRAS:
        return f"pip install {pip}  (or all extras: pip install {EXTRAS_PIP})"
    return f"pip install {pip}"


def _builtin_missing(name: str) -> str | None:
    """Why built-in ``name`` cannot run (its library is not installed), without importing it."""
    pip = BUILTINS.get(name, ("", ""))[1]
    if not pip:
        return None
    mod = _PIP_MODULE.get(pip, pip)
    try:
        found = importlib.util.find_spec(mod) is not None
    except (ImportError, ValueError):
        found = False
    if found:
        return None
    return f"codec {name} needs the Python package {mod!r}: {pip_hint(name)}"


@dataclass
class CodecEntry:
    name: str
    source: str  # "built-in" or "plugin <dist> <version>"
    target: str  # "module:Class"
    load: Callable[[], type] = field(repr=False)
    error: str | None = None  # why it cannot be used (import failure, missing library, ...)
    _instance: Codec | None = field(default=None, repr=False)

    @property
    def builtin(self) -> bool:
        return self.source == "built-in"

    def codec(self) -> Codec:
        """Instantiate (once); raises MsgbenchError with an actionable message on failure."""
        if self._instance is not None:
            return self._instance
        if self.error:
            raise PluginError(self.error)
        try:
            cls = self.load()
        except MsgbenchError:
            raise
        except Exception as e:  # a plugin's import failure must not take the run down
            self.error = f"{self.name} ({self.source}) failed to import {self.target}: {type(e).__name__}: {e}"
            raise PluginError(self.error) from e
        if not (isinstance(cls, type) and issubclass(cls, Codec)):
            self.error = f"{self.name} ({self.source}): {self.target} is not a formats.api.Codec subclass"
            raise PluginError(self.error)
        inst = cls()
        if getattr(cls, "name", None) != self.name:
            self.error = (
                f"{self.name} ({self.source}): class {self.target} declares name "
                f"{getattr(cls, 'name', None)!r}; the entry point and the class name must match"
            )
            raise PluginError(self.error)
        self._instance = inst
        return inst


def _import_target(target: str) -> Callable[[], type]:
    def load() -> type:
        mod, _, attr = target.partition(":")
        return getattr(importlib.import_module(mod), attr)

    return load


class Registry:
    def __init__(self, entries: list[CodecEntry]):
        self._entries = {e.name: e for e in entries}

    def names(self) -> list[str]:
        return list(self._entries)

    def entries(self) -> list[CodecEntry]:
        return list(self._entries.values())

    def entry(self, name: str) -> CodecEntry:
        try:
            return self._entries[name]
        except KeyError:
            raise UnknownCodec(name, self.names()) from None

    def codec(self, name: str) -> Codec:
        return self.entry(name).codec()

    def select(self, patterns: list[str] | None) -> list[CodecEntry]:
        """Entries matching ``patterns``: a full name (``thrift/compact``), a format (``thrift``)
        or a selector word (``all``, ``core``, ``extras``, ``plugins``; see ``SELECTORS``).
        No patterns: the core built-ins plus every plugin. Patterns may be comma-separated.

        A plugin that failed to load is still returned (the harness reports it as failed); a
        built-in whose library is missing is left out of ``all``/``extras`` but kept when named
        explicitly, so the run reports the pip command instead of silently dropping it."""
        if not patterns:
            return [e for e in self._entries.values() if e.name in CORE or not e.builtin]
        words = [w.strip() for p in patterns for w in p.split(",") if w.strip()]
        out: list[CodecEntry] = []
        for p in words:
            if p == "all":
                matched = [e for e in self._entries.values() if not (e.builtin and _builtin_missing(e.name))]
            elif p == "core":
                matched = [e for e in self._entries.values() if e.name in CORE]
            elif p == "extras":
                matched = [e for e in self._entries.values() if e.name in EXTRAS and not _builtin_missing(e.name)]
            elif p == "plugins":
                matched = [e for e in self._entries.values() if not e.builtin]
            else:
                matched = [e for e in self._entries.values() if e.name == p or e.name.split("/")[0] == p]
                if not matched:
                    raise UnknownCodec(p, self.names() + sorted(SELECTORS))
            out += [e for e in matched if e not in out]
        return out


def _plugin_entries() -> list[CodecEntry]:
    entries: list[CodecEntry] = []
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist = getattr(ep, "dist", None)
        source = f"plugin {dist.name} {dist.version}" if dist else "plugin"
        entries.append(CodecEntry(ep.name, source, ep.value, ep.load))
    return entries


def build_registry(discover_plugins: bool | None = None) -> Registry:
    """Built-ins plus (unless disabled) plugins. Duplicate names are an error naming both."""
    if discover_plugins is None:
        discover_plugins = os.environ.get("MSGBENCH_NO_PLUGINS", "") not in ("1", "true", "yes")
    entries = [CodecEntry(n, "built-in", t, _import_target(t)) for n, (t, _) in BUILTINS.items()]
    if discover_plugins:
        seen = {e.name: e for e in entries}
        for e in _plugin_entries():
            prior = seen.get(e.name)
            if prior is not None and prior.source == e.source and prior.target == e.target:
                continue  # one distribution found twice on sys.path: the same registration
            if prior is not None:
                raise PluginError(
                    f"codec name {e.name!r} is registered twice: by {seen[e.name].source} ({seen[e.name].target}) "
                    f"and by {e.source} ({e.target}); uninstall one or set MSGBENCH_NO_PLUGINS=1"
                )
            seen[e.name] = e
            entries.append(e)
    return Registry(entries)


# ------------------------------------------------------------------------------------------------
# What `msgbench list` shows.


@dataclass
class CodecInfo:
    """Everything ``msgbench list`` says about one registry entry."""

    name: str
    source: str  # "built-in" or "plugin <dist> <version>"
    core: bool  # measured by a default run
    target: str
    library: str = ""
    library_version: str = ""
    backend: str = ""
    binary: bool | None = None
    needs_schema: bool | None = None
    types: tuple[str, ...] = ()
    evolution_modes: tuple[str, ...] = ()
    deterministic: bool | None = None
    process_env: dict[str, str] = field(default_factory=dict)
    usable: bool = False
    error: str | None = None  # load error or missing dependency (with the pip command)
    pip: str = ""  # the command that makes it usable, when that is all it takes

    def capabilities_text(self) -> str:
        if self.binary is None:
            return ""
        from formats.api import ALL_TYPE_KINDS

        parts = ["binary" if self.binary else "text"]
        parts.append("schema" if self.needs_schema else "schemaless")
        if self.deterministic is False:
            parts.append("non-deterministic")
        if self.evolution_modes:
            parts.append("evolution: " + "/".join(self.evolution_modes))
        missing = sorted(ALL_TYPE_KINDS - set(self.types))
        if missing:
            parts.append("no " + ",".join(missing))
        return ", ".join(parts)

    def row(self) -> dict[str, str]:
        """Flat strings, one column each (the CLI's table)."""
        return {
            "name": self.name,
            "source": self.source + ("" if not self.source == "built-in" or self.core else " (extra)"),
            "library": f"{self.library} {self.library_version}".strip(),
            "backend": self.backend,
            "capabilities": self.capabilities_text(),
            "usable": "yes" if self.usable else f"no: {self.error}",
        }

    def to_dict(self) -> dict[str, Any]:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        d["types"] = list(self.types)
        d["evolution_modes"] = list(self.evolution_modes)
        return d


def entry_info(entry: CodecEntry) -> CodecInfo:
    """Load ``entry`` (never raising) and describe it."""
    info = CodecInfo(entry.name, entry.source, entry.name in CORE, entry.target)
    if entry.builtin:
        missing = _builtin_missing(entry.name)
        if missing:
            info.error, info.pip = missing, pip_hint(entry.name)
            return info
    try:
        codec = entry.codec()
    except MsgbenchError as e:
        info.error = str(e)
        return info
    except Exception as e:  # defensive: CodecEntry.codec already wraps import failures
        info.error = f"{type(e).__name__}: {e}"
        return info
    info.library = getattr(codec, "library", "")
    caps = getattr(codec, "capabilities", None)
    if caps is not None:
        info.binary, info.needs_schema = caps.binary, caps.needs_schema
        info.types = tuple(sorted(caps.types))
        info.evolution_modes = tuple(caps.evolution_modes)
        info.deterministic = caps.deterministic
    info.process_env = dict(getattr(codec, "process_env", {}) or {})
    try:
        codec.check_available()
    except MissingDependency as e:
        info.error = str(e)
        info.pip = f"pip install {e.pip_name}"
        return info
    except Exception as e:
        info.error = f"check_available failed: {type(e).__name__}: {e}"
        return info
    try:
        info.library_version = str(codec.library_version())
        info.backend = _backend_text(codec)
    except Exception as e:
        info.error = f"library_version()/backend() failed: {type(e).__name__}: {e}"
        return info
    info.usable = True
    return info


def _backend_text(codec: Codec) -> str:
    """``codec.backend()``; for a codec measured under its own ``process_env`` that this process
    does not have, the backend it declares for that environment (``expected_backend``)."""
    env = getattr(codec, "process_env", {}) or {}
    if env and any(os.environ.get(k) != v for k, v in env.items()):
        expected = getattr(codec, "expected_backend", None)
        setting = " ".join(f"{k}={v}" for k, v in env.items())
        return f"{expected or '?'} (in its own process: {setting})"
    return str(codec.backend())


PLUGIN_LOAD_TIMEOUT_S = float(os.environ.get("MSGBENCH_PLUGIN_LOAD_TIMEOUT", "30"))


def plugin_info_task(args: dict) -> dict:
    """``formats.isolation`` task: import and describe one plugin in a child process (with the
    parent's import path, so a plugin found there is found here)."""
    import sys

    for p in reversed(args.get("sys_path", [])):
        if p not in sys.path:
            sys.path.insert(0, p)
    importlib.invalidate_caches()
    return entry_info(build_registry(True).entry(args["name"])).to_dict()


def isolated_entry_info(entry: CodecEntry, timeout_s: float = PLUGIN_LOAD_TIMEOUT_S) -> CodecInfo:
    """Describe a plugin without importing it here: a plugin whose import segfaults, hangs or
    calls ``sys.exit`` is reported as unusable (``entry.error`` is set, so nothing in this process
    imports it later) instead of taking ``msgbench list`` or a run down."""
    from formats.isolation import Limits, Task, TaskDied, run_once

    if entry.builtin:
        return entry_info(entry)
    try:
        import sys

        args = {"name": entry.name, "sys_path": [p for p in sys.path if p]}
        data = run_once(Task("formats.registry:plugin_info_task", args),
                        Limits(startup_s=timeout_s, total_s=timeout_s))
    except TaskDied as e:
        what = {"timeout": f"did not finish loading within {timeout_s:g} s"}.get(e.died.reason, e.died.detail)
        entry.error = f"{entry.name} ({entry.source}) failed to load {entry.target} in a child process: {what}"
        return CodecInfo(entry.name, entry.source, False, entry.target, error=entry.error)
    info = CodecInfo(**{**data, "types": tuple(data["types"]), "evolution_modes": tuple(data["evolution_modes"])})
    if info.error and not info.pip:
        entry.error = info.error
    return info


def codec_infos(registry: Registry | None = None) -> list[CodecInfo]:
    """One :class:`CodecInfo` per entry, in registry order (built-ins first); plugins are loaded in
    a child process each (``isolated_entry_info``)."""
    registry = build_registry() if registry is None else registry
    return [isolated_entry_info(e) for e in registry.entries()]


def describe_entries(registry: Registry | None = None) -> list[dict[str, str]]:
    """The rows of ``msgbench list``: name, source, library, backend, capabilities, usable."""
    return [i.row() for i in codec_infos(registry)]
