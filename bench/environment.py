"""What machine and software produced the numbers (recorded in results.json)."""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import platform
import subprocess
import sys
from pathlib import Path

LIBRARIES = (
    "msgbench", "orjson", "lxml", "fastavro", "protobuf", "thriftpy2", "pytest-benchmark",
    "zstandard", "matplotlib", "msgpack", "cbor2", "msgspec", "pymongo", "jsonschema", "rich",
)


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return None


def cpu_model() -> str:
    info = _read("/proc/cpuinfo") or ""
    for line in info.splitlines():
        if line.lower().startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def git_revision(cwd: str | None = None) -> dict:
    cwd = cwd or os.getcwd()
    try:
        rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=5)
        if rev.returncode != 0:
            return {"revision": None, "dirty": None}
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=cwd,
                               capture_output=True, text=True, timeout=5)
        return {"revision": rev.stdout.strip(), "dirty": bool(dirty.stdout.strip())}
    except (OSError, subprocess.SubprocessError):
        return {"revision": None, "dirty": None}


def library_versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for name in LIBRARIES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out


def capture() -> dict:
    cores = os.cpu_count() or 1
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    governor = _read("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor")
    freq = _read("/sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq")
    model = cpu_model()
    node = platform.node()
    warnings = []
    if load[0] > 0.5 * cores:
        warnings.append(f"machine was busy at start: load average {load[0]:.2f} on {cores} cores; "
                        "timings may be slow or noisy — compare runs before concluding")
    if governor and governor not in ("performance",):
        warnings.append(f"CPU frequency governor is {governor!r} (not 'performance'): clock may vary")
    return {
        "machine_id": hashlib.sha256(f"{node}|{model}|{cores}".encode()).hexdigest()[:12],
        "hostname": node,
        "platform": platform.platform(),
        "cpu_model": model,
        "cpu_count": cores,
        "cpu_governor": governor,
        "cpu_freq_khz": int(freq) if freq and freq.isdigit() else None,
        "load_average": list(load),  # at start; bench.environment.finish adds the end
        "busy": {"load1_start": load[0], "load1_end": None, "cores": cores, "threshold": 0.5 * cores,
                 "busy": load[0] > 0.5 * cores},
        "memory_total_bytes": _mem_total(),
        "python": {
            "version": platform.python_version(),
            "implementation": platform.python_implementation(),
            "build": " ".join(platform.python_build()),
            "compiler": platform.python_compiler(),
            "executable": sys.executable,
        },
        "libraries": library_versions(),
        "git": git_revision(),
        "warnings": warnings,
    }


def finish(env: dict) -> dict:
    """The end-of-run half of the "busy" check: sample the load average again, record both ends in
    ``env["busy"]`` and add a warning when the machine was busy at the end (another job started
    during the run) — the start was checked by :func:`capture`. Returns ``env`` (changed in place)."""
    cores = env.get("cpu_count") or os.cpu_count() or 1
    end = list(os.getloadavg()) if hasattr(os, "getloadavg") else [0.0, 0.0, 0.0]
    start = (env.get("load_average") or [0.0])[0]
    limit = 0.5 * cores
    # at the end the 1-minute load average includes the run itself (one busy core while
    # measuring), so only load beyond that counts against the machine
    end_limit = limit + 1.0
    env["load_average_end"] = end
    env["busy"] = {"load1_start": start, "load1_end": end[0], "cores": cores, "threshold": limit,
                   "threshold_end": end_limit, "busy": start > limit or end[0] > end_limit}
    if end[0] > end_limit:
        env.setdefault("warnings", []).append(
            f"machine was busy at the end of the run: load average {end[0]:.2f} on {cores} cores, "
            f"about 1.0 of it this run (at start {start:.2f}); timings may be slow or noisy — compare runs before concluding")
    return env


def _mem_total() -> int | None:
    info = _read("/proc/meminfo") or ""
    for line in info.splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) * 1024
    return None
