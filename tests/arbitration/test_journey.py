"""A sole-arbitrator case from the list to the award and its implementation, every step
through the real app over HTTP (BRIEF "Arbitration"): the parts tested one by one in
test_constitution, test_proceedings and test_award, here in one case, in order.
"""

from __future__ import annotations

import pytest

from arbitration.tables import Award, ProceduralOrder
from portal.cases import deadlines
from tests.arbitration.test_award import (
    DELIBERATION,
    DISSENT,
    REASONS,
    award_form,
    parties_see,
    pdf_text,
    vote,
)
from tests.arbitration.test_constitution import constituted_sole, in_arbitration
from tests.arbitration.test_proceedings import ok, page_text, timetable_form
from tests.portal.test_journeys import assert_steps, case_of, chain, step


@pytest.fixture(autouse=True)
def clock():
    deadlines.reset_clock()
    yield
    deadlines.reset_clock()


async def test_a_sole_arbitrator_case_from_the_list_to_the_award(app, people, browser):
    alice, ref = await in_arbitration(people, browser)
    browsers = await constituted_sole(people, browser, ref)
    ari, bob = browsers["ari"], browsers["bob"]
    assert (await case_of(ref))["next_step_by"] == "arbitrator"

    # The tribunal sets its timetable (order no. 1) and deliberates in private.
    await ok(await ari.post(f"/cases/{ref}/tribunal/timetable", timetable_form()))
    order = await ProceduralOrder.select().first()
    assert order["number"] == 1 and "Statement of claim" in order["text"]
    assert (await case_of(ref))["next_step_by"] == "claimant"
    await ok(
        await ari.post(
            f"/cases/{ref}/statements", {"channel": "tribunal", "text": DELIBERATION}, htmx=True
        ),
        200,
    )

    # The award: drafted, seen by nobody else, signed by password, then issued.
    await ok(await ari.post(f"/cases/{ref}/tribunal/award", award_form()))
    seen = await parties_see(app, people, browser, ref)
    assert DELIBERATION not in seen and REASONS not in seen
    wrong = await ari.post(f"/cases/{ref}/tribunal/award/vote", {"vote": "sign", "password": "x"})
    assert wrong.status_code == 400
    assert (await case_of(ref))["state"] == "arbitration"
    await ok(await vote(ari, ref, people["ari"]))
    assert (await case_of(ref))["state"] == "awarded"
    award = await Award.select().first()
    entries = await chain(ref)
    signed = [e for e in entries if e["type"] == "award.signed"]
    assert [e["body"]["sha256"] for e in signed] == [award["sha256"]]
    issued = next(e for e in entries if e["type"] == "award.issued")
    assert issued["body"]["sha256"] == award["sha256"]

    # The parties read the award, and download it as a PDF; the deliberation stays private.
    room = page_text(await alice.get(f"/cases/{ref}"))
    assert REASONS in room
    pdf = await bob.get(f"/cases/{ref}/tribunal/award.pdf")
    assert pdf.status_code == 200 and REASONS in pdf_text(pdf.content).replace("\n", " ")
    seen = await parties_see(app, people, browser, ref)
    assert DELIBERATION not in seen and DISSENT not in seen

    # Staff carry out the relief, and the case closes.
    await step(browsers["sue"], ref, "record_remedy", reference="TX-100-USDT")
    await assert_steps(
        ref,
        *[(a, f, t, {}) for a, f, t in (
            ("start_review", "submitted", "triage"), ("accept", "triage", "investigation"),
            ("hand_over", "investigation", "assessment"), ("propose", "assessment", "proposed"),
            ("request_arbitration", "proposed", "arbitration"),
            ("issue_award", "arbitration", "awarded"), ("record_remedy", "awarded", "closed"),
        )],
    )  # fmt: skip
    types = [e["type"] for e in await chain(ref)]
    for expected in ("arbitration.started", "arbitration.list_sent", "arbitration.list_answered",
                     "arbitration.list_closed", "arbitrator.invited", "arbitrator.disclosed",
                     "arbitrator.appointed", "tribunal.constituted", "order.issued",
                     "award.drafted", "award.signed", "award.issued"):  # fmt: skip
        assert expected in types, expected
