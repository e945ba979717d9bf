"""The ledger's tables on PostgreSQL: each hot operation one statement where SQL allows it,
and an append outside a caller's transaction optimistic (see `PostgresStore.append`)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Any

from ledger.entry import ZERO_HASH
from ledger.errors import LedgerError
from ledger.merkle import EMPTY_ROOT, NodeId, frontier
from ledger.storage import (
    INSERT_CHECKPOINT,
    INTEGRATOR_LOCK_ID,
    SELECT_LOG_HEAD,
    SELECT_PENDING,
    SELECT_SIGNED_SIZE,
    Batch,
    LedgerStore,
    LogState,
    MakeEntry,
    PlanBatch,
    W,
    Written,
    node_id,
    node_key,
    pg,
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

PG_INSERT_NODES = (
    "INSERT INTO ledger_node (node_key, hash) SELECT * FROM unnest($1::bigint[], $2::bytea[])"
)


def _written_at(case: str, seq: int, written: Written) -> tuple[object, ...]:
    """The parameters $1 to $7 of both append statements: the entry at `seq`, and the
    head's next `case_seq`."""
    return (
        case,
        seq,
        written.event_type,
        written.entry,
        written.signature,
        written.leaf_hash,
        seq + 1,
    )


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
        await conn.execute(PG_INSERT_AND_ADVANCE, *_written_at(case, seq, written))
        return written

    async def _append_optimistically(self, conn: Any, case: str, make: MakeEntry[W]) -> W | None:
        """The entry, written; None when every attempt lost its race."""
        for _ in range(OPTIMISTIC_ATTEMPTS):
            seq, prev = await self._read_head(conn, case)
            written = make(seq, prev)
            landed = await conn.fetchval(PG_APPEND_IF_HEAD, *_written_at(case, seq, written))
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
                (row[0], bytes(row[1])) for row in await conn.fetch(pg(SELECT_PENDING), limit)
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
                pg(INSERT_CHECKPOINT), batch.size, batch.root, batch.note, batch.created_at
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
