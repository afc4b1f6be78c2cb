"""The ``msgbench`` command line.

Every user mistake ends with one line ``msgbench: error: ...`` and a non-zero exit status
(2 for usage and input errors, 130 when interrupted); ``--debug`` shows the traceback.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.limits import add_limit_args, limited
from formats.api import MsgbenchError

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

# Modules that add their own subcommands: "module:function", the function gets the argparse
# subparsers object and adds parsers whose ``func`` takes the parsed args and returns an exit code.
COMMAND_MODULES: list[str] = ["bench.bytes_cli:register_cli", "bench.evolution:register_cli",
                                "bench.calibrate:register_cli", "bench.compare:register_cli",
                                "bench.transport.section:register_cli"]

SCHEMA_LANGUAGES = {
    # --format value -> codec format whose schema_text we export
    "avro": "avro", "protobuf": "protobuf", "proto": "protobuf", "thrift": "thrift",
    "xsd": "xml", "xml": "xml", "json-schema": "json", "json": "json",
    "capnp": "capnp", "flatbuffers": "flatbuffers", "fbs": "flatbuffers",
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one clear line, not a usage dump
        self.exit(EXIT_USAGE, f"msgbench: error: {message} (see `{self.prog} --help`)\n")


def _add_payload_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--payload", action="append", default=[], metavar="FILE",
                   help="your own messages: a .json document/array or an .ndjson file (repeatable)")
    p.add_argument("--schema", metavar="FILE", help="your schema: .proto, .avsc, .thrift or a JSON Schema "
                   "(values generated unless --payload gives samples), or the model's JSON form for --payload "
                   "(export one with `msgbench schema --payload FILE --format model`, edit, give it back)")
    p.add_argument("--root", metavar="NAME", help="with --schema FILE.proto/.avsc/.thrift/JSON Schema: the "
                   "top-level message/record/struct when the file defines several")
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
    run.add_argument("--processes", type=_positive_int, default=None, metavar="N",
                     help="worker processes per codec; timings vary between processes, and the confidence "
                          "intervals and `msgbench compare` use that variation (default 4, quick 3)")
    run.add_argument("--no-report", action="store_true", help="write results.json only")
    run.add_argument("--no-conformance", action="store_true",
                     help="time plugins without first running the conformance kit on them")
    run.add_argument("--untimed", action="store_true", help=argparse.SUPPRESS)  # tests: run every call once
    run.set_defaults(func=cmd_run)

    rep = sub.add_parser("report", help="re-render the report from an existing results.json (no measuring)")
    rep.add_argument("results", nargs="?", type=Path, default=Path("out/results.json"))
    rep.add_argument("--out", type=Path, default=None, help="output directory (default: next to results)")
    add_limit_args(rep)
    rep.set_defaults(func=cmd_report)

    lst = sub.add_parser("list", help="list codecs (built-in and plugins) and payloads")
    lst.set_defaults(func=cmd_list)

    sch = sub.add_parser("schema", help="print the schema generated for a payload")
    sch.add_argument("name", nargs="?", help="a built-in payload name")
    sch.add_argument("--format", required=True, choices=sorted(set(SCHEMA_LANGUAGES) | {"model"}),
                     help="schema language")
    _add_payload_args(sch)
    sch.add_argument("-o", "--output", type=Path, help="write to this file instead of stdout")
    add_limit_args(sch)
    sch.set_defaults(func=cmd_schema)

    chk = sub.add_parser("check-plugin", help="run the conformance kit on a codec (plugin or built-in)")
    chk.add_argument("name", help="a codec name as shown by `msgbench list`, e.g. pickle/example")
    chk.set_defaults(func=cmd_check_plugin)

    for target in COMMAND_MODULES:
        mod, _, fn = target.partition(":")
        getattr(importlib.import_module(mod), fn)(sub)
    _add_user_evolve_args(sub.choices.get("evolve"))
    return parser


def _add_user_evolve_args(p: argparse.ArgumentParser | None) -> None:
    """``evolve --old FILE --new FILE``: the user's own change (bench.user_evolution)."""
    if p is None:
        return
    from bench.rules import LEVELS

    g = p.add_argument_group("your own change (see docs/your-schemas.md)")
    g.add_argument("--old", metavar="FILE", help="the current schema (.proto, .avsc, .thrift or JSON Schema)")
    g.add_argument("--new", action="append", default=[], metavar="FILE",
                   help="the next version; repeat for later versions (checked transitively)")
    g.add_argument("--payload", action="append", default=[], metavar="FILE",
                   help="a JSON/NDJSON sample of your data (default: values generated from the schema)")
    g.add_argument("--root", metavar="NAME", help="the top-level message/record/struct")
    g.add_argument("-I", "--include", action="append", default=[], metavar="DIR",
                   help="more folders for .proto imports / .thrift includes")
    g.add_argument("--level", type=str.upper, choices=LEVELS, metavar="LEVEL",
                   help=f"exit with status 1 when the change violates it: {', '.join(LEVELS)}")
    g.add_argument("--markdown", type=Path, metavar="FILE", help="also write the short answer for a pull request")
    plain = p.get_default("func")

    def func(args: argparse.Namespace) -> int:
        if args.old or args.new:
            return cmd_user_evolve(args)
        return plain(args)

    p.set_defaults(func=func)


def cmd_user_evolve(args: argparse.Namespace) -> int:
    from rich.console import Console

    from bench import user_evolution as ue
    from formats.registry import build_registry
    from reports.results import dumps, write_atomic

    if not args.old or not args.new:
        raise MsgbenchError("give both --old FILE and --new FILE")
    err = Console(stderr=True)
    plugins = False if args.no_plugins else None
    codecs = []
    for entry in build_registry(plugins).select(args.formats):
        try:
            c = entry.codec()
            c.check_available()
            codecs.append(c)
        except MsgbenchError as e:
            err.print(f"[yellow]evolve: skipping {entry.name}: {e}[/yellow]")
    if not codecs:
        raise MsgbenchError("no usable codec selected (see `msgbench list`)")
    doc, scenarios = ue.build_report([args.old, *args.new], args.root, args.payload, codecs, plugins,
                                     lambda m: err.print(m), args.include)
    violated = ue.level_check(args.level, doc["versions"][0]["language"], doc["rules"], doc["matrix"],
                              scenarios) if args.level else []
    doc["level"] = {"level": args.level, "violated": violated} if args.level else None
    text = ue.markdown(doc, args.level, violated)
    path = write_atomic(args.out / "evolve.json", dumps(doc) + "\n")
    if args.markdown:
        write_atomic(args.markdown, text)
    if args.json:
        sys.stdout.write(json.dumps(doc, indent=1) + "\n")
    else:
        for step, per_format in doc["mapping"].items():
            print(f"## the change {step} in each format (msgbench's generated schemas)")
            for fmt, diff in per_format.items():
                print(f"### {fmt}\n{diff}")
        print()
        sys.stdout.write(text)
    err.print(f"evolve: {len(doc['matrix']['cells'])} cells in {doc['matrix']['duration_s']:.1f} s; wrote {path}")
    return 1 if violated else 0


# ------------------------------------------------------------------------------------------------


def _load_payloads(args: argparse.Namespace, names: list[str] | None) -> list:
    from payloads.catalog import builtin_payloads, find_payloads

    out = []
    if args.schema and _schema_language(args.schema):  # a .proto/.avsc/.thrift/JSON Schema file
        from payloads.schema_payload import schema_payloads

        out += find_payloads(names, builtin_payloads()) if names else []
        out += schema_payloads(args.schema, args.payload, args.root, args.max_records)
        return out
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


def _schema_language(path: str) -> str | None:
    from payloads.schema_import import language_of

    return language_of(path)


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


def _by_signal(e: KeyboardInterrupt) -> str:
    return f" by {e.args[0]}" if e.args and str(e.args[0]).startswith("SIG") else ""


def _interrupted_exit(e: KeyboardInterrupt) -> int:
    """128 + the signal's number, as a shell reports it (130 for Ctrl-C)."""
    import signal

    try:
        return 128 + int(signal.Signals[str(e.args[0])]) if e.args else EXIT_INTERRUPTED
    except KeyError:
        return EXIT_INTERRUPTED


def _positive_int(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {n}")
    return n


def cmd_run(args: argparse.Namespace) -> int:
    from bench.runner import RunOptions, run
    from bench.timing import Plan

    plan = Plan.quick() if args.quick else Plan.full()
    if args.processes is not None:
        plan = dataclasses.replace(plan, processes=args.processes)
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
    except KeyboardInterrupt as e:
        previous = args.out / "results.json"
        kept = f"previous {previous} left intact, " if previous.exists() else ""
        print(f"msgbench: interrupted{_by_signal(e)}; {kept}partial results in "
              f"{args.out / 'results.partial.json'}", file=sys.stderr)
        return _interrupted_exit(e)
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


def cmd_check_plugin(args: argparse.Namespace) -> int:
    from formats.conformance import check_plugin_main

    return check_plugin_main(args.name)


def cmd_report(args: argparse.Namespace) -> int:
    from reports.charts import prepare
    from reports.render import write_report
    from reports.results import guarded, load

    prepare()  # matplotlib, numpy and OpenBLAS set up before the limits apply
    with limited(args, f"reading and rendering {args.results}"):
        doc = load(args.results)
        out = args.out or args.results.parent
        paths = guarded(str(args.results), write_report, doc, out, debug=args.debug)
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
        table.add_column(col, no_wrap=col != "capabilities", overflow="fold")
    notes: list[str] = []  # long reasons go below the table, so no name or figure is ever cut
    for r in rows:
        cells = [str(r.get(c, "")) for c in cols]
        usable = str(r.get("usable", ""))
        if "usable" in cols and usable.startswith("no: ") and len(usable) > 24:
            notes.append(f"[{len(notes) + 1}] {r.get('name')}: {usable[4:]}")
            cells[cols.index("usable")] = f"no [{len(notes)}]"
        table.add_row(*cells)
    console.print(table)
    for note in notes:
        console.print(note, soft_wrap=True, highlight=False, markup=False)
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
    with limited(args, f"reading {args.payload}" if args.payload else "building the payload"):
        payload = _load_payloads(args, [args.name] if args.name else None)[0]
    if args.format == "model":
        text = json.dumps(type_to_json(payload.schema), indent=2, ensure_ascii=False) + "\n"
    else:
        text = schema_text_for(payload.schema, SCHEMA_LANGUAGES[args.format])
    if args.output:
        from reports.results import write_atomic

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
    from formats.isolation import install_signal_handlers
    from payloads.catalog import UnknownPayload
    from payloads.model import ModelError, SchemaMismatch

    install_signal_handlers()  # SIGTERM/SIGHUP end a run like Ctrl-C: children killed, results atomic
    try:
        return args.func(args)
    except KeyboardInterrupt as e:
        print(f"msgbench: interrupted{_by_signal(e)}", file=sys.stderr)
        return _interrupted_exit(e)
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
