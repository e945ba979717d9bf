"""The staff work queue: each role's cases, priority first then by deadline, flagged when
near or past it, filtered, paged, and assigned from by supervisors.

Cases are made directly in the tables by `a_case` (the queue reads them as they stand,
however they got there); the assignment is made through the page, as a supervisor does.
"""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime, timedelta

import pytest

from ledger.tables import LedgerEntry
from portal.accounts.tables import User
from portal.cases import deadlines
from portal.cases.tables import Case, CaseParticipant
from portal.notifications.tables import Notification
from tests.people import make_person
from tests.portal.conftest import SECRET
from tests.portal.test_room_queries import QueryCounter

ROW = re.compile(r'<tr id="case-(DR-[0-9-]+)"')
NEXT = re.compile(r'href="(/staff/queue\?[^"]*after=[^"]*)" rel="next"')
_numbers = itertools.count(1)


async def a_case(
    state: str,
    *,
    priority: str = "standard",
    due: timedelta | None = timedelta(days=3),
    category: str = "liquidation",
    staff: tuple = (),
) -> str:
    """A case in `state`, its deadline `due` from now (None: no deadline), with `staff`
    as (person or user ID, role) pairs on it."""
    at = deadlines.now()
    ref = f"DR-2099-{next(_numbers):06d}"
    rows = await Case.insert(
        Case(
            ref=ref,
            state=state,
            category=category,
            priority=priority,
            deadline_at=None if due is None else at + due,
            next_step_by=deadlines.OWNER.get(state, ""),
            contested_resolution="The platform refused a refund.",
            what_happened="A liquidation at the wrong price.",
            remedy_wanted="A refund.",
            happened_on=at.date(),
            state_since=at,
            filed_at=at,
            updated_at=at,
        )
    ).returning(Case.id)
    for who, role in staff:
        user_id = who if isinstance(who, int) else who.id
        await CaseParticipant.insert(
            CaseParticipant(case=rows[0]["id"], user=user_id, role=role, added_at=at)
        )
    return ref


async def another(role: str, name: str) -> int:
    """A colleague who never logs in here, only holds cases."""
    rows = await User.insert(
        User(email=f"{name}@example.com", name=name.title(), role=role, created_at=deadlines.now())
    ).returning(User.id)
    return rows[0]["id"]


async def queue(b, **params: str) -> list[str]:
    response = await b.get("/staff/queue", params=params)
    assert response.status_code == 200, response.text
    return ROW.findall(response.text)


def row_of(html: str, ref: str) -> str:
    """The case's row, its whitespace collapsed."""
    start = html.index(f'<tr id="case-{ref}"')
    return " ".join(html[start : html.index("</tr>", start)].split())


async def test_each_role_sees_its_own_cases_and_the_unassigned(people, browser):
    ada, ivy, sam = people["ada"], people["ivy"], people["sam"]
    agent, investigator, assessor = (
        await another("agent", "ann"),
        await another("investigator", "ian"),
        await another("assessor", "sal"),
    )
    mine_submitted = await a_case("submitted", staff=((ada, "agent"),))
    nobodys_triage = await a_case("triage")
    waiting_on_claimant = await a_case("awaiting_info", staff=((ada, "agent"),))
    anns = await a_case("triage", staff=((agent, "agent"),))
    ivys = await a_case("investigation", staff=((ivy, "investigator"), (ada, "agent")))
    unassigned_investigation = await a_case("investigation", staff=((ada, "agent"),))
    ians = await a_case("investigation", staff=((investigator, "investigator"),))
    sams = await a_case("assessment", staff=((sam, "assessor"),))
    objected = await a_case("objected", staff=((ivy, "investigator"),))
    sals = await a_case("reconsideration", staff=((assessor, "assessor"),))
    proposed = await a_case("proposed", staff=((sam, "assessor"),))
    closed = await a_case("closed", due=None, staff=((ada, "agent"),))

    # A code works once: one browser per person, logged in once.
    b = {name: await browser(people[name]) for name in ("ada", "ivy", "sam", "sue")}
    got = {name: set(await queue(b[name])) for name in ("ada", "ivy", "sam")}
    assert got["ada"] == {mine_submitted, nobodys_triage, waiting_on_claimant}
    assert got["ivy"] == {ivys, unassigned_investigation}
    assert got["sam"] == {sams, objected}
    everything_open = set(await queue(b["sue"], tab="open"))
    assert everything_open == {
        mine_submitted, nobodys_triage, waiting_on_claimant, anns, ivys,
        unassigned_investigation, ians, sams, objected, sals, proposed,
    }  # fmt: skip
    assert closed not in everything_open

    # Each row says who owes the next step: the person holding that role, or nobody yet.
    page = (await b["ivy"].get("/staff/queue")).text
    assert "Investigator: Ivy" in row_of(page, ivys)
    assert "nobody yet" in row_of(page, unassigned_investigation)


async def test_staff_see_only_their_own_queues(people, browser):
    ada = await browser(people["ada"])
    assert (await ada.get("/staff/queue?tab=overdue")).status_code == 404
    assert (await ada.get("/staff/queue?tab=investigation")).status_code == 404
    sue = await browser(people["sue"])
    assert (await sue.get("/staff/queue?tab=untriaged")).status_code == 404
    assert (await sue.get("/staff/queue?tab=nonsense")).status_code == 404
    page = await sue.get("/staff/queue")
    assert 'aria-current="page">Overdue</a>' in page.text  # a supervisor starts there
    assert 'href="/staff/queue?tab=open"' in page.text


async def test_priority_cases_come_first_then_the_nearest_deadline(people, browser):
    day = timedelta(days=1)
    standard_soon = await a_case("triage", due=2 * day)
    standard_late = await a_case("triage", due=-1 * day)
    standard_none = await a_case("impasse", due=None)
    priority_later = await a_case("investigation", priority="priority", due=9 * day)
    priority_sooner = await a_case("submitted", priority="priority", due=4 * day)
    priority_none = await a_case("mediation", priority="priority", due=None)
    standard_far = await a_case("assessment", due=30 * day)

    sue = await browser(people["sue"])
    assert await queue(sue, tab="open") == [
        priority_sooner, priority_later, priority_none,
        standard_late, standard_soon, standard_far, standard_none,
    ]  # fmt: skip
    # A mediation's next step is the supervisors', not one person's to be assigned.
    row = row_of((await sue.get("/staff/queue?tab=open")).text, priority_none)
    assert "Supervisor" in row and "nobody yet" not in row and "—" in row


async def test_overdue_and_due_soon_cases_are_flagged_in_every_queue(people, browser):
    ivy = people["ivy"]
    late = await a_case("investigation", due=-timedelta(hours=2), staff=((ivy, "investigator"),))
    soon = await a_case("investigation", due=timedelta(hours=20))
    calm = await a_case("investigation", due=timedelta(days=3))
    submitted_late = await a_case("submitted", due=-timedelta(minutes=5))
    paused = await a_case("awaiting_info", due=timedelta(days=4))
    await Case.update({Case.paused_remaining: 3600}).where(Case.ref == paused)

    page = (await (await browser(ivy)).get("/staff/queue")).text
    assert 'class="flag overdue">Overdue' in row_of(page, late)
    assert 'class="flag due-soon">Due within a day' in row_of(page, soon)
    assert "flag overdue" not in row_of(page, calm) and "flag due-soon" not in row_of(page, calm)
    assert "1 case overdue" in page and "1 case due within a day" in page

    page = (await (await browser(people["ada"])).get("/staff/queue")).text
    assert "flag overdue" in row_of(page, submitted_late)
    assert "The staff clock is paused" in row_of(page, paused)

    sue = await browser(people["sue"])
    assert await queue(sue) == [late, submitted_late]  # the overdue tab, most overdue first
    page = (await sue.get("/staff/queue?tab=open")).text
    assert "2 cases overdue" in page and "1 case due within a day" in page

    # The flags follow the portal's clock: three days on, the calm case is overdue too.
    deadlines.advance_clock(timedelta(days=3, hours=1))
    try:
        assert await queue(sue) == [late, submitted_late, soon, calm]
    finally:
        deadlines.reset_clock()


async def test_filters_by_state_category_and_priority(people, browser):
    sam = people["sam"]
    a = await a_case("assessment", category="liquidation", staff=((sam, "assessor"),))
    b = await a_case("objected", category="liquidation", priority="priority")
    c = await a_case("reconsideration", category="kyc_aml", staff=((sam, "assessor"),))
    d = await a_case("assessment", category="kyc_aml", priority="priority")

    s = await browser(sam)
    assert await queue(s) == [b, d, a, c]
    assert await queue(s, state="assessment") == [d, a]
    assert await queue(s, category="kyc_aml") == [d, c]
    assert await queue(s, priority="standard") == [a, c]
    assert await queue(s, state="assessment", category="liquidation", priority="standard") == [a]
    assert await queue(s, state="reconsideration", priority="priority") == []
    page = (await s.get("/staff/queue?category=kyc_aml")).text
    assert '<option value="kyc_aml" selected>' in page and "Clear the filters" in page

    # A filter no queue has is refused with what to do, not ignored.
    for bad in ({"state": "investigation"}, {"category": "sweets"}, {"priority": "urgent"}):
        response = await s.get("/staff/queue", params=bad)
        assert response.status_code == 400, bad
        assert "Choose" in response.text


async def test_pages_of_fifty_follow_one_another_without_gaps_or_repeats(people, browser):
    ivy = people["ivy"]
    same_moment = timedelta(days=2)
    made = []
    for number in range(115):
        # Ties on the deadline, priority cases among them, and some without a deadline.
        due = None if number % 23 == 0 else same_moment + timedelta(hours=number % 4)
        priority = "priority" if number % 7 == 0 else "standard"
        made.append(await a_case("investigation", priority=priority, due=due))
    b = await browser(ivy)
    seen, pages = [], []
    response = await b.get("/staff/queue")
    while True:
        rows = ROW.findall(response.text)
        pages.append(len(rows))
        seen += rows
        following = NEXT.search(response.text)
        if following is None:
            break
        response = await b.get(following.group(1).replace("&amp;", "&"))
        assert response.status_code == 200
        assert "First page" in response.text
    assert pages == [50, 50, 15]
    assert sorted(seen) == sorted(made) and len(set(seen)) == len(seen)
    # The order across pages is the queue's: priority, deadline (none last), then as filed.
    rows = await Case.select(Case.id, Case.ref, Case.priority, Case.deadline_at)
    never = datetime.max.replace(tzinfo=UTC)
    expected = sorted(
        rows, key=lambda c: (c["priority"] != "priority", c["deadline_at"] or never, c["id"])
    )
    assert seen == [c["ref"] for c in expected]

    # Filters travel with the page links; a damaged link says so.
    response = await b.get("/staff/queue?priority=standard")
    assert "priority=standard" in NEXT.search(response.text).group(1)
    assert (await b.get("/staff/queue?after=1.0.x.3")).status_code == 400


async def test_a_page_costs_the_same_queries_however_long_the_queue(people, browser, monkeypatch):
    sue = await browser(people["sue"])
    counts = {}
    for total in (3, 120):
        while await Case.count() < total:
            await a_case("investigation", due=-timedelta(hours=1))
        counter = QueryCounter(Case._meta.db, monkeypatch)
        assert len(await queue(sue, tab="open")) == min(total, 50)
        monkeypatch.undo()
        counts[total] = counter.count
    assert counts[3] == counts[120], counts
    assert counts[120] <= 8, counts


@pytest.mark.parametrize("name", ["alice", "bob", "eve", "lee", "mona", "ari"])
async def test_no_queue_for_anyone_but_staff(people, browser, name):
    b = await browser(people[name])
    assert (await b.get("/staff/queue")).status_code == 404
    assert 'href="/staff/queue"' not in (await b.get("/cases")).text


async def test_the_nav_links_staff_to_their_queue_and_logged_out_visitors_to_login(people, browser):
    ada = await browser(people["ada"])
    assert 'href="/staff/queue"' in (await ada.get("/cases")).text
    response = await (await browser()).get("/staff/queue")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


async def test_a_supervisor_assigns_a_case_from_the_queue(people, browser):
    ivy, sue = people["ivy"], people["sue"]
    iris = await make_person("iris", "investigator", SECRET)
    # A real filing, moved on to investigation with nobody to investigate it yet.
    from tests.portal.test_case_room import open_case

    _alice, ref = await open_case(people, browser)
    await Case.update(
        {
            Case.state: "investigation",
            Case.next_step_by: "investigator",
            Case.deadline_at: deadlines.now() + timedelta(days=5),
        }
    ).where(Case.ref == ref)
    ivy_b, iris_b, sue_b = await browser(ivy), await browser(iris), await browser(sue)
    assert ref in await queue(ivy_b) and ref in await queue(iris_b)  # unassigned: anyone's
    assert (await ivy_b.get(f"/cases/{ref}")).status_code == 404

    page = (await sue_b.get("/staff/queue?tab=open&category=liquidation")).text
    form = row_of(page, ref)
    assert f'<option value="{ivy.id}">Ivy (Investigator)</option>' in form
    assert f'<option value="{people["sam"].id}">Sam (Assessor)</option>' in form
    assert f'value="{people["mona"].id}"' not in form  # neutrals come by appointment
    response = await sue_b.post(
        "/staff/queue/assign",
        {"ref": ref, "user": str(ivy.id), "tab": "open", "category": "liquidation"},
    )
    assert response.status_code == 303
    back = response.headers["location"]
    assert back.startswith("/staff/queue?tab=open&category=liquidation&assigned=")
    page = (await sue_b.get(back)).text
    assert f"{ref} is assigned to Ivy (Investigator)." in page
    assert "Investigator: Ivy" in row_of(page, ref)

    # Ivy has it, in her queue and in the case room; Iris no longer sees it as open work.
    assert ref in await queue(ivy_b)
    assert "nobody yet" not in row_of((await ivy_b.get("/staff/queue")).text, ref)
    assert (await ivy_b.get(f"/cases/{ref}")).status_code == 200
    assert ref not in await queue(iris_b)
    told = await Notification.select().where(Notification.user == ivy.id)
    assert [(n["kind"], n["link"]) for n in told] == [("case_assigned", f"/cases/{ref}")]
    entries = await LedgerEntry.select().where(LedgerEntry.case_ref == ref)
    added = [bytes(e["entry"]) for e in entries if b'"participant.added"' in bytes(e["entry"])]
    assert any(f'"user:{ivy.id}"'.encode() in entry for entry in added)

    # Twice is refused with the reason, and nothing more is written.
    again = await sue_b.post("/staff/queue/assign", {"ref": ref, "user": str(ivy.id)})
    assert again.status_code == 400 and "already has this role" in again.text
    assert len(await LedgerEntry.select().where(LedgerEntry.case_ref == ref)) == len(entries)
    # Only active agents, investigators and assessors can be chosen.
    for user in (people["lee"].id, people["sue"].id, people["alice"].id, "", "x"):
        refused = await sue_b.post("/staff/queue/assign", {"ref": ref, "user": str(user)})
        assert refused.status_code == 400, user
        assert "Choose an active agent, investigator or assessor." in refused.text
    await User.update({User.active: False}).where(User.id == iris.id)
    refused = await sue_b.post("/staff/queue/assign", {"ref": ref, "user": str(iris.id)})
    assert refused.status_code == 400
    nowhere = await sue_b.post("/staff/queue/assign", {"ref": "DR-1999-000001", "user": ivy.id})
    assert nowhere.status_code == 404


@pytest.mark.parametrize("name", ["ada", "ivy", "sam", "alice", "lee", "mona"])
async def test_only_supervisors_assign(people, browser, name):
    ref = await a_case("investigation")
    b = await browser(people[name])
    response = await b.post("/staff/queue/assign", {"ref": ref, "user": str(people["ivy"].id)})
    assert response.status_code == 404
    assert await CaseParticipant.count() == 0
