"""Deadline reminders: telling whoever owes a step, and the supervisors, before a
deadline and when it passes, once each, whichever worker sweeps.

Every worker of `portal serve` sweeps once a minute (`run_sweeper`), and `portal sweep`
does it by hand, so several sweeps may look at the same case at the same moment. Each
reminder is a row in `deadline_reminder`, whose unique index on (case, deadline, kind)
lets only one `INSERT ... ON CONFLICT DO NOTHING` through; the notifications (and the
ledger entry) are written in that insert's transaction, so only the sweep whose insert
happened tells anyone, and a sweep that fails half-way leaves no reminder marked sent.
A case moved to its next stage has a new deadline, and so reminders of its own.

"Due soon" means within a quarter of the stage's time, and at most 24 hours: a first
review of 24 hours is reminded 6 hours before its end, a priority one of 4 hours 1 hour
before, an investigation of 5 days a day before. Reminding of a deadline the moment the
work is handed over would only repeat the notification that handed it over.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ledger.keys import Keyring
from portal.cases import deadlines, submissions
from portal.cases.categories import state_label
from portal.cases.events import SYSTEM, record
from portal.cases.lifecycle import owners, take_system_step
from portal.cases.tables import Case, DeadlineReminder
from portal.database import write_transaction
from portal.errors import Conflict
from portal.notifications.notify import notify
from portal.procedure import case as states
from portal.procedure import roles
from portal.procedure.hooks import timed_steps
from portal.procedure.labels import role_label

log = logging.getLogger(__name__)

DUE_SOON, OVERDUE = "due_soon", "overdue"
LONGEST_LEAD = timedelta(hours=24)
"""The earliest a deadline is called near: a day before it."""

# Which states are reminded is the case's table's `reminded` (not a rejection's nor an
# impasse's window: rights, not steps owed).
REMINDED_STATES = sorted(state.name for state in states.CASE.states if state.reminded)


@dataclass
class SweepResult:
    """What one sweep did."""

    due_soon: int = 0  # reminders sent that a deadline is near
    overdue: int = 0  # reminders sent that a deadline has passed
    notifications: int = 0  # people told, over all reminders
    already_sent: int = 0  # reminders another sweep sent first, between our look and our write
    failed: int = 0  # reminders that could not be written; the next sweep tries them again
    steps: int = 0  # steps taken because a window passed (see act_on_passed_windows)

    @property
    def sent(self) -> int:
        return self.due_soon + self.overdue


@dataclass(frozen=True)
class Due:
    """One reminder to send: a case, the deadline it is about, and which kind."""

    case_id: int
    ref: str
    state: str
    owner: str  # the role that owes the step
    deadline_at: datetime
    kind: str


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def lead(case: dict[str, Any]) -> timedelta:
    """How long before its deadline a case is reminded: a quarter of the stage, at most a day."""
    since = case.get("state_since")
    if since is None:
        return LONGEST_LEAD
    return max(min(LONGEST_LEAD, (_utc(case["deadline_at"]) - _utc(since)) / 4), timedelta(0))


def kind_of(case: dict[str, Any], at: datetime) -> str | None:
    deadline = _utc(case["deadline_at"])
    if deadline <= at:
        return OVERDUE
    if deadline - at <= lead(case):
        return DUE_SOON
    return None


async def due_reminders(at: datetime) -> list[Due]:
    """The reminders due at `at` and not sent yet, oldest deadline first.

    One range scan of the deadline index for open cases due within a day (or past due),
    and one look at the reminders already sent for those cases.
    """
    cases = (
        await Case.select(
            Case.id, Case.ref, Case.state, Case.deadline_at, Case.next_step_by, Case.state_since
        )
        .where(
            (Case.deadline_at <= at + LONGEST_LEAD)
            & Case.deadline_at.is_not_null()
            & Case.state.is_in(REMINDED_STATES)
        )
        .order_by(Case.deadline_at)
    )
    found = [(case, kind) for case in cases if (kind := kind_of(case, at))]
    if not found:
        return []
    sent = {
        (row["case"], _utc(row["deadline_at"]), row["kind"])
        for row in await DeadlineReminder.select(
            DeadlineReminder.case, DeadlineReminder.deadline_at, DeadlineReminder.kind
        ).where(DeadlineReminder.case.is_in([case["id"] for case, _kind in found]))
    }
    return [
        Due(
            case_id=case["id"],
            ref=case["ref"],
            state=case["state"],
            owner=case["next_step_by"] or deadlines.OWNER.get(case["state"], roles.SUPERVISOR),
            deadline_at=_utc(case["deadline_at"]),
            kind=kind,
        )
        for case, kind in found
        if (case["id"], _utc(case["deadline_at"]), kind) not in sent
    ]


async def send_reminder(due: Due, at: datetime, keyring: Keyring | None = None) -> int | None:
    """Send one reminder, if no one has: returns how many people were told, or None when
    another sweep sent it first or the case has moved on since it was found."""
    async with write_transaction(Case._meta.db):
        # Not for a deadline the case has left since it was found. The case row is not
        # locked: the steps of a case lock it and the case's ledger head in either order,
        # and one more holder could deadlock with them. A reminder racing a step only
        # names a deadline that ended a moment ago.
        still = await Case.exists().where(
            (Case.id == due.case_id)
            & (Case.state == due.state)
            & (Case.deadline_at == due.deadline_at)
        )
        if not still:
            return None
        if not await _first_to_remind(due, at):
            return None
        told = sorted(
            set(await owners(due.case_id, due.owner))
            | set(await owners(due.case_id, roles.SUPERVISOR))
        )
        if keyring is not None:
            await record(
                keyring,
                due.ref,
                "deadline.reminded",
                SYSTEM,
                {
                    "kind": due.kind,
                    "state": due.state,
                    "deadline": due.deadline_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "owner": due.owner,
                    "to": [f"user:{user}" for user in told],
                },
            )
        return await notify(
            told,
            f"deadline_{due.kind}",
            case_ref=due.ref,
            link=f"/cases/{due.ref}",
            template="deadline_reminder",
            overdue=due.kind == OVERDUE,
            state=due.state,
            deadline=due.deadline_at.strftime("%Y-%m-%d %H:%M UTC"),
            owner=due.owner,
            state_label=state_label,
            role_label=role_label,
        )


async def _first_to_remind(due: Due, at: datetime) -> bool:
    """Note the reminder as sent; False when another sweep (another worker) noted it
    first: the unique key on case, deadline and kind makes each reminder go out once."""
    inserted = (
        await DeadlineReminder.insert(
            DeadlineReminder(
                case=due.case_id,
                deadline_at=due.deadline_at,
                kind=due.kind,
                stage=due.state,
                sent_at=at,
            )
        )
        .on_conflict(action="DO NOTHING")
        .returning(DeadlineReminder.id)
    )
    return bool(inserted)


async def close_lapsed_impasses(keyring: Keyring, at: datetime) -> int:
    """Close each case whose 14 days to ask for arbitration after an impasse have passed."""
    closed = 0
    for case in await Case.select(Case.id, Case.ref).where(
        (Case.state == states.IMPASSE) & (Case.state_since <= at - states.ARBITRATION_WINDOW)
    ):
        try:
            async with write_transaction(Case._meta.db):
                await take_system_step(keyring, case["ref"], case["id"], "close_after_impasse",
                                       {"reasons": "no arbitration asked for within 14 days"},
                                       at)  # fmt: skip
            closed += 1
        except Conflict:
            continue  # a party asked for arbitration, or another sweep closed it, meanwhile
    return closed


async def act_on_passed_windows(keyring: Keyring, at: datetime) -> int:
    """Steps that happen because time passed: an impasse closed, and what the areas above
    registered (`portal.procedure.hooks.when_time_passes`): a mediator invited once nobody
    objected, an unanswered invitation lapsed, offers expired, lists and timetables moved on."""
    done = 0
    for step in (close_lapsed_impasses, *timed_steps()):
        try:
            done += await step(keyring, at)
        except Exception:
            log.exception("Could not complete %s", step.__qualname__)
    return done


async def sweep(keyring: Keyring | None = None, now: datetime | None = None) -> SweepResult:
    """Send every reminder due now that no sweep has sent; each in its own transaction.
    Forms' one-time tokens older than `submissions.KEPT_FOR` are forgotten on the way.

    With a keyring (the server and `portal sweep` always give one) each reminder is also
    a `deadline.reminded` entry in the case's ledger, naming who was told, and the steps
    that follow from time passing are taken first (`act_on_passed_windows`).
    """
    at = now or deadlines.now()
    result = SweepResult()
    if keyring is not None:
        result.steps = await act_on_passed_windows(keyring, at)
    try:
        await submissions.forget_before(at - submissions.KEPT_FOR)
    except Exception:
        log.exception("Could not forget the old one-time tokens of forms")
    for due in await due_reminders(at):
        try:
            told = await send_reminder(due, at, keyring)
        except Exception:
            # One case's failure must not hold back the reminders of every later deadline.
            log.exception("Could not send the %s reminder of case %s", due.kind, due.ref)
            result.failed += 1
            continue
        if told is None:
            result.already_sent += 1
            continue
        if due.kind == OVERDUE:
            result.overdue += 1
        else:
            result.due_soon += 1
        result.notifications += told
    return result


async def run_sweeper(keyring: Keyring, interval: float, stop: asyncio.Event) -> None:
    """Sweep every `interval` seconds until `stop` is set; errors are logged, not fatal."""
    # The first sweep waits an interval too: starting workers have enough to do at once.
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
        if stop.is_set():
            return
        try:
            result = await sweep(keyring)
            if result.sent:
                log.info("Sent %s deadline reminders", result.sent)
            if result.failed:
                log.error("%s deadline reminders failed; trying again in %.0f s",
                          result.failed, interval)  # fmt: skip
        except Exception:
            log.exception("The deadline sweep failed; trying again in %.0f s", interval)
