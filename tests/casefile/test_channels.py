"""A caucus and the tribunal's deliberations stay in their channel, in every copy of the
case file: tried on the demo (`create_demo`, as `portal demo` makes it), over HTTP, as its
staff log in and export.

BRIEF "Signed case files": no copy ever carries the text of a caucus to anyone but its two
members (the mediator and that party), nor the tribunal's deliberations to anyone but the
arbitrators; the others see the entry and its hash.
"""

from __future__ import annotations

import re
import subprocess
from typing import Any

import pytest

from arbitration.tables import Award
from ledger.merkle import leaf_hash
from ledger.tables import LedgerEntry
from portal.cases.tables import Case, Statement
from portal.demo import create_demo
from tests.security.test_crawl import log_in


@pytest.fixture
async def demo(app) -> dict[str, Any]:
    return await create_demo(app.state.settings, app.state.keyring)


def squeezed(text: str) -> str:
    """Text without its whitespace: a PDF's lines break where the page does."""
    return re.sub(r"\s+", "", text)


def pdf_text(content: bytes) -> str:
    return subprocess.run(
        ["pdftotext", "-", "-"], input=content, capture_output=True, check=True
    ).stdout.decode()


async def private_texts(ref: str) -> list[tuple[str, int]]:
    """Every caucus and tribunal text of the case, with the entry that vouches for it."""
    case = await Case.select(Case.id).where(Case.ref == ref).first()
    found = [
        (s["text"], s["case_seq"])
        for s in await Statement.select(Statement.text, Statement.case_seq).where(
            (Statement.case == case["id"]) & Statement.channel.is_in(["caucus", "tribunal"])
        )
    ]
    drafts = await Award.select(Award.reasons, Award.text).where(Award.case == case["id"])
    found += [(d[field], -1) for d in drafts for field in ("reasons", "text")]
    return found


async def leaf_of(ref: str, case_seq: int) -> str:
    row = await (
        LedgerEntry.select(LedgerEntry.entry)
        .where((LedgerEntry.case_ref == ref) & (LedgerEntry.case_seq == case_seq))
        .first()
    )
    return leaf_hash(bytes(row["entry"])).hex()


async def test_staff_copies_carry_no_caucus_and_no_tribunal_draft(app, demo):
    accounts = {a["email"].split("@")[0]: a for a in demo["accounts"]}
    refs = {c["state"]: c["ref"] for c in demo["cases"]}
    cases = [refs["mediation"], refs["arbitration"]]
    secrets = {ref: await private_texts(ref) for ref in cases}
    # The demo has what this test is about: caucus notes, the tribunal's note and its draft.
    assert len(secrets[refs["mediation"]]) >= 3
    assert len(secrets[refs["arbitration"]]) >= 3
    for who in ("ivy", "sam"):
        staff = await log_in(app, accounts[who])
        for ref in cases:
            response = await staff.post(f"/cases/{ref}/casefile.pdf")
            assert response.status_code == 200, (who, ref, response.text[:300])
            text = squeezed(pdf_text(response.content))
            for secret, case_seq in secrets[ref]:
                assert squeezed(secret) not in text, f"{who}'s copy of {ref} carries {secret!r}"
                if case_seq >= 0:  # the entry keeps its place, as its leaf hash
                    assert await leaf_of(ref, case_seq) in text, (who, ref, case_seq)
        await staff.client.aclose()
