"""One registry for built-in and plugin codecs.

Built-ins are listed in ``BUILTINS`` (name -> "module:Class") and imported only when used.
Third-party codecs register under the entry-point group ``msgbench.formats``; the entry point's
name is the codec name and its value ``package.module:CodecClass``. ``MSGBENCH_NO_PLUGINS=1``
disables discovery. A plugin that fails to load is kept as an entry with ``error`` set, so that
``msgbench list`` and the report show it; it never stops a run.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
from collections.abc import Callable
from dataclasses import dataclass, field

from formats.api import Codec, MsgbenchError, PluginError, UnknownCodec

ENTRY_POINT_GROUP = "msgbench.formats"

# name -> (module:Class, pip extra that brings its library)
BUILTINS: dict[str, tuple[str, str]] = {
    "json/orjson": ("formats.json_orjson:OrjsonCodec", "orjson"),
    "xml/lxml": ("formats.xml_lxml:LxmlCodec", "lxml"),
    "avro/fastavro": ("formats.avro_fastavro:FastavroCodec", "fastavro"),
    "protobuf/upb": ("formats.protobuf_upb:UpbCodec", "protobuf"),
    "thrift/binary": ("formats.thrift_thriftpy2:ThriftBinaryCodec", "thriftpy2"),
    "thrift/compact": ("formats.thrift_thriftpy2:ThriftCompactCodec", "thriftpy2"),
}

# The codecs a default run benchmarks (extras join when requested or installed).
CORE = tuple(BUILTINS)


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
        """Entries matching ``patterns``: a full name (``thrift/compact``) or a format (``thrift``).
        No patterns: the core built-ins plus every plugin."""
        if not patterns:
            return [e for e in self._entries.values() if e.name in CORE or not e.builtin]
        out: list[CodecEntry] = []
        for p in patterns:
            matched = [e for e in self._entries.values() if e.name == p or e.name.split("/")[0] == p]
            if not matched:
                raise UnknownCodec(p, self.names())
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
            if e.name in seen:
                raise PluginError(
                    f"codec name {e.name!r} is registered twice: by {seen[e.name].source} ({seen[e.name].target}) "
                    f"and by {e.source} ({e.target}); uninstall one or set MSGBENCH_NO_PLUGINS=1"
                )
            seen[e.name] = e
            entries.append(e)
    return Registry(entries)
