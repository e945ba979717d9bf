"""A first walk through the life of a case over HTTP (the full journeys live beside it)."""

from __future__ import annotations

from datetime import date, timedelta

from portal.cases.tables import Case
from tests.portal.test_case_room import open_case


async def act(b, ref, action, **form):
    return await b.post(f"/cases/{ref}/actions/{action}", form)


async def test_accepted_first_proposal(people, browser):
    alice, ref = await open_case(people, browser)
    ada = await browser(people["ada"])
    room = await ada.get(f"/cases/{ref}")
    assert "Start first review" in room.text and "Accept for investigation" not in room.text
    assert (await act(ada, ref, "start_review")).status_code == 303
    r = await act(ada, ref, "accept", severity="high", category="liquidation", in_scope="yes")
    assert r.status_code == 303, r.text
    ivy = await browser(people["ivy"])
    r = await act(ivy, ref, "hand_over", summary="Mark price lagged.")
    assert r.status_code == 303, r.text
    sam = await browser(people["sam"])
    r = await act(
        sam,
        ref,
        "propose",
        findings="The feed lagged.",
        responsibility="platform",
        remedy="refund",
        amount="100",
        asset="usdt",
    )
    assert r.status_code == 303, r.text
    r = await act(alice, ref, "accept_proposal")
    assert r.status_code == 303, r.text
    r = await act(ada, ref, "record_remedy", reference="TX-1")
    assert r.status_code == 303, r.text
    case = await Case.select().first()
    assert case["state"] == "closed" and case["remedy_reference"] == "TX-1"
    r = await alice.post(f"/cases/{ref}/survey", {"score": "5", "comment": "Quick"})
    assert r.status_code == 303
    refused = await act(alice, ref, "withdraw")
    assert refused.status_code == 403


async def test_awaiting_info(people, browser):
    alice, ref = await open_case(people, browser)
    ada = await browser(people["ada"])
    await act(ada, ref, "start_review")
    due = (date.today() + timedelta(days=5)).isoformat()
    r = await act(ada, ref, "request_info", questions="Which order?", due_date=due)
    assert r.status_code == 303, r.text
    room = await alice.get(f"/cases/{ref}")
    assert "Which order?" in room.text and "Send your answer" in room.text
    r = await act(alice, ref, "answer_info", answer="ORD-1")
    assert r.status_code == 303
    assert (await Case.select(Case.state).first())["state"] == "triage"
