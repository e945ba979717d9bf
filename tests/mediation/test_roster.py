"""The roster of neutrals, and the agreement drawn up in the case's own language."""

from __future__ import annotations

from mediation.tables import NeutralProfile, Offer, Settlement
from portal.cases.tables import Case
from tests.mediation.test_journeys import (
    PAY_70,
    appointed,
    in_mediation,
    offer_form,
    ok,
    page_text,
    propose,
    put_on_roster,
)


async def test_a_mediator_keeps_their_own_profile_and_nobody_elses(people, browser):
    mona = await browser(people["mona"])
    page = page_text(await ok(await mona.get("/account/roster-profile"), 200))
    assert "Your roster profile" in page
    missing = await mona.post("/account/roster-profile", {"languages": "", "expertise": ""})
    assert missing.status_code == 400 and "Name the languages" in page_text(missing)
    assert not await NeutralProfile.exists()
    saved = await mona.post(
        "/account/roster-profile",
        {
            "languages": "English, 中文",
            "expertise": "Custody",
            "jurisdiction": "Singapore",
            "on_roster": "",
        },
    )
    assert saved.status_code == 200 and "Your profile is saved." in page_text(saved)
    row = await NeutralProfile.select().first()
    assert (row["user"], row["jurisdiction"], row["on_roster"]) == (
        people["mona"].id,
        "Singapore",
        True,
    )  # fmt: skip  (only supervisors take people off)
    sue = await browser(people["sue"])
    roster = page_text(await sue.get("/staff/roster"))
    assert "Custody" in roster and "Singapore" in roster
    # Only neutrals have a roster profile; only supervisors edit anyone's.
    alice = await browser(people["alice"])
    assert (await alice.get("/account/roster-profile")).status_code == 404
    assert (await mona.get(f"/staff/roster/{people['mona'].id}")).status_code == 404
    assert (await sue.get(f"/staff/roster/{people['alice'].id}")).status_code == 404


async def test_someone_off_the_roster_cannot_be_proposed(people, browser):
    _alice, _ada, ref = await in_mediation(people, browser)
    sue = await browser(people["sue"])
    await put_on_roster(sue, people["mona"], on_roster="")
    room = page_text(await sue.get(f"/cases/{ref}"))
    assert "Mona —" not in room and "No mediator is on the roster" in room
    refused = await propose(sue, ref, people["mona"])
    assert refused.status_code == 400 and "Choose a mediator from the roster." in page_text(refused)
    await put_on_roster(sue, people["mona"])
    await ok(await propose(sue, ref, people["mona"]))


async def test_the_agreement_is_in_the_case_language_whoever_reads_it(people, browser):
    alice, _ada, ref = await in_mediation(people, browser)
    await Case.update({Case.language: "zh_Hans"}).where(Case.ref == ref)
    _sue, mona = await appointed(people, browser, ref)
    bob = await browser(people["bob"])
    await ok(await mona.post(f"/cases/{ref}/mediation/offers", offer_form(pay=PAY_70)))
    offer = await Offer.select(Offer.id).first()
    for b in (alice, bob):
        await ok(
            await b.post(
                f"/cases/{ref}/mediation/offers/{offer['id']}/answer", {"answer": "accept"}
            )
        )
    settlement = await Settlement.select().first()
    assert settlement["language"] == "zh_Hans"
    assert "1. Bob向Alice支付70 USDT。" in settlement["text"]
    assert "在调解员Mona的协助下订立" in settlement["text"]
    assert "pays" not in settlement["text"]
    # alice reads English pages; the agreement is shown as it was drawn up, in Chinese.
    room = page_text(await alice.get(f"/cases/{ref}"))
    assert "Settlement agreement" in room and "Bob向Alice支付70 USDT。" in room
