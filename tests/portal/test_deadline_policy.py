"""The deadline policy: supervisors set the hours of each stage per priority, on a page
that shows the defaults, refuses anything but whole hours from 1 to 2160 without saving
any of the form, and the next deadline set uses the new hours."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal.cases import deadlines
from portal.cases.tables import Case, DeadlinePolicy
from tests.portal.test_case_room import open_case


@pytest.fixture(autouse=True)
def clock():
    deadlines.reset_clock()
    yield
    deadlines.reset_clock()


async def test_the_supervisor_sees_every_stage_with_its_defaults(people, browser):
    sue = await browser(people["sue"])
    page = await sue.get("/staff/deadlines")
    assert page.status_code == 200
    assert 'href="/staff/deadlines"' in page.text  # in the supervisor's navigation
    # First review: 24 hours, or 4 for priority cases.
    assert 'name="submitted.standard" type="number"' in page.text
    assert 'value="24"' in page.text and "default 24" in page.text and "default 4" in page.text
    assert "In assessment" in page.text and "Investigator" in page.text
    # Set elsewhere, and said so: the asker's due date, and the 14 days to appeal.
    assert 'name="awaiting_info.standard"' not in page.text
    assert 'name="rejected.standard"' not in page.text
    assert "14 days to appeal" in page.text


async def test_only_supervisors_have_the_page(people, browser):
    for name in ("ada", "ivy", "sam", "alice", "lee", "mona"):
        b = await browser(people[name])
        assert (await b.get("/staff/deadlines")).status_code == 404, name
        refused = await b.post("/staff/deadlines", {"submitted.standard": "12"})
        assert refused.status_code == 404, name
        assert 'href="/staff/deadlines"' not in (await b.get("/account")).text
    assert await DeadlinePolicy.count() == 0


async def test_a_change_is_confirmed_and_the_next_case_gets_the_new_hours(people, browser):
    _alice, before = await open_case(people, browser)
    sue = await browser(people["sue"])

    response = await sue.post(
        "/staff/deadlines", {"submitted.standard": "12", "submitted.priority": "4"}
    )

    assert response.status_code == 200, response.text
    assert "The deadline policy is saved." in response.text
    assert "Submitted, standard: 24 → 12 hours" in response.text
    assert "Submitted, priority:" not in response.text  # unchanged, so not listed
    rows = await DeadlinePolicy.select(
        DeadlinePolicy.stage, DeadlinePolicy.priority, DeadlinePolicy.hours
    )
    assert rows == [{"stage": "submitted", "priority": "standard", "hours": 12}]
    assert (await deadlines.policy())[("submitted", "standard")] == 12
    assert 'value="12"' in response.text and "changed" in response.text

    _alice, after = await open_case(people, browser)
    new = await Case.select().where(Case.ref == after).first()
    assert new["deadline_at"] - new["filed_at"] == timedelta(hours=12)
    # A deadline already running keeps its time.
    old = await Case.select().where(Case.ref == before).first()
    assert old["deadline_at"] - old["filed_at"] == timedelta(hours=24)


async def test_changing_it_again_updates_the_same_row(people, browser):
    sue = await browser(people["sue"])
    await sue.post("/staff/deadlines", {"investigation.priority": "36"})
    again = await sue.post("/staff/deadlines", {"investigation.priority": "30"})
    assert "Under investigation, priority: 36 → 30 hours" in again.text
    rows = await DeadlinePolicy.select(DeadlinePolicy.stage, DeadlinePolicy.hours)
    assert rows == [{"stage": "investigation", "hours": 30}]
    same = await sue.post("/staff/deadlines", {"investigation.priority": "30"})
    assert same.status_code == 200 and "Nothing was changed" in same.text


@pytest.mark.parametrize("typed", ["0", "2161", "1.5", "-3", "twelve", "", "１２"])
async def test_anything_but_whole_hours_from_1_to_2160_is_refused_and_nothing_saved(
    people, browser, typed
):
    sue = await browser(people["sue"])
    response = await sue.post(
        "/staff/deadlines", {"triage.standard": "10", "assessment.priority": typed}
    )
    assert response.status_code == 400
    assert "Nothing was saved." in response.text
    assert "Enter a whole number of hours from 1 to 2160." in response.text
    assert 'aria-invalid="true" aria-describedby="e-assessment-priority"' in response.text
    # What was typed comes back, the valid field too, so nothing need be typed again.
    assert f'value="{typed}"' in response.text and 'value="10"' in response.text
    assert await DeadlinePolicy.count() == 0


async def test_the_longest_and_shortest_allowed(people, browser):
    sue = await browser(people["sue"])
    response = await sue.post(
        "/staff/deadlines", {"proposed.standard": "2160", "proposed.priority": " 1 "}
    )
    assert response.status_code == 200, response.text
    policy = await deadlines.policy()
    assert policy[("proposed", "standard")] == 2160 and policy[("proposed", "priority")] == 1
