"""Inclusion and consistency proofs from a stored tree of 1,000,000 leaves.

Appending a million real entries would take longer than `make bench` may, so this
benchmark BUILDS THE STORED TREE DIRECTLY: a million synthetic leaf hashes go through
`ledger.merkle.append_leaves` in batches, every complete node is bulk-inserted into
`ledger_node` (executemany on SQLite, COPY on PostgreSQL), and one real checkpoint of
that size, signed with `sign_checkpoint`, goes into `ledger_checkpoint`. There are no
`ledger_entry` rows; the proof functions never read them.

Then `ledger.proofs.inclusion_proof(index, size)` and `consistency_proof(old, new)` are
timed one at a time, at random indexes and old sizes against the checkpoint's size, as
the portal serves them; a sample of the proofs is checked against the signed root.
"""

from __future__ import annotations

import hashlib
import random
import sqlite3
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import asyncpg

from ledger.checkpoint import Checkpoint, sign_checkpoint
from ledger.merkle import (
    append_leaves,
    frontier,
    range_hash,
    range_nodes,
    verify_consistency,
    verify_inclusion,
)
from ledger.proofs import consistency_proof, inclusion_proof
from ledger.storage import node_key
from ledger.store import store_for
from ledger.tables import LedgerCheckpoint
from tests.bench.databases import ORIGIN, BenchDatabase, bound, fresh_database
from tests.bench.figures import Figure, Target, heading, percentile, show
from tests.bench.machine import report_interference

FULL_SIZE = 1_000_000
QUICK_SIZE = 100_000
BATCH = 1 << 16
CHECKED = 50  # proofs of each kind verified against the signed root
WARM_UP = 100
TARGET = Target("<=", 1.0, "< 1 ms")
SKIPPED = "PostgreSQL unreachable"


def synthetic_leaf(index: int) -> bytes:
    return hashlib.sha256(b"bench-leaf:" + index.to_bytes(8, "big")).digest()


async def build_tree(db: BenchDatabase, size: int) -> tuple[bytes, int]:
    """Store every complete node of a `size`-leaf tree; return its root and node count."""
    if db.kind == "sqlite":
        conn = sqlite3.connect(db.url.removeprefix("sqlite:///"))
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")

        async def write(rows: list[tuple[int, bytes]]) -> None:
            with conn:
                conn.executemany("INSERT INTO ledger_node (node_key, hash) VALUES (?, ?)", rows)

        async def close() -> None:
            conn.close()
    else:
        pg = await asyncpg.connect(db.url)

        async def write(rows: list[tuple[int, bytes]]) -> None:
            await pg.copy_records_to_table(
                "ledger_node", records=rows, columns=["node_key", "hash"]
            )

        async def close() -> None:
            # A table that grew over months has been vacuumed and analysed by autovacuum;
            # without this, the first proofs would pay for setting hint bits on fresh pages.
            await pg.execute("VACUUM ANALYZE ledger_node")
            await pg.close()

    edge: dict[tuple[int, int], bytes] = {}
    stored = 0
    try:
        for start in range(0, size, BATCH):
            leaves = [synthetic_leaf(i) for i in range(start, min(size, start + BATCH))]
            created = append_leaves(start, edge, leaves)
            known = {**edge, **created}
            edge = {node: known[node] for node in frontier(start + len(leaves))}
            await write(sorted((node_key(node), value) for node, value in created.items()))
            stored += len(created)
    finally:
        await close()
    return range_hash(0, size, edge), stored


async def timed(calls: int, call: Callable[[random.Random], Awaitable[object]]) -> list[float]:
    """Milliseconds each of `calls` sequential calls took, after a short warm-up."""
    rng = random.Random(6962)
    for _ in range(WARM_UP):
        await call(rng)
    times = []
    for _ in range(calls):
        began = time.perf_counter()
        await call(rng)
        times.append((time.perf_counter() - began) * 1000)
    return times


async def check_sample(size: int, root: bytes) -> None:
    """Proofs must verify against the signed root, or the timings mean nothing."""
    rng = random.Random(9162)
    for _ in range(CHECKED):
        index = rng.randrange(size)
        verify_inclusion(
            synthetic_leaf(index), index, size, await inclusion_proof(index, size), root
        )
        old = rng.randrange(1, size)
        old_root = range_hash(0, old, await store_for().nodes(range_nodes(0, old)))
        verify_consistency(old, size, old_root, root, await consistency_proof(old, size))


def proof_figures(label: str, kind: str, times: list[float], size: int) -> list[Figure]:
    mean = sum(times) / len(times)
    p99 = percentile(times, 99)
    # The tail in full: p99 is the 20th slowest of 2,000, so say how many were slow at all.
    slow = sum(1 for t in times if not TARGET.met_by(t))
    note = (
        f"{len(times):,} proofs at {size:,} leaves, stored tree built directly; "
        f"{slow} over 1 ms, max {max(times):.2f} ms"
    )
    return [
        show(
            Figure(f"{kind} proof, mean", label, mean, "ms", TARGET, f"{mean:.2f} x target", note)
        ),
        show(Figure(f"{kind} proof, p99", label, p99, "ms", TARGET, f"{p99:.2f} x target", note)),
    ]


async def measure(kind: str, size: int, calls: int) -> list[Figure]:
    async with fresh_database(kind) as db:
        keyring = db.keyring()
        began = time.perf_counter()
        root, stored = await build_tree(db, size)
        built = time.perf_counter() - began
        async with bound(db) as _:
            note = sign_checkpoint(Checkpoint(ORIGIN, size, root), keyring.signers)
            await LedgerCheckpoint.insert(
                LedgerCheckpoint(
                    tree_size=size, root_hash=root, note=note, created_at=datetime.now(UTC)
                )
            )
            print(
                f"  {db.label:<10} built the stored tree directly: {size:,} synthetic leaves, "
                f"{stored:,} nodes in {built:.1f} s (no ledger_entry rows)",
                flush=True,
            )
            await check_sample(size, root)

            async def inclusion(rng: random.Random) -> object:
                return await inclusion_proof(rng.randrange(size), size)

            async def consistency(rng: random.Random) -> object:
                return await consistency_proof(rng.randrange(1, size), size)

            figures = proof_figures(db.label, "inclusion", await timed(calls, inclusion), size)
            figures += proof_figures(db.label, "consistency", await timed(calls, consistency), size)
    report_interference(f"{db.label} proofs")
    return figures


async def run(quick: bool, postgres_skipped: str | None) -> list[Figure]:
    size = QUICK_SIZE if quick else FULL_SIZE
    calls = 500 if quick else 2_000
    heading(
        f"Proofs at {size:,} leaves (THE STORED TREE IS BUILT DIRECTLY from synthetic "
        "leaf hashes, not appended)"
    )
    figures = await measure("sqlite", size, calls)
    if postgres_skipped:
        print(f"  PostgreSQL figures skipped: {postgres_skipped}")
        figures += [
            Figure(f"{kind} proof, {stat}", "PostgreSQL", None, "ms", TARGET, note=SKIPPED)
            for kind in ("inclusion", "consistency")
            for stat in ("mean", "p99")
        ]
    else:
        figures += await measure("postgres", size, calls)
    return figures
