"""The ``msgbench`` command line.

Every user mistake ends with one line ``msgbench: error: ...`` and a non-zero exit status
(2 for usage and input errors, 130 when interrupted); ``--debug`` shows the traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from formats.api import MsgbenchError

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

# Modules that add their own subcommands: "module:function", the function gets the argparse
# subparsers object and adds parsers whose ``func`` takes the parsed args and returns an exit code.
COMMAND_MODULES: list[str] = ["bench.bytes_cli:register_cli", "bench.evolution:register_cli",
                                "bench.calibrate:register_cli", "bench.compare:register_cli",
                                "formats.conformance:register_cli", "bench.transport.section:register_cli"]

SCHEMA_LANGUAGES = {
    # --format value -> codec format whose schema_text we export
    "avro": "avro", "protobuf": "protobuf", "proto": "protobuf", "thrift": "thrift",
    "xsd": "xml", "xml": "xml", "json-schema": "json", "json": "json",
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one clear line, not a usage dump
        self.exit(EXIT_USAGE, f"msgbench: error: {message} (see `{self.prog} --help`)\n")


def _add_payload_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--payload", action="append", default=[], metavar="FILE",
                   help="your own messages: a .json document/array or an .ndjson file (repeatable)")
    p.add_argument("--schema", metavar="FILE", help="a schema in the model's JSON form for --payload "
                   "(export one with `msgbench schema --payload FILE --format model`, edit, give it back)")
    p.add_argument("--max-records", type=int, default=None, metavar="N",
                   help="records sampled from a --payload file (default: see docs/own-payloads.md)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="msgbench", description="Which message format should go on the wire? "
                     "Encodes the same payloads in every format and measures size, speed and evolution.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    parser.add_argument("--no-plugins", action="store_true", help="ignore third-party codecs "
                        "(same as MSGBENCH_NO_PLUGINS=1)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    run = sub.add_parser("run", help="run the benchmark and write OUT/results.json and OUT/index.html")
    run.add_argument("--quick", action="store_true", help="short timings (about a minute); numbers are noisier")
    run.add_argument("--formats", nargs="+", metavar="NAME",
                     help="codecs or formats to run, e.g. `protobuf json/orjson`; `all` = every usable codec")
    run.add_argument("--payloads", nargs="+", metavar="NAME", help="built-in payloads to run (default: all)")
    _add_payload_args(run)
    run.add_argument("--out", type=Path, default=Path("out"), help="output directory (default: out)")
    run.add_argument("--sections", nargs="*", metavar="NAME",
                     help="extra measurements to run (default: all for the mode; give none to skip them)")
    run.add_argument("--timeout", type=float, default=None, metavar="S",
                     help="seconds without progress before a codec is declared hung (default 180, quick 60)")
    run.add_argument("--no-report", action="store_true", help="write results.json only")
    run.add_argument("--no-conformance", action="store_true",
                     help="time plugins without first running the conformance kit on them")
    run.add_argument("--untimed", action="store_true", help=argparse.SUPPRESS)  # tests: run every call once
    run.set_defaults(func=cmd_run)

    rep = sub.add_parser("report", help="re-render the report from an existing results.json (no measuring)")
    rep.add_argument("results", nargs="?", type=Path, default=Path("out/results.json"))
    rep.add_argument("--out", type=Path, default=None, help="output directory (default: next to results)")
    rep.set_defaults(func=cmd_report)

    lst = sub.add_parser("list", help="list codecs (built-in and plugins) and payloads")
    lst.set_defaults(func=cmd_list)

    sch = sub.add_parser("schema", help="print the schema generated for a payload")
    sch.add_argument("name", nargs="?", help="a built-in payload name")
    sch.add_argument("--format", required=True, choices=sorted(set(SCHEMA_LANGUAGES) | {"model"}),
                     help="schema language")
    _add_payload_args(sch)
    sch.add_argument("-o", "--output", type=Path, help="write to this file instead of stdout")
    sch.set_defaults(func=cmd_schema)

    for target in COMMAND_MODULES:
        mod, _, fn = target.partition(":")
        getattr(importlib.import_module(mod), fn)(sub)
    return parser


# ------------------------------------------------------------------------------------------------


def _load_payloads(args: argparse.Namespace, names: list[str] | None) -> list:
    from payloads.catalog import builtin_payloads, find_payloads

    out = []
    if names or not args.payload:
        out += find_payloads(names, builtin_payloads())
    if args.payload:
        from payloads.importer import load_payload_file

        if args.schema and len(args.payload) > 1:
            raise MsgbenchError("--schema applies to a single --payload file")
        for path in args.payload:
            out.append(_load_with_progress(load_payload_file, path, args))
    elif args.schema:
        raise MsgbenchError("--schema needs --payload FILE")
    seen = set()
    for p in out:
        if p.name in seen:
            raise MsgbenchError(f"two payloads are named {p.name!r}; rename one of the files")
        seen.add(p.name)
    return out


def _load_with_progress(load: Callable[..., Any], path: str, args: argparse.Namespace) -> Any:
    """Import a user's payload file, with a progress bar while a large file is read."""
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn("[bold]reading {task.description}"), BarColumn(), DownloadColumn(),
                  TimeRemainingColumn(), console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task(str(path), total=None)

        def report(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        return load(path, schema_path=args.schema, max_records=args.max_records, progress=report)


def cmd_run(args: argparse.Namespace) -> int:
    from bench.runner import RunOptions, run
    from bench.timing import Plan

    plan = Plan.quick() if args.quick else Plan.full()
    if args.untimed:
        plan = Plan(disabled=True)
    payloads = _load_payloads(args, args.payloads)
    opts = RunOptions(
        formats=args.formats, payloads=payloads, out_dir=args.out, plan=plan,
        mode="untimed" if args.untimed else ("quick" if args.quick else "full"),
        sections=args.sections, row_timeout_s=args.timeout or (60.0 if args.quick or args.untimed else 180.0),
        plugins=False if args.no_plugins else None, argv=sys.argv[1:], conformance=not args.no_conformance,
    )
    try:
        doc = run(opts)
    except KeyboardInterrupt:
        previous = args.out / "results.json"
        kept = f"previous {previous} left intact, " if previous.exists() else ""
        print(f"msgbench: interrupted; {kept}partial results in {args.out / 'results.partial.json'}",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    print_summary(doc)
    if not args.no_report:
        from reports.render import write_report

        paths = write_report(doc, args.out)
        print(f"results: {args.out / 'results.json'}")
        print(f"report:  {paths['html'].resolve()}")
    else:
        print(f"results: {args.out / 'results.json'}")
    return 0


def print_summary(doc: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(stderr=True)
    rows = doc["rows"]
    for p in doc["payloads"]:
        table = Table(title=f"{p['name']} ({p.get('json_bytes') or '?'} B as JSON)", title_justify="left")
        for col in ("codec", "bytes", "zstd", "encode µs", "decode µs", "verdict"):
            table.add_column(col, justify="left" if col in ("codec", "verdict") else "right")
        for r in rows:
            if r["payload"] != p["name"]:
                continue
            size = r.get("size") or {}
            enc, dec = r.get("encode"), r.get("decode")
            verdict = r["verdict"] if r["status"] == "ok" else f"{r['status']}: {(r.get('error') or '')[:60]}"
            table.add_row(r["codec"], str(size.get("raw", "-")), str(size.get("zstd", "-")),
                          f"{enc['median_ns'] / 1000:.2f}" if enc else "-",
                          f"{dec['median_ns'] / 1000:.2f}" if dec else "-", verdict)
        console.print(table)
    failed = [c for c in doc["codecs"] if c.get("status") != "ok"]
    for c in failed:
        console.print(f"[yellow]codec {c['name']}: {c.get('status')}: {c.get('error')}[/yellow]")


def cmd_report(args: argparse.Namespace) -> int:
    from bench.results import load
    from reports.render import write_report

    doc = load(args.results)
    out = args.out or args.results.parent
    paths = write_report(doc, out)
    print(f"report: {paths['html'].resolve()}")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from formats.registry import build_registry, describe_entries
    from payloads.catalog import builtin_payloads

    rows = describe_entries(build_registry(False if args.no_plugins else None))
    console = Console()
    if not console.is_terminal:  # piped: wide enough that no cell wraps, so lines stay greppable
        console = Console(width=240)
    table = Table(title="codecs", title_justify="left")
    cols = list(rows[0]) if rows else ["name"]
    for col in cols:
        table.add_column(col, no_wrap=col in ("name", "source", "usable"), overflow="fold")
    for r in rows:
        table.add_row(*[str(r.get(c, "")) for c in cols])
    console.print(table)
    pt = Table(title="built-in payloads", title_justify="left")
    pt.add_column("name", no_wrap=True)
    pt.add_column("description", overflow="fold")
    for p in builtin_payloads():
        pt.add_row(p.name, p.description)
    console.print(pt)
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    import json

    from payloads.model import type_to_json

    if bool(args.name) == bool(args.payload):
        raise MsgbenchError("give either a built-in payload name or --payload FILE")
    payload = _load_payloads(args, [args.name] if args.name else None)[0]
    if args.format == "model":
        text = json.dumps(type_to_json(payload.schema), indent=2, ensure_ascii=False) + "\n"
    else:
        text = schema_text_for(payload.schema, SCHEMA_LANGUAGES[args.format])
    if args.output:
        from bench.results import write_atomic

        write_atomic(args.output, text)
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def schema_text_for(schema: Any, fmt: str) -> str:
    from formats.registry import build_registry

    registry = build_registry()
    for entry in registry.entries():
        if entry.name.split("/")[0] != fmt or not entry.builtin:
            continue
        st = entry.codec().schema_text(schema)
        if st is not None:
            return st.text if st.text.endswith("\n") else st.text + "\n"
    raise MsgbenchError(f"no codec exports a {fmt} schema")


# ------------------------------------------------------------------------------------------------



def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.no_plugins:
        import os

        os.environ["MSGBENCH_NO_PLUGINS"] = "1"
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    from payloads.catalog import UnknownPayload
    from payloads.model import ModelError, SchemaMismatch

    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("msgbench: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (MsgbenchError, UnknownPayload, SchemaMismatch, ModelError, OSError) as e:
        if args.debug:
            raise
        msg = str(e) if not isinstance(e, SchemaMismatch) else f"value does not fit the schema at {e}"
        if isinstance(e, OSError) and not isinstance(e, MsgbenchError):
            msg = f"{e.strerror or e}: {e.filename}" if getattr(e, "filename", None) else str(e)
        print(f"msgbench: error: {msg}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
