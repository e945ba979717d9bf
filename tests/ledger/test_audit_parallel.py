"""A large log is checked by worker processes; they must find exactly what this process finds."""

from __future__ import annotations

from ledger import audit
from ledger.appender import append_entry
from ledger.audit import verify_log
from ledger.entry import Actor
from ledger.integrator import integrate
from ledger.tables import LedgerEntry


async def test_worker_processes_report_the_same_findings_as_one_process(db, keyring, monkeypatch):
    for n in range(1200):  # more than two pages of rows at the page size set below
        await append_entry(
            keyring,
            case=f"DR-2026-{n % 7:06d}",
            event_type="statement.submitted",
            actor=Actor("alice", "claimant"),
            body={"n": n},
        )
    await integrate(keyring, limit=400)
    await LedgerEntry.update({LedgerEntry.signature: b"\x01" * 64}).where(
        LedgerEntry.leaf_index == 17
    )
    await LedgerEntry.delete().where(LedgerEntry.leaf_index == 901)
    await LedgerEntry.update({LedgerEntry.event_type: "case.closed"}).where(
        LedgerEntry.leaf_index == 1100
    )
    monkeypatch.setattr(audit, "PAGE", 500)
    monkeypatch.setattr(audit, "CHUNK", 128)

    here = await verify_log(keyring.origin, keyring.verifiers)
    monkeypatch.setattr(audit, "PARALLEL_FROM", 0)
    in_workers = await verify_log(keyring.origin, keyring.verifiers)

    assert in_workers.failures == here.failures
    found = {(f.check, f.where.split(" (")[0]) for f in here.failures}
    assert ("signature", "leaf 17") in found
    assert ("log", "leaves 901..901") in found
    assert ("columns", "leaf 1100") in found
    assert any(f.check == "chain" for f in here.failures)
