"""Shared fixtures: a real database of each kind, a keyring, and the `portal` command.

Every test that takes `db` runs twice, on SQLite and on PostgreSQL. Each kind gets one
database for the whole run, created and migrated by the real `portal migrate`, and
emptied before each test. PostgreSQL is skipped with its reason when no server
answers; with PORTAL_REQUIRE_POSTGRES=1 (as CI sets it) that is a failure instead.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import pytest

import portal.listeners  # noqa: F401  (like the app and the CLI: every hook and timed step)
from ledger.keys import Keyring
from portal.database import bind_tables, connected, create_engine
from portal.tables import ALL_TABLES
from tests.support import ORIGIN, ROOT, portal_env, run_portal, shared_dir

__all__ = ["ORIGIN", "ROOT", "portal_env", "run_portal", "shared_dir"]

T = TypeVar("T")
PG_ADMIN_URL = os.environ.get(
    "PORTAL_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def _run_async(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to completion from sync code, even under a running event loop."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(make())).result()


def _postgres_unreachable() -> str | None:
    async def probe() -> None:
        conn = await asyncpg.connect(PG_ADMIN_URL, timeout=3)
        await conn.close()

    try:
        _run_async(probe)
    except Exception as exc:
        return f"PostgreSQL at {PG_ADMIN_URL} is unreachable ({type(exc).__name__}: {exc})"
    return None


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    tmp = tmp_path_factory.mktemp("sqlite")
    url = f"sqlite:///{tmp / 'portal.sqlite3'}"
    run_portal("migrate", env=portal_env(url, tmp))
    return url


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    reason = _postgres_unreachable()
    if reason:
        if os.environ.get("PORTAL_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PORTAL_REQUIRE_POSTGRES=1 but {reason}")
        pytest.skip(reason)
    name = f"portal_test_{uuid.uuid4().hex[:12]}"
    _run_async(lambda: _admin(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        run_portal("migrate", env=portal_env(url, tmp_path_factory.mktemp("pg")))
        yield url
    finally:
        _run_async(lambda: _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@dataclass
class Database:
    kind: str
    url: str
    engine: object

    @property
    def is_sqlite(self) -> bool:
        return self.kind == "sqlite"


# Children before parents, so SQLite's foreign keys allow each DELETE.
TABLES_TO_EMPTY = [table._meta.tablename for table in reversed(ALL_TABLES)]


@pytest.fixture(params=["sqlite", "postgres"])
async def db(request: pytest.FixtureRequest) -> AsyncIterator[Database]:
    """An empty, migrated database of each kind, with every table bound to it."""
    url = request.getfixturevalue(f"{request.param}_url")
    engine = create_engine(url)
    bind_tables(engine, ALL_TABLES)
    async with connected(engine, pool_size=40):
        if request.param == "sqlite":
            for table in TABLES_TO_EMPTY:
                await engine.run_ddl(f"DELETE FROM {table}")
        else:
            await engine.run_ddl(f"TRUNCATE {', '.join(TABLES_TO_EMPTY)} RESTART IDENTITY CASCADE")
        yield Database(request.param, url, engine)


@pytest.fixture
def keyring(tmp_path: Path) -> Keyring:
    return Keyring.open(tmp_path / "ledger.key", ORIGIN, create=True)
