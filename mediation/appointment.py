"""A mediator's appointment: its rows, what is still live, and what every step of it shares.

The steps themselves are written in the modules named for them: `proposal` (a supervisor
proposes, the sides agree or object), `invitation` (the mediator discloses and answers),
`period` (the mediation runs, is extended, ends) and `windows` (what the sweep does when
a window passes). The states, and who may take each step from where, are the table
`portal.procedure.mediation.APPOINTMENT` (its docstring draws them).

Each step is one write transaction holding the change and its ledger entry. After an
objection or a refusal a supervisor proposes someone else.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from piccolo.columns import Column

from mediation.tables import Appointment, AppointmentAnswer
from portal.accounts.tables import User
from portal.cases import deadlines
from portal.cases.tables import Case
from portal.notifications.notify import notify
from portal.procedure import roles
from portal.procedure.mediation import APPOINTMENT
from portal.procedure.table import Action

OBJECTION_WINDOW = timedelta(days=5)
ANSWER_WINDOW = timedelta(days=5)  # the invited mediator's time to accept or decline
PERIOD = timedelta(days=30)
TEXT_LIMIT = 5_000

LIVE = tuple(s.name for s in APPOINTMENT.states if not s.final)
"""The statuses of an appointment still under way; a case has at most one."""


def utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def when(moment: datetime) -> str:
    """A moment as notices and messages say it."""
    return utc(moment).strftime("%Y-%m-%d %H:%M UTC")


def iso(moment: datetime) -> str:
    """A moment as the ledger keeps it."""
    return utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


async def live_appointment(case_id: int) -> dict[str, Any] | None:
    row: dict[str, Any] | None = (
        await Appointment.select(
            *Appointment.all_columns(), Appointment.mediator.name, Appointment.mediator.email
        )
        .where((Appointment.case == case_id) & Appointment.status.is_in(list(LIVE)))
        .first()
    )
    return row


async def history(case_id: int) -> list[dict[str, Any]]:
    """Every appointment of the case, with the parties' answers, oldest first."""
    rows: list[dict[str, Any]] = (
        await Appointment.select(*Appointment.all_columns(), Appointment.mediator.name)
        .where(Appointment.case == case_id)
        .order_by(Appointment.id)
    )
    if not rows:
        return rows
    answers = await AppointmentAnswer.select(
        *AppointmentAnswer.all_columns(), AppointmentAnswer.party.name
    ).where(AppointmentAnswer.appointment.is_in([r["id"] for r in rows]))
    for row in rows:
        row["answers"] = [a for a in answers if a["appointment"] == row["id"]]
    return rows


async def set_deadline(case_id: int, deadline: datetime | None, owner: str) -> None:
    """The case's next step: who owes it, and by when."""
    await Case.update(
        {Case.deadline_at: deadline, Case.next_step_by: owner, Case.updated_at: deadlines.now()}
    ).where(Case.id == case_id)


def owner_of(status: str) -> str:
    """Who owes the next step while the appointment is in `status` (the table says)."""
    owner = APPOINTMENT.state(status).owner
    assert owner is not None, status
    return owner


async def tell(user_ids: list[int], ref: str, step: str, **context: Any) -> None:
    await notify(
        sorted(set(user_ids)),
        f"mediation_{step}",
        case_ref=ref,
        link=f"/cases/{ref}",
        template="mediation",
        step=step,
        **context,
    )


async def close(appointment: dict[str, Any], status: str, at: datetime) -> None:
    await Appointment.update({Appointment.status: status, Appointment.ended_at: at}).where(
        Appointment.id == appointment["id"]
    )


async def end_mediation(case_id: int, at: datetime) -> None:
    """The mediation is over (settled or at an impasse); call in that step's transaction."""
    ended: dict[Column | str, Any] = {
        Appointment.status: step("end").target,
        Appointment.ended_at: at,
    }
    await Appointment.update(ended).where(
        (Appointment.case == case_id) & Appointment.status.is_in(from_states("end"))
    )


async def ref_of(case_id: int) -> str:
    row = await Case.select(Case.ref).where(Case.id == case_id).first()
    assert row is not None, case_id
    return str(row["ref"])


async def name_of(user_id: int) -> str:
    row = await User.select(User.name).where(User.id == user_id).first()
    return str(row["name"]) if row else ""


async def await_new_proposal(case_id: int, at: datetime) -> None:
    """Back to the supervisors: someone else must be proposed."""
    case = await Case.select(Case.priority).where(Case.id == case_id).first()
    assert case is not None, case_id
    await set_deadline(
        case_id,
        await deadlines.stage_deadline("mediation", case["priority"], at),
        roles.SUPERVISOR,
    )


def step(name: str) -> Action:
    """A step of the appointment's table, by name."""
    found = APPOINTMENT.action(name)
    assert found is not None, name
    return found


def from_states(*names: str) -> list[str]:
    """The statuses any of these steps may start from: what a conditional update matches."""
    return sorted({s for name in names for s in step(name).sources})
