"""Mediation through the real app (BRIEF "Mediation"): appointment, caucus, offers, the
signed settlement, and the ways it can go otherwise.

Each journey is taken over HTTP by the people it names. Throughout the first one, every
response bob can ask for is searched for what alice said in her caucus, and the other
way round: a caucus is never shown to the other party, in any page, fragment,
notification, email, receipt, ledger proof or PDF.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import subprocess
from datetime import timedelta

import pyotp
import pytest

from ledger.tables import LedgerEntry
from mediation.tables import Appointment, Offer, Settlement, SettlementSignature
from portal.accounts.tables import User
from portal.cases import deadlines
from portal.cases.sweep import sweep
from portal.notifications.tables import Notification, OutboundMail
from tests.people import PASSWORD
from tests.portal.test_journeys import assert_steps, case_of, chain, on_case, step, to_proposed
from tests.portal.test_state_table import offered

ALICE_SECRET = "My bottom line is 60 USDT, but do not tell Bob"
ALICE_FILE = "alice-lowest-price.txt"
ALICE_FILE_CONTENT = b"Private workings: I would settle for 60."
BOB_SECRET = "Bob could pay up to 95 USDT if pressed"


@pytest.fixture(autouse=True)
def clock():
    deadlines.reset_clock()
    yield
    deadlines.reset_clock()


def page_text(response) -> str:
    return html.unescape(response.text)


async def ok(response, status: int = 303):
    assert response.status_code == status, page_text(response)[-2000:]
    return response


async def in_mediation(people, browser):
    """alice's case against bob, proposed and then taken to mediation by alice."""
    alice, ada, _ivy, _sam, ref = await to_proposed(people, browser)
    await step(alice, ref, "request_mediation")
    return alice, ada, ref


async def put_on_roster(sue, person, **profile: str) -> None:
    form = {
        "languages": "English, 中文",
        "expertise": "Derivatives trading and liquidations",
        "jurisdiction": "Hong Kong",
        "profile": "Former exchange compliance officer.",
        "on_roster": "yes",
        **profile,
    }
    await ok(await sue.post(f"/staff/roster/{person.id}", form))


async def propose(sue, ref: str, mediator, **form: str):
    return await sue.post(f"/cases/{ref}/mediation/propose", {"mediator": str(mediator.id), **form})


async def appointment_of(ref: str) -> dict:
    case = await case_of(ref)
    return (
        await Appointment.select()
        .where(Appointment.case == case["id"])
        .order_by(Appointment.id, ascending=False)
        .first()
    )


async def agree(b, ref: str):
    await ok(await b.post(f"/cases/{ref}/mediation/answer", {"answer": "agree"}))


async def appointed(people, browser, ref: str, mona_browser=None):
    """sue proposes mona, both sides agree, mona accepts with nothing to disclose."""
    sue = await browser(people["sue"])
    await put_on_roster(sue, people["mona"])
    await ok(await propose(sue, ref, people["mona"]))
    for name in ("alice", "bob"):
        await agree(await browser(people[name]), ref)
    appointment = await appointment_of(ref)
    assert appointment["status"] == "invited"
    mona = mona_browser or await browser(people["mona"])
    await ok(
        await mona.post(
            f"/mediation/invitations/{appointment['id']}/accept",
            {"disclosure": "none", "password": people["mona"].password},
        )
    )
    return sue, mona


def offer_form(expires_in_days: int = 7, note: str = "", **rows: dict[str, str]) -> dict[str, str]:
    form = {
        "expires_on": (deadlines.now().date() + timedelta(days=expires_in_days)).isoformat(),
        "note": note,
    }
    for n, row in enumerate(rows.values()):
        form.update({f"item-{n}-{key}": value for key, value in row.items()})
    return form


PAY_90 = {"kind": "pay", "by": "respondent", "to": "claimant", "amount": "90", "asset": "usdt"}
PAY_70 = {"kind": "pay", "by": "respondent", "to": "claimant", "amount": "70", "asset": "USDT"}
APOLOGY = {"kind": "other", "by": "respondent", "text": "Apologise to Alice in writing."}
WITHDRAW = {"kind": "withdraw_claim", "by": "claimant"}


async def everything_seen(b, person, ref: str, seen_seqs: range, party_ids: list[int]) -> str:
    """Every response `person` can ask for about the case, and every mail sent to them."""
    texts = []
    room = await b.get(f"/cases/{ref}")
    texts.append(room.text)
    for link in set(re.findall(r'href="(/cases/[^"#]+)"', room.text)):
        if not link.endswith((".pdf", "/download", "/preview")):
            texts.append((await b.get(html.unescape(link))).text)
    if f"/cases/{ref}/mediation/settlement.pdf" in room.text:
        pdf = await b.get(f"/cases/{ref}/mediation/settlement.pdf")
        texts.append(
            subprocess.run(
                ["pdftotext", "-", "-"], input=pdf.content, capture_output=True, check=True
            ).stdout.decode()
        )
    for path in (
        f"/cases/{ref}/timeline",
        f"/cases/{ref}/proof.json",
        f"/cases/{ref}/evidence",
        "/notifications",
        "/cases",
    ):
        texts.append((await b.get(path)).text)
    for party in party_ids:
        for path in (
            f"/cases/{ref}?channel=caucus&party={party}",
            f"/cases/{ref}/statements?channel=caucus&party={party}",
        ):
            texts.append((await b.get(path)).text)
    for seq in seen_seqs:
        texts.append((await b.get(f"/cases/{ref}/ledger/{seq}")).text)
    proof = json.loads((await b.get(f"/cases/{ref}/proof.json")).text)
    texts.extend(json.dumps(entry) for entry in proof["entries"])
    texts.extend(base64.b64decode(entry["entry"]).decode() for entry in proof["entries"])
    for mail in await OutboundMail.select().where(OutboundMail.to_address == person.email):
        texts.append(mail["subject"] + mail["body"])
    for note in await Notification.select().where(Notification.user == person.id):
        texts.append(note["message"])
    return html.unescape("\n".join(texts))


async def assert_caucus_private(people, browser, ref: str) -> None:
    """Neither side can read the other's caucus, by any route."""
    entries = await chain(ref)
    seqs = range(len(entries) + 2)
    parties = [people["alice"].id, people["bob"].id]
    alice_sees = await everything_seen(
        await browser(people["alice"]), people["alice"], ref, seqs, parties
    )
    bob_sees = await everything_seen(
        await browser(people["bob"]), people["bob"], ref, seqs, parties
    )
    for secret in (ALICE_SECRET, ALICE_FILE, ALICE_FILE_CONTENT.decode()):
        assert secret not in bob_sees
    assert BOB_SECRET not in alice_sees
    assert ALICE_SECRET in alice_sees and BOB_SECRET in bob_sees  # the search can find them


async def test_a_mediation_from_appointment_to_signed_settlement(people, browser):
    alice, ada, ref = await in_mediation(people, browser)
    bob = await browser(people["bob"])
    assert await on_case(ref, people["bob"], "respondent")

    # The supervisor keeps the roster, and proposes mona from it.
    sue = await browser(people["sue"])
    await put_on_roster(sue, people["mona"])
    roster = page_text(await sue.get("/staff/roster"))
    assert "Derivatives trading and liquidations" in roster and "Mona" in roster
    room = page_text(await sue.get(f"/cases/{ref}"))
    assert "Propose a mediator" in room and "Mona — English, 中文 · Hong Kong" in room
    await ok(await propose(sue, ref, people["mona"]))
    appointment = await appointment_of(ref)
    assert appointment["status"] == "proposed"
    assert (await case_of(ref))["next_step_by"] == "claimant"
    assert "A supervisor proposed Mona as the mediator" in page_text(await bob.get(f"/cases/{ref}"))

    # Both sides agree: mona is invited. Before accepting she sees only the summary.
    mona = await browser(people["mona"])
    invitation = f"/mediation/invitations/{appointment['id']}"
    assert (await mona.get(invitation)).status_code == 404  # not invited yet
    await agree(alice, ref)
    assert (await appointment_of(ref))["status"] == "proposed"
    await agree(bob, ref)
    assert (await appointment_of(ref))["status"] == "invited"
    assert await Notification.exists().where(
        (Notification.user == people["mona"].id) & (Notification.link == invitation)
    )
    assert (await mona.get(f"/cases/{ref}")).status_code == 404  # not on the case yet
    summary = page_text(await ok(await mona.get(invitation), 200))
    assert "Disclosure and acceptance" in summary
    assert (await alice.get(invitation)).status_code == 404
    assert (await (await browser(people["ari"])).get(invitation)).status_code == 404

    # She signs her disclosure with her password: a wrong one changes nothing.
    wrong = await mona.post(f"{invitation}/accept", {"disclosure": "none", "password": "nope"})
    assert wrong.status_code == 400 and "That is not your password." in page_text(wrong)
    assert (await appointment_of(ref))["status"] == "invited"
    await ok(
        await mona.post(
            f"{invitation}/accept", {"disclosure": "none", "password": people["mona"].password}
        )
    )
    assert (await appointment_of(ref))["status"] == "active"
    assert await on_case(ref, people["mona"], "mediator")
    case = await case_of(ref)
    assert case["next_step_by"] == "mediator"
    assert (await ok(await mona.get(invitation), 404)).status_code == 404  # answered: gone

    # The caucuses: each side talks to mona alone.
    alice_caucus = {"channel": "caucus", "party": str(people["alice"].id)}
    await ok(
        await alice.post(
            f"/cases/{ref}/statements", {**alice_caucus, "text": ALICE_SECRET}, htmx=True
        ),
        200,
    )
    upload = await alice.post(
        f"/cases/{ref}/evidence",
        {"channel": f"caucus:{people['alice'].id}"},
        files=[("files", (ALICE_FILE, ALICE_FILE_CONTENT, "text/plain"))],
        htmx=True,
    )
    assert upload.status_code == 200, upload.text
    bob_caucus = {"channel": "caucus", "party": str(people["bob"].id)}
    await ok(
        await mona.post(f"/cases/{ref}/statements", {**bob_caucus, "text": BOB_SECRET}, htmx=True),
        200,
    )
    await assert_caucus_private(people, browser, ref)

    # Offers: alice asks for 90 USDT; bob counters with 70 and an apology; alice accepts.
    await ok(await alice.post(f"/cases/{ref}/mediation/offers", offer_form(pay=PAY_90)))
    first = await Offer.select().order_by(Offer.id, ascending=False).first()
    assert json.loads(first["items"]) == [{**PAY_90, "asset": "USDT"}]
    counter = offer_form(note="Less, but with an apology.", pay=PAY_70, apology=APOLOGY)
    await ok(await bob.post(f"/cases/{ref}/mediation/offers/{first['id']}/counter", counter))
    second = await Offer.select().order_by(Offer.id, ascending=False).first()
    assert (await Offer.select(Offer.status).where(Offer.id == first["id"]).first())[
        "status"
    ] == "countered"
    # The countered offer can no longer be accepted; bob cannot accept his own.
    late = await bob.post(
        f"/cases/{ref}/mediation/offers/{first['id']}/answer", {"answer": "accept"}
    )
    assert late.status_code == 409 and "no longer open" in page_text(late)
    own = await bob.post(
        f"/cases/{ref}/mediation/offers/{second['id']}/answer", {"answer": "accept"}
    )
    assert own.status_code == 403
    await ok(
        await alice.post(
            f"/cases/{ref}/mediation/offers/{second['id']}/answer", {"answer": "accept"}
        )
    )
    room = page_text(await alice.get(f"/cases/{ref}"))
    # The history stays: both offers, their states, and the sentences of each.
    assert "Bob pays 90 USDT to Alice." in room and "Bob pays 70 USDT to Alice." in room
    assert "Countered" in room and "Accepted by every side" in room
    assert "Offer no. 2" in room and "counter-offer to no. 1" in room

    # The agreement, in the case's language, from the accepted items.
    settlement = await Settlement.select().first()
    assert settlement["status"] == "signing" and settlement["language"] == "en"
    assert "1. Bob pays 70 USDT to Alice." in settlement["text"]
    assert "2. Bob will: Apologise to Alice in writing." in settlement["text"]
    assert settlement["sha256"] == hashlib.sha256(settlement["text"].encode()).hexdigest()
    assert "Sign the agreement" in room

    # Everyone signs by entering their password again; the last signature settles it.
    bad = await alice.post(f"/cases/{ref}/mediation/sign", {"password": "wrong"})
    assert bad.status_code == 400 and "That is not your password." in page_text(bad)
    assert not await SettlementSignature.exists()
    for who, b in (("alice", alice), ("bob", bob), ("mona", mona)):
        assert (await case_of(ref))["state"] == "mediation"
        await ok(await b.post(f"/cases/{ref}/mediation/sign", {"password": people[who].password}))
    again = await alice.post(f"/cases/{ref}/mediation/sign", {"password": people["alice"].password})
    assert again.status_code == 403  # the mediation is over
    assert (await case_of(ref))["state"] == "settled"
    assert (await appointment_of(ref))["status"] == "ended"
    entries = await chain(ref)
    signed = [e for e in entries if e["type"] == "settlement.signed"]
    assert [e["actor"]["id"] for e in signed] == [
        f"user:{people[n].id}" for n in ("alice", "bob", "mona")
    ]
    assert {e["body"]["sha256"] for e in signed} == {settlement["sha256"]}
    room = page_text(await bob.get(f"/cases/{ref}"))
    assert "this agreement is the binding outcome of the case" in room

    # The agreement as a PDF, its download recorded.
    pdf = await alice.get(f"/cases/{ref}/mediation/settlement.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert "attachment" in pdf.headers["content-disposition"]
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=pdf.content, capture_output=True, check=True
    ).stdout.decode()
    assert "Bob pays 70 USDT to Alice." in text and settlement["sha256"] in text.replace("\n", "")
    assert (await chain(ref))[-1]["type"] == "settlement.downloaded"

    # Staff carry out what was agreed, and the case closes.
    assert "record_remedy" in offered((await ada.get(f"/cases/{ref}")).text)
    await step(ada, ref, "record_remedy", reference="TX-70-USDT")
    await assert_steps(
        ref,
        *[
            (a, f, t, {})
            for a, f, t in (
                ("start_review", "submitted", "triage"),
                ("accept", "triage", "investigation"),
                ("hand_over", "investigation", "assessment"),
                ("propose", "assessment", "proposed"),
                ("request_mediation", "proposed", "mediation"),
                ("settle", "mediation", "settled"),
                ("record_remedy", "settled", "closed"),
            )
        ],
    )
    types = [e["type"] for e in await chain(ref)]
    for expected in (
        "mediator.proposed",
        "mediator.agreed",
        "mediator.invited",
        "mediator.disclosed",
        "mediation.started",
        "offer.made",
        "offer.accepted",
        "settlement.drafted",
        "settlement.signed",
    ):
        assert expected in types, expected
    await assert_caucus_private(people, browser, ref)


async def test_an_objection_to_the_mediator_and_a_replacement(app, people, browser):
    _alice, _ada, ref = await in_mediation(people, browser)
    bob, sue = await browser(people["bob"]), await browser(people["sue"])
    await put_on_roster(sue, people["mona"])
    await ok(await propose(sue, ref, people["mona"]))

    # An objection needs reasons; with them, mona is off the case's list.
    empty = await bob.post(f"/cases/{ref}/mediation/answer", {"answer": "object"})
    assert empty.status_code == 400 and "Give your reasons for objecting." in page_text(empty)
    await ok(
        await bob.post(
            f"/cases/{ref}/mediation/answer",
            {"answer": "object", "reasons": "She advised Alice last year."},
        )
    )
    assert (await appointment_of(ref))["status"] == "objected"
    assert (await case_of(ref))["next_step_by"] == "supervisor"
    assert await Notification.exists().where(
        (Notification.user == people["sue"].id) & (Notification.kind == "mediation_objected")
    )
    room = page_text(await sue.get(f"/cases/{ref}"))
    assert "She advised Alice last year." in room and "Propose a mediator" in room
    again = await propose(sue, ref, people["mona"])
    assert again.status_code == 400 and "objected to or declined on this case" in page_text(again)

    # A second mediator; bob has used his one objection.
    from portal.accounts.admin import invite

    await invite(
        email="max@example.com",
        name="Max",
        role="mediator",
        language="en",
        invited_by=people["sue"].id,
        base_url="http://test",
        allowed_roles=("mediator",),
    )
    max_row = await User.select().where(User.email == "max@example.com").first()
    await ok(await sue.post(f"/cases/{ref}/mediation/propose", {"mediator": str(max_row["id"])}))
    assert "I object" not in page_text(await bob.get(f"/cases/{ref}"))
    used = await bob.post(f"/cases/{ref}/mediation/answer", {"answer": "object", "reasons": "No."})
    assert used.status_code == 409 and "one objection" in page_text(used)
    # Nobody objects in time: the sweep invites him, with a link to set his password.
    deadlines.advance_clock(timedelta(days=5, minutes=1))
    await sweep(keyring=None)  # reminders only: no steps without a keyring
    assert (await appointment_of(ref))["status"] == "proposed"
    await sweep(keyring=app.state.keyring)
    assert (await appointment_of(ref))["status"] == "invited"
    mail = (
        await OutboundMail.select()
        .where(OutboundMail.to_address == "max@example.com")
        .order_by(OutboundMail.id, ascending=False)
        .first()
    )
    assert "you are invited to mediate" in mail["subject"]
    assert "/invite/" in mail["body"] and "/mediation/invitations/" not in mail["subject"]
    types = [e["type"] for e in await chain(ref)]
    assert types.count("mediator.proposed") == 2 and "mediator.objected" in types

    # Max sets his password by the link, must enrol a second factor before he sees the
    # case's summary, and then accepts.
    link = re.search(r"http://\S+(/invite/\S+)", mail["body"]).group(1)
    invitation = re.search(r"http://\S+(/mediation/invitations/\d+)", mail["body"]).group(1)
    max_ = await browser()
    await max_.get(link)
    set_password = await max_.post(link, {"password": PASSWORD, "password_again": PASSWORD})
    assert set_password.headers["location"] == "/account/second-factor"
    assert (await max_.get(invitation)).status_code == 303  # second factor first
    enrol = await max_.get("/account/second-factor")
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', enrol.text).group(1)
    await ok(await max_.post("/account/second-factor", {"code": pyotp.TOTP(secret).now()}))
    assert "Disclosure and acceptance" in page_text(await ok(await max_.get(invitation), 200))
    await ok(await max_.post(f"{invitation}/accept", {"disclosure": "none", "password": PASSWORD}))
    assert (await appointment_of(ref))["status"] == "active"
    assert "Max is the mediator" in page_text(await bob.get(f"/cases/{ref}"))


async def test_a_declined_invitation_goes_back_to_the_supervisor(people, browser):
    alice, _ada, ref = await in_mediation(people, browser)
    sue, bob, mona = [await browser(people[n]) for n in ("sue", "bob", "mona")]
    await put_on_roster(sue, people["mona"])
    await ok(await propose(sue, ref, people["mona"]))
    await agree(alice, ref)
    await agree(bob, ref)
    appointment = await appointment_of(ref)
    await ok(
        await mona.post(
            f"/mediation/invitations/{appointment['id']}/decline",
            {"reasons": "I am away all month."},
        )
    )
    assert (await appointment_of(ref))["status"] == "declined"
    assert not await on_case(ref, people["mona"], "mediator")
    assert (await case_of(ref))["next_step_by"] == "supervisor"
    assert await Notification.exists().where(
        (Notification.user == people["sue"].id) & (Notification.kind == "mediation_declined")
    )
    room = page_text(await sue.get(f"/cases/{ref}"))
    assert "I am away all month." in room and "Propose a mediator" in room
    declined = [e for e in await chain(ref) if e["type"] == "mediator.declined"]
    assert declined[0]["body"]["reasons"] == "I am away all month."
    # The answered invitation is gone, and a second answer is refused.
    assert (await mona.get(f"/mediation/invitations/{appointment['id']}")).status_code == 404


async def test_a_disclosure_the_parties_may_object_to(people, browser):
    alice, _ada, ref = await in_mediation(people, browser)
    sue, bob, mona = [await browser(people[n]) for n in ("sue", "bob", "mona")]
    await put_on_roster(sue, people["mona"])
    await ok(await propose(sue, ref, people["mona"]))
    await agree(alice, ref)
    await agree(bob, ref)
    appointment = await appointment_of(ref)
    said = "I traded on this exchange until 2024."
    missing = await mona.post(
        f"/mediation/invitations/{appointment['id']}/accept",
        {"disclosure": "disclose", "password": people["mona"].password},
    )
    assert missing.status_code == 400 and "Write what you disclose." in page_text(missing)
    await ok(
        await mona.post(
            f"/mediation/invitations/{appointment['id']}/accept",
            {
                "disclosure": "disclose",
                "disclosure_text": said,
                "password": people["mona"].password,
            },
        )
    )
    assert (await appointment_of(ref))["status"] == "disclosed"
    assert said in page_text(await alice.get(f"/cases/{ref}"))
    assert not await on_case(ref, people["mona"], "mediator")
    # alice, who has not objected before, objects to the disclosure.
    await ok(
        await alice.post(
            f"/cases/{ref}/mediation/answer", {"answer": "object", "reasons": "That is too close."}
        )
    )
    assert (await appointment_of(ref))["status"] == "objected"
    assert await Notification.exists().where(
        (Notification.user == people["mona"].id) & (Notification.kind == "mediation_objected")
    )


async def test_offers_counter_and_acceptance_by_every_side_on_a_platform_case(people, browser):
    """No customer is the respondent: sam speaks for the platform, and signs for it."""
    from tests.portal.test_case_room import open_case

    alice, ref = await open_case(people, browser)
    ada, ivy, sam, sue = [await browser(people[n]) for n in ("ada", "ivy", "sam", "sue")]
    await step(ada, ref, "start_review")
    await step(ada, ref, "accept", severity="medium", category="liquidation", in_scope="yes")
    await step(ivy, ref, "hand_over", summary="The feed lagged.")
    await step(
        sam,
        ref,
        "propose",
        findings="Lag.",
        responsibility="platform",
        remedy="refund",
        amount="100",
        asset="USDT",
    )
    await step(alice, ref, "request_mediation")
    await put_on_roster(sue, people["mona"])
    no_one = await propose(sue, ref, people["mona"])
    assert no_one.status_code == 400
    assert "Choose who speaks for the platform" in page_text(no_one)
    await ok(await propose(sue, ref, people["mona"], representative=str(people["sam"].id)))
    assert await on_case(ref, people["sam"], "platform")
    await agree(alice, ref)
    await agree(sam, ref)
    mona = await browser(people["mona"])
    appointment = await appointment_of(ref)
    await ok(
        await mona.post(
            f"/mediation/invitations/{appointment['id']}/accept",
            {"disclosure": "none", "password": people["mona"].password},
        )
    )

    # A mistake in the form says what to fix and stores nothing.
    bad = await mona.post(
        f"/cases/{ref}/mediation/offers",
        offer_form(pay={**PAY_90, "by": "platform", "amount": "-5"}),
    )
    assert bad.status_code == 400
    assert "Enter the amount as a positive number" in page_text(bad)
    today = await mona.post(
        f"/cases/{ref}/mediation/offers", offer_form(0, pay={**PAY_90, "by": "platform"})
    )
    assert today.status_code == 400 and "a day after today" in page_text(today)
    assert not await Offer.exists()
    # The mediator proposes; alice rejects; the mediator tries again; both sides accept.
    mediator_offer = offer_form(
        pay={**PAY_90, "by": "platform"},
        unfreeze={"kind": "unfreeze", "by": "platform", "account": "UID 7731"},
    )
    await ok(await mona.post(f"/cases/{ref}/mediation/offers", mediator_offer))
    first = await Offer.select().order_by(Offer.id, ascending=False).first()
    await ok(
        await alice.post(
            f"/cases/{ref}/mediation/offers/{first['id']}/answer",
            {"answer": "reject", "reasons": "Too little."},
        )
    )
    assert (await Offer.select().where(Offer.id == first["id"]).first())["status"] == "rejected"
    await ok(
        await mona.post(
            f"/cases/{ref}/mediation/offers",
            offer_form(pay={**PAY_90, "by": "platform", "amount": "95"}, withdraw=WITHDRAW),
        )
    )
    second = await Offer.select().order_by(Offer.id, ascending=False).first()
    await ok(
        await sam.post(f"/cases/{ref}/mediation/offers/{second['id']}/answer", {"answer": "accept"})
    )
    assert not await Settlement.exists()  # alice has not answered yet
    await ok(
        await alice.post(
            f"/cases/{ref}/mediation/offers/{second['id']}/answer", {"answer": "accept"}
        )
    )
    settlement = await Settlement.select().first()
    assert "1. The platform pays 95 USDT to Alice." in settlement["text"]
    assert "Sam, the representative of the platform" in settlement["text"]
    assert "2. Alice withdraws the claim" in settlement["text"]
    signers = [p["role"] for p in (await _pending(ref))]
    assert signers == ["claimant", "platform", "mediator"]


async def _pending(ref: str) -> list[dict]:
    from mediation.settlement import current

    case = await case_of(ref)
    found = await current(case["id"])
    assert found is not None
    return found["pending"]


async def test_an_offer_expires_and_cannot_then_be_accepted(app, people, browser):
    alice, _ada, ref = await in_mediation(people, browser)
    _sue, mona = await appointed(people, browser, ref)
    await ok(await mona.post(f"/cases/{ref}/mediation/offers", offer_form(1, pay=PAY_90)))
    offer = await Offer.select().first()
    deadlines.advance_clock(timedelta(days=2))
    late = await alice.post(
        f"/cases/{ref}/mediation/offers/{offer['id']}/answer", {"answer": "accept"}
    )
    assert late.status_code == 409 and "This offer expired on" in page_text(late)
    await sweep(keyring=app.state.keyring)
    assert (await Offer.select().first())["status"] == "expired"
    assert "offer.expired" in [e["type"] for e in await chain(ref)]


async def test_an_impasse_then_arbitration_asked_in_time(people, browser):
    alice, _ada, ref = await in_mediation(people, browser)
    _sue, mona = await appointed(people, browser, ref)
    bob = await browser(people["bob"])
    # Only the mediator declares an impasse, and must say why.
    assert "declare_impasse" not in offered((await alice.get(f"/cases/{ref}")).text)
    assert "declare_impasse" in offered((await mona.get(f"/cases/{ref}")).text)
    empty = await mona.post(f"/cases/{ref}/actions/declare_impasse", {"reasons": ""})
    assert empty.status_code == 400
    await step(
        mona, ref, "declare_impasse", reasons="The sides are 40 USDT apart and will not move."
    )
    assert (await case_of(ref))["state"] == "impasse"
    assert (await appointment_of(ref))["status"] == "ended"
    assert "request_arbitration" in offered((await bob.get(f"/cases/{ref}")).text)
    deadlines.advance_clock(timedelta(days=13))
    await step(bob, ref, "request_arbitration")
    assert (await case_of(ref))["state"] == "arbitration"
    entries = await chain(ref)
    impasse = [e for e in entries if e["type"] == "case.transitioned"][-2]
    assert impasse["body"]["reasons"] == "The sides are 40 USDT apart and will not move."


async def test_an_impasse_nobody_takes_further_closes_after_14_days(app, people, browser):
    alice, _ada, ref = await in_mediation(people, browser)
    _sue, mona = await appointed(people, browser, ref)
    await step(mona, ref, "declare_impasse", reasons="No movement.")
    deadlines.advance_clock(timedelta(days=13))
    await sweep(keyring=app.state.keyring)
    assert (await case_of(ref))["state"] == "impasse"
    deadlines.advance_clock(timedelta(days=1, minutes=1))
    late = await alice.post(f"/cases/{ref}/actions/request_arbitration", {})
    assert late.status_code == 403 and "The 14 days to ask for arbitration ended" in page_text(late)
    await sweep(keyring=app.state.keyring)
    assert (await case_of(ref))["state"] == "closed"
    last = [e for e in await chain(ref) if e["type"] == "case.transitioned"][-1]
    assert (last["body"]["action"], last["actor"]["id"]) == ("close_after_impasse", "system")


async def test_the_mediation_period_is_extended_once_and_reminded(app, people, browser):
    alice, _ada, ref = await in_mediation(people, browser)
    _sue, mona = await appointed(people, browser, ref)
    start = await appointment_of(ref)
    assert (await case_of(ref))["deadline_at"] == start["period_ends"]
    too_long = await mona.post(f"/cases/{ref}/mediation/extend", {"days": "45"})
    assert too_long.status_code == 400 and "from 1 to 30" in page_text(too_long)
    assert (await alice.post(f"/cases/{ref}/mediation/extend", {"days": "5"})).status_code == 403
    await ok(
        await mona.post(
            f"/cases/{ref}/mediation/extend", {"days": "14", "reasons": "Bob is travelling."}
        )
    )
    extended = await appointment_of(ref)
    assert extended["extended"]
    assert (extended["period_ends"] - start["period_ends"]) == timedelta(days=14)
    assert (await case_of(ref))["deadline_at"] == extended["period_ends"]
    twice = await mona.post(f"/cases/{ref}/mediation/extend", {"days": "3"})
    assert twice.status_code == 409 and "extended once already" in page_text(twice)
    # The same reminders as every stage: the mediator is told when the end is near.
    deadlines.advance_clock(timedelta(days=43, hours=12))
    result = await sweep(keyring=app.state.keyring)
    assert result.due_soon == 1
    assert await Notification.exists().where(
        (Notification.user == people["mona"].id) & (Notification.kind == "deadline_due_soon")
    )


async def test_the_ledger_records_every_appointment_step_with_its_actor(people, browser):
    _alice, _ada, ref = await in_mediation(people, browser)
    await appointed(people, browser, ref)
    entries = {e["type"]: e for e in await chain(ref)}
    assert entries["mediator.proposed"]["actor"] == {
        "id": f"user:{people['sue'].id}",
        "role": "supervisor",
    }
    assert entries["mediator.agreed"]["actor"]["role"] == "respondent"
    assert entries["mediator.disclosed"]["actor"] == {
        "id": f"user:{people['mona'].id}",
        "role": "mediator",
    }
    assert entries["mediator.disclosed"]["body"]["disclosure"] == "none"
    assert entries["mediation.started"]["actor"]["id"] == "system"
    rows = await LedgerEntry.count().where(LedgerEntry.case_ref == ref)
    assert rows == len(await chain(ref))
