"""PostgreSQL appends outside any transaction: written only onto the tip they were built on.

Such an append reads the case's head, signs, and writes with a compare-and-set on the
head. These tests make it lose that race on purpose and check that it never writes over
the entry that won, that it tries again on the new tip, and that inside a caller's
transaction the head row is still locked, so the entry commits with its change.
"""

from __future__ import annotations

import asyncio
import itertools

import pytest

from ledger import postgres_store
from ledger.appender import append_entry
from ledger.audit import verify_log
from ledger.entry import ZERO_HASH, Actor, decode_entry
from ledger.errors import EntryError
from ledger.integrator import integrate
from ledger.keys import publish_keys
from ledger.postgres_store import PostgresStore
from ledger.tables import LedgerCaseHead, LedgerEntry
from portal.database import write_transaction

ALICE = Actor("alice", "claimant")
BOB = Actor("bob", "respondent")
CASE = "DR-2026-000321"

postgres_only = pytest.mark.parametrize("db", ["postgres"], indirect=True)


async def append(keyring, body, actor=ALICE, case=CASE):
    return await append_entry(
        keyring, case=case, event_type="statement.submitted", actor=actor, body=body
    )


def stale_heads(monkeypatch, heads):
    """Make the next reads of the head return `heads`, as if read before others committed."""
    real = PostgresStore._read_head
    reads = []

    async def read_head(conn, case):
        reads.append(case)
        if heads:
            return heads.pop(0)
        return await real(conn, case)

    monkeypatch.setattr(PostgresStore, "_read_head", staticmethod(read_head))
    return reads


async def chain(case=CASE):
    rows = (
        await LedgerEntry.select(LedgerEntry.case_seq, LedgerEntry.entry, LedgerEntry.leaf_hash)
        .where(LedgerEntry.case_ref == case)
        .order_by(LedgerEntry.case_seq)
    )
    return [
        (row["case_seq"], decode_entry(bytes(row["entry"])), bytes(row["leaf_hash"]))
        for row in rows
    ]


@postgres_only
async def test_an_append_built_on_a_stale_tip_is_not_written_and_is_built_again(
    db, keyring, monkeypatch
):
    first = await append(keyring, {"n": 0})
    reads = stale_heads(monkeypatch, [(0, ZERO_HASH)])  # the tip before `first` committed

    second = await append(keyring, {"n": 1}, actor=BOB)

    assert len(reads) == 2, "the stale tip must be refused and the head read again"
    assert second.case_seq == 1
    stored = await chain()
    assert [seq for seq, _, _ in stored] == [0, 1]
    assert stored[0][1].body == {"n": 0} and stored[0][2] == first.leaf_hash
    assert stored[1][1].body == {"n": 1} and stored[1][1].prev == first.leaf_hash
    head = await LedgerCaseHead.select().where(LedgerCaseHead.case_ref == CASE).first()
    assert head["next_seq"] == 2 and bytes(head["head_hash"]) == second.leaf_hash


@postgres_only
async def test_the_first_entry_of_a_case_is_not_written_twice(db, keyring, monkeypatch):
    first = await append(keyring, {"n": 0})
    # Two racing first appends both saw no head row; the second must not become #0 too.
    stale_heads(monkeypatch, [(0, ZERO_HASH)])

    second = await append(keyring, {"n": 1})

    assert (first.case_seq, second.case_seq) == (0, 1)
    assert [seq for seq, _, _ in await chain()] == [0, 1]


@postgres_only
async def test_after_losing_every_race_an_append_waits_for_the_lock_instead(
    db, keyring, monkeypatch
):
    await append(keyring, {"n": 0})
    stale = [(0, ZERO_HASH)] * postgres_store.OPTIMISTIC_ATTEMPTS
    reads = stale_heads(monkeypatch, list(stale))

    receipt = await append(keyring, {"n": 1})

    assert len(reads) == postgres_store.OPTIMISTIC_ATTEMPTS
    assert receipt.case_seq == 1
    assert [seq for seq, _, _ in await chain()] == [0, 1]


@postgres_only
async def test_an_invalid_entry_writes_nothing_and_leaves_the_head_alone(db, keyring):
    await append(keyring, {"n": 0})

    with pytest.raises(EntryError, match="not an integer"):
        await append(keyring, {"amount": 1.5})

    assert [seq for seq, _, _ in await chain()] == [0]
    head = await LedgerCaseHead.select().where(LedgerCaseHead.case_ref == CASE).first()
    assert head["next_seq"] == 1


@postgres_only
async def test_an_append_outside_waits_for_one_inside_a_transaction_and_lands_after_it(db, keyring):
    await append(keyring, {"n": 0})
    inside_appended = asyncio.Event()
    release = asyncio.Event()

    async def inside() -> None:
        async with write_transaction(db.engine):
            await append(keyring, {"n": 1, "inside": True})
            inside_appended.set()
            await release.wait()

    holder = asyncio.create_task(inside())
    await inside_appended.wait()
    outside = asyncio.create_task(append(keyring, {"n": 2, "inside": False}))
    await asyncio.sleep(0.2)  # let the outside append reach the locked head row
    release.set()
    await holder
    receipt = await outside

    assert receipt.case_seq == 2
    stored = await chain()
    assert [(seq, entry.body["n"]) for seq, entry, _ in stored] == [(0, 0), (1, 1), (2, 2)]
    assert stored[2][1].prev == stored[1][2]


@postgres_only
async def test_an_append_outside_does_not_land_on_a_tip_that_rolls_back(db, keyring):
    await append(keyring, {"n": 0})
    inside_appended = asyncio.Event()
    release = asyncio.Event()

    class ChangeFailed(Exception):
        pass

    async def inside() -> None:
        with pytest.raises(ChangeFailed):
            async with write_transaction(db.engine):
                await append(keyring, {"n": "rolled back"})
                inside_appended.set()
                await release.wait()
                raise ChangeFailed

    holder = asyncio.create_task(inside())
    await inside_appended.wait()
    outside = asyncio.create_task(append(keyring, {"n": 1}))
    await asyncio.sleep(0.2)
    release.set()
    await holder
    receipt = await outside

    assert receipt.case_seq == 1
    stored = await chain()
    assert [(seq, entry.body["n"]) for seq, entry, _ in stored] == [(0, 0), (1, 1)]
    assert stored[1][1].prev == stored[0][2]


@postgres_only
async def test_many_appends_racing_for_one_case_keep_its_chain_contiguous(db, keyring):
    await publish_keys(keyring)
    appends, writers = 400, 16
    numbers = iter(range(appends))

    async def writer() -> None:
        for n in numbers:
            await append(keyring, {"n": n})

    await asyncio.gather(*(writer() for _ in range(writers)))
    await integrate(keyring)

    stored = await chain()
    assert [seq for seq, _, _ in stored] == list(range(appends))
    assert sorted(entry.body["n"] for _, entry, _ in stored) == list(range(appends))
    unlinked = [
        entry.case_seq
        for (_, _, leaf), (_, entry, _) in itertools.pairwise(stored)
        if entry.prev != leaf
    ]
    assert not unlinked, f"entries not linked to the one before: {unlinked[:5]}"
    report = await verify_log(keyring.origin, keyring.verifiers)
    assert report.ok, report.render()
