"""The case room: statements in channels, what others are told, and what stays private."""

from __future__ import annotations

import json
import re

from ledger.tables import LedgerEntry
from portal.accounts.tables import User
from portal.cases.tables import Case, CaseParticipant, Statement
from portal.notifications.tables import Notification, OutboundMail
from tests.people import PASSWORD
from tests.portal.test_filing import GOOD, file_dispute


async def open_case(people, browser, **extra):
    alice = await browser(people["alice"])
    response = await file_dispute(alice, {**GOOD, **extra})
    assert response.status_code == 303, response.text
    return alice, response.headers["location"].removeprefix("/cases/")


async def join(ref: str, person, role: str) -> None:
    """Put someone on a case directly (assigning staff and neutrals comes with later work)."""
    from datetime import UTC, datetime

    case = await Case.select(Case.id).where(Case.ref == ref).first()
    await CaseParticipant.insert(
        CaseParticipant(case=case["id"], user=person.id, role=role, added_at=datetime.now(UTC))
    )


async def test_the_claimant_and_agent_are_told_of_a_new_case(people, browser):
    _alice, ref = await open_case(people, browser)
    told = {(n["user"], n["kind"]) for n in await Notification.select()}
    assert (people["alice"].id, "case_filed") in told
    assert (people["ada"].id, "case_assigned") in told
    mail = await OutboundMail.select().where(OutboundMail.to_address == "ada@example.com")
    assert len(mail) == 1 and ref in mail[0]["subject"] and f"/cases/{ref}" in mail[0]["body"]


async def test_an_existing_respondent_is_added_and_told(people, browser):
    _alice, ref = await open_case(people, browser, respondent_email="bob@example.com")
    bob = await browser(people["bob"])
    assert (await bob.get(f"/cases/{ref}")).status_code == 200
    kinds = [
        n["kind"] for n in await Notification.select().where(Notification.user == people["bob"].id)
    ]
    assert kinds == ["respondent_invited"]


async def test_a_new_respondent_gets_a_link_to_set_a_password_and_then_sees_the_case(
    people, browser
):
    _alice, ref = await open_case(people, browser, respondent_email="carol@example.net")
    carol = await User.select().where(User.email == "carol@example.net").first()
    assert carol["password_hash"] == "" and carol["role"] == "party"
    mail = await OutboundMail.select().where(OutboundMail.to_address == "carol@example.net")
    assert len(mail) == 1 and ref in mail[0]["subject"]
    link = re.search(r"http://portal\.test(/invite/\S+)", mail[0]["body"]).group(1)
    b = await browser()
    assert (await b.get(link)).status_code == 200
    response = await b.post(link, {"password": PASSWORD, "password_again": PASSWORD})
    assert response.status_code == 303
    assert (await b.get(f"/cases/{ref}")).status_code == 200
    # The link worked once.
    again = await (await browser()).get(link)
    assert again.status_code in (404, 410)


async def test_statements_post_without_reload_and_reach_the_others(people, browser):
    alice, ref = await open_case(people, browser, respondent_email="bob@example.com")
    response = await alice.post(
        f"/cases/{ref}/statements",
        {"channel": "all", "text": "First line\n\nSee https://example.com/x"},
        htmx=True,
    )
    assert response.status_code == 200
    assert "<html" not in response.text  # a fragment, not a page
    assert '<a href="https://example.com/x" rel="noopener noreferrer nofollow ugc"' in response.text
    bob = await browser(people["bob"])
    fragment = await bob.get(f"/cases/{ref}/statements?channel=all", headers={"HX-Request": "true"})
    assert "First line" in fragment.text
    told = await Notification.select().where(
        (Notification.user == people["bob"].id) & (Notification.kind == "statement_posted")
    )
    assert len(told) == 1
    entry = (
        await LedgerEntry.select().where(LedgerEntry.event_type == "statement.submitted").first()
    )
    body = json.loads(bytes(entry["entry"]))["body"]
    assert body["text"].startswith("First line") and body["channel"] == "all"


async def test_users_cannot_inject_html(people, browser):
    alice, ref = await open_case(people, browser)
    await alice.post(
        f"/cases/{ref}/statements",
        {"channel": "all", "text": "<script>alert(1)</script><b>x</b>"},
        htmx=True,
    )
    room = await alice.get(f"/cases/{ref}")
    assert "<script>alert(1)" not in room.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;b&gt;x&lt;/b&gt;" in room.text


async def test_an_empty_statement_says_what_to_fix_and_keeps_nothing(people, browser):
    alice, ref = await open_case(people, browser)
    before = await LedgerEntry.count()
    response = await alice.post(
        f"/cases/{ref}/statements", {"channel": "all", "text": "  "}, htmx=True
    )
    assert response.status_code == 400 and "Write something before sending." in response.text
    assert await LedgerEntry.count() == before and await Statement.count() == 0


async def test_staff_notes_never_reach_the_parties(people, browser):
    alice, ref = await open_case(people, browser, respondent_email="bob@example.com")
    await join(ref, people["ivy"], "investigator")
    ivy = await browser(people["ivy"])
    secret = "The hot wallet was drained at 14:01; do not tell the claimant yet."
    response = await ivy.post(
        f"/cases/{ref}/statements", {"channel": "staff", "text": secret}, htmx=True
    )
    assert response.status_code == 200 and secret in response.text
    ada = await browser(people["ada"])
    assert secret in (await ada.get(f"/cases/{ref}?channel=staff")).text
    bob = await browser(people["bob"])
    for who in (alice, bob):
        for path in (
            f"/cases/{ref}",
            f"/cases/{ref}/timeline",
            f"/cases/{ref}/proof.json",
            f"/cases/{ref}/statements?channel=all",
            "/notifications",
        ):
            page = await who.get(path)
            assert secret not in page.text and "hot wallet" not in page.text, path
        assert (await who.get(f"/cases/{ref}?channel=staff")).status_code == 404
        refused = await who.post(
            f"/cases/{ref}/statements", {"channel": "staff", "text": "hi"}, htmx=True
        )
        assert refused.status_code == 404
    entry = (
        await LedgerEntry.select().where(LedgerEntry.event_type == "statement.submitted").first()
    )
    body = json.loads(bytes(entry["entry"]))["body"]
    assert "text" not in body and body["channel"] == "staff" and len(body["content_sha256"]) == 64
    assert secret.encode() not in bytes(entry["entry"])
    # Only staff were told.
    told = {
        n["user"]
        for n in await Notification.select().where(Notification.kind == "statement_posted")
    }
    assert told == {people["ada"].id}


async def test_a_caucus_is_between_the_mediator_and_one_party(people, browser):
    alice, ref = await open_case(people, browser, respondent_email="bob@example.com")
    await join(ref, people["mona"], "mediator")
    mona = await browser(people["mona"])
    said = "Alice, would you take 800 USDT?"
    response = await mona.post(
        f"/cases/{ref}/statements",
        {"channel": "caucus", "party": str(people["alice"].id), "text": said},
        htmx=True,
    )
    assert response.status_code == 200
    assert said in (await alice.get(f"/cases/{ref}?channel=caucus&party={people['alice'].id}")).text
    bob = await browser(people["bob"])
    assert (
        await bob.get(f"/cases/{ref}?channel=caucus&party={people['alice'].id}")
    ).status_code == 404
    for path in (
        f"/cases/{ref}",
        f"/cases/{ref}/timeline",
        "/notifications",
        f"/cases/{ref}?channel=caucus&party={people['bob'].id}",
    ):
        assert said not in (await bob.get(path)).text
    ada = await browser(people["ada"])  # staff do not sit in a caucus either
    assert (
        await ada.get(f"/cases/{ref}?channel=caucus&party={people['alice'].id}")
    ).status_code == 404


async def test_each_timeline_item_links_to_its_ledger_receipt(people, browser):
    alice, ref = await open_case(people, browser)
    receipt = await alice.get(f"/cases/{ref}/ledger/0")
    assert receipt.status_code == 200
    entry = (
        await LedgerEntry.select()
        .where((LedgerEntry.case_ref == ref) & (LedgerEntry.case_seq == 0))
        .first()
    )
    assert bytes(entry["leaf_hash"]).hex() in receipt.text
    assert (await alice.get(f"/cases/{ref}/ledger/999")).status_code == 404


async def test_a_supervisor_assigns_an_investigator_who_then_sees_the_case(people, browser):
    _alice, ref = await open_case(people, browser)
    ivy = await browser(people["ivy"])
    assert (await ivy.get(f"/cases/{ref}")).status_code == 404
    sue = await browser(people["sue"])
    response = await sue.post(
        f"/cases/{ref}/participants", {"email": "ivy@example.com", "role": "investigator"}
    )
    assert response.status_code == 303
    assert (await ivy.get(f"/cases/{ref}")).status_code == 200
    wrong = await sue.post(
        f"/cases/{ref}/participants", {"email": "bob@example.com", "role": "investigator"}
    )
    assert wrong.status_code == 400 and "no active investigator" in wrong.text
    ada = await browser(people["ada"])  # only supervisors assign
    refused = await ada.post(
        f"/cases/{ref}/participants", {"email": "sam@example.com", "role": "assessor"}
    )
    assert refused.status_code == 404


async def test_only_a_legal_user_acts_for_a_side_and_only_for_a_party(people, browser):
    _alice, ref = await open_case(people, browser)
    sue = await browser(people["sue"])
    for form, says in (
        ({"email": "ivy@example.com", "role": "investigator", "acts_for": str(people["alice"].id)},
         "Only a legal user acts for a side"),
        ({"email": "lee@example.com", "role": "legal", "acts_for": str(people["eve"].id)},
         "Choose the platform or a party"),
        ({"email": "lee@example.com", "role": "legal", "acts_for": "9" * 40},
         "Choose the platform or a party"),
    ):  # fmt: skip
        wrong = await sue.post(f"/cases/{ref}/participants", form)
        assert wrong.status_code == 400 and says in wrong.text, (form, wrong.text[-300:])
    lee = await browser(people["lee"])
    assert (await lee.get(f"/cases/{ref}")).status_code == 404  # nothing was half done


async def test_the_others_are_told_of_new_evidence(people, browser):
    alice, ref = await open_case(people, browser, respondent_email="bob@example.com")
    files = [
        ("_csrf_token", (None, "")),
        ("channel", (None, "all")),
        ("evidence", ("a.txt", b"first", "text/plain")),
        ("evidence", ("b.txt", b"second", "text/plain")),
    ]
    response = await alice.post(f"/cases/{ref}/evidence", files=files, htmx=True)
    assert response.status_code == 200
    told = await Notification.select().where(Notification.kind == "evidence_added")
    assert {n["user"] for n in told} == {people["bob"].id, people["ada"].id}
    assert all("2 files" in n["message"] for n in told), [n["message"] for n in told]
