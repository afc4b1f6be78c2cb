"""Payloads for an imported schema (``msgbench run --schema trip.proto [--payload samples.ndjson]``).

- With samples: every record of the JSON/NDJSON file is read into the model with
  :func:`payloads.schema_values.from_json` and validated against the schema (an error names the
  file, line and field); one record -> that record; several -> ``<Name>Batch {records: list}`` of
  at most ``max_records`` records (file order).
- Without samples: two generated payloads (:mod:`payloads.schema_values`): ``<stem>`` (one record,
  every optional field set) and ``<stem>-batch`` (50 records, optional fields set and unset).
"""

from __future__ import annotations

import os
from pathlib import Path

from payloads.catalog import Payload
from payloads.model import Field, ListType, Record, SchemaMismatch
from payloads.schema_import import ImportedSchema, SchemaImportError, import_schema
from payloads.schema_values import from_json, generate, generate_batch

BATCH = 50
MAX_SAMPLES = 1000


def batch_of(rec: Record) -> Record:
    return Record(f"{rec.name}Batch", (Field("records", ListType(rec), 1),), f"a batch of {rec.name}",
                  namespace=rec.namespace)


def read_samples(imported: ImportedSchema, path: str | os.PathLike, max_records: int | None = None) -> list[dict]:
    from payloads.importer import PayloadFileError, read_records

    out = []
    limit = max_records or MAX_SAMPLES
    for recno, line, obj in read_records(path):
        try:
            out.append(from_json(imported.record, obj))
        except SchemaMismatch as e:
            raise PayloadFileError(path, f"record {recno} does not match the schema {imported.source}: field "
                                   f"{e.path}: {e.reason}", line or None) from None
        if len(out) >= limit:
            break
    if not out:
        raise PayloadFileError(path, "holds no records")
    return out


def schema_payloads(schema_path: str | os.PathLike, samples: list[str] | None = None, root: str | None = None,
                    max_records: int | None = None, imported: ImportedSchema | None = None) -> list[Payload]:
    imp = imported or import_schema(schema_path, root)
    rec = imp.record
    stem = Path(schema_path).name.split(".")[0] or "schema"
    notes = (f"schema imported from {schema_path} ({imp.language})",) + imp.notes
    if samples:
        out = []
        for s in samples:
            values = read_samples(imp, s, max_records)
            name = Path(s).name.split(".")[0]
            if len(values) == 1:
                v = values[0]
                out.append(Payload(name, f"{rec.name} from {s}", rec, lambda v=v: v, str(s), notes))
            else:
                out.append(Payload(name, f"{len(values)} {rec.name} records from {s}", batch_of(rec),
                                   lambda vs=values: {"records": vs}, str(s),
                                   notes + (f"{len(values)} records validated against the schema",)))
        return out
    try:
        one = generate(rec)
        many = generate_batch(rec, BATCH)
    except (SchemaMismatch, ValueError) as e:
        raise SchemaImportError(schema_path, f"cannot generate values for this schema: {e}") from None
    gen = ("values generated (seeded, deterministic): no --payload samples given",)
    return [
        Payload(stem, f"one generated {rec.name}, every optional field set", rec, lambda: one,
                str(schema_path), notes + gen),
        Payload(f"{stem}-batch", f"{BATCH} generated {rec.name} records, optional fields set and unset",
                batch_of(rec), lambda: {"records": many}, str(schema_path), notes + gen),
    ]
