"""Many writers at once: no two appends to a case share a case_seq, and everything verifies."""

from __future__ import annotations

import asyncio
from collections import defaultdict

import pytest

from ledger.appender import append_entry
from ledger.audit import verify_log
from ledger.entry import Actor, decode_entry
from ledger.integrator import integrate, run_integrator
from ledger.keys import publish_keys
from ledger.tables import LedgerCheckpoint, LedgerEntry
from portal.database import write_transaction

WRITERS = 32
CASES = 8
APPENDS = 2000


@pytest.mark.slow
async def test_32_writers_over_8_cases_keep_every_chain_contiguous_and_verifiable(db, keyring):
    await publish_keys(keyring)
    stop = asyncio.Event()
    integrator = asyncio.create_task(run_integrator(keyring, 0.2, stop))

    async def writer(number: int) -> None:
        for n in range(number, APPENDS, WRITERS):
            case = f"DR-2026-{n % CASES:06d}"
            actor = Actor(f"writer-{number}", "claimant")
            body = {"n": n}
            if n % 2:
                # Half inside a caller's transaction, half in the appender's own.
                async with write_transaction(db.engine):
                    await append_entry(
                        keyring, case=case, event_type="statement.submitted", actor=actor, body=body
                    )
            else:
                await append_entry(
                    keyring, case=case, event_type="statement.submitted", actor=actor, body=body
                )

    try:
        await asyncio.gather(*(writer(number) for number in range(WRITERS)))
    finally:
        stop.set()
        await integrator
    await integrate(keyring)

    rows = await LedgerEntry.select(LedgerEntry.case_ref, LedgerEntry.case_seq, LedgerEntry.entry)
    assert len(rows) == APPENDS
    seqs = defaultdict(list)
    written = set()
    for row in rows:
        seqs[row["case_ref"]].append(row["case_seq"])
        written.add(decode_entry(bytes(row["entry"])).body["n"])
    assert written == set(range(APPENDS))
    assert {case: sorted(s) for case, s in seqs.items()} == {
        f"DR-2026-{c:06d}": list(range(APPENDS // CASES)) for c in range(CASES)
    }
    sizes = [r["tree_size"] for r in await LedgerCheckpoint.select().order_by(LedgerCheckpoint.id)]
    assert sizes == sorted(set(sizes)) and sizes[-1] == APPENDS
    assert len(sizes) > 1, "the integrator should have run while the writers wrote"
    report = await verify_log(keyring.origin, keyring.verifiers)
    assert report.ok, report.render()
