"""The suite's own promise: an unreachable PostgreSQL is a skip with its reason locally,
and a failure when PORTAL_REQUIRE_POSTGRES=1 (as CI sets it)."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.support import ROOT

UNREACHABLE = "postgresql://postgres@127.0.0.1:9/postgres"  # the discard port: nobody listens
ONE_DATABASE_TEST = "tests/ledger/test_appender.py::test_cases_have_independent_chains"


def run_suite(**env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    environ.update(PORTAL_TEST_PG_ADMIN=UNREACHABLE, **env)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rsE", ONE_DATABASE_TEST],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_an_unreachable_postgres_skips_its_group_and_says_why():
    result = run_suite()
    assert result.returncode == 0, result.stdout
    assert "1 passed, 1 skipped" in result.stdout
    assert f"PostgreSQL at {UNREACHABLE} is unreachable" in result.stdout


def test_with_postgres_required_an_unreachable_server_fails_the_run():
    result = run_suite(PORTAL_REQUIRE_POSTGRES="1")
    assert result.returncode != 0
    assert "1 passed, 1 error" in result.stdout
    assert "PORTAL_REQUIRE_POSTGRES=1 but PostgreSQL" in result.stdout
