"""The browser group's own promise: without Chromium (or Playwright) its tests are
skipped with the reason locally, and fail the run when PORTAL_REQUIRE_BROWSER=1, as CI
sets it."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.support import ROOT

MISSING = "/nonexistent/chromium"
ONE_BROWSER_TEST = (
    "tests/browser/test_language_switch.py"
    "::test_a_visitor_reads_the_portal_in_chinese_until_she_chooses_english[sqlite]"
)


def run_browser_test(**env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    environ.update(PORTAL_TEST_CHROMIUM=MISSING, **env)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rsE", ONE_BROWSER_TEST],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_without_chromium_the_browser_tests_are_skipped_and_say_why():
    result = run_browser_test()
    assert result.returncode == 0, result.stdout
    assert "1 skipped" in result.stdout, result.stdout
    assert f"Chromium is not installed at {MISSING}" in result.stdout, result.stdout


def test_with_the_browser_required_a_missing_chromium_fails_the_run():
    result = run_browser_test(PORTAL_REQUIRE_BROWSER="1")
    assert result.returncode != 0, result.stdout
    assert "1 error" in result.stdout, result.stdout
    assert "PORTAL_REQUIRE_BROWSER=1 but Chromium is not installed" in result.stdout
