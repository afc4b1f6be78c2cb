"""Installing test packages (example plugins, codec test doubles) for the tests.

Packages are pip-installed, offline and without build isolation, into a private ``--target``
directory rather than into the test environment itself, so a crashed test run never leaves a
broken plugin behind; subprocesses see it through ``PYTHONPATH`` (:func:`site_env`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def pip_install_site(tmp_path_factory, name: str, *packages: Path) -> Path:
    """Install ``packages`` (source folders) into a new temporary directory and return it."""
    target = tmp_path_factory.mktemp(f"{name}-site")
    build = tmp_path_factory.mktemp(f"{name}-build")
    srcs = []
    for pkg in packages:  # build from copies: setuptools writes build/ and *.egg-info
        dst = build / pkg.name
        shutil.copytree(pkg, dst, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
        srcs.append(str(dst))
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index",
         "--disable-pip-version-check", "--quiet", "--target", str(target), *srcs],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return target


def site_env(site: Path | None = None, **extra: str) -> dict[str, str]:
    """The environment for a msgbench subprocess that should see ``site``'s packages as plugins."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(p) for p in (site, ROOT) if p] + [env.get("PYTHONPATH", "")])
    env["PYTHONPATH"] = env["PYTHONPATH"].rstrip(os.pathsep)
    env.pop("MSGBENCH_NO_PLUGINS", None)
    env.update(extra)
    return env
