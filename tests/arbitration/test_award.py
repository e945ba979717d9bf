"""The award through the real app (BRIEF "Arbitration"): drafted by the tribunal alone,
signed with the password again, issued by every arbitrator or a majority of three with
the dissent recorded; corrected only by addenda within 30 days; carried out by staff.

Before the issue, neither party can reach the tribunal's deliberations, the draft or a
dissent by any route: every page, fragment, receipt, proof entry, notification, email
and PDF they can ask for is searched for them.
"""

from __future__ import annotations

import hashlib
import subprocess
from datetime import timedelta

import pytest

from arbitration.tables import Award, AwardVote, Correction
from ledger.integrator import integrate
from portal.cases import deadlines
from portal.notifications.tables import Notification, OutboundMail
from tests.arbitration.test_proceedings import constituted, ok, page_text
from tests.mediation.test_journeys import everything_seen
from tests.portal.test_journeys import case_of, chain, step
from tests.portal.test_state_table import offered

DELIBERATION = "Between us: the feed lag alone seems decisive"
REASONS = "The liquidation used a mark price two seconds stale; the platform bears the loss."
COSTS = "The platform bears the costs of the arbitration, 300 USDT."
DISSENT = "I would have shared the loss: Alice traded at 50x leverage."
PAY = {"kind": "pay", "by": "platform", "to": "claimant", "amount": "100", "asset": "USDT"}


@pytest.fixture(autouse=True)
def clock():
    deadlines.reset_clock()
    yield
    deadlines.reset_clock()


def award_form(reasons: str = REASONS, costs: str = COSTS, **items: dict[str, str]):
    form = {"reasons": reasons, "costs": costs}
    for n, item in enumerate((items or {"pay": PAY}).values()):
        form.update({f"item-{n}-{key}": value for key, value in item.items()})
    return form


async def vote(b, ref: str, person, choice: str = "sign", dissent: str = ""):
    return await b.post(
        f"/cases/{ref}/tribunal/award/vote",
        {"vote": choice, "password": person.password, "dissent": dissent},
    )


def pdf_text(content: bytes) -> str:
    return subprocess.run(
        ["pdftotext", "-", "-"], input=content, capture_output=True, check=True
    ).stdout.decode()


async def parties_see(app, people, browser, ref: str) -> str:
    """Everything alice and bob can reach about the case, including the tribunal's routes."""
    await integrate(app.state.keyring, wait=True)  # so that proof.json holds every entry
    seen = []
    seqs = range(len(await chain(ref)) + 2)
    parties = [people["alice"].id, people["bob"].id]
    for name in ("alice", "bob"):
        b = await browser(people[name])
        seen.append(await everything_seen(b, people[name], ref, seqs, parties))
        for path in (
            f"/cases/{ref}?channel=tribunal",
            f"/cases/{ref}/statements?channel=tribunal",
            f"/cases/{ref}/tribunal/award.pdf",
        ):
            response = await b.get(path)
            if response.headers.get("content-type") == "application/pdf":
                seen.append(pdf_text(response.content))
            else:
                seen.append(page_text(response))
    return "\n".join(seen)


async def award_issued(app, people, browser, members: int = 1):
    """A case before a tribunal of `members`, whose award (REASONS, paying 100 USDT,
    COSTS) is issued: by ari alone, or by ari and aria with abel dissenting.
    Returns alice, bob, the arbitrators' browsers and the reference."""
    alice, bob, arbitrators, ref = await constituted(people, browser, members)
    await ok(await arbitrators[0].post(f"/cases/{ref}/tribunal/award", award_form()))
    names = ["ari", "aria", "abel"][:members]
    for n, (name, b) in enumerate(zip(names, arbitrators, strict=True)):
        if n == 2:
            await ok(await vote(b, ref, people[name], "dissent", DISSENT))
        else:
            await ok(await vote(b, ref, people[name]))
    assert (await case_of(ref))["state"] == "awarded"
    return alice, bob, arbitrators, ref


async def test_a_sole_arbitrator_drafts_signs_and_issues_the_award(app, people, browser):
    alice, bob, (ari,), ref = await constituted(people, browser)

    # The tribunal deliberates in its own channel.
    await ok(
        await ari.post(
            f"/cases/{ref}/statements", {"channel": "tribunal", "text": DELIBERATION}, htmx=True
        ),
        200,
    )
    # Only the tribunal drafts; a draft needs reasons, relief and costs.
    assert (await alice.post(f"/cases/{ref}/tribunal/award", award_form())).status_code == 403
    empty = await ari.post(f"/cases/{ref}/tribunal/award", {"reasons": "", "costs": ""})
    assert empty.status_code == 400
    text = page_text(empty)
    assert "Give the tribunal's reasons." in text
    assert "The award needs at least one item of relief." in text
    assert "Say who bears the costs, and how much." in text
    assert not await Award.exists()

    await ok(await ari.post(f"/cases/{ref}/tribunal/award", award_form()))
    award = await Award.select().first()
    assert award["status"] == "draft" and award["language"] == "en"
    assert REASONS in award["text"] and COSTS in award["text"]
    assert "1. The platform pays 100 USDT to Alice." in award["text"]
    assert award["sha256"] == hashlib.sha256(award["text"].encode()).hexdigest()
    drafted = [e for e in await chain(ref) if e["type"] == "award.drafted"]
    assert drafted[-1]["body"] == {"channel": "tribunal", "content_sha256": award["sha256"]}
    assert REASONS in page_text(await ari.get(f"/cases/{ref}"))

    # A sole arbitrator cannot dissent; a wrong password signs nothing.
    alone = await vote(ari, ref, people["ari"], "dissent", DISSENT)
    assert alone.status_code == 400 and "only a member of a tribunal of three" in page_text(alone)
    wrong = await ari.post(
        f"/cases/{ref}/tribunal/award/vote", {"vote": "sign", "password": "nope"}
    )
    assert wrong.status_code == 400 and "That is not your password." in page_text(wrong)
    assert (await ari.get(f"/cases/{ref}/tribunal/award.pdf")).status_code == 404
    assert not await AwardVote.exists()

    # Until the issue, the parties reach neither the deliberation nor the draft.
    seen = await parties_see(app, people, browser, ref)
    for secret in (DELIBERATION, REASONS, COSTS, "pays 100 USDT"):
        assert secret not in seen

    await ok(await vote(ari, ref, people["ari"]))
    award = await Award.select().first()
    assert award["status"] == "issued"
    case = await case_of(ref)
    assert case["state"] == "awarded"
    entries = await chain(ref)
    signed = [e for e in entries if e["type"] == "award.signed"]
    assert signed[0]["body"]["sha256"] == award["sha256"]
    assert signed[0]["body"]["channel"] == "tribunal"
    issued = next(e for e in entries if e["type"] == "award.issued")
    assert issued["body"]["sha256"] == award["sha256"]
    assert issued["body"]["text"] == award["text"] and issued["body"]["dissents"] == []
    moved = [e for e in entries if e["type"] == "case.transitioned"][-1]["body"]
    assert (moved["action"], moved["to"]) == ("issue_award", "awarded")
    assert issued["case_seq"] == award["case_seq"]

    # The parties are told: it is the binding outcome.
    for name in ("alice", "bob"):
        assert await Notification.exists().where(
            (Notification.user == people[name].id)
            & (Notification.kind == "arbitration_award_issued")
        )
        mails = await OutboundMail.select().where(OutboundMail.to_address == people[name].email)
        assert any("The award binds the parties" in m["body"] for m in mails)
    room = page_text(await bob.get(f"/cases/{ref}"))
    assert REASONS in room and "this award is the binding outcome of the case" in room
    seen = await parties_see(app, people, browser, ref)
    assert REASONS in seen and DELIBERATION not in seen  # the search finds what is shown

    # The award as a PDF, its download recorded.
    pdf = await alice.get(f"/cases/{ref}/tribunal/award.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = pdf_text(pdf.content)
    assert "The liquidation used a mark price two seconds stale" in text
    assert award["sha256"] in text.replace("\n", "")
    assert (await chain(ref))[-1]["type"] == "award.downloaded"

    # The tribunal's work is done: no more drafts or votes.
    assert (await ari.post(f"/cases/{ref}/tribunal/award", award_form())).status_code == 403
    assert (await vote(ari, ref, people["ari"])).status_code == 403

    # Staff carry out the relief, and the case closes.
    ada = await browser()
    await ada.log_in(people["ada"], code_offset=1)  # her code of now was used to review it
    assert "record_remedy" in offered((await ada.get(f"/cases/{ref}")).text)
    assert "record_remedy" not in offered((await alice.get(f"/cases/{ref}")).text)
    await step(ada, ref, "record_remedy", reference="TX-100-USDT")
    case = await case_of(ref)
    assert case["state"] == "closed" and case["remedy_reference"] == "TX-100-USDT"
    assert REASONS in page_text(await alice.get(f"/cases/{ref}"))  # still shown once closed


async def test_three_arbitrators_issue_by_majority_with_the_dissent_recorded(app, people, browser):
    alice, bob, (ari, aria, abel), ref = await constituted(people, browser, members=3)
    await ok(await ari.post(f"/cases/{ref}/tribunal/award", award_form()))
    await ok(await vote(ari, ref, people["ari"]))
    no_text = await vote(abel, ref, people["abel"], "dissent", "")
    assert no_text.status_code == 400 and "Write your dissenting opinion." in page_text(no_text)

    # A changed draft clears the votes given on the old text.
    changed = award_form(costs="Each side bears its own costs.")
    await ok(await aria.post(f"/cases/{ref}/tribunal/award", changed))
    assert not await AwardVote.exists()
    draft = await Award.select().first()
    assert "Each side bears its own costs." in draft["text"]
    assert (await Award.count()) == 1

    await ok(await vote(ari, ref, people["ari"]))
    await ok(await vote(abel, ref, people["abel"], "dissent", DISSENT))
    twice = await vote(abel, ref, people["abel"])
    assert twice.status_code == 409
    assert (await case_of(ref))["state"] == "arbitration"  # aria has not voted yet
    dissented = next(e for e in await chain(ref) if e["type"] == "award.dissented")["body"]
    assert dissented == {
        "channel": "tribunal",
        "award": draft["id"],
        "sha256": draft["sha256"],
        "content_sha256": hashlib.sha256(DISSENT.encode()).hexdigest(),
    }
    seen = await parties_see(app, people, browser, ref)
    for secret in (DISSENT, REASONS, "Each side bears its own costs."):
        assert secret not in seen
    assert DISSENT in page_text(await aria.get(f"/cases/{ref}"))  # the tribunal reads it

    # aria signs: two of three, with the third's dissent recorded, issue the award.
    await ok(await vote(aria, ref, people["aria"]))
    award = await Award.select().first()
    assert award["status"] == "issued" and award["sha256"] == draft["sha256"]
    assert (await case_of(ref))["state"] == "awarded"
    issued = next(e for e in await chain(ref) if e["type"] == "award.issued")["body"]
    assert issued["signed_by"] == [f"user:{people['ari'].id}", f"user:{people['aria'].id}"]
    assert issued["dissents"] == [
        {
            "by": f"user:{people['abel'].id}",
            "content_sha256": hashlib.sha256(DISSENT.encode()).hexdigest(),
            "text": DISSENT,
        }
    ]
    for b in (alice, bob):
        room = page_text(await b.get(f"/cases/{ref}"))
        assert DISSENT in room and "Dissenting opinion of Abel" in room
    text = pdf_text((await bob.get(f"/cases/{ref}/tribunal/award.pdf")).content)
    assert "Dissenting opinion of Abel" in text and "Alice traded at 50x leverage." in text


async def test_a_correction_within_30_days_is_an_addendum_and_one_after_is_refused(
    app, people, browser
):
    alice, bob, (ari,), ref = await award_issued(app, people, browser)
    before = await Award.select().first()
    ask = f"/cases/{ref}/tribunal/corrections"
    assert (await ari.post(ask, {"request": "x"})).status_code == 403
    empty = await bob.post(ask, {"request": ""})
    assert empty.status_code == 400 and "Say which error the award contains" in page_text(empty)

    deadlines.advance_clock(timedelta(days=20))
    await ok(await bob.post(ask, {"request": "The award names 100 USDT; the claim was 110."}))
    correction = await Correction.select().first()
    assert correction["status"] == "pending"
    answer = f"/cases/{ref}/tribunal/corrections/{correction['id']}/answer"
    assert (await alice.post(answer, {"decision": "correct"})).status_code == 403
    bare = await ari.post(answer, {"decision": "correct", "addendum": ""})
    assert bare.status_code == 400 and "Write the addendum" in page_text(bare)
    await ok(
        await ari.post(
            answer,
            {"decision": "correct", "addendum": "In item 1, read 110 USDT instead of 100 USDT."},
        )
    )
    after = await Award.select().first()
    assert after == before  # the award itself never changes
    correction = await Correction.select().first()
    assert correction["status"] == "corrected"
    assert "In item 1, read 110 USDT" in correction["addendum"]
    assert before["sha256"] in correction["addendum"]
    addendum = next(e for e in await chain(ref) if e["type"] == "award.addendum")["body"]
    assert addendum["award_sha256"] == before["sha256"]
    assert addendum["sha256"] == correction["addendum_sha256"]
    assert addendum["sha256"] == hashlib.sha256(addendum["text"].encode()).hexdigest()
    room = page_text(await alice.get(f"/cases/{ref}"))
    assert room.index(before["text"].splitlines()[0]) < room.index("Addendum no. 1")
    text = pdf_text((await alice.get(f"/cases/{ref}/tribunal/award.pdf")).content)
    assert "Addendum no. 1" in text and "read 110 USDT instead of 100 USDT" in text
    assert text.index("SHA-256 of the award text") < text.index("Addendum no. 1")
    assert (await ari.post(answer, {"decision": "refuse", "reasons": "x"})).status_code == 409

    # A request that is no clerical error is refused with reasons.
    await ok(await alice.post(ask, {"request": "I want 500 USDT."}))
    second = await Correction.select().order_by(Correction.id, ascending=False).first()
    no_reasons = await ari.post(
        f"/cases/{ref}/tribunal/corrections/{second['id']}/answer", {"decision": "refuse"}
    )
    assert no_reasons.status_code == 400
    await ok(
        await ari.post(
            f"/cases/{ref}/tribunal/corrections/{second['id']}/answer",
            {"decision": "refuse", "reasons": "That is no clerical error."},
        )
    )
    assert (await Correction.select().where(Correction.id == second["id"]).first())[
        "status"
    ] == "refused"

    # After 30 days from the issue, no correction may be asked.
    deadlines.advance_clock(timedelta(days=10, minutes=1))
    late = await bob.post(ask, {"request": "One more typo."})
    assert late.status_code == 403
    assert "The 30 days to ask for a correction ended on" in page_text(late)
    assert await Correction.count() == 2
    assert (await Award.select().first()) == before
