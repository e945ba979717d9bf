"""A caucus and the tribunal's deliberations stay in their channel, in every copy of the
case file: tried on the demo (`create_demo`, as `portal demo` makes it), over HTTP, as its
staff log in and export.

BRIEF "Signed case files": no copy ever carries the text of a caucus to anyone but its two
members (the mediator and that party), nor the tribunal's deliberations to anyone but the
arbitrators; the others see the entry and its hash.
"""

from __future__ import annotations

import json
import re
import subprocess
from typing import Any

import pytest

from arbitration.tables import Award
from ledger.merkle import leaf_hash
from ledger.tables import LedgerEntry
from portal.accounts.tables import User
from portal.cases.tables import Case, CaseParticipant, Statement
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


async def test_a_partys_lawyer_reads_and_exports_the_partys_copy_without_its_caucus(
    app, demo, people, browser
):
    """A supervisor puts a legal user on the mediation for its claimant (bob): the lawyer
    reads the joint channel as bob does, but neither bob's caucus (bob's and the
    mediator's) nor the staff notes, in the room and in their copy of the case file."""
    accounts = {a["email"].split("@")[0]: a for a in demo["accounts"]}
    ref = next(c["ref"] for c in demo["cases"] if c["state"] == "mediation")
    bob = await (
        CaseParticipant.select(CaseParticipant.user.as_alias("claimant"))
        .where((CaseParticipant.case.ref == ref) & (CaseParticipant.role == "claimant"))
        .first()
    )
    demo_lee = await User.select(User.id).where(User.email == accounts["lee"]["email"]).first()
    sue = await log_in(app, accounts["sue"])
    ivy = await log_in(app, accounts["ivy"])
    staff_note = "Bob's bank confirmed the transfer; the seller's account is under review."
    response = await ivy.post(
        f"/cases/{ref}/statements", {"channel": "staff", "text": staff_note}, htmx=True
    )
    assert response.status_code == 200, response.text
    assert f'<option value="{bob["claimant"]}">' in (await sue.get(f"/cases/{ref}")).text
    for email, acts_for in (
        ("lee@example.com", str(bob["claimant"])),
        (accounts["lee"]["email"], ""),
    ):
        response = await sue.post(
            f"/cases/{ref}/participants", {"email": email, "role": "legal", "acts_for": acts_for}
        )
        assert response.status_code == 303, response.text
    # The assignment's entry says whose lawyer each is.
    added = [
        json.loads(bytes(row["entry"]))["body"]
        for row in await LedgerEntry.select(LedgerEntry.entry).where(
            (LedgerEntry.case_ref == ref) & (LedgerEntry.event_type == "participant.added")
        )
    ]
    assert {"user": f"user:{people['lee'].id}", "role": "legal",
            "acts_for": f"user:{bob['claimant']}"} in added  # fmt: skip
    assert {"user": f"user:{demo_lee['id']}", "role": "legal", "acts_for": "platform"} in added

    joint = "我希望尽快解决，已经等了三周。"
    caucus = [text for text, _seq in await private_texts(ref)]
    assert len(caucus) >= 3  # bob's caucus and alice's
    lawyer = await browser(people["lee"])
    room = await lawyer.get(f"/cases/{ref}")
    assert joint in room.text
    assert "Export signed case file (copy for " in room.text
    assert "s legal team)" in room.text
    assert " · for " in room.text  # the people on the case: whose lawyer lee is
    for secret in (staff_note, *caucus):
        assert secret not in room.text
    assert (await lawyer.get(f"/cases/{ref}?channel=staff")).status_code == 404
    for party in (bob["claimant"],):
        caucus_room = await lawyer.get(f"/cases/{ref}?channel=caucus:{party}")
        assert all(secret not in caucus_room.text for secret in caucus)
    response = await lawyer.post(f"/cases/{ref}/casefile.pdf")
    assert response.status_code == 200, response.text[:300]
    text = squeezed(pdf_text(response.content))
    assert squeezed(joint) in text
    assert squeezed("的法律团队副本：共同频道") in text  # the cover, in the case's language
    assert squeezed("当事人的法律团队") in text  # the cover names whose lawyer lee is
    for secret in (staff_note, *caucus):
        assert squeezed(secret) not in text, f"the lawyer's copy carries {secret!r}"
    for _text, case_seq in await private_texts(ref):
        if case_seq >= 0:  # the caucus entry keeps its place, as its leaf hash
            assert await leaf_of(ref, case_seq) in text

    # The platform's legal team keeps the staff copy: staff notes, and still no caucus.
    platform = await log_in(app, accounts["lee"])
    # lee of the demo reads Chinese: the button names the staff copy in it.
    assert "（平台人员副本）" in (await platform.get(f"/cases/{ref}")).text
    response = await platform.post(f"/cases/{ref}/casefile.pdf")
    text = squeezed(pdf_text(response.content))
    assert squeezed(staff_note) in text and squeezed(joint) in text
    assert all(squeezed(secret) not in text for secret in caucus)
    for b in (sue, ivy, platform):
        await b.client.aclose()
