"""The invited mediator: the invitation sent when no side objected, their disclosure and
answer, and an invitation left unanswered.

The page and the forms are the neutral's invitation shared with arbitrators
(`portal.neutrals`); what follows is mediation's own: a disclosure opens a new objection
window for the sides, nothing disclosed starts the mediation at once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ledger.keys import Keyring
from mediation.appointment import (
    ANSWER_WINDOW,
    OBJECTION_WINDOW,
    await_new_proposal,
    from_states,
    iso,
    name_of,
    owner_of,
    ref_of,
    set_deadline,
    step,
    tell,
    when,
)
from mediation.period import activate
from mediation.tables import Appointment
from portal.accounts import invitations
from portal.accounts.tables import User
from portal.cases import deadlines
from portal.cases.events import SYSTEM, actor, record
from portal.cases.lifecycle import owners
from portal.cases.sides import sides_of
from portal.cases.tables import Case
from portal.database import write_transaction
from portal.errors import Conflict
from portal.i18n import _
from portal.neutrals.disclosure import (
    Invitee,
    NotInvited,
    decline_reasons,
    may_answer,
    signed_disclosure,
)
from portal.notifications.notify import absolute_link, notify
from portal.procedure import roles


def _answered() -> Conflict:
    return Conflict(_("This invitation has been answered already."))


async def invite(
    keyring: Keyring, ref: str, appointment: dict[str, Any], at: datetime, base_url: str
) -> None:
    """No objection: the mediator is asked to read the summary, disclose, and answer."""
    due = at + ANSWER_WINDOW
    moved = (
        await Appointment.update(
            {Appointment.status: step("invite").target, Appointment.answer_due: due}
        )
        .where(
            (Appointment.id == appointment["id"]) & Appointment.status.is_in(from_states("invite"))
        )
        .returning(Appointment.id)
    )
    if not moved:
        return
    await record(
        keyring,
        ref,
        "mediator.invited",
        SYSTEM,
        {
            "appointment": appointment["id"],
            "mediator": f"user:{appointment['mediator']}",
            "answer_due": iso(due),
        },
    )
    await set_deadline(appointment["case"], due, owner_of(step("invite").target))
    mediator = (
        await User.select(User.password_hash, User.active)
        .where(User.id == appointment["mediator"])
        .first()
    )
    account_link = ""
    if mediator is not None and not mediator["password_hash"]:
        # Not yet an account holder: the same single-use link every outsider gets.
        new = await invitations.create_token(appointment["mediator"], invitations.INVITE)
        account_link = absolute_link(f"/invite/{new.token}")
    await notify(
        [appointment["mediator"]],
        "mediation_invited",
        case_ref=ref,
        link=f"/mediation/invitations/{appointment['id']}",
        template="mediation",
        step="invited",
        due=when(due),
        account_link=account_link,
    )


async def invitation(invitee: Invitee, appointment_id: int) -> dict[str, Any]:
    """The invitation, for the invited mediator only and while it is open; `NotInvited` else."""
    appointment: dict[str, Any] | None = (
        await Appointment.select().where(Appointment.id == appointment_id).first()
    )
    if appointment is None or not may_answer(
        invitee, appointment["mediator"], appointment["status"] in from_states("accept", "decline")
    ):
        raise NotInvited()
    return appointment


async def accept(keyring: Keyring, invitee: Invitee, appointment_id: int, form: dict[str, str],
                 address: str) -> str:  # fmt: skip
    """The mediator signs their disclosure (by password) and accepts; returns the case ref."""
    appointment = await invitation(invitee, appointment_id)
    disclosure = await signed_disclosure(invitee.id, form, address)
    at = deadlines.now()
    ref = await ref_of(appointment["case"])
    taken = step("disclose" if disclosure else "accept")
    async with write_transaction(Case._meta.db):
        # Nothing disclosed: the row stays invited until `activate` moves it, in this
        # same transaction, with the participant and the entries that go with it.
        moved = (
            await Appointment.update(
                {
                    Appointment.status: taken.target if disclosure else appointment["status"],
                    Appointment.disclosure: disclosure,
                    Appointment.disclosed_at: at,
                    Appointment.objection_due: at + OBJECTION_WINDOW
                    if disclosure
                    else appointment["objection_due"],
                }
            )
            .where(
                (Appointment.id == appointment_id) & Appointment.status.is_in(sorted(taken.sources))
            )
            .returning(Appointment.id)
        )
        if not moved:
            raise _answered()
        await record(
            keyring,
            ref,
            "mediator.disclosed",
            actor(invitee.id, roles.MEDIATOR),
            {"appointment": appointment_id, "disclosure": disclosure or "none"},
        )
        if not disclosure:
            await activate(keyring, ref, appointment, at)
            return ref
        due = at + OBJECTION_WINDOW
        await set_deadline(appointment["case"], due, owner_of(taken.target))
        await tell(
            [s.user_id for s in await sides_of(appointment["case"])],
            ref,
            "disclosed",
            mediator=invitee.name,
            due=when(due),
        )
    return ref


async def decline(keyring: Keyring, invitee: Invitee, appointment_id: int,
                  form: dict[str, str]) -> str:  # fmt: skip
    """The mediator declines; the supervisors propose someone else. Returns the case ref."""
    appointment = await invitation(invitee, appointment_id)
    reasons = decline_reasons(form)
    at = deadlines.now()
    ref = await ref_of(appointment["case"])
    async with write_transaction(Case._meta.db):
        moved = (
            await Appointment.update(
                {
                    Appointment.status: step("decline").target,
                    Appointment.decline_reasons: reasons,
                    Appointment.ended_at: at,
                }
            )
            .where(
                (Appointment.id == appointment_id)
                & Appointment.status.is_in(from_states("decline"))
            )
            .returning(Appointment.id)
        )
        if not moved:
            raise _answered()
        await record(
            keyring,
            ref,
            "mediator.declined",
            actor(invitee.id, roles.MEDIATOR),
            {"appointment": appointment_id, "reasons": reasons},
        )
        await await_new_proposal(appointment["case"], at)
        await tell(
            await owners(appointment["case"], roles.SUPERVISOR),
            ref,
            "declined",
            mediator=invitee.name,
            reasons=reasons,
        )
    return ref


async def lapse(keyring: Keyring, ref: str, appointment: dict[str, Any], at: datetime) -> bool:
    """No answer in time counts as declined; False if the mediator answered meanwhile."""
    moved = (
        await Appointment.update(
            {
                Appointment.status: step("lapse").target,
                Appointment.ended_at: at,
                Appointment.decline_reasons: "",
            }
        )
        .where(
            (Appointment.id == appointment["id"]) & Appointment.status.is_in(from_states("lapse"))
        )
        .returning(Appointment.id)
    )
    if not moved:
        return False
    await record(keyring, ref, "mediator.lapsed", SYSTEM, {"appointment": appointment["id"]})
    await await_new_proposal(appointment["case"], at)
    await tell(
        await owners(appointment["case"], roles.SUPERVISOR),
        ref,
        "lapsed",
        mediator=await name_of(appointment["mediator"]),
    )
    return True
