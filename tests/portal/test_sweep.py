"""Deadline reminders: before a deadline and when it passes, to whoever owes the step and
to the supervisors, once each however many sweeps run, in how many processes.

Time is moved with `deadlines.advance_clock`, never slept away. A first review takes 24
hours, so it is "due soon" 6 hours before its end (a quarter of the stage).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from ledger.tables import LedgerEntry
from portal.cases import deadlines
from portal.cases import sweep as sweep_module
from portal.cases.sweep import Due, due_reminders, send_reminder, sweep
from portal.cases.tables import Case, DeadlineReminder
from portal.notifications.tables import Notification, OutboundMail
from tests.people import CAST, make_person
from tests.portal.conftest import SECRET
from tests.portal.test_case_room import open_case
from tests.portal.test_evidence import running
from tests.portal.test_filing import file_dispute
from tests.portal.test_lifecycle_smoke import act
from tests.support import ROOT, portal_env, run_portal

HOUR = timedelta(hours=1)


@pytest.fixture(autouse=True)
def clock():
    deadlines.reset_clock()
    yield
    deadlines.reset_clock()


async def told(kind: str) -> list[int]:
    """Who got a notification of this kind, once per notification."""
    rows = await Notification.select(Notification.user).where(Notification.kind == kind)
    return sorted(row["user"] for row in rows)


async def reminder_entries(ref: str) -> list[dict]:
    rows = (
        await LedgerEntry.select(LedgerEntry.entry)
        .where((LedgerEntry.case_ref == ref) & (LedgerEntry.event_type == "deadline.reminded"))
        .order_by(LedgerEntry.case_seq)
    )
    return [json.loads(bytes(row["entry"])) for row in rows]


async def test_the_owner_and_supervisors_are_reminded_before_and_after_once_each(
    app, people, browser
):
    keyring = app.state.keyring
    _alice, ref = await open_case(people, browser)
    ada, sue = people["ada"].id, people["sue"].id

    # Handing the case over said when it is due; nothing more to say yet.
    assert (await sweep(keyring)).sent == 0
    deadlines.advance_clock(17 * HOUR)
    assert (await sweep(keyring)).sent == 0

    deadlines.advance_clock(2 * HOUR)  # 5 hours left
    first = await sweep(keyring)
    assert (first.due_soon, first.overdue, first.notifications) == (1, 0, 2)
    assert await told("deadline_due_soon") == sorted([ada, sue])
    assert (await sweep(keyring)).sent == 0
    assert await told("deadline_due_soon") == sorted([ada, sue])

    deadlines.advance_clock(6 * HOUR)  # an hour late
    late = await sweep(keyring)
    assert (late.due_soon, late.overdue, late.notifications) == (0, 1, 2)
    assert (await sweep(keyring)).sent == 0
    deadlines.advance_clock(48 * HOUR)
    assert (await sweep(keyring)).sent == 0
    assert await told("deadline_overdue") == sorted([ada, sue])
    assert await told("deadline_due_soon") == sorted([ada, sue])

    case = await Case.select().where(Case.ref == ref).first()
    sent = await DeadlineReminder.select().order_by(DeadlineReminder.id)
    assert [(r["case"], r["kind"], r["deadline_at"]) for r in sent] == [
        (case["id"], "due_soon", case["deadline_at"]),
        (case["id"], "overdue", case["deadline_at"]),
    ]

    # The email says what is late, when it was due and who owes the step.
    mail = await OutboundMail.select().where(OutboundMail.to_address == "ada@example.com")
    overdue = next(m for m in mail if "the deadline has passed" in m["subject"])
    due = case["deadline_at"].strftime("%Y-%m-%d %H:%M UTC")
    assert overdue["subject"] == f"Case {ref}: the deadline has passed"
    assert f"passed at {due}" in overdue["body"] and "owed by: Agent" in overdue["body"]
    assert f"http://portal.test/cases/{ref}" in overdue["body"]

    # The ledger says who was reminded of which deadline, and the room shows it.
    entries = await reminder_entries(ref)
    assert [e["body"]["kind"] for e in entries] == ["due_soon", "overdue"]
    assert entries[1]["actor"] == {"id": "system", "role": "system"}
    assert entries[1]["body"] == {
        "kind": "overdue",
        "state": "submitted",
        "deadline": case["deadline_at"].strftime("%Y-%m-%dT%H:%M:%SZ"),
        "owner": "agent",
        "to": [f"user:{ada}", f"user:{sue}"],
    }
    room = await (await browser(people["alice"])).get(f"/cases/{ref}")
    assert "sent a reminder that the deadline has passed (next step: Agent)" in room.text


async def test_a_new_deadline_after_a_step_gets_reminders_of_its_own(app, people, browser):
    keyring = app.state.keyring
    _alice, ref = await open_case(people, browser)
    deadlines.advance_clock(25 * HOUR)
    assert (await sweep(keyring)).overdue == 1

    ada = await browser(people["ada"])
    assert (await act(ada, ref, "start_review")).status_code == 303
    assert (await sweep(keyring)).sent == 0  # a fresh 24 hours
    deadlines.advance_clock(19 * HOUR)
    assert (await sweep(keyring)).due_soon == 1
    deadlines.advance_clock(6 * HOUR)
    assert (await sweep(keyring)).overdue == 1
    kinds = [r["kind"] for r in await DeadlineReminder.select().order_by(DeadlineReminder.id)]
    assert kinds == ["overdue", "due_soon", "overdue"]
    assert [e["body"]["state"] for e in await reminder_entries(ref)] == [
        "submitted",
        "triage",
        "triage",
    ]


async def test_a_case_waiting_on_the_claimant_reminds_the_claimant(app, people, browser):
    keyring = app.state.keyring
    _alice, ref = await open_case(people, browser)
    ada = await browser(people["ada"])
    await act(ada, ref, "start_review")
    due = (deadlines.now() + timedelta(days=4)).date()
    response = await act(ada, ref, "request_info", questions="Which order?", due_date=str(due))
    assert response.status_code == 303, response.text
    deadline = datetime(due.year, due.month, due.day, 23, 59, tzinfo=UTC)

    deadlines.advance_clock(deadline - deadlines.now() - 2 * HOUR)
    assert (await sweep(keyring)).due_soon == 1
    deadlines.advance_clock(3 * HOUR)
    assert (await sweep(keyring)).overdue == 1

    alice, sue = people["alice"].id, people["sue"].id
    assert await told("deadline_due_soon") == sorted([alice, sue])
    assert await told("deadline_overdue") == sorted([alice, sue])
    mail = await OutboundMail.select().where(OutboundMail.to_address == "alice@example.com")
    assert any("owed by: Claimant" in m["body"] for m in mail)


async def test_a_priority_investigation_is_reminded_by_its_own_hours(app, people, browser):
    keyring = app.state.keyring
    _alice, ref = await open_case(people, browser)
    ada = await browser(people["ada"])
    await act(ada, ref, "start_review")
    response = await act(
        ada, ref, "accept", severity="critical", category="liquidation", in_scope="yes"
    )
    assert response.status_code == 303, response.text
    case = await Case.select().where(Case.ref == ref).first()
    assert case["priority"] == "priority" and case["state"] == "investigation"
    # 48 hours for a priority investigation: due soon in its last 12.
    deadlines.advance_clock(35 * HOUR)
    assert (await sweep(keyring)).sent == 0
    deadlines.advance_clock(2 * HOUR)
    assert (await sweep(keyring)).due_soon == 1
    # The investigator assigned on acceptance owes the step; the agent's part is done.
    assert await told("deadline_due_soon") == sorted([people["ivy"].id, people["sue"].id])


async def test_rejected_and_finished_cases_are_not_reminded(app, people, browser):
    keyring = app.state.keyring
    alice, rejected = await open_case(people, browser)
    ada = await browser(people["ada"])
    await act(ada, rejected, "start_review")
    response = await act(ada, rejected, "reject", reasons="Outside our terms.")
    assert response.status_code == 303, response.text
    _alice, withdrawn = await open_case(people, browser)
    assert (await act(alice, withdrawn, "withdraw")).status_code == 303

    deadlines.advance_clock(timedelta(days=30))
    # An appeal is the claimant's right, not a step owed: its window closing is not late.
    assert (await sweep(keyring)).sent == 0
    assert await DeadlineReminder.count() == 0


async def test_two_sweeps_at_the_same_time_send_each_reminder_once(app, people, browser):
    keyring = app.state.keyring
    refs = [(await open_case(people, browser))[1] for _ in range(3)]
    deadlines.advance_clock(25 * HOUR)

    results = await asyncio.gather(*(sweep(keyring) for _ in range(2)))

    assert sum(r.overdue for r in results) == 3
    assert sum(r.due_soon for r in results) == 0
    assert await DeadlineReminder.count() == 3
    assert await told("deadline_overdue") == sorted([people["ada"].id, people["sue"].id] * 3)
    assert [len(await reminder_entries(ref)) for ref in refs] == [1, 1, 1]


async def test_two_sweeps_racing_for_one_reminder_let_one_through(app, people, browser):
    """Both have found the reminder due and both try to send it: the unique key lets
    one insert happen, and only that sweep tells anyone."""
    keyring = app.state.keyring
    _alice, ref = await open_case(people, browser)
    deadlines.advance_clock(25 * HOUR)
    at = deadlines.now()
    [due] = await due_reminders(at)
    assert isinstance(due, Due) and due.kind == "overdue" and due.ref == ref

    outcomes = await asyncio.gather(*(send_reminder(due, at, keyring) for _ in range(4)))

    assert sorted(outcomes, key=lambda o: o is None) == [2, None, None, None]
    assert await DeadlineReminder.count() == 1
    assert await told("deadline_overdue") == sorted([people["ada"].id, people["sue"].id])
    assert len(await reminder_entries(ref)) == 1
    assert await due_reminders(at) == []


async def test_a_reminder_that_fails_holds_back_no_other_and_is_tried_again(
    app, people, browser, monkeypatch
):
    keyring = app.state.keyring
    broken, fine = [(await open_case(people, browser))[1] for _ in range(2)]
    deadlines.advance_clock(25 * HOUR)
    real = sweep_module.send_reminder

    async def failing_for_one(due, at, keyring=None):
        if due.ref == broken:
            raise RuntimeError("the disk is full")
        return await real(due, at, keyring)

    monkeypatch.setattr(sweep_module, "send_reminder", failing_for_one)
    result = await sweep(keyring)
    assert (result.overdue, result.failed) == (1, 1)
    assert len(await reminder_entries(fine)) == 1 and await reminder_entries(broken) == []

    monkeypatch.undo()
    again = await sweep(keyring)
    assert (again.overdue, again.failed) == (1, 0)
    assert len(await reminder_entries(broken)) == 1


async def test_a_case_moved_on_since_it_was_found_is_not_reminded_of_its_old_deadline(
    app, people, browser
):
    keyring = app.state.keyring
    _alice, ref = await open_case(people, browser)
    deadlines.advance_clock(25 * HOUR)
    at = deadlines.now()
    [due] = await due_reminders(at)
    await act(await browser(people["ada"]), ref, "start_review")

    assert await send_reminder(due, at, keyring) is None
    assert await DeadlineReminder.count() == 0 and await told("deadline_overdue") == []


async def test_a_served_app_sweeps_by_itself(settings, monkeypatch):
    """Every worker of `portal serve` sweeps; here once every 50 ms instead of a minute."""
    monkeypatch.setattr("portal.app.SWEEP_INTERVAL", 0.05)
    async with running(settings) as open_browser:
        cast = {name: await make_person(name, role, SECRET) for name, role in CAST.items()}
        response = await file_dispute(await open_browser(cast["alice"]))
        assert response.status_code == 303, response.text
        deadlines.advance_clock(25 * HOUR)
        for _ in range(200):  # at most 10 s
            if await DeadlineReminder.count():
                break
            await asyncio.sleep(0.05)
        assert await told("deadline_overdue") == sorted([cast["ada"].id, cast["sue"].id])


async def test_portal_sweep_in_two_processes_at_once_sends_each_reminder_once(
    app, people, browser, settings, tmp_path
):
    """`portal sweep` as an operator or cron runs it, twice at the same moment."""
    overdue_ref = (await open_case(people, browser))[1]
    due_soon_ref = (await open_case(people, browser))[1]
    later_ref = (await open_case(people, browser))[1]
    # The commands run on the real clock: move the deadlines instead.
    now = datetime.now(UTC)
    await Case.update({Case.deadline_at: now - HOUR}).where(Case.ref == overdue_ref)
    await Case.update({Case.deadline_at: now + 2 * HOUR, Case.state_since: now - 22 * HOUR}).where(
        Case.ref == due_soon_ref
    )
    env = portal_env(
        settings.database_url,
        tmp_path,
        PORTAL_SIGNING_KEY_FILE=str(settings.signing_key_file),
        PORTAL_BASE_URL="http://portal.test",
    )
    command = [sys.executable, "-m", "portal", "sweep"]
    running = [
        subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outputs = [await asyncio.to_thread(p.communicate, timeout=120) for p in running]
    for process, (out, err) in zip(running, outputs, strict=True):
        assert process.returncode == 0, err
        assert out.startswith("Sent ") and "deadline reminders" in out, out

    sent = [int(out.split()[1]) for out, _err in outputs]
    assert sum(sent) == 2, outputs
    assert await told("deadline_overdue") == sorted([people["ada"].id, people["sue"].id])
    assert await told("deadline_due_soon") == sorted([people["ada"].id, people["sue"].id])
    reminded = {row["case"] for row in await DeadlineReminder.select(DeadlineReminder.case)}
    later = await Case.select(Case.id).where(Case.ref == later_ref).first()
    assert later["id"] not in reminded and len(reminded) == 2

    again = run_portal("sweep", env=env)
    assert again.stdout.strip() == (
        "Sent 0 deadline reminders (0 due soon, 0 overdue) in 0 notifications."
    )
