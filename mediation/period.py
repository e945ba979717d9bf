"""The mediation period: it starts when the mediator joins, and may be extended once.

It ends when the case is settled or reaches an impasse (`appointment.end_mediation`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from ledger.keys import Keyring
from mediation.appointment import (
    PERIOD,
    TEXT_LIMIT,
    from_states,
    iso,
    live_appointment,
    owner_of,
    set_deadline,
    step,
    tell,
    utc,
    when,
)
from mediation.tables import Appointment
from portal.cases import deadlines
from portal.cases.events import SYSTEM, actor, record
from portal.cases.sides import sides_of
from portal.cases.tables import Case, CaseParticipant
from portal.database import write_transaction
from portal.errors import Conflict, FormInvalid, NotAllowed
from portal.i18n import _
from portal.procedure import roles
from portal.procedure.mediation import APPOINTMENT, subject
from portal.procedure.table import Refused

if TYPE_CHECKING:
    from portal.procedure.policy import CaseAccess

LONGEST_EXTENSION = 30  # days


async def activate(keyring: Keyring, ref: str, appointment: dict[str, Any], at: datetime) -> None:
    """The mediator joins the case and the mediation period starts."""
    ends = at + PERIOD
    active = step("start").target
    moved = (
        await Appointment.update({Appointment.status: active, Appointment.period_ends: ends})
        .where(
            (Appointment.id == appointment["id"])
            & Appointment.status.is_in(from_states("accept", "start"))
        )
        .returning(Appointment.id)
    )
    if not moved:
        return
    await CaseParticipant.insert(
        CaseParticipant(
            case=appointment["case"], user=appointment["mediator"], role=roles.MEDIATOR, added_at=at
        )
    )
    await record(
        keyring,
        ref,
        "participant.added",
        SYSTEM,
        {"user": f"user:{appointment['mediator']}", "role": roles.MEDIATOR},
    )
    await record(
        keyring,
        ref,
        "mediation.started",
        SYSTEM,
        {"appointment": appointment["id"], "period_ends": iso(ends)},
    )
    await set_deadline(appointment["case"], ends, owner_of(active))
    everyone = [s.user_id for s in await sides_of(appointment["case"])]
    await tell([*everyone, appointment["mediator"]], ref, "started", due=when(ends))


async def extend(keyring: Keyring, ref: str, access: CaseAccess, form: dict[str, str]) -> None:
    """The mediator extends the mediation period, once, by up to 30 days."""
    if not access.can_extend_mediation:
        raise NotAllowed(_("Only the mediator can extend the mediation."))
    raw = form.get("days", "").strip()
    days = int(raw) if raw.isdigit() else 0
    if not 1 <= days <= LONGEST_EXTENSION:
        raise FormInvalid(
            {"days": _("Give a number of days from 1 to %(n)s.", n=LONGEST_EXTENSION)}
        )
    reasons = form.get("reasons", "").replace("\r\n", "\n").strip()[:TEXT_LIMIT]
    async with write_transaction(Case._meta.db):
        appointment = await live_appointment(access.case_id)
        if appointment is None or appointment["status"] not in step("extend").sources:
            raise Conflict(_("The mediation has not started."))
        try:
            APPOINTMENT.check("extend", subject(appointment), access, deadlines.now())
        except Refused as exc:
            raise Conflict(str(exc)) from exc
        ends = utc(appointment["period_ends"]) + timedelta(days=days)
        await Appointment.update({Appointment.period_ends: ends, Appointment.extended: True}).where(
            Appointment.id == appointment["id"]
        )
        await record(
            keyring,
            ref,
            "mediation.extended",
            actor(access.viewer.id, roles.MEDIATOR),
            {
                "appointment": appointment["id"],
                "days": days,
                "period_ends": iso(ends),
                "reasons": reasons,
            },
        )
        await set_deadline(access.case_id, ends, owner_of(step("extend").target))
        await tell(
            [s.user_id for s in await sides_of(access.case_id)], ref, "extended", due=when(ends)
        )
