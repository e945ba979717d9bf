"""What the dashboard counts is recorded where it happens: a case's outcome by the step
that reaches it (and undone by an overturned rejection), a missed deadline by the sweep
that finds it passed, each with its stage. Cases here are filed and moved through the
real app, as people do.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal.cases import deadlines
from portal.cases.sweep import sweep
from portal.cases.tables import Case, DeadlineReminder
from portal.procedure import case as states
from tests.dashboard.seeding import on_page
from tests.portal.test_case_room import open_case
from tests.portal.test_lifecycle_smoke import act

HOUR = timedelta(hours=1)


@pytest.fixture(autouse=True)
def clock():
    deadlines.reset_clock()
    yield
    deadlines.reset_clock()


async def shown(b) -> dict:
    response = await b.get("/staff/dashboard")
    assert response.status_code == 200, response.text
    return on_page(response.text)


def this_week() -> str:
    today = deadlines.now().date()
    return (today - timedelta(days=today.weekday())).isoformat()


async def test_an_outcome_counts_once_reached_and_not_once_overturned(people, browser):
    alice, ref = await open_case(people, browser)
    ada, sue = await browser(people["ada"]), await browser(people["sue"])
    assert (await shown(sue))["open-by-state"]["submitted"] == (1,)
    assert (await act(ada, ref, "start_review")).status_code == 303
    response = await act(ada, ref, "reject", reasons="Out of scope.", in_scope="no")
    assert response.status_code == 303, response.text
    figures = await shown(sue)
    assert figures["outcomes"]["rejected"] == (1,)
    assert figures["open-by-state"]["rejected"] == (1,)

    assert (await act(alice, ref, "appeal", reasons="It is in scope.")).status_code == 303
    assert (await shown(sue))["outcomes"]["rejected"] == (1,)  # the rejection stands, for now
    response = await act(sue, ref, "overturn_rejection", reasons="It is in scope.")
    assert response.status_code == 303, response.text
    figures = await shown(sue)
    assert figures["outcomes"]["rejected"] == (0,)
    assert figures["open-by-state"]["triage"] == (1,)
    assert (await Case.select(Case.outcome).where(Case.ref == ref).first())["outcome"] == ""

    assert (await act(alice, ref, "withdraw")).status_code == 303
    figures = await shown(sue)
    assert figures["outcomes"]["withdrawn"] == (1,)
    assert sum(count for (count,) in figures["open-by-state"].values()) == 0
    assert figures["weekly"][this_week()] == (1, 1)  # filed and withdrawn this week


async def test_a_missed_deadline_counts_for_its_stage_once(app, people, browser):
    await open_case(people, browser)  # submitted: a first look within 24 hours
    sue = await browser(people["sue"])
    deadlines.advance_clock(20 * HOUR)
    await sweep(app.state.keyring)  # "due soon": not a miss
    assert (await shown(sue))["missed-deadlines"]["submitted"] == (0,)
    deadlines.advance_clock(5 * HOUR)
    await sweep(app.state.keyring)
    await sweep(app.state.keyring)  # a second sweep finds it reminded already
    figures = await shown(sue)
    assert figures["missed-deadlines"]["submitted"] == (1,)
    assert sum(count for (count,) in figures["missed-deadlines"].values()) == 1
    rows = await DeadlineReminder.select(DeadlineReminder.kind, DeadlineReminder.stage)
    assert sorted((r["kind"], r["stage"]) for r in rows) == [
        ("due_soon", "submitted"), ("overdue", "submitted"),
    ]  # fmt: skip


@pytest.mark.parametrize("transition", states.CASE.actions, ids=lambda t: t.name)
def test_which_steps_set_which_outcome(transition):
    outcome = states.outcome_after(transition.name)
    if transition.name == "overturn_rejection":
        assert outcome == ""
    elif transition.name == "close_after_impasse":
        assert outcome == "impasse"
    elif transition.target in ("withdrawn", "resolved", "settled", "awarded", "rejected"):
        assert outcome == transition.target
    else:
        # Closing a resolved, settled or awarded case, or upholding a rejection, keeps
        # the outcome it had; every other step has none to give.
        assert outcome is None
