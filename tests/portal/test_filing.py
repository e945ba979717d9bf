"""Filing a dispute: the form, its checks, the reference, and what gets recorded."""

from __future__ import annotations

import asyncio
import json
import re

from ledger.tables import LedgerEntry
from portal.cases.tables import Case, CaseParticipant, Evidence

GOOD = {
    "category": "liquidation",
    "contested_resolution": "Support said the liquidation was correct.",
    "what_happened": "My position was liquidated during a price spike of 2 seconds.",
    "happened_on": "2026-03-14",
    "transaction_ids": "ORD-1001, ORD-1002\nORD-1003",
    "amount": "1,250.50",
    "asset": "usdt",
    "remedy_wanted": "Refund the liquidation loss.",
}


def multipart(fields: dict[str, str], files: list[tuple[str, bytes, str]] | None = None):
    return {
        "files": [("evidence", (n, data, t)) for n, data, t in (files or [])] or None,
        "data": fields,
    }


async def file_dispute(b, fields=None, files=None):
    payload = multipart(fields if fields is not None else GOOD, files)
    parts = [(k, (None, v)) for k, v in payload["data"].items()]
    parts += payload["files"] or []
    if not payload["files"]:
        parts.append(("evidence", ("", b"", "application/octet-stream")))
    return await b.post("/cases/new", files=parts)


async def test_a_claimant_files_a_dispute_with_evidence(people, browser):
    alice = await browser(people["alice"])
    response = await file_dispute(
        alice,
        files=[
            ("chart.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 100, "image/png"),
            ("notes.txt", "清算发生在 14:02。".encode(), "text/plain"),
        ],
    )
    assert response.status_code == 303, response.text
    ref = response.headers["location"].removeprefix("/cases/")
    assert re.fullmatch(r"DR-\d{4}-\d{6}", ref)
    case = await Case.select().where(Case.ref == ref).first()
    assert case["amount"] == "1250.5" and case["asset"] == "USDT"
    assert case["transaction_ids"].split("\n") == ["ORD-1001", "ORD-1002", "ORD-1003"]
    roles = {(p["user"], p["role"]) for p in await CaseParticipant.select()}
    assert (people["alice"].id, "claimant") in roles
    assert (people["ada"].id, "agent") in roles  # the only agent gets the new case
    files = await Evidence.select().order_by(Evidence.name)
    assert [(f["name"], f["media_type"]) for f in files] == [
        ("chart.png", "image/png"),
        ("notes.txt", "text/plain"),
    ]
    entries = (
        await LedgerEntry.select().where(LedgerEntry.case_ref == ref).order_by(LedgerEntry.case_seq)
    )
    types = [json.loads(bytes(e["entry"]))["type"] for e in entries]
    assert types == ["case.filed", "participant.added", "evidence.added"]

    room = await alice.get(f"/cases/{ref}")
    assert room.status_code == 200
    assert ref in room.text and "chart.png" in room.text and "filed the dispute" in room.text


async def test_the_form_comes_back_with_what_was_typed_and_what_to_fix(people, browser):
    alice = await browser(people["alice"])
    bad = {**GOOD, "category": "", "happened_on": "2999-01-01", "amount": "-5", "asset": "US D"}
    response = await file_dispute(
        alice, bad, files=[("chart.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 10, "image/png")]
    )
    assert response.status_code == 400
    assert "Choose what the dispute is about." in response.text
    assert "The date cannot be in the future." in response.text
    assert "Enter the amount as a positive number" in response.text
    assert (
        "Enter the asset&#39;s symbol" in response.text
        or "Enter the asset's symbol" in response.text
    )
    assert "Support said the liquidation was correct." in response.text
    assert await Case.count() == 0 and await Evidence.count() == 0
    assert await LedgerEntry.count() == 0


async def test_concurrent_filings_get_distinct_references(people, browser):
    alice = await browser(people["alice"])
    responses = await asyncio.gather(*[file_dispute(alice) for _ in range(8)])
    refs = [r.headers["location"] for r in responses]
    assert len(set(refs)) == 8
    numbers = sorted(int(r.rsplit("-", 1)[1]) for r in refs)
    assert numbers == list(range(1, 9))


async def test_someone_not_on_the_case_gets_404(people, browser):
    alice = await browser(people["alice"])
    ref = (await file_dispute(alice)).headers["location"].removeprefix("/cases/")
    for name in ("eve", "ivy", "mona", "lee"):
        outsider = await browser(people[name])
        for path in (
            f"/cases/{ref}",
            f"/cases/{ref}/timeline",
            f"/cases/{ref}/proof.json",
            f"/cases/{ref}/ledger/0",
            f"/cases/{ref}/statements",
        ):
            response = await outsider.get(path)
            assert response.status_code == 404, (name, path)
            # Indistinguishable from a reference that does not exist.
            unknown = await outsider.get(path.replace(ref, "DR-1999-000001"))
            assert response.text.replace(ref, "DR-1999-000001") == unknown.text
    missing = await (await browser(people["eve"])).get("/cases/DR-2026-999999")
    assert missing.status_code == 404
