"""Load and fault tests: the real portal under `portal serve --workers 2`, many simulated
people over HTTP (tests/load/driver.py), on SQLite and on PostgreSQL.

Each test starts its own server on a database of its own, since the faults they inject
(a killed worker, a stopped database, a full disk) must not reach another test.
PostgreSQL unreachable is a skip with its reason; with PORTAL_REQUIRE_POSTGRES=1 (as
CI sets it) it is a failure.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.load.site import Site, database, serving
from tests.support import Unavailable

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.slow)


def unavailable(reason: str, required_by: str = "PORTAL_REQUIRE_POSTGRES") -> None:
    if os.environ.get(required_by) == "1":
        pytest.fail(f"{required_by}=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture(params=["sqlite", "postgres"])
def site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Site]:
    """The portal, served by two workers on a fresh database of the parameter's kind."""
    try:
        with database(request.param, tmp_path) as url, serving(request.param, url, tmp_path) as s:
            yield s
            print(f"server log: {s.log_path}")
    except Unavailable as exc:
        unavailable(str(exc))
