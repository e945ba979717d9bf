"""Shared fixtures: a real database of each kind, a keyring, and the `portal` command.

Every test that takes `db` runs twice, on SQLite and on PostgreSQL. Each kind gets one
database for the whole run, created and migrated by the real `portal migrate`, and
emptied before each test. PostgreSQL is skipped with its reason when no server
answers; with PORTAL_REQUIRE_POSTGRES=1 (as CI sets it) that is a failure instead.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest

from ledger.keys import Keyring
from portal.database import bind_tables, connected, create_engine
from portal.tables import ALL_TABLES

ROOT = Path(__file__).resolve().parents[1]
PG_ADMIN_URL = os.environ.get("PORTAL_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
ORIGIN = "test.portal.example/ledger"


def shared_dir() -> Path:
    """`../shared` beside the project (CI's layout), or PORTAL_SHARED_DIR."""
    configured = os.environ.get("PORTAL_SHARED_DIR")
    return Path(configured) if configured else ROOT.parent / "shared"


def portal_env(database_url: str, tmp: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env.update(
        PORTAL_DATABASE_URL=database_url,
        PORTAL_DATA_DIR=str(tmp / "data"),
        PORTAL_SIGNING_KEY_FILE=str(tmp / "ledger.key"),
        PORTAL_LOG_ORIGIN=ORIGIN,
        PICCOLO_CONF="portal.piccolo_conf",
        PYTHONPATH=str(ROOT),
    )
    env.update(extra)
    return env


def run_portal(*args: str, env: dict[str, str], check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run the real `portal` command in a child process."""
    result = subprocess.run(
        [sys.executable, "-m", "portal", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"portal {' '.join(args)} exited {result.returncode}\n"
            f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
        )
    return result


def _postgres_unreachable() -> str | None:
    async def probe() -> None:
        conn = await asyncpg.connect(PG_ADMIN_URL, timeout=3)
        await conn.close()

    try:
        asyncio.run(probe())
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
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        run_portal("migrate", env=portal_env(url, tmp_path_factory.mktemp("pg")))
        yield url
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@dataclass
class Database:
    kind: str
    url: str
    engine: object

    @property
    def is_sqlite(self) -> bool:
        return self.kind == "sqlite"


TABLES_TO_EMPTY = ["ledger_entry", "ledger_case_head", "ledger_node", "ledger_checkpoint", "ledger_key"]


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
            await engine.run_ddl(f"TRUNCATE {', '.join(TABLES_TO_EMPTY)} RESTART IDENTITY")
        yield Database(request.param, url, engine)


@pytest.fixture
def keyring(tmp_path: Path) -> Keyring:
    return Keyring.open(tmp_path / "ledger.key", ORIGIN, create=True)
