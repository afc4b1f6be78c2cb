"""Import a user's schema (.proto, .avsc, .thrift, JSON Schema) into the common payload model.

    imported = import_schema("trip.proto", root="TripRequest")
    imported.record      # the model Record (payloads.model)
    imported.notes       # what did not come across exactly (oneof exclusivity, sint64 encoding, ...)
    imported.reserved    # protobuf/thrift reserved numbers and names per record (for the rules)

One module per language: :mod:`.avro` (fastavro), :mod:`.proto` (protoc from grpcio-tools, to a
descriptor set), :mod:`.thrift` (thriftpy2's parser), :mod:`.jsonschema` (draft 2020-12 subset).
Whatever the model cannot express is a :class:`SchemaImportError` whose message starts
``FILE:LINE:`` (the line where the parser or the text gives one) and names the construct.

This package imports third-party parsers and the payload model, nothing from formats/bench.
"""

from __future__ import annotations

import os
from pathlib import Path

from payloads.model import Record  # noqa: F401
from payloads.schema_import.common import ImportedSchema, SchemaImportError, line_of, pick_root  # noqa: F401

LANGUAGES = ("proto", "avro", "thrift", "json-schema")
SUFFIXES = {".proto": "proto", ".avsc": "avro", ".thrift": "thrift"}


def language_of(path: str | os.PathLike) -> str | None:
    """The schema language of ``path`` by suffix (``.json``: JSON Schema when it looks like one)."""
    p = Path(path)
    lang = SUFFIXES.get(p.suffix.lower())
    if lang:
        return lang
    if p.suffix.lower() == ".json" and p.is_file():
        import json

        try:
            doc = json.loads(p.read_text(encoding="utf-8-sig"))
        except (ValueError, OSError):
            return None  # not JSON: whoever reads it next says why
        if isinstance(doc, dict) and ("$schema" in doc or (doc.get("type") == "object" and "properties" in doc)):
            return "json-schema"  # the model's own JSON form has "type": "record" and "fields"
    return None


def import_schema(path: str | os.PathLike, root: str | None = None, include_dirs: list[str] | None = None,
                  language: str | None = None) -> ImportedSchema:
    """Import ``path`` (language from its suffix unless given); ``root`` names the top-level
    record/message/struct when the file defines several (default: the one no other type uses)."""
    p = Path(path)
    if not p.exists():
        raise SchemaImportError(p, "no such schema file")
    if p.is_dir():
        raise SchemaImportError(p, "is a directory; expected a schema file")
    lang = language or language_of(p)
    if lang == "avro":
        from payloads.schema_import.avro import import_avsc

        return import_avsc(p, root)
    if lang == "proto":
        from payloads.schema_import.proto import import_proto

        return import_proto(p, root, include_dirs)
    if lang == "thrift":
        from payloads.schema_import.thrift import import_thrift

        return import_thrift(p, root, include_dirs)
    if lang == "json-schema":
        from payloads.schema_import.jsonschema import import_json_schema

        return import_json_schema(p, root)
    raise SchemaImportError(p, "unknown schema language; expected .proto, .avsc, .thrift or a JSON Schema "
                               "(.json with \"$schema\" or \"properties\")")


