"""Shared test configuration.

Hypothesis: with ``CI`` set, property tests run derandomized (see below).

With ``MSGBENCH_REQUIRE_TOOLS=1`` (set by ``.ci/run``), a test skipped because an external tool is
missing (Chromium, the thrift compiler, xmllint) fails instead: CI installs them, so such a skip
would hide a broken install step.
"""

import os

import pytest
from hypothesis import settings

# CI runs property tests derandomized (the same examples every run), so a red CI always means a
# change broke something; locally they explore new random examples each run.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

_TOOL_SKIP_MARKERS = ("not found", "not installed")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("MSGBENCH_REQUIRE_TOOLS") != "1" or not report.skipped:
        return
    reason = str(report.longrepr[-1]) if isinstance(report.longrepr, tuple) else str(report.longrepr)
    if any(m in reason for m in _TOOL_SKIP_MARKERS):
        report.outcome = "failed"
        report.longrepr = f"required tool missing on CI (MSGBENCH_REQUIRE_TOOLS=1): {reason}"
