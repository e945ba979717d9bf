"""Fresh databases for one benchmark, made the way the test suite makes them.

A new SQLite file in a temporary directory, or a new PostgreSQL database
`portal_bench_<random>`, migrated by the real `portal migrate` in a child process, and
removed when the benchmark ends. PostgreSQL figures are skipped, with the reason, when
no server answers at PORTAL_BENCH_PG_ADMIN (postgresql://postgres@127.0.0.1:5432/postgres).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

from ledger.keys import Keyring, publish_keys
from portal.database import bind_tables, connected, create_engine
from portal.tables import ALL_TABLES
from tests.support import run_portal

ROOT = Path(__file__).resolve().parents[2]
PG_ADMIN_URL = os.environ.get(
    "PORTAL_BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres"
)
ORIGIN = "bench.portal.example/ledger"
KINDS = {"sqlite": "SQLite", "postgres": "PostgreSQL"}


@dataclass(frozen=True)
class BenchDatabase:
    kind: str  # "sqlite" or "postgres"
    url: str
    workdir: Path  # the keyring file and anything else the run writes

    @property
    def label(self) -> str:
        return KINDS[self.kind]

    @property
    def key_file(self) -> Path:
        return self.workdir / "ledger.key"

    def env(self) -> dict[str, str]:
        """The environment a `portal` child process gets for this database."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
        env.update(
            PORTAL_DATABASE_URL=self.url,
            PORTAL_DATA_DIR=str(self.workdir / "data"),
            PORTAL_SIGNING_KEY_FILE=str(self.key_file),
            PORTAL_LOG_ORIGIN=ORIGIN,
            PICCOLO_CONF="portal.piccolo_conf",
            PYTHONPATH=str(ROOT),
        )
        return env

    def keyring(self) -> Keyring:
        return Keyring.open(self.key_file, ORIGIN, create=True)


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def postgres_unreachable() -> str | None:
    """Why PostgreSQL figures cannot be measured, or None when a server answers."""
    try:
        conn = await asyncpg.connect(PG_ADMIN_URL, timeout=3)
        await conn.close()
    except Exception as exc:
        return f"PostgreSQL at {PG_ADMIN_URL} is unreachable ({type(exc).__name__}: {exc})"
    return None


async def server_version(kind: str) -> str:
    if kind == "sqlite":
        import sqlite3

        return sqlite3.sqlite_version
    conn = await asyncpg.connect(PG_ADMIN_URL, timeout=3)
    try:
        return str(await conn.fetchval("SHOW server_version"))
    finally:
        await conn.close()


@asynccontextmanager
async def fresh_database(kind: str) -> AsyncIterator[BenchDatabase]:
    """A new, migrated database of `kind`, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix=f"portal-bench-{kind}-") as tmp:
        workdir = Path(tmp)
        if kind == "sqlite":
            db = BenchDatabase(kind, f"sqlite:///{workdir / 'portal.sqlite3'}", workdir)
            await asyncio.to_thread(run_portal, "migrate", env=db.env())
            yield db
            return
        name = f"portal_bench_{uuid.uuid4().hex[:12]}"
        await _admin(f'CREATE DATABASE "{name}"')
        try:
            db = BenchDatabase(kind, PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}", workdir)
            await asyncio.to_thread(run_portal, "migrate", env=db.env())
            yield db
        finally:
            await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@asynccontextmanager
async def bound(db: BenchDatabase, pool_size: int = 40) -> AsyncIterator[Any]:
    """Every table bound to `db` through the portal's own engine, its pool open."""
    engine = create_engine(db.url)
    bind_tables(engine, ALL_TABLES)
    async with connected(engine, pool_size=pool_size):
        await publish_keys(db.keyring())
        yield engine
