"""Proposing a mediator, and the sides' answers to the proposal or to a disclosure.

A supervisor proposes someone from the roster; each side may agree or object within the
objection window. Each side may object once per case to a proposed mediator, without
giving cause beyond reasons; what a mediator discloses may always be objected to. When
every side agreed the mediator is invited (to a proposal) or the mediation starts (to a
disclosure); one objection closes the appointment and a supervisor proposes someone else.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from ledger.keys import Keyring
from mediation.appointment import (
    OBJECTION_WINDOW,
    TEXT_LIMIT,
    await_new_proposal,
    close,
    iso,
    live_appointment,
    owner_of,
    set_deadline,
    step,
    tell,
    when,
)
from mediation.invitation import invite
from mediation.period import activate
from mediation.tables import Appointment, AppointmentAnswer
from portal.accounts.tables import User
from portal.cases import deadlines
from portal.cases.events import actor, record
from portal.cases.lifecycle import owners
from portal.cases.sides import (
    add_representative,
    chosen_representative,
    needs_representative,
    sides_of,
)
from portal.cases.tables import Case
from portal.database import write_transaction
from portal.errors import Conflict, FormInvalid, NotAllowed
from portal.i18n import _
from portal.procedure import acting as A
from portal.procedure import roles
from portal.procedure.mediation import APPOINTMENT, subject
from portal.procedure.table import Refused

if TYPE_CHECKING:
    from portal.procedure.policy import CaseAccess

# The stage a side answers, by the appointment's status, and its two steps in the table.
STAGES = {
    "proposed": ("proposal", "agree_to_proposal", "object_to_proposal"),
    "disclosed": ("disclosure", "agree_to_disclosure", "object_to_disclosure"),
}
CLOSED_ON_MEDIATOR = sorted(
    {
        step(name).target
        for name in ("object_to_proposal", "object_to_disclosure", "decline", "lapse")
    }
)
"""How an appointment ends against its mediator: they are not proposed again on the case."""


async def roster_choices() -> list[dict[str, Any]]:
    """Mediators a supervisor may propose: active, on the roster, with their profile."""
    rows: list[dict[str, Any]] = await User.raw(
        "SELECT u.id, u.name, u.email, p.languages, p.expertise, p.jurisdiction, p.profile "
        'FROM portal_user u LEFT JOIN neutral_profile p ON p."user" = u.id '
        "WHERE u.role = {} AND u.active AND (p.on_roster IS NULL OR p.on_roster) "
        "ORDER BY u.name, u.id",
        roles.MEDIATOR,
    )
    return rows


async def _chosen_mediator(case_id: int, form: dict[str, str],
                           errors: dict[str, str]) -> dict[str, Any] | None:  # fmt: skip
    """The mediator the form names, if on the roster and not turned away on this case."""
    chosen = form.get("mediator", "")
    mediator = None
    if chosen.isdigit():
        mediator = next((m for m in await roster_choices() if m["id"] == int(chosen)), None)
    if mediator is None:
        errors["mediator"] = _("Choose a mediator from the roster.")
    elif await Appointment.exists().where(
        (Appointment.case == case_id)
        & (Appointment.mediator == mediator["id"])
        & Appointment.status.is_in(CLOSED_ON_MEDIATOR)
    ):
        errors["mediator"] = _(
            "%(name)s was objected to or declined on this case; choose someone else.",
            name=mediator["name"],
        )
    return mediator


async def propose(keyring: Keyring, ref: str, access: CaseAccess, form: dict[str, str]) -> int:
    """A supervisor proposes a mediator; the sides then have their objection window."""
    if not access.can_propose_mediator:
        raise NotAllowed(
            _("Only a supervisor can propose a mediator, while the case is in mediation.")
        )
    if await live_appointment(access.case_id):
        raise Conflict(_("A mediator has already been proposed for this case."))
    errors: dict[str, str] = {}
    mediator = await _chosen_mediator(access.case_id, form, errors)
    representative = None
    if await needs_representative(access.case_id):
        representative = await chosen_representative(form, errors)
    if errors:
        raise FormInvalid(errors)
    assert mediator is not None
    at = deadlines.now()
    due = at + OBJECTION_WINDOW
    async with write_transaction(Case._meta.db):
        if await live_appointment(access.case_id):
            raise Conflict(_("A mediator has already been proposed for this case."))
        if representative is not None:
            await add_representative(keyring, ref, access.case_id, representative,
                                     actor(access.viewer.id, roles.SUPERVISOR), at)  # fmt: skip
        rows = await Appointment.insert(
            Appointment(
                case=access.case_id,
                mediator=mediator["id"],
                proposed_by=access.viewer.id,
                status=APPOINTMENT.initial,
                objection_due=due,
                created_at=at,
            )
        ).returning(Appointment.id)
        appointment_id = int(rows[0]["id"])
        await record(
            keyring,
            ref,
            "mediator.proposed",
            actor(access.viewer.id, roles.SUPERVISOR),
            {
                "appointment": appointment_id,
                "mediator": f"user:{mediator['id']}",
                "name": mediator["name"],
                "objections_due": iso(due),
            },
        )
        await set_deadline(access.case_id, due, owner_of(APPOINTMENT.initial))
        await tell(
            [s.user_id for s in await sides_of(access.case_id)],
            ref,
            "proposed",
            mediator=mediator["name"],
            due=when(due),
        )
    return appointment_id


async def answer(
    keyring: Keyring, ref: str, access: CaseAccess, form: dict[str, str], base_url: str = ""
) -> None:
    """A side agrees to the proposed mediator (or their disclosure), or objects."""
    if not access.can_answer_appointment:
        raise NotAllowed(_("Only the parties answer a proposed mediator."))
    choice, reasons = _read_answer(form)
    at = deadlines.now()
    role = access.acting_role(A.BEFORE_NEUTRAL)
    async with write_transaction(Case._meta.db):
        appointment = await live_appointment(access.case_id)
        if appointment is None or appointment["status"] not in STAGES:
            raise Conflict(_("There is no proposed mediator to answer now."))
        stage, agreeing, objecting = STAGES[appointment["status"]]
        taken = objecting if choice == "object" else agreeing
        try:
            APPOINTMENT.check(taken, subject(appointment), access, at)
        except Refused as exc:  # the window has passed
            raise Conflict(str(exc)) from exc
        await _refuse_second_answer(access, appointment["id"], stage, choice)
        await AppointmentAnswer.insert(
            AppointmentAnswer(
                appointment=appointment["id"],
                party=access.viewer.id,
                stage=stage,
                objects=choice == "object",
                reasons=reasons,
                created_at=at,
            )
        )
        who = actor(access.viewer.id, role)
        body: dict[str, Any] = {"appointment": appointment["id"], "stage": stage}
        if choice == "object":
            await record(keyring, ref, "mediator.objected", who, {**body, "reasons": reasons})
            await _objected(ref, access, appointment, step(taken).target, reasons, at)
            return
        await record(keyring, ref, "mediator.agreed", who, body)
        if await _every_side_agreed(access, appointment["id"], stage):
            if stage == "proposal":
                await invite(keyring, ref, appointment, at, base_url)
            else:
                await activate(keyring, ref, appointment, at)


async def _objected(ref: str, access: CaseAccess, appointment: dict[str, Any], status: str,
                    reasons: str, at: datetime) -> None:  # fmt: skip
    """The appointment closes; the supervisors propose someone else, and everyone is told."""
    await close(appointment, status, at)
    await await_new_proposal(access.case_id, at)
    told = await owners(access.case_id, roles.SUPERVISOR)
    told += [s.user_id for s in await sides_of(access.case_id)]
    if STAGES[appointment["status"]][0] == "disclosure":
        told.append(appointment["mediator"])  # they accepted: they hear why they go
    await tell(
        [u for u in told if u != access.viewer.id],
        ref,
        "objected",
        mediator=appointment["mediator.name"],
        reasons=reasons,
    )


def _read_answer(form: dict[str, str]) -> tuple[str, str]:
    """The side's choice and its reasons, which an objection must give."""
    choice = form.get("answer", "")
    reasons = form.get("reasons", "").replace("\r\n", "\n").strip()
    errors: dict[str, str] = {}
    if choice not in ("agree", "object"):
        errors["answer"] = _("Choose whether you agree or object.")
    if choice == "object" and not reasons:
        errors["reasons"] = _("Give your reasons for objecting.")
    if len(reasons) > TEXT_LIMIT:
        errors["reasons"] = _("Keep this under %(n)s characters.", n=TEXT_LIMIT)
    if errors:
        raise FormInvalid(errors)
    return choice, reasons


async def _refuse_second_answer(
    access: CaseAccess, appointment_id: int, stage: str, choice: str
) -> None:
    """A side answers each stage once, and objects to a proposed mediator once on a case."""
    if await AppointmentAnswer.exists().where(
        (AppointmentAnswer.appointment == appointment_id)
        & (AppointmentAnswer.party == access.viewer.id)
        & (AppointmentAnswer.stage == stage)
    ):
        raise Conflict(_("You have already answered."))
    if choice == "object" and stage == "proposal" and await _objected_before(access):
        raise Conflict(
            _("You have already used your one objection to a proposed mediator on this case.")
        )


async def _every_side_agreed(access: CaseAccess, appointment_id: int, stage: str) -> bool:
    agreed = {
        row["party"]
        for row in await AppointmentAnswer.select(AppointmentAnswer.party).where(
            (AppointmentAnswer.appointment == appointment_id)
            & (AppointmentAnswer.stage == stage)
            & AppointmentAnswer.objects.eq(False)
        )
    }
    return set(access.party_ids) <= agreed


async def _objected_before(access: CaseAccess) -> bool:
    mine = await AppointmentAnswer.select(AppointmentAnswer.id).where(
        (AppointmentAnswer.party == access.viewer.id)
        & (AppointmentAnswer.stage == "proposal")
        & AppointmentAnswer.objects.eq(True)
        & AppointmentAnswer.appointment.is_in(
            Appointment.select(Appointment.id).where(Appointment.case == access.case_id)
        )
    )
    return bool(mine)
