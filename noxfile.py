"""Sessions: `nox -s bench` (the main job), `nox -s tests`, `nox -s lint`.

Pass arguments to msgbench after `--`, e.g. `nox -s bench -- --quick` or
`nox -s bench -- --payloads trip_request --formats protobuf json`.
"""

import nox

nox.options.sessions = ["bench"]
nox.options.reuse_existing_virtualenvs = True

PYTHON = "3.11"


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Run the full benchmark and write out/index.html + out/results.json."""
    session.install(".[extras,transport]")  # transport: the opt-in `--sections transport`
    session.run("msgbench", "run", *session.posargs)


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """Unit, integration and browser tests (benchmarks run once, untimed)."""
    session.install(".[extras,test,transport]")
    session.run("pytest", *(session.posargs or ["-q"]))


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    session.install("ruff")
    session.run("ruff", "check", ".")
