"""Real ledger entries for seeded cases, made by the ledger's own functions and bulk-inserted.

Each entry is what the portal would have written for the case: an `Entry` built with the
case's ref, its chain's next `case_seq` and the leaf hash of the entry before (`prev`),
encoded by `encode_entry` (JCS), signed by `sign_entry` with the deployment's key, and
hashed by `leaf_hash`, exactly as `ledger.appender.append_entry` does. Only the way in
differs: instead of one `append_entry` per request, the rows go into `ledger_entry`
by executemany (SQLite) or COPY (PostgreSQL), with one `ledger_case_head` row per case at
the end of its chain. Then the ledger's own integrator (`ledger.integrator.integrate`,
in batches of `INTEGRATE_BATCH`) gives them leaf indexes, stores the tree's nodes and
signs a checkpoint per batch, so that `portal ledger verify` and every proof see a log
that the portal could have written.

The events follow a case's life: filed by the claimant, the agent and investigator
added, statements in the open channel and staff notes, evidence with file records,
state changes and deadline reminders, each naming its actor as the portal does
(`user:<id>` and role). Making and signing them is spread over one process per core.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import sqlite3
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

from ledger.entry import SYSTEM, ZERO_HASH, Actor, Entry, encode_entry, sign_entry
from ledger.integrator import integrate
from ledger.keys import Keyring
from ledger.merkle import leaf_hash
from tests.bench.databases import ORIGIN, BenchDatabase

ENTRIES_PER_CASE = 10
CASES_PER_CHUNK = 2_000
INTEGRATE_BATCH = 50_000
ENTRY_COLUMNS = ["case_ref", "case_seq", "event_type", "entry", "signature", "leaf_hash"]
HEAD_COLUMNS = ["case_ref", "next_seq", "head_hash"]
# (ref, number of entries, filed at, claimant id, staff as (user id, role))
CasePlan = tuple[str, int, datetime, int, tuple[tuple[int, str], ...]]
Row = tuple[str, int, str, bytes, bytes, bytes]


def plan_cases(
    cases: Sequence[tuple[Any, ...]],
    participants: Sequence[tuple[Any, ...]],
    entries: int,
    long_case_entries: int,
) -> list[CasePlan]:
    """How many entries each case gets: the first case `long_case_entries`, the others
    share the rest evenly (9 or 10 each for a million over 100,000 cases)."""
    people: dict[int, list[tuple[int, str]]] = {}
    for _id, case_id, user_id, role, _at in participants:
        people.setdefault(case_id, []).append((user_id, role))
    rest, others = entries - long_case_entries, len(cases) - 1
    base, extra = divmod(rest, others) if others else (0, 0)
    plans = []
    for number, case in enumerate(cases):
        case_id, ref, filed = case[0], case[1], case[7]
        count = long_case_entries if number == 0 else base + (1 if number <= extra else 0)
        on_case = people.get(case_id, [])
        claimant = next(user for user, role in on_case if role == "claimant")
        staff = tuple((user, role) for user, role in on_case if role != "claimant")
        plans.append((ref, count, filed, claimant, staff))
    return plans


_keyring: list[Keyring] = []


def _start_worker(key_file: str) -> None:
    _keyring.append(Keyring(Path(key_file), ORIGIN))


def _event(seq: int, claimant: int, staff: tuple[tuple[int, str], ...],
           ref: str) -> tuple[str, Actor, dict[str, Any]]:  # fmt: skip
    """The case's event number `seq`: what a case of this portal records, in its order."""
    party = Actor(f"user:{claimant}", "claimant")
    officer = Actor(f"user:{staff[0][0]}", staff[0][1]) if staff else SYSTEM
    digest = hashlib.sha256(f"{ref}:{seq}".encode()).hexdigest()
    if seq == 0:
        return "case.filed", party, {
            "category": "withdrawal_delay", "claimant": party.id,
            "contested_resolution": "The platform has held my withdrawal for three weeks.",
            "what_happened": "I asked to withdraw 1,250.00 USDT on 2 March; it is still "
                             "pending and support has not answered my two tickets.",
            "happened_on": "2025-03-02", "transaction_ids": f"0x{digest[:40]}",
            "amount": "1250.00", "asset": "USDT", "remedy_wanted": "Release the withdrawal.",
        }  # fmt: skip
    if seq <= len(staff):
        user, role = staff[seq - 1]
        return "participant.added", SYSTEM, {"user": f"user:{user}", "role": role}
    kind = seq % 5
    if kind == 0:
        text = f"Statement {seq}: the transfer {digest[:16]} left my wallet but never arrived."
        return "statement.submitted", party, {
            "channel": "all", "content_sha256": digest, "text": text
        }  # fmt: skip
    if kind == 1:
        return "evidence.added", party, {
            "channel": "all",
            "files": [{"sha256": digest, "name": f"statement-{seq}.pdf", "size": 180_000 + seq,
                       "media_type": "application/pdf"}],
        }  # fmt: skip
    if kind == 2:
        return "statement.submitted", officer, {"channel": "staff", "content_sha256": digest}
    if kind == 3:
        return "case.transitioned", officer, {
            "action": "start_investigation", "from": "triage", "to": "investigation"
        }  # fmt: skip
    return "deadline.reminded", SYSTEM, {
        "kind": "due_soon", "state": "investigation", "deadline": "2025-04-01T09:00:00Z",
        "owner": "investigator",
    }  # fmt: skip


def make_chains(plans: Sequence[CasePlan]) -> tuple[list[Row], list[tuple[str, int, bytes]]]:
    """Every entry of these cases, signed and chained, interleaved as cases run side by
    side (each case's entries in order); and each case's head."""
    keyring = _keyring[0]
    signer = keyring.current
    rows: list[tuple[int, Row]] = []
    heads = []
    for ref, count, filed, claimant, staff in plans:
        prev = ZERO_HASH
        for seq in range(count):
            event_type, actor, body = _event(seq, claimant, staff, ref)
            entry = Entry(
                log=keyring.origin, case=ref, case_seq=seq, prev=prev, type=event_type,
                actor=actor, at=filed + timedelta(minutes=30 * seq), body=body, kid=signer.kid,
            )  # fmt: skip
            data = encode_entry(entry)
            leaf = leaf_hash(data)
            rows.append((seq, (ref, seq, event_type, data, sign_entry(data, signer.private_key),
                               leaf)))  # fmt: skip
            prev = leaf
        heads.append((ref, count, prev))
    rows.sort(key=lambda row: row[0])  # stable: cases stay in order within each seq
    return [row for _, row in rows], heads


@dataclass(frozen=True)
class Chunk:
    rows: list[Row]
    heads: list[tuple[str, int, bytes]]


def made_chunks(key_file: Path, plans: list[CasePlan]) -> Iterator[Chunk]:
    """The entries of `plans`, in chunks of whole cases, made one process per core."""
    # forkserver: the benchmark holds database threads a forked child must not copy.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    with ProcessPoolExecutor(
        max_workers=os.cpu_count() or 1, mp_context=context,
        initializer=_start_worker, initargs=(str(key_file),),
    ) as pool:  # fmt: skip
        chunks = [plans[i : i + CASES_PER_CHUNK] for i in range(0, len(plans), CASES_PER_CHUNK)]
        for rows, heads in pool.map(make_chains, chunks):
            yield Chunk(rows, heads)


class EntryWriter:
    """Bulk-inserts entries and heads into one database; counts the seconds it spent."""

    def __init__(self, db: BenchDatabase) -> None:
        self.db = db
        self.seconds = 0.0
        self.entries = 0
        self._sqlite: sqlite3.Connection | None = None
        self._pg: asyncpg.Connection | None = None

    async def open(self) -> None:
        if self.db.kind == "sqlite":
            self._sqlite = sqlite3.connect(self.db.url.removeprefix("sqlite:///"))
            self._sqlite.execute("PRAGMA journal_mode = WAL")
            self._sqlite.execute("PRAGMA synchronous = NORMAL")
        else:
            self._pg = await asyncpg.connect(self.db.url)

    async def write(self, chunk: Chunk) -> None:
        began = time.perf_counter()
        if self._sqlite is not None:
            with self._sqlite:
                self._sqlite.executemany(
                    f"INSERT INTO ledger_entry ({', '.join(ENTRY_COLUMNS)}) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    chunk.rows,
                )
                self._sqlite.executemany(
                    "INSERT INTO ledger_case_head (case_ref, next_seq, head_hash) VALUES (?, ?, ?)",
                    chunk.heads,
                )
        elif self._pg is not None:
            await self._pg.copy_records_to_table(
                "ledger_entry", records=chunk.rows, columns=ENTRY_COLUMNS
            )
            await self._pg.copy_records_to_table(
                "ledger_case_head", records=chunk.heads, columns=HEAD_COLUMNS
            )
        self.entries += len(chunk.rows)
        self.seconds += time.perf_counter() - began

    async def close(self) -> None:
        if self._sqlite is not None:
            self._sqlite.close()
        if self._pg is not None:
            began = time.perf_counter()
            # As autovacuum would have, for a table that grew over months.
            await self._pg.execute("VACUUM ANALYZE ledger_entry")
            await self._pg.execute("VACUUM ANALYZE ledger_case_head")
            self.seconds += time.perf_counter() - began
            await self._pg.close()


async def settle(db: BenchDatabase) -> None:
    """After integration: what autovacuum (PostgreSQL) or the next batch (SQLite's WAL
    checkpoint) would have done by the time anyone reads the log."""
    if db.kind == "sqlite":
        conn = sqlite3.connect(db.url.removeprefix("sqlite:///"))
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()
        return
    pg = await asyncpg.connect(db.url)
    try:
        for table in ("ledger_entry", "ledger_node", "ledger_checkpoint"):
            await pg.execute(f"VACUUM ANALYZE {table}")
    finally:
        await pg.close()


async def integrate_all(keyring: Keyring) -> tuple[int, int]:
    """Integrate every pending entry with the ledger's integrator: (batches, tree size).
    The tables must be bound to the database."""
    done = await integrate(keyring, limit=INTEGRATE_BATCH, wait=True)
    return done.batches, done.size
