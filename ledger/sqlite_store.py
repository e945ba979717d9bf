"""The ledger's tables on SQLite: each hot operation one call into the connection's thread,
writes inside an immediate transaction taken eagerly (see `ledger.store`)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from piccolo.engine.sqlite import SQLiteEngine, TransactionType

from ledger.entry import ZERO_HASH
from ledger.errors import LedgerError
from ledger.merkle import EMPTY_ROOT, NodeId, frontier
from ledger.storage import (
    INSERT_CHECKPOINT,
    INSERT_ENTRY,
    SELECT_HEAD,
    SELECT_LOG_HEAD,
    SELECT_PENDING,
    SELECT_SIGNED_SIZE,
    UPSERT_HEAD,
    Batch,
    LedgerStore,
    LogState,
    MakeEntry,
    PlanBatch,
    T,
    W,
    node_id,
    node_key,
)

# SQLite: the same in one statement, for the few dozen nodes a proof needs.
SQLITE_SIGNED_NODES = (
    "SELECT c.tree_size, n.node_key, n.hash"
    " FROM (SELECT tree_size FROM ledger_checkpoint ORDER BY id DESC LIMIT 1) AS c"
    " LEFT JOIN ledger_node AS n ON n.node_key IN ({})"
)
SIGNED_NODES_AT_ONCE = 512
SIGNED_NODES_PAD = 32
NO_NODE = -1  # no node has a negative key


def _cursor(conn: sqlite3.Connection) -> sqlite3.Cursor:
    cursor = conn.cursor()
    cursor.row_factory = None  # Piccolo sets dicts on the connection; tuples are cheaper
    return cursor


def _sqlite_append(conn: sqlite3.Connection, case: str, make: MakeEntry[W]) -> W:
    cursor = _cursor(conn)
    row = cursor.execute(SELECT_HEAD, (case,)).fetchone()
    seq, prev = (0, ZERO_HASH) if row is None else (row[0], bytes(row[1]))
    written = make(seq, prev)
    cursor.execute(
        INSERT_ENTRY,
        (case, seq, written.event_type, written.entry, written.signature, written.leaf_hash),
    )
    cursor.execute(UPSERT_HEAD, (case, seq + 1, written.leaf_hash))
    return written


def _sqlite_nodes(conn: sqlite3.Connection, keys: Sequence[int]) -> dict[NodeId, bytes]:
    found: dict[NodeId, bytes] = {}
    cursor = _cursor(conn)
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for key, value in cursor.execute(
            f"SELECT node_key, hash FROM ledger_node WHERE node_key IN ({marks})", chunk
        ):
            found[node_id(key)] = bytes(value)
    return found


def _sqlite_signed_nodes(
    conn: sqlite3.Connection, keys: Sequence[int]
) -> tuple[int, dict[NodeId, bytes]]:
    if len(keys) > SIGNED_NODES_AT_ONCE:
        # The size first: every node a signed size needs was committed with its checkpoint.
        row = _cursor(conn).execute(SELECT_SIGNED_SIZE).fetchone()
        return (0 if row is None else row[0]), _sqlite_nodes(conn, keys)
    # One statement, so one snapshot. Padding the keys to a multiple of SIGNED_NODES_PAD
    # lets a handful of statements serve every proof from the connection's statement cache.
    count = -(-len(keys) // SIGNED_NODES_PAD) * SIGNED_NODES_PAD or SIGNED_NODES_PAD
    padded = [*keys, *[NO_NODE] * (count - len(keys))]
    sql = SQLITE_SIGNED_NODES.format(",".join("?" * count))
    rows = _cursor(conn).execute(sql, padded).fetchall()
    if not rows:  # no checkpoint yet
        return 0, {}
    return rows[0][0], {node_id(key): bytes(value) for _, key, value in rows if key is not None}


class _Raced(Exception):
    """Another integrator committed a batch between our read and our write."""


def _sqlite_integrate(conn: sqlite3.Connection, limit: int, plan: PlanBatch) -> Batch | None:
    """Read and plan under a read snapshot; hold SQLite's one write lock only to write.

    Planning (hashing the new nodes, signing the checkpoint) takes milliseconds, and
    every appender waits while the write lock is held, then oversleeps in SQLite's
    busy-handler backoff. Every batch adds a checkpoint, so an unchanged checkpoint
    size at write time proves no other batch landed in between; and SQLite gives new
    rows ids above every committed one, so the pending entries read are still the
    oldest pending ones.
    """
    cursor = _cursor(conn)
    cursor.execute("BEGIN")
    try:
        head = cursor.execute(SELECT_LOG_HEAD).fetchone()
        size, root = (0, EMPTY_ROOT) if head is None else (head[0], bytes(head[1]))
        pending = [(row[0], bytes(row[1])) for row in cursor.execute(SELECT_PENDING, (limit,))]
        known = _sqlite_nodes(conn, [node_key(node) for node in frontier(size)]) if pending else {}
    finally:
        cursor.execute("COMMIT")
    if not pending:
        return None
    batch = plan(LogState(size, root, known, pending))
    _begin_immediate_eagerly(cursor)
    try:
        now = cursor.execute(SELECT_LOG_HEAD).fetchone()
        if (0 if now is None else now[0]) != size:
            raise _Raced
        cursor.executemany(
            "UPDATE ledger_entry SET leaf_index = ? WHERE id = ? AND leaf_index IS NULL",
            ((batch.first_index + i, entry_id) for i, entry_id in enumerate(batch.entry_ids)),
        )
        if cursor.rowcount != len(batch.entry_ids):
            raise _Raced
        cursor.executemany(
            "INSERT INTO ledger_node (node_key, hash) VALUES (?, ?)",
            ((node_key(node), value) for node, value in batch.nodes.items()),
        )
        cursor.execute(INSERT_CHECKPOINT, (batch.size, batch.root, batch.note, batch.created_at))
    except BaseException:
        cursor.execute("ROLLBACK")
        raise
    cursor.execute("COMMIT")
    # Copy the WAL back into the database here, in the background, so that no request's
    # commit has to: SQLite runs its automatic checkpoint, and its fsync, inside whichever
    # commit crosses `wal_autocheckpoint` pages, which portal.database sets far above what
    # is written between two batches. PASSIVE never waits for anyone.
    cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
    return batch


EAGER_RETRY_SECONDS = 0.0005


def _begin_immediate_eagerly(cursor: sqlite3.Cursor) -> None:
    """Take SQLite's write lock for the integrator without being starved of it.

    SQLite's own busy handler sleeps 1, 2, 5 ... up to 100 ms between tries. Under a
    steady stream of request transactions the lock is free only for microseconds between
    one commit and the next BEGIN, so a waiter that looks ten times a second finds it
    taken nearly every time, and entries waited seconds for their checkpoint (p99 2.8 s
    in `make bench`). Looking every half millisecond finds such a gap within a few
    milliseconds; the connection's busy timeout still bounds the wait.
    """
    timeout_ms = cursor.execute("PRAGMA busy_timeout").fetchone()[0]
    deadline = time.monotonic() + timeout_ms / 1000
    cursor.execute("PRAGMA busy_timeout = 0")
    try:
        while True:
            try:
                cursor.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() >= deadline:
                    raise
            time.sleep(EAGER_RETRY_SECONDS)
    finally:
        cursor.execute(f"PRAGMA busy_timeout = {int(timeout_ms)}")


def _in_own_transaction(fn: Callable[..., T]) -> Callable[..., T]:
    """Run `fn(conn, ...)` between BEGIN IMMEDIATE and COMMIT, all in one thread hop."""

    def wrapped(conn: sqlite3.Connection, *args: Any) -> T:
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = fn(conn, *args)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        return result

    return wrapped


class SQLiteStore(LedgerStore):
    engine: SQLiteEngine

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[None]:
        if self.current_transaction() is not None:
            yield
            return
        # In WAL mode (portal.database) a deferred transaction reads the database as it
        # was at its first read until it ends, takes no lock that a writer waits for, and
        # keeps the pages it reads from being checkpointed away under it.
        async with self.engine.transaction(transaction_type=TransactionType.deferred) as t:
            await _run_in_thread(t.connection, _start_reading)
            yield

    async def _on_connection(self, fn: Callable[..., T], *args: Any, write: bool = False) -> T:
        """Run `fn(sqlite3_connection, *args)` in one hop: in the caller's transaction if
        there is one, else in a transaction of its own when it writes."""
        transaction = self.current_transaction()
        if transaction is not None:
            if write and transaction.transaction_type is TransactionType.deferred:
                raise LedgerError(
                    "The ledger must be written in a write transaction on SQLite: open it "
                    "with portal.database.write_transaction(), which begins IMMEDIATE."
                )
            return await _run_in_thread(transaction.connection, fn, *args)
        connection = await self.engine.get_connection()
        try:
            return await _run_in_thread(connection, _in_own_transaction(fn) if write else fn, *args)
        finally:
            release = getattr(self.engine, "release_connection", None)
            if release is not None:
                await release(connection)
            else:
                await connection.close()

    async def append(self, case: str, make: MakeEntry[W]) -> W:
        return await self._on_connection(_sqlite_append, case, make, write=True)

    async def integrate(self, limit: int, plan: PlanBatch, wait: bool = False) -> Batch | None:
        if self.current_transaction() is not None:
            raise LedgerError("Integrate outside any transaction: it commits batch by batch.")
        # The write lock is the integrators' mutual exclusion here: one that finds another's
        # batch landed after it read just reads again.
        while True:
            try:
                return await self._on_connection(_sqlite_integrate, limit, plan)
            except _Raced:
                continue

    async def nodes(self, ids: Iterable[NodeId]) -> dict[NodeId, bytes]:
        keys = [node_key(node) for node in ids]
        return await self._on_connection(_sqlite_nodes, keys) if keys else {}

    async def signed_nodes(self, ids: Iterable[NodeId]) -> tuple[int, dict[NodeId, bytes]]:
        """The latest signed tree size, and these nodes, in one hop."""
        keys = [node_key(node) for node in ids]
        return await self._on_connection(_sqlite_signed_nodes, keys)


async def _run_in_thread(connection: Any, fn: Callable[..., T], *args: Any) -> T:
    # aiosqlite serves each connection from its own thread; `_execute` queues one call
    # there. It is private to aiosqlite (pinned in requirements.lock), and the only way
    # to make a multi-statement operation a single hop.
    raw = connection._conn
    result: T = await connection._execute(fn, raw, *args)
    return result


def _start_reading(conn: sqlite3.Connection) -> None:
    """Take the snapshot now rather than at the caller's first query."""
    _cursor(conn).execute(SELECT_SIGNED_SIZE).fetchall()
