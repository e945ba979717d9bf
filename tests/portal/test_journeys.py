"""The life of a case through the real app, one journey per path (BRIEF "The life of a case").

Each journey is taken over HTTP by the people it names, on each database, and ends by
reading the case's chain in the ledger: the `case.transitioned` entries hold every step
in order, with the reasons given. (The `app` fixture then verifies the whole ledger.)
Time passes on the portal's own clock (`deadlines.advance_clock`), never by sleeping.
"""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime, timedelta

import pytest

from ledger.tables import LedgerEntry
from portal.cases import deadlines
from portal.cases.categories import state_label
from portal.cases.tables import Case, CaseParticipant, Proposal, Survey
from portal.notifications.tables import Notification, OutboundMail
from portal.procedure import case as states
from portal.procedure import roles
from tests.people import make_person
from tests.portal.conftest import SECRET
from tests.portal.test_case_room import join, open_case
from tests.portal.test_state_table import offered


@pytest.fixture(autouse=True)
def clock():
    deadlines.reset_clock()
    yield
    deadlines.reset_clock()


async def act(b, ref: str, action: str, **form: str):
    return await b.post(f"/cases/{ref}/actions/{action}", form)


async def step(b, ref: str, action: str, **form: str) -> None:
    response = await act(b, ref, action, **form)
    assert response.status_code == 303, (action, html.unescape(response.text)[-1500:])


async def refused(b, ref: str, action: str, message: str, **form: str) -> None:
    response = await act(b, ref, action, **form)
    assert response.status_code == 403, (action, response.status_code)
    assert message in html.unescape(response.text)


async def case_of(ref: str) -> dict:
    return await Case.select().where(Case.ref == ref).first()


async def chain(ref: str) -> list[dict]:
    """The case's ledger entries, decoded, in chain order (case_seq with no gaps)."""
    rows = (
        await LedgerEntry.select(LedgerEntry.case_seq, LedgerEntry.entry)
        .where(LedgerEntry.case_ref == ref)
        .order_by(LedgerEntry.case_seq)
    )
    entries = [json.loads(bytes(row["entry"])) for row in rows]
    assert [e["case_seq"] for e in entries] == [row["case_seq"] for row in rows]
    first = entries[0]["case_seq"]
    assert [e["case_seq"] for e in entries] == list(range(first, first + len(entries)))
    assert all(e["case"] == ref for e in entries)
    return entries


async def assert_steps(ref: str, *expected: tuple[str, str, str, dict]) -> list[dict]:
    """The case's transitions are exactly `expected` (action, from, to, body fields), in
    order; returns the whole chain."""
    entries = await chain(ref)
    moves = [e["body"] for e in entries if e["type"] == "case.transitioned"]
    assert [(m["action"], m["from"], m["to"]) for m in moves] == [e[:3] for e in expected]
    for move, (_action, _from, _to, fields) in zip(moves, expected, strict=True):
        assert {k: move.get(k) for k in fields} == fields, move
    return entries


async def told_next_step_is_theirs(person, ref: str, state: str) -> bool:
    """`person` got a `case_moved` notification for `state`, and the mail says it is theirs."""
    subject = f"Case {ref}: {state_label(state)}"
    note = await Notification.exists().where(
        (Notification.user == person.id)
        & (Notification.kind == "case_moved")
        & (Notification.message == subject)
    )
    mails = await OutboundMail.select(OutboundMail.body).where(
        (OutboundMail.to_address == person.email) & (OutboundMail.subject == subject)
    )
    return note and any("The next step is yours" in m["body"] for m in mails)


async def on_case(ref: str, person, role: str) -> bool:
    case = await case_of(ref)
    return await CaseParticipant.exists().where(
        (CaseParticipant.case == case["id"])
        & (CaseParticipant.user == person.id)
        & (CaseParticipant.role == role)
    )


REFUND = {
    "findings": "The mark price lagged the index by two seconds.",
    "responsibility": "platform",
    "remedy": "refund",
    "amount": "100",
    "asset": "usdt",
}


async def to_proposed(people, browser, **filing):
    """Filed by alice against bob, reviewed and accepted by ada, investigated by ivy,
    proposed by sam: the common first half of several journeys."""
    alice, ref = await open_case(people, browser, respondent_email="bob@example.com", **filing)
    ada, ivy, sam = [await browser(people[n]) for n in ("ada", "ivy", "sam")]
    await step(ada, ref, "start_review")
    await step(ada, ref, "accept", severity="high", category="liquidation", in_scope="yes")
    await step(ivy, ref, "hand_over", summary="The feed lagged; the liquidation used it.")
    await step(sam, ref, "propose", **REFUND)
    return alice, ada, ivy, sam, ref


FIRST_HALF = (
    ("start_review", "submitted", "triage", {}),
    ("accept", "triage", "investigation", {"severity": "high", "in_scope": True}),
    ("hand_over", "investigation", "assessment",
     {"summary": "The feed lagged; the liquidation used it."}),
    ("propose", "assessment", "proposed", {"remedy": "refund", "amount": "100", "asset": "USDT"}),
)  # fmt: skip


async def test_an_accepted_first_proposal_is_carried_out_closed_and_rated(people, browser):
    alice, ref = await open_case(people, browser, respondent_email="bob@example.com")
    ada, ivy, sam = [await browser(people[n]) for n in ("ada", "ivy", "sam")]

    await step(ada, ref, "start_review")
    await step(ada, ref, "accept", severity="high", category="liquidation", in_scope="yes")
    case = await case_of(ref)
    assert case["priority"] == "priority" and case["next_step_by"] == roles.INVESTIGATOR
    # The only investigator is put on the case and told the next step is hers.
    assert await on_case(ref, people["ivy"], roles.INVESTIGATOR)
    assert await told_next_step_is_theirs(people["ivy"], ref, "investigation")

    await step(ivy, ref, "hand_over", summary="The feed lagged; the liquidation used it.")
    assert await on_case(ref, people["sam"], roles.ASSESSOR)
    assert await told_next_step_is_theirs(people["sam"], ref, "assessment")
    assert not await told_next_step_is_theirs(people["ivy"], ref, "assessment")

    await step(sam, ref, "propose", **REFUND)
    assert await told_next_step_is_theirs(people["alice"], ref, "proposed")
    room = await alice.get(f"/cases/{ref}")
    assert "The mark price lagged the index by two seconds." in room.text
    assert set(offered(room.text)) == {
        "accept_proposal", "object", "request_mediation", "request_arbitration", "withdraw"
    }  # fmt: skip

    await step(alice, ref, "accept_proposal", reasons="Fair, thank you.")
    assert (await case_of(ref))["state"] == "resolved"
    assert await told_next_step_is_theirs(people["ada"], ref, "resolved")
    await step(ada, ref, "record_remedy", reference="TX-4471")
    case = await case_of(ref)
    assert case["state"] == "closed" and case["remedy_reference"] == "TX-4471"
    assert case["deadline_at"] is None and case["next_step_by"] == ""

    response = await alice.post(f"/cases/{ref}/survey", {"score": "4", "comment": "Quick."})
    assert response.status_code == 303
    survey = await Survey.select().first()
    assert (survey["case"], survey["score"], survey["comment"]) == (case["id"], 4, "Quick.")
    room = await alice.get(f"/cases/{ref}")
    assert "Thank you for your answer (4 of 5)." in room.text and offered(room.text) == {}
    again = await alice.post(f"/cases/{ref}/survey", {"score": "1"})
    assert again.status_code == 409 and "answered the survey already" in html.unescape(again.text)

    entries = await assert_steps(
        ref,
        *FIRST_HALF,
        ("accept_proposal", "proposed", "resolved", {"reasons": "Fair, thank you."}),
        ("record_remedy", "resolved", "closed", {"reference": "TX-4471"}),
    )
    assert entries[-1]["type"] == "survey.answered"
    assert entries[-1]["body"] == {"score": 4, "comment": "Quick."}


async def test_an_objection_with_new_evidence_is_reconsidered_by_another_assessor(people, browser):
    alice, _ada, _ivy, sam, ref = await to_proposed(people, browser)
    await step(alice, ref, "object", reasons="The refund leaves out the trading fees.")
    upload = await alice.post(
        f"/cases/{ref}/evidence",
        {"channel": "all"},
        files=[("files", ("fees.txt", b"Fees paid: 30 USDT", "text/plain"))],
    )
    assert upload.status_code == 303, upload.text[-500:]
    assert await told_next_step_is_theirs(people["sam"], ref, "objected")

    # Sam wrote the proposal: the room does not offer him the reconsideration, nor may he.
    assert "reconsider" not in offered((await sam.get(f"/cases/{ref}")).text)
    await refused(
        sam,
        ref,
        "reconsider",
        "You wrote the proposal objected to; a different assessor must reconsider it.",
    )

    sol = await make_person("sol", roles.ASSESSOR, SECRET)
    sue = await browser(people["sue"])
    response = await sue.post(f"/cases/{ref}/participants",
                              {"email": sol.email, "role": roles.ASSESSOR})  # fmt: skip
    assert response.status_code == 303, response.text[-500:]
    sol_b = await browser(sol)
    assert "reconsider" in offered((await sol_b.get(f"/cases/{ref}")).text)
    await step(sol_b, ref, "reconsider", reasons="Checking the fees.")
    assert (await case_of(ref))["reconsidered_by"] == sol.id
    await refused(
        sam, ref, "revise_proposal", "Another assessor is reconsidering this proposal.", **REFUND
    )
    await step(sol_b, ref, "revise_proposal", findings="The fees were lost too.",
               responsibility="platform", remedy="refund", amount="130", asset="USDT")  # fmt: skip
    case = await case_of(ref)
    assert case["state"] == "proposed" and case["proposal_author"] == sol.id
    proposals = await Proposal.select().order_by(Proposal.id)
    assert [(p["author"], p["amount"]) for p in proposals] == [
        (people["sam"].id, "100"), (sol.id, "130")]  # fmt: skip
    assert "130 USDT" in (await alice.get(f"/cases/{ref}")).text

    await step(alice, ref, "accept_proposal")
    assert (await case_of(ref))["state"] == "resolved"

    entries = await assert_steps(
        ref,
        *FIRST_HALF,
        ("object", "proposed", "objected", {"reasons": "The refund leaves out the trading fees."}),
        ("reconsider", "objected", "reconsideration", {"reasons": "Checking the fees."}),
        ("revise_proposal", "reconsideration", "proposed",
         {"findings": "The fees were lost too.", "amount": "130"}),
        ("accept_proposal", "proposed", "resolved", {}),
    )  # fmt: skip
    # The new evidence sits in the chain between the objection and its reconsideration.
    types = [(e["type"], e["body"].get("action")) for e in entries]
    objection = types.index(("case.transitioned", "object"))
    reconsidered = types.index(("case.transitioned", "reconsider"))
    evidence = [i for i, (t, _a) in enumerate(types) if t == "evidence.added"]
    assert len(evidence) == 1 and objection < evidence[0] < reconsidered
    assert entries[evidence[0]]["body"]["files"][0]["name"] == "fees.txt"
    added = [i for i, e in enumerate(entries) if e["type"] == "participant.added"
             and e["body"] == {"user": f"user:{sol.id}", "role": roles.ASSESSOR}]  # fmt: skip
    assert len(added) == 1 and objection < added[0] < reconsidered


async def rejected_case(people, browser) -> tuple:
    alice, ref = await open_case(people, browser)
    ada = await browser(people["ada"])
    await step(ada, ref, "start_review")
    await step(ada, ref, "reject", in_scope="no", reasons="A spot trade, not a liquidation.")
    return alice, ref


REJECTION = (
    ("start_review", "submitted", "triage", {}),
    ("reject", "triage", "rejected",
     {"reasons": "A spot trade, not a liquidation.", "in_scope": False}),
)  # fmt: skip


async def test_a_rejection_appealed_in_time_and_overturned_returns_to_first_review(people, browser):
    alice, ref = await rejected_case(people, browser)
    assert await told_next_step_is_theirs(people["alice"], ref, "rejected")
    deadlines.advance_clock(timedelta(days=13, hours=23))
    await step(alice, ref, "appeal", reasons="It was a futures position.")
    sue = await browser(people["sue"])
    assert await told_next_step_is_theirs(people["sue"], ref, "appealed")
    assert set(offered((await sue.get(f"/cases/{ref}")).text)) >= {
        "uphold_rejection", "overturn_rejection"}  # fmt: skip
    await refused(
        alice,
        ref,
        "overturn_rejection",
        "Your role on this case cannot “Overturn the rejection”.",
        reasons="Please.",
    )
    await step(sue, ref, "overturn_rejection", reasons="Futures positions are in scope.")
    case = await case_of(ref)
    assert case["state"] == "triage" and case["next_step_by"] == roles.AGENT
    assert await told_next_step_is_theirs(people["ada"], ref, "triage")
    await assert_steps(
        ref,
        *REJECTION,
        ("appeal", "rejected", "appealed", {"reasons": "It was a futures position."}),
        ("overturn_rejection", "appealed", "triage",
         {"reasons": "Futures positions are in scope."}),
    )  # fmt: skip


async def test_a_rejection_upheld_on_appeal_closes_the_case(people, browser):
    alice, ref = await rejected_case(people, browser)
    await step(alice, ref, "appeal", reasons="It was a futures position.")
    sue = await browser(people["sue"])
    await step(sue, ref, "uphold_rejection", reasons="The order book shows a spot trade.")
    case = await case_of(ref)
    assert case["state"] == "closed" and case["deadline_at"] is None
    assert offered((await alice.get(f"/cases/{ref}")).text) == {}
    await assert_steps(
        ref,
        *REJECTION,
        ("appeal", "rejected", "appealed", {"reasons": "It was a futures position."}),
        ("uphold_rejection", "appealed", "closed",
         {"reasons": "The order book shows a spot trade."}),
    )  # fmt: skip


async def test_an_appeal_after_the_14_days_is_refused(people, browser):
    alice, ref = await rejected_case(people, browser)
    decided = (await case_of(ref))["state_since"]
    deadlines.advance_clock(timedelta(days=15))
    assert "appeal" not in offered((await alice.get(f"/cases/{ref}")).text)
    last_day = (decided + timedelta(days=14)).strftime("%Y-%m-%d")
    await refused(alice, ref, "appeal", f"The 14 days to appeal ended on {last_day}.",
                  reasons="I was away.")  # fmt: skip
    assert (await case_of(ref))["state"] == "rejected"
    await assert_steps(ref, *REJECTION)


def utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def test_waiting_for_information_pauses_the_clock_and_the_answer_resumes_it(people, browser):
    alice, ref = await open_case(people, browser)
    ada = await browser(people["ada"])
    await step(ada, ref, "start_review")
    reviewing = await case_of(ref)
    triage_deadline = utc(reviewing["deadline_at"])
    assert triage_deadline == utc(reviewing["state_since"]) + timedelta(hours=24)

    deadlines.advance_clock(timedelta(hours=3))
    due = (deadlines.now() + timedelta(days=5)).date()
    await step(ada, ref, "request_info", questions="Which order was it?",
               due_date=due.isoformat())  # fmt: skip
    waiting = await case_of(ref)
    asked_at = utc(waiting["state_since"])
    assert waiting["state"] == "awaiting_info" and waiting["next_step_by"] == roles.CLAIMANT
    assert utc(waiting["deadline_at"]) == datetime(due.year, due.month, due.day, 23, 59,
                                                   tzinfo=UTC)  # fmt: skip
    # What was left of first review is kept: the 21 hours (less the moments the test took).
    assert waiting["paused_remaining"] == int((triage_deadline - asked_at).total_seconds())
    assert timedelta(hours=20, minutes=59) < timedelta(seconds=waiting["paused_remaining"])
    assert await told_next_step_is_theirs(people["alice"], ref, "awaiting_info")
    room = await alice.get(f"/cases/{ref}")
    assert "Which order was it?" in room.text and "answer_info" in offered(room.text)

    deadlines.advance_clock(timedelta(hours=2))
    await step(alice, ref, "answer_info", answer="ORD-1002, at 14:02.")
    answered = await case_of(ref)
    answered_at = utc(answered["state_since"])
    assert answered["state"] == "triage" and answered["next_step_by"] == roles.AGENT
    assert answered["paused_remaining"] is None
    # Exactly the time that was left, from the moment of the answer ...
    resumed = utc(answered["deadline_at"])
    assert resumed == answered_at + timedelta(seconds=waiting["paused_remaining"])
    # ... so the first review's deadline moved by the two hours spent waiting (the time left
    # is kept in whole seconds, so up to one less).
    moved = resumed - triage_deadline
    assert timedelta(hours=2, seconds=-1) < moved < timedelta(hours=2, seconds=5)
    assert await told_next_step_is_theirs(people["ada"], ref, "triage")

    await assert_steps(
        ref,
        ("start_review", "submitted", "triage", {}),
        ("request_info", "triage", "awaiting_info", {"questions": "Which order was it?"}),
        ("answer_info", "awaiting_info", "triage", {"answer": "ORD-1002, at 14:02."}),
    )


async def test_the_claimant_withdraws_and_nothing_is_left_to_do(people, browser):
    alice, ref = await open_case(people, browser, respondent_email="bob@example.com")
    ada, ivy = await browser(people["ada"]), await browser(people["ivy"])
    await step(ada, ref, "start_review")
    await step(ada, ref, "accept", severity="low", category="liquidation", in_scope="yes")
    await refused(ada, ref, "withdraw", "Your role on this case cannot “Withdraw the case”.",
                  reasons="Not mine to withdraw.")  # fmt: skip
    await step(alice, ref, "withdraw", reasons="Support refunded me directly.")
    case = await case_of(ref)
    assert case["state"] == "withdrawn"
    assert case["deadline_at"] is None and case["next_step_by"] == ""
    bob, sue = await browser(people["bob"]), await browser(people["sue"])
    for b in (alice, bob, ada, ivy, sue):
        room = await b.get(f"/cases/{ref}")
        assert room.status_code == 200 and offered(room.text) == {}
    for b, action in ((ivy, "hand_over"), (alice, "withdraw"), (alice, "appeal")):
        message = (f"“{states.declared(action).label}” is not possible at this stage of the "
                   "case (Withdrawn).")  # fmt: skip
        await refused(b, ref, action, message, summary="x", reasons="x")
    await assert_steps(
        ref,
        ("start_review", "submitted", "triage", {}),
        ("accept", "triage", "investigation", {"severity": "low"}),
        ("withdraw", "investigation", "withdrawn", {"reasons": "Support refunded me directly."}),
    )


async def test_an_investigator_who_is_also_the_assessor_cannot_propose(people, browser):
    _alice, ref = await open_case(people, browser)
    ada, ivy = await browser(people["ada"]), await browser(people["ivy"])
    await step(ada, ref, "start_review")
    await step(ada, ref, "accept", severity="medium", category="liquidation", in_scope="yes")
    await join(ref, people["ivy"], roles.ASSESSOR)
    await step(ivy, ref, "hand_over", summary="Nothing unusual in the order book.")
    assert "propose" not in offered((await ivy.get(f"/cases/{ref}")).text)
    await refused(
        ivy, ref, "propose", "You investigated this case, so someone else must assess it.", **REFUND
    )
    assert (await case_of(ref))["state"] == "assessment"

    sue = await browser(people["sue"])
    response = await sue.post(f"/cases/{ref}/participants",
                              {"email": people["sam"].email, "role": roles.ASSESSOR})  # fmt: skip
    assert response.status_code == 303, response.text[-500:]
    sam = await browser(people["sam"])
    await step(sam, ref, "propose", **REFUND)
    await assert_steps(
        ref,
        ("start_review", "submitted", "triage", {}),
        ("accept", "triage", "investigation", {}),
        ("hand_over", "investigation", "assessment", {}),
        ("propose", "assessment", "proposed", {}),
    )
    entries = await chain(ref)
    proposed = next(e for e in entries if e["body"].get("action") == "propose")
    assert proposed["actor"] == {"id": f"user:{people['sam'].id}", "role": roles.ASSESSOR}


async def test_a_step_with_a_mistake_in_its_form_changes_nothing_and_says_what_to_fix(
    people, browser
):
    _alice, ref = await open_case(people, browser)
    ada = await browser(people["ada"])
    await step(ada, ref, "start_review")
    before = len(await chain(ref))
    too_late = (deadlines.now() + timedelta(days=90)).date().isoformat()
    response = await act(ada, ref, "request_info", questions="Which order?", due_date=too_late)
    assert response.status_code == 400 and "Give at most 60 days." in response.text
    assert "Which order?" in response.text  # what was typed is kept
    response = await act(ada, ref, "reject", reasons="  ")
    assert response.status_code == 400 and "Give your reasons." in response.text
    assert (await case_of(ref))["state"] == "triage"
    assert len(await chain(ref)) == before
