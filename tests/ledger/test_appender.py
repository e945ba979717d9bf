"""Appending to a case's chain: in the caller's transaction, linked, never half-written."""

from __future__ import annotations

import pytest
from piccolo.engine.sqlite import TransactionType

from ledger.appender import append_entry
from ledger.entry import ZERO_HASH, Actor, decode_entry, verify_entry_signature
from ledger.errors import EntryError, LedgerError
from ledger.tables import LedgerCaseHead, LedgerEntry
from portal.database import write_transaction

ALICE = Actor("alice", "claimant")
CASE = "DR-2026-000123"


async def append(keyring, case=CASE, event_type="statement.submitted", body=None):
    return await append_entry(
        keyring, case=case, event_type=event_type, actor=ALICE, body=body or {"text": "hello"}
    )


async def test_a_case_chain_starts_at_zero_and_links_each_entry_to_the_one_before(db, keyring):
    receipts = [await append(keyring, body={"n": n}) for n in range(5)]

    assert [r.case_seq for r in receipts] == [0, 1, 2, 3, 4]
    entries = [decode_entry(r.entry) for r in receipts]
    assert entries[0].prev == ZERO_HASH
    for before, after in zip(receipts, entries[1:], strict=False):
        assert after.prev == before.leaf_hash
    for receipt, entry in zip(receipts, entries, strict=True):
        assert entry.log == keyring.origin and entry.case == CASE and entry.kid == keyring.kid
        assert verify_entry_signature(receipt.entry, receipt.signature, keyring.current.public_key)


async def test_the_stored_row_is_the_receipt_byte_for_byte(db, keyring):
    receipt = await append(keyring, body={"amount": "12.50", "asset": "USDT"})

    row = await LedgerEntry.select().where(LedgerEntry.case_seq == 0).first()
    assert bytes(row["entry"]) == receipt.entry
    assert bytes(row["signature"]) == receipt.signature
    assert bytes(row["leaf_hash"]) == receipt.leaf_hash
    assert row["leaf_index"] is None  # the integrator gives it a place later
    head = await LedgerCaseHead.select().where(LedgerCaseHead.case_ref == CASE).first()
    assert head["next_seq"] == 1 and bytes(head["head_hash"]) == receipt.leaf_hash


async def test_cases_have_independent_chains(db, keyring):
    await append(keyring, case="DR-2026-000001")
    await append(keyring, case="DR-2026-000002")
    second = await append(keyring, case="DR-2026-000001")

    assert second.case_seq == 1
    assert await LedgerCaseHead.count() == 2


async def test_an_entry_commits_with_the_change_it_records(db, keyring):
    async with write_transaction(db.engine):
        await append(keyring)
        await LedgerCaseHead.insert(
            LedgerCaseHead(case_ref="the-change", next_seq=7, head_hash=b"")
        )

    assert await LedgerEntry.count() == 1
    assert await LedgerCaseHead.exists().where(LedgerCaseHead.case_ref == "the-change")


async def test_when_the_change_fails_its_entry_is_not_written_either(db, keyring):
    await append(keyring)

    class ChangeFailed(Exception):
        pass

    with pytest.raises(ChangeFailed):
        async with write_transaction(db.engine):
            await append(keyring)
            raise ChangeFailed

    assert await LedgerEntry.count() == 1
    head = await LedgerCaseHead.select().where(LedgerCaseHead.case_ref == CASE).first()
    assert head["next_seq"] == 1
    assert (await append(keyring)).case_seq == 1  # no gap left behind


@pytest.mark.parametrize(
    ("event_type", "body", "field"),
    [
        ("statement.submitted", {"amount": 12.5}, "decimal strings"),
        ("Statement", {}, "type"),
        ("statement.submitted", {"n": 2**53}, "2^53"),
    ],
)
async def test_an_invalid_event_raises_and_rolls_back_the_callers_change(
    db, keyring, event_type, body, field
):
    with pytest.raises(EntryError) as raised:
        async with write_transaction(db.engine):
            await LedgerCaseHead.insert(
                LedgerCaseHead(case_ref="the-change", next_seq=1, head_hash=b"")
            )
            await append(keyring, event_type=event_type, body=body)

    assert field in str(raised.value)
    assert await LedgerEntry.count() == 0
    assert await LedgerCaseHead.count() == 0


async def test_sqlite_needs_a_write_transaction_postgres_any_transaction(db, keyring):
    if db.is_sqlite:
        # A deferred transaction would have to upgrade its lock mid-way, which SQLite
        # cannot wait for; the appender says what to use instead of failing later.
        with pytest.raises(LedgerError, match="write_transaction"):
            async with db.engine.transaction(transaction_type=TransactionType.deferred):
                await append(keyring)
        assert await LedgerEntry.count() == 0
    else:
        async with db.engine.transaction():
            await append(keyring)
        assert await LedgerEntry.count() == 1
