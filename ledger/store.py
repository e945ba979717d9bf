"""How the ledger reads and writes its tables, on SQLite and on PostgreSQL.

The hot operations (append, integrate, fetch proof nodes) are each one round trip.
On PostgreSQL that means one statement where SQL allows it. On SQLite it means one
call into the connection's thread: aiosqlite pays about 200 µs for every hop between
the event loop and that thread, so an append written as four awaited statements
manages ~600 a second where one hop manages ~2,900 (measured on the 2-core machine).

The appender works inside the caller's transaction when there is one, so that an
entry and the change it records commit together or not at all. On PostgreSQL an append
outside any transaction is optimistic instead (see `PostgresStore.append`).

A reader that needs the log as one state (the audit) reads inside `snapshot()`: an
integration commits its leaf indexes, nodes and checkpoint together, so every read in
one snapshot sees a tree that ends exactly at the newest checkpoint in it.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

from piccolo.engine.base import Engine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType

from ledger.entry import ZERO_HASH
from ledger.errors import LedgerError
from ledger.merkle import EMPTY_ROOT, NodeId, frontier
from ledger.tables import LedgerEntry

T = TypeVar("T")

# A node's key packs (level, index) into one integer: index < 2**48 leaves is ample.
LEVEL_SHIFT = 48
INDEX_MASK = (1 << LEVEL_SHIFT) - 1
# Any constant does; it names "the integrator" among PostgreSQL advisory locks.
INTEGRATOR_LOCK_ID = 0x1ED6E7


def node_key(node: NodeId) -> int:
    level, index = node
    return (level << LEVEL_SHIFT) | index


def node_id(key: int) -> NodeId:
    return key >> LEVEL_SHIFT, key & INDEX_MASK


class Written(Protocol):
    """What the appender stores for one entry (see `ledger.appender.Receipt`)."""

    @property
    def event_type(self) -> str: ...
    @property
    def entry(self) -> bytes: ...
    @property
    def signature(self) -> bytes: ...
    @property
    def leaf_hash(self) -> bytes: ...


W = TypeVar("W", bound=Written)
MakeEntry = Callable[[int, bytes], W]


@dataclass(frozen=True)
class LogState:
    """What the integrator sees when it starts a batch."""

    size: int
    root: bytes
    frontier: dict[NodeId, bytes]
    pending: list[tuple[int, bytes]]  # (entry id, leaf hash), in the order to integrate


@dataclass(frozen=True)
class Batch:
    """One integration: leaf indexes to assign, new nodes and the signed checkpoint."""

    first_index: int
    entry_ids: list[int]
    nodes: dict[NodeId, bytes]
    size: int
    root: bytes
    note: str
    created_at: datetime


PlanBatch = Callable[[LogState], Batch]

SELECT_HEAD = "SELECT next_seq, head_hash FROM ledger_case_head WHERE case_ref = ?"
INSERT_ENTRY = (
    "INSERT INTO ledger_entry (case_ref, case_seq, event_type, entry, signature, leaf_hash)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)
UPSERT_HEAD = (
    "INSERT INTO ledger_case_head (case_ref, next_seq, head_hash) VALUES (?, ?, ?)"
    " ON CONFLICT (case_ref) DO UPDATE SET next_seq = excluded.next_seq,"
    " head_hash = excluded.head_hash"
)
SELECT_LOG_HEAD = "SELECT tree_size, root_hash FROM ledger_checkpoint ORDER BY id DESC LIMIT 1"
SELECT_PENDING = (
    "SELECT id, leaf_hash FROM ledger_entry WHERE leaf_index IS NULL ORDER BY id LIMIT ?"
)
SELECT_SIGNED_SIZE = "SELECT tree_size FROM ledger_checkpoint ORDER BY id DESC LIMIT 1"
INSERT_CHECKPOINT = (
    "INSERT INTO ledger_checkpoint (tree_size, root_hash, note, created_at) VALUES (?, ?, ?, ?)"
)

# PostgreSQL: the upsert takes the head row's lock (waiting for any other appender to
# the same case) and returns its latest committed values, in one statement.
PG_LOCK_HEAD = (
    "INSERT INTO ledger_case_head (case_ref, next_seq, head_hash) VALUES ($1, 0, $2)"
    " ON CONFLICT (case_ref) DO UPDATE SET next_seq = ledger_case_head.next_seq"
    " RETURNING next_seq, head_hash"
)
PG_INSERT_AND_ADVANCE = (
    "WITH written AS (INSERT INTO ledger_entry"
    " (case_ref, case_seq, event_type, entry, signature, leaf_hash)"
    " VALUES ($1, $2, $3, $4, $5, $6))"
    " UPDATE ledger_case_head SET next_seq = $7, head_hash = $6 WHERE case_ref = $1"
)
# PostgreSQL, outside a caller's transaction: one autocommitted statement writes the
# entry only if the head still says `next_seq = $2`, i.e. no other append to the case
# committed since the head was read. ON CONFLICT DO UPDATE locks the head row, waiting
# for any transaction that holds it, and judges its WHERE on the latest committed version
# (not on the statement's snapshot), so of two appends that read the same head exactly
# one advances it; the other writes nothing and reads the head again.
PG_SELECT_HEAD = "SELECT next_seq, head_hash FROM ledger_case_head WHERE case_ref = $1"
PG_APPEND_IF_HEAD = (
    "WITH head AS (INSERT INTO ledger_case_head AS h (case_ref, next_seq, head_hash)"
    " VALUES ($1, $7, $6) ON CONFLICT (case_ref) DO UPDATE"
    " SET next_seq = excluded.next_seq, head_hash = excluded.head_hash"
    " WHERE h.next_seq = $2 RETURNING 1),"
    " written AS (INSERT INTO ledger_entry"
    " (case_ref, case_seq, event_type, entry, signature, leaf_hash)"
    " SELECT $1, $2, $3, $4, $5, $6 WHERE EXISTS (SELECT FROM head) RETURNING 1)"
    " SELECT count(*) FROM written"
)
# After this many lost races in a row an append takes the head row's lock instead, so
# that a writer to a very busy case still gets through.
OPTIMISTIC_ATTEMPTS = 4
PG_ASSIGN_INDEXES = (
    "UPDATE ledger_entry AS e SET leaf_index = a.leaf_index"
    " FROM unnest($1::bigint[], $2::bigint[]) AS a(id, leaf_index) WHERE e.id = a.id"
)
# A proof's nodes and the latest signed size in one statement: one round trip, one snapshot.
PG_SIGNED_NODES = (
    "SELECT c.tree_size, n.node_key, n.hash"
    " FROM (SELECT tree_size FROM ledger_checkpoint ORDER BY id DESC LIMIT 1) AS c"
    " LEFT JOIN ledger_node AS n ON n.node_key = ANY($1::bigint[])"
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
PG_INSERT_NODES = (
    "INSERT INTO ledger_node (node_key, hash) SELECT * FROM unnest($1::bigint[], $2::bytea[])"
)


def _pg(sql: str) -> str:
    """The same statement with PostgreSQL's numbered placeholders."""
    parts = sql.split("?")
    return "".join(f"{part}${i}" if i < len(parts) else part for i, part in enumerate(parts, 1))


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


class LedgerStore:
    """The ledger's tables behind one engine; `store_for` picks the dialect."""

    def __init__(self, engine: Engine) -> None:  # type: ignore[type-arg]
        self.engine = engine

    def current_transaction(self) -> Any:
        return self.engine.current_transaction.get()

    def snapshot(self) -> Any:
        """`async with store.snapshot():` every query inside reads one committed state of
        the database, whatever commits meanwhile. Inside a caller's transaction it is
        that transaction, which the caller chose."""
        raise NotImplementedError


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


class PostgresStore(LedgerStore):
    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[None]:
        if self.current_transaction() is not None:
            yield
            return
        async with self.engine.transaction() as transaction:
            # Before the transaction's first query: from then on every statement sees the
            # same snapshot (READ COMMITTED would take a new one per statement).
            await transaction.connection.execute(
                "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"
            )
            await transaction.connection.fetchval(SELECT_SIGNED_SIZE)
            yield

    async def append(self, case: str, make: MakeEntry[W]) -> W:
        """In the caller's transaction: lock the head row, so that the entry and the
        change it records commit together and no one else appends to the case meanwhile.

        Outside any transaction: read the head, sign, and write the entry with a
        compare-and-set on the head's `next_seq`, reading again when another append got
        there first. That is two round trips and no lock held while signing, instead of
        four (BEGIN, lock, write, COMMIT) with the head row locked throughout.
        """
        if self.current_transaction() is None:
            written: W | None = await self._on_connection(self._append_optimistically, case, make)
            if written is not None:
                return written
        async with self.engine.transaction() as transaction:
            return await self._append_locked(transaction.connection, case, make)

    @staticmethod
    async def _append_locked(conn: Any, case: str, make: MakeEntry[W]) -> W:
        head = await conn.fetchrow(PG_LOCK_HEAD, case, ZERO_HASH)
        seq = head["next_seq"]
        written = make(seq, bytes(head["head_hash"]))
        await conn.execute(
            PG_INSERT_AND_ADVANCE,
            case,
            seq,
            written.event_type,
            written.entry,
            written.signature,
            written.leaf_hash,
            seq + 1,
        )
        return written

    async def _append_optimistically(self, conn: Any, case: str, make: MakeEntry[W]) -> W | None:
        """The entry, written; None when every attempt lost its race."""
        for _ in range(OPTIMISTIC_ATTEMPTS):
            seq, prev = await self._read_head(conn, case)
            written = make(seq, prev)
            landed = await conn.fetchval(
                PG_APPEND_IF_HEAD,
                case,
                seq,
                written.event_type,
                written.entry,
                written.signature,
                written.leaf_hash,
                seq + 1,
            )
            if landed:
                return written
        return None

    @staticmethod
    async def _read_head(conn: Any, case: str) -> tuple[int, bytes]:
        """The committed tip of the case's chain: (next case_seq, leaf hash to link to)."""
        row = await conn.fetchrow(PG_SELECT_HEAD, case)
        return (0, ZERO_HASH) if row is None else (row[0], bytes(row[1]))

    async def integrate(self, limit: int, plan: PlanBatch, wait: bool = False) -> Batch | None:
        if self.current_transaction() is not None:
            raise LedgerError("Integrate outside any transaction: it commits batch by batch.")
        async with self.engine.transaction() as transaction:
            conn = transaction.connection
            # Held until commit. A background integrator skips the round when another
            # worker holds it; `portal ledger integrate` waits its turn.
            if wait:
                await conn.execute("SELECT pg_advisory_xact_lock($1)", INTEGRATOR_LOCK_ID)
            elif not await conn.fetchval(
                "SELECT pg_try_advisory_xact_lock($1)", INTEGRATOR_LOCK_ID
            ):
                return None
            head = await conn.fetchrow(SELECT_LOG_HEAD)
            size, root = (0, EMPTY_ROOT) if head is None else (head[0], bytes(head[1]))
            pending = [
                (row[0], bytes(row[1])) for row in await conn.fetch(_pg(SELECT_PENDING), limit)
            ]
            if not pending:
                return None
            known = await self._fetch_nodes(conn, [node_key(n) for n in frontier(size)])
            # Hashing a batch's nodes and signing takes milliseconds: not on the event loop.
            batch = await asyncio.to_thread(plan, LogState(size, root, known, pending))
            await conn.execute(
                PG_ASSIGN_INDEXES,
                batch.entry_ids,
                list(range(batch.first_index, batch.first_index + len(batch.entry_ids))),
            )
            await conn.execute(
                PG_INSERT_NODES,
                [node_key(node) for node in batch.nodes],
                list(batch.nodes.values()),
            )
            await conn.execute(
                _pg(INSERT_CHECKPOINT), batch.size, batch.root, batch.note, batch.created_at
            )
            return batch

    @staticmethod
    async def _fetch_nodes(conn: Any, keys: list[int]) -> dict[NodeId, bytes]:
        rows = await conn.fetch(
            "SELECT node_key, hash FROM ledger_node WHERE node_key = ANY($1::bigint[])", keys
        )
        return {node_id(row[0]): bytes(row[1]) for row in rows}

    async def _on_connection(self, fn: Callable[..., Any], *args: Any) -> Any:
        """`fn(conn, *args)` on the caller's transaction, a pooled or a new connection."""
        transaction = self.current_transaction()
        if transaction is not None:
            return await fn(transaction.connection, *args)
        pool = self.engine.pool  # type: ignore[attr-defined]
        if pool is not None:
            async with pool.acquire() as conn:
                return await fn(conn, *args)
        conn = await self.engine.get_new_connection()  # type: ignore[attr-defined]
        try:
            return await fn(conn, *args)
        finally:
            await conn.close()

    async def nodes(self, ids: Iterable[NodeId]) -> dict[NodeId, bytes]:
        keys = [node_key(node) for node in ids]
        if not keys:
            return {}
        nodes: dict[NodeId, bytes] = await self._on_connection(self._fetch_nodes, keys)
        return nodes

    async def signed_nodes(self, ids: Iterable[NodeId]) -> tuple[int, dict[NodeId, bytes]]:
        """The latest signed tree size, and these nodes, in one statement."""
        keys = [node_key(node) for node in ids]
        rows = await self._on_connection(lambda conn: conn.fetch(PG_SIGNED_NODES, keys))
        if not rows:
            return 0, {}
        return rows[0][0], {node_id(r[1]): bytes(r[2]) for r in rows if r[1] is not None}


def store_for(engine: Engine | None = None) -> SQLiteStore | PostgresStore:  # type: ignore[type-arg]
    """The store for the engine the ledger's tables are bound to."""
    engine = engine or LedgerEntry._meta.db
    if isinstance(engine, SQLiteEngine):
        return SQLiteStore(engine)
    if engine.engine_type == "postgres":
        return PostgresStore(engine)
    raise LedgerError(f"The ledger does not support the {engine.engine_type} engine.")
