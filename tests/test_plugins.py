"""Plugins for real: the example packages are pip-installed and discovered through entry points.

The packages are installed with pip (offline, ``--no-deps --no-build-isolation``) into a
temporary ``--target`` directory that this test session puts on ``sys.path`` (and on
``PYTHONPATH`` for child processes) instead of into the shared virtualenv: discovery is the same
(``importlib.metadata`` reads the installed ``.dist-info``), but a deliberately broken plugin
never becomes visible to anybody else's run on this machine, and nothing is left behind if the
session dies.
"""

from __future__ import annotations

import importlib.metadata
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sites import pip_install_site, site_env

from formats.api import PluginError, UnknownCodec
from formats.registry import CORE, EXTRAS, build_registry, codec_infos, describe_entries

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "msgbench-plugin-example"
BROKEN = ROOT / "examples" / "msgbench-plugin-broken"
EXAMPLE_SOURCE = "plugin msgbench-plugin-example 0.1.0"
BROKEN_SOURCE = "plugin msgbench-plugin-broken 0.1.0"


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    """pip-install both example packages into a private directory on sys.path."""
    target = pip_install_site(tmp_path_factory, "plugins", EXAMPLE, BROKEN)
    sys.path.insert(0, str(target))
    importlib.invalidate_caches()
    try:
        yield target
    finally:
        sys.path.remove(str(target))
        importlib.invalidate_caches()
        for mod in [m for m in sys.modules if m.startswith(("msgbench_plugin_example", "msgbench_plugin_broken"))]:
            del sys.modules[mod]
        shutil.rmtree(target, ignore_errors=True)


@pytest.fixture(autouse=True)
def _plugins_enabled(monkeypatch):
    monkeypatch.delenv("MSGBENCH_NO_PLUGINS", raising=False)


_env = site_env


def _infos_by_name(registry=None):
    return {i.name: i for i in codec_infos(registry)}


def test_registry_lists_installed_plugins_with_their_distribution(site) -> None:
    reg = build_registry()
    assert reg.entry("pickle/example").source == EXAMPLE_SOURCE
    assert reg.entry("broken/lossy").source == BROKEN_SOURCE
    infos = _infos_by_name(reg)
    ex = infos["pickle/example"]
    assert ex.usable and ex.error is None and ex.binary is True and ex.backend
    row = describe_entries(reg)[reg.names().index("pickle/example")]
    assert row["source"] == EXAMPLE_SOURCE and row["usable"] == "yes"
    assert reg.codec("pickle/example").prepare  # it really loads


def test_import_failing_plugin_is_listed_with_its_error(site) -> None:
    reg = build_registry()  # does not raise
    info = _infos_by_name(reg)["broken/import"]
    assert not info.usable and info.source == BROKEN_SOURCE
    assert "ModuleNotFoundError" in info.error and "msgbench_plugin_broken_missing_dependency" in info.error
    with pytest.raises(PluginError, match="failed to import"):
        reg.codec("broken/import")
    # the other codecs of that distribution and everything else are unaffected
    assert _infos_by_name(reg)["broken/lossy"].usable


def test_default_selection_is_core_plus_plugins(site) -> None:
    names = [e.name for e in build_registry().select(None)]
    assert set(CORE) <= set(names) and "pickle/example" in names and "broken/import" in names
    assert not set(EXTRAS) & set(names)


def test_selectors(site) -> None:
    reg = build_registry()
    assert {e.name for e in reg.select(["plugins"])} == {"pickle/example", "broken/lossy", "broken/lenient",
                                                         "broken/prepare", "broken/import"}
    all_names = {e.name for e in reg.select(["all"])}
    assert set(CORE) | {"pickle/example", "msgpack/msgpack", "cbor/cbor2"} <= all_names
    assert [e.name for e in reg.select(["msgpack"])] == ["msgpack/msgpack", "msgpack/msgspec", "msgpack/ormsgpack"]
    assert [e.name for e in reg.select(["json/stdlib,pickle"])] == ["json/stdlib", "pickle/example"]
    assert {e.name for e in reg.select(["extras"])} == set(EXTRAS)
    with pytest.raises(UnknownCodec, match="all"):
        reg.select(["nosuch"])


def test_no_plugins_env_hides_them(site) -> None:
    code = "from formats.registry import build_registry; print(','.join(build_registry().names()))"
    on = subprocess.run([sys.executable, "-c", code], env=_env(site), capture_output=True, text=True, timeout=60)
    off = subprocess.run([sys.executable, "-c", code], env=_env(site, MSGBENCH_NO_PLUGINS="1"),
                         capture_output=True, text=True, timeout=60)
    assert on.returncode == 0 and off.returncode == 0, on.stderr + off.stderr
    assert "pickle/example" in on.stdout.split(",") and "broken/import" in on.stdout
    assert "pickle/example" not in off.stdout and "broken" not in off.stdout
    assert "json/orjson" in off.stdout


def _fake_dist(where: Path, dist: str, version: str, entries: dict[str, str]) -> Path:
    """A minimal installed distribution (just its .dist-info) registering ``entries``."""
    info = where / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    lines = "".join(f"{k} = {v}\n" for k, v in entries.items())
    (info / "entry_points.txt").write_text(f"[msgbench.formats]\n{lines}")
    return where


@pytest.mark.parametrize(("clash", "other"), [("json/orjson", "built-in"), ("pickle/example", EXAMPLE_SOURCE)])
def test_duplicate_name_is_an_error_naming_both_sources(site, tmp_path, clash, other) -> None:
    where = _fake_dist(tmp_path, "msgbench-dup", "9.9", {clash: "msgbench_dup:Codec"})
    sys.path.insert(0, str(where))
    try:
        with pytest.raises(PluginError) as ei:
            build_registry()
    finally:
        sys.path.remove(str(where))
    msg = str(ei.value)
    assert clash in msg and other in msg and "plugin msgbench-dup 9.9" in msg and "msgbench_dup:Codec" in msg
    assert "MSGBENCH_NO_PLUGINS=1" in msg
    build_registry(discover_plugins=False)  # the escape hatch works


def test_missing_library_shows_the_pip_command(site, monkeypatch) -> None:
    from formats import registry

    monkeypatch.setitem(registry._PIP_MODULE, "msgpack", "msgpack_is_not_installed_here")
    info = _infos_by_name()["msgpack/msgpack"]
    assert not info.usable
    assert "pip install msgpack" in info.error and "pip install 'msgbench[extras]'" in info.error
    reg = build_registry()
    assert "msgpack/msgpack" not in {e.name for e in reg.select(["all"])}
    assert "msgpack/msgpack" not in {e.name for e in reg.select(["extras"])}
    assert [e.name for e in reg.select(["msgpack/msgpack"])] == ["msgpack/msgpack"]  # named: run reports it


def test_same_distribution_seen_twice_is_not_a_duplicate(site) -> None:
    sys.path.insert(0, str(site))  # now on sys.path twice
    try:
        assert build_registry().entry("pickle/example").source == EXAMPLE_SOURCE
    finally:
        sys.path.remove(str(site))


def test_check_plugin_main_prints_a_table(site, capsys) -> None:
    from formats.conformance import check_plugin_main

    assert check_plugin_main("broken/lenient", payloads=[]) == 1
    out = capsys.readouterr().out
    assert "garbage" in out and "FAIL" in out
    assert check_plugin_main("broken/import", payloads=[]) == 1
    assert "msgbench_plugin_broken_missing_dependency" in capsys.readouterr().out


def test_example_plugin_own_test_suite_passes(site) -> None:
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(EXAMPLE / "tests")],
                          env=_env(site), capture_output=True, text=True, timeout=120, cwd=str(EXAMPLE))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "passed" in proc.stdout


def test_list_shows_plugins_and_is_quick(site) -> None:
    """`msgbench list` (or, before the CLI has it, describe_entries) in a fresh process."""
    code = ("import time, json; t = time.perf_counter(); from formats.registry import describe_entries; "
            "rows = describe_entries(); print(json.dumps({'s': time.perf_counter() - t, 'rows': rows}))")
    proc = subprocess.run([sys.executable, "-c", code], env=_env(site), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout.strip().splitlines()[-1])
    rows = {r["name"]: r for r in doc["rows"]}
    assert rows["pickle/example"]["source"] == EXAMPLE_SOURCE
    assert rows["broken/import"]["usable"].startswith("no: ")
    assert doc["s"] < 15, f"listing took {doc['s']:.1f} s"


# ------------------------------------------------------------------------------------------------
# End to end: `msgbench run` measures the plugin next to the built-ins and survives broken ones


def test_run_includes_plugin(site, tmp_path) -> None:
    out = tmp_path / "out"
    msgbench = Path(sys.executable).parent / "msgbench"
    cmd = [str(msgbench)] if msgbench.exists() else [sys.executable, "-c", "import sys; from bench.cli import main; "
                                                     "sys.exit(main())"]
    cmd += ["run", "--quick", "--untimed", "--no-report", "--sections", "--payloads", "trip_request",
            "--formats", "json/orjson", "pickle/example", "broken/lossy", "broken/prepare", "broken/import", "--out", str(out)]
    proc = subprocess.run(cmd, env=_env(site), capture_output=True, text=True, timeout=300, cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    doc = json.loads((out / "results.json").read_text())
    rows = {r["codec"]: r for r in doc["rows"]}
    codecs = {c["name"]: c for c in doc["codecs"]}
    for good in ("json/orjson", "pickle/example"):
        assert rows[good]["status"] == "ok" and rows[good]["verdict"] == "exact", rows[good]
        assert rows[good]["size"]["raw"] > 0
    assert codecs["pickle/example"]["source"] == EXAMPLE_SOURCE
    # a plugin is checked by the conformance kit before it is timed: the lossy one fails the
    # round-trip rule, is never timed, and the report says which rule and how to see more
    lossy = rows["broken/lossy"]
    assert lossy["status"] == "failed" and lossy["encode"] is None, lossy
    assert "conformance" in lossy["error"] and "round-trip" in lossy["error"], lossy["error"]
    assert codecs["broken/lossy"]["status"] == "failed"
    assert "check-plugin broken/lossy" in codecs["broken/lossy"]["error"]
    assert codecs["pickle/example"]["conformance"]["passed"] is True
    assert rows["broken/prepare"]["status"] == "failed" and "RuntimeError" in rows["broken/prepare"]["error"]
    assert codecs["broken/import"]["status"] == "failed"
    assert "msgbench_plugin_broken_missing_dependency" in (codecs["broken/import"]["error"] or "")
    assert rows["broken/import"]["status"] == "failed"
