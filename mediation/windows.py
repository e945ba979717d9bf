"""What happens when an appointment's window passes, as the sweep finds it.

After the objection window on a proposal the mediator is invited; after the one on a
disclosure the mediation starts; an invitation left unanswered counts as declined. The
sweep (`portal.cases.sweep`) runs on every worker: each step is a conditional update, so
only one sweep takes it.
"""

from __future__ import annotations

from datetime import datetime

from ledger.keys import Keyring
from mediation.appointment import from_states, ref_of, step
from mediation.invitation import invite, lapse
from mediation.period import activate
from mediation.tables import Appointment
from portal.cases.tables import Case
from portal.database import write_transaction


async def advance_due(keyring: Keyring, at: datetime) -> int:
    """Act on windows that passed: invite after the objection window, start after the
    disclosure window, and treat an invitation left unanswered as declined."""
    done = 0
    due = await Appointment.select().where(
        (
            Appointment.status.is_in(from_states("invite", "start"))
            & (Appointment.objection_due <= at)
        )
        | (Appointment.status.is_in(from_states("lapse")) & (Appointment.answer_due <= at))
    )
    for appointment in due:
        ref = await ref_of(appointment["case"])
        async with write_transaction(Case._meta.db):
            if appointment["status"] in step("invite").sources:
                await invite(keyring, ref, appointment, at, "")
            elif appointment["status"] in step("start").sources:
                await activate(keyring, ref, appointment, at)
            elif not await lapse(keyring, ref, appointment, at):
                continue
        done += 1
    return done
