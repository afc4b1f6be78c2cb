"""A value a format cannot hold is reported with the field's path and the character, not the library's
bare message (xml/lxml: control characters; bson/pymongo: NUL in a map key)."""

from __future__ import annotations

import re

import pytest

from formats.api import UnsupportedSchema
from formats.registry import build_registry
from payloads.model import STRING, Field, ListType, MapType, Record, normalize

THING = Record("Thing", (Field("name", STRING, 1), Field("attrs", MapType(STRING), 2), Field("tags", ListType(STRING), 3)))


def _encode(codec_name: str, value: dict) -> None:
    codec = build_registry(discover_plugins=False).codec(codec_name)
    p = codec.prepare(THING)
    p.encode(p.to_native(normalize(THING, value)))


@pytest.mark.parametrize("value, where, char", [
    ({"name": "a\x01b", "attrs": {}, "tags": []}, "name", "U+0001 at position 1"),
    ({"name": "a", "attrs": {"k": "ok", "j": "\x1f"}, "tags": []}, "attrs.j", "U+001F at position 0"),
    ({"name": "a", "attrs": {}, "tags": ["x", "x\x00y"]}, r"tags\[1\]", "U+0000 at position 1"),
    ({"name": "a", "attrs": {"k\x0b": "v"}, "tags": []}, "attrs: the map key", "U+000B at position 1"),
])
def test_xml_names_the_field_and_the_character(value, where, char):
    pytest.importorskip("lxml")
    with pytest.raises(UnsupportedSchema, match=rf"xml/lxml: a value cannot be written as XML 1.0 text: {where}: "
                                                rf"character {re.escape(char)} of .* is not allowed in XML 1.0"):
        _encode("xml/lxml", value)


def test_bson_names_the_map_key_with_a_nul():
    pytest.importorskip("bson")
    with pytest.raises(UnsupportedSchema, match=r"bson/pymongo: the map key 'k\\x00' at attrs contains a NUL "
                                                r"character \(U\+0000\)"):
        _encode("bson/pymongo", {"name": "a", "attrs": {"ok": "1", "k\x00": "v"}, "tags": []})
    _encode("bson/pymongo", {"name": "a\x00b", "attrs": {}, "tags": ["\x00"]})  # NUL in values is fine in BSON
