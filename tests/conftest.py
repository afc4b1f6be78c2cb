"""Shared test configuration.

With ``MSGBENCH_REQUIRE_TOOLS=1`` (set by ``.ci/run``), a test skipped because an external tool is
missing (Chromium, the thrift compiler, xmllint) fails instead: CI installs them, so such a skip
would hide a broken install step.
"""

import os

import pytest

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
