"""Database engines for SQLite (development, small sites) and PostgreSQL (production).

Piccolo's SQLite engine opens a new connection, with its own thread, for every
transaction and every query outside one, and re-sends `PRAGMA foreign_keys` before
each statement. Measured on the 2-core machine that caps writes near 220 a second,
so the engine here keeps a small pool of configured connections instead. Every
connection is put in WAL mode with a busy timeout, so writers wait for each other
instead of failing with "database is locked"; write transactions begin IMMEDIATE
so that a transaction never has to upgrade a read lock, which SQLite cannot wait for.

SQLite's busy handler polls, sleeping up to 100 ms between tries, so under a steady
stream of writes a waiting writer can lose every race to writers that never slept: at
fifty people on two workers one waited out the whole busy timeout ("database is
locked"). Write transactions therefore queue first: in their process behind an
asyncio lock (first come, first served), then between processes on an flock of a file
beside the database, whose waiters the kernel wakes at once on release.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import sqlite3
import weakref
from collections.abc import AsyncIterator
from typing import Any

import aiosqlite
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType, dict_factory
from piccolo.table import Table

BUSY_TIMEOUT_SECONDS = 30.0
SQLITE_PRAGMAS = (
    "PRAGMA journal_mode = WAL;"
    # In WAL mode NORMAL loses no committed transaction on an application crash;
    # only a power cut can lose the last commits, never corrupt the file.
    "PRAGMA synchronous = NORMAL;"
    "PRAGMA foreign_keys = ON;"
    f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)};"
    # SQLite copies the WAL back into the database (and fsyncs) inside whichever commit
    # takes it past this many pages, 1,000 by default: a request's commit pays for it.
    # The integrator runs a passive checkpoint after every batch instead, so this bound
    # (about 40 MB of 4 KB pages) is only reached when no integrator runs.
    "PRAGMA wal_autocheckpoint = 10000;"
)


class PooledSQLiteTransaction(SQLiteTransaction):
    """A SQLite transaction that hands its connection back to the pool when done."""

    engine: PooledSQLiteEngine

    async def __aenter__(self) -> SQLiteTransaction:
        if self._parent is not None:
            return self._parent
        self._queued = self.transaction_type is TransactionType.immediate
        if self._queued:
            await self.engine.writers_turn()
        try:
            return await super().__aenter__()
        except BaseException:
            if self._queued:
                self.engine.writers_turn_done()
            raise

    async def __aexit__(self, exception_type: Any, exception: Any, traceback: Any) -> bool:
        if self._parent:
            return exception is None
        try:
            if exception:
                if not self._rolled_back:
                    await self.rollback()
            elif not self._committed and not self._rolled_back:
                await self.commit()
        finally:
            try:
                await self.engine.release_connection(self.connection)
                self.engine.current_transaction.reset(self.context)
            finally:
                if self._queued:
                    self.engine.writers_turn_done()
        return exception is None


class PooledSQLiteEngine(SQLiteEngine):
    """Piccolo's SQLite engine with reused, configured connections."""

    def __init__(self, path: str, pool_size: int = 8, **connection_kwargs: Any) -> None:
        connection_kwargs.setdefault("timeout", BUSY_TIMEOUT_SECONDS)
        super().__init__(path=path, **connection_kwargs)
        self.pool_size = pool_size
        self._idle: list[aiosqlite.Connection] = []
        self._closed = False
        self._writer_locks: weakref.WeakKeyDictionary[Any, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )
        self._writers_file: int | None = None

    async def writers_turn(self) -> None:
        """Wait for this writer's turn: first in this process, then among processes."""
        loop = asyncio.get_running_loop()
        lock = self._writer_locks.setdefault(loop, asyncio.Lock())
        try:
            # The same bound as SQLite's own wait, and the same error after it.
            await asyncio.wait_for(lock.acquire(), BUSY_TIMEOUT_SECONDS)
        except TimeoutError:
            raise sqlite3.OperationalError("database is locked") from None
        try:
            if self._writers_file is None:
                self._writers_file = os.open(f"{self.path}-writers", os.O_RDWR | os.O_CREAT, 0o600)
            handle = self._writers_file
            waiting = asyncio.ensure_future(asyncio.to_thread(fcntl.flock, handle, fcntl.LOCK_EX))
            try:
                await asyncio.shield(waiting)
            except asyncio.CancelledError:
                # The thread still takes the flock: give it back when it does.
                def give_back(done: asyncio.Future[None]) -> None:
                    if done.exception() is None:
                        fcntl.flock(handle, fcntl.LOCK_UN)

                waiting.add_done_callback(give_back)
                raise
        except BaseException:
            lock.release()
            raise

    def writers_turn_done(self) -> None:
        try:
            if self._writers_file is not None:
                fcntl.flock(self._writers_file, fcntl.LOCK_UN)
        finally:
            self._writer_locks[asyncio.get_running_loop()].release()

    async def get_connection(self) -> aiosqlite.Connection:
        while self._idle:
            connection = self._idle.pop()
            if connection._running and connection._connection is not None:
                return connection
        connection = await aiosqlite.connect(**self.connection_kwargs)
        connection.row_factory = dict_factory  # type: ignore[assignment]
        await connection.executescript(SQLITE_PRAGMAS)
        return connection

    async def release_connection(self, connection: aiosqlite.Connection) -> None:
        healthy = connection._running and connection._connection is not None
        if healthy and connection.in_transaction:
            # Only reached when a caller committed or rolled back by hand and failed.
            with contextlib.suppress(Exception):
                await connection.rollback()
            healthy = not connection.in_transaction
        # After `close_pool` the engine still works, one connection per query: a
        # connection kept then would have no one to close it, and an open aiosqlite
        # connection's thread keeps the process from exiting.
        if healthy and not self._closed and len(self._idle) < self.pool_size:
            self._idle.append(connection)
        else:
            await connection.close()

    async def close_pool(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        for connection in idle:
            await connection.close()

    def transaction(
        self,
        transaction_type: TransactionType = TransactionType.deferred,
        allow_nested: bool = True,
    ) -> PooledSQLiteTransaction:
        return PooledSQLiteTransaction(
            engine=self, transaction_type=transaction_type, allow_nested=allow_nested
        )

    async def _run_in_new_connection(
        self,
        query: str,
        args: list[Any] | None = None,
        query_type: str = "generic",
        table: type[Table] | None = None,
    ) -> Any:
        connection = await self.get_connection()
        try:
            # One hop to the connection's thread, not three (execute, fetchall, close).
            return await connection.execute_fetchall(query, args or [])
        finally:
            await self.release_connection(connection)

    async def _run_in_existing_connection(
        self,
        connection: Any,
        query: str,
        args: list[Any] | None = None,
        query_type: str = "generic",
        table: type[Table] | None = None,
    ) -> Any:
        # The pooled connection already has foreign keys on: skip Piccolo's per-query PRAGMA.
        return await connection.execute_fetchall(query, args or [])


def create_engine(database_url: str, **options: Any) -> Engine:  # type: ignore[type-arg]
    """The engine for a `sqlite:///path` or `postgresql://...` URL."""
    if database_url.startswith("sqlite:///"):
        return PooledSQLiteEngine(path=database_url.removeprefix("sqlite:///"), **options)
    return PostgresEngine(config={"dsn": database_url, **options})


def is_sqlite(engine: Engine) -> bool:  # type: ignore[type-arg]
    return engine.engine_type == "sqlite"


def write_transaction(engine: Engine) -> Any:  # type: ignore[type-arg]
    """A transaction for work that writes: IMMEDIATE on SQLite, ordinary on PostgreSQL."""
    if isinstance(engine, SQLiteEngine):
        return engine.transaction(transaction_type=TransactionType.immediate)
    return engine.transaction()


async def _keep_session_state(connection: Any) -> None:
    """Release a pooled connection without asyncpg's reset query.

    The default sends `SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`
    at every release, one more round trip for every transaction. The portal keeps no
    session state (its advisory lock is transaction-scoped, it never LISTENs or SETs),
    and asyncpg itself still rolls back any transaction left open.
    """


@contextlib.asynccontextmanager
async def connected(engine: Engine, pool_size: int = 20) -> AsyncIterator[Engine]:  # type: ignore[type-arg]
    """Open the engine's pool for the life of the block and close it after."""
    if isinstance(engine, PostgresEngine):
        await engine.start_connection_pool(
            min_size=1, max_size=pool_size, reset=_keep_session_state
        )
        try:
            yield engine
        finally:
            await engine.close_connection_pool()
    else:
        try:
            yield engine
        finally:
            if isinstance(engine, PooledSQLiteEngine):
                await engine.close_pool()


def bind_tables(engine: Engine, tables: list[type[Table]]) -> None:  # type: ignore[type-arg]
    """Point every table at this engine (the app and the tests choose it at run time)."""
    for table in tables:
        table._meta.db = engine
