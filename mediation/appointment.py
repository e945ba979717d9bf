"""Appointing a mediator: proposal, the parties' objections, the invitation, the
mediator's disclosure and answer, and the mediation period.

    proposed --(every side agrees, or the objection window passes)--> invited
    invited  --(disclosed nothing, accepted)--> active
             --(disclosed something, accepted)--> disclosed --(no objection)--> active
             --(declined, or no answer in time)--> declined
    proposed | disclosed --(a side objects)--> objected
    active   --(settled, impasse)--> ended

Each step is one write transaction holding the change and its ledger entry. Each side
may object once per case to a proposed mediator, without giving cause beyond reasons;
what a mediator discloses may always be objected to. After an objection or a refusal a
supervisor proposes someone else. Windows that pass are acted on by the sweep
(`advance_due`), which every worker runs: each step is a conditional update, so only
one sweep takes it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from ledger.keys import Keyring
from mediation.tables import Appointment, AppointmentAnswer
from portal.accounts import invitations, roles
from portal.accounts.reauth import confirm_password
from portal.accounts.tables import User
from portal.cases import deadlines
from portal.cases.events import SYSTEM, actor, record
from portal.cases.lifecycle import owners
from portal.cases.sides import (
    add_representative,
    chosen_representative,
    needs_representative,
    side_role,
    sides_of,
)
from portal.cases.tables import Case, CaseParticipant
from portal.database import write_transaction
from portal.errors import Conflict, FormInvalid, NotAllowed
from portal.i18n import _
from portal.notifications.notify import absolute_link, notify

if TYPE_CHECKING:
    from portal.policy import CaseAccess
    from portal.procedure.people import Viewer

OBJECTION_WINDOW = timedelta(days=5)
ANSWER_WINDOW = timedelta(days=5)  # the invited mediator's time to accept or decline
PERIOD = timedelta(days=30)
LONGEST_EXTENSION = 30  # days
TEXT_LIMIT = 5_000

LIVE = ("proposed", "invited", "disclosed", "active")


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _when(moment: datetime) -> str:
    return _utc(moment).strftime("%Y-%m-%d %H:%M UTC")


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


async def _set_deadline(case_id: int, deadline: datetime | None, owner: str) -> None:
    await Case.update(
        {Case.deadline_at: deadline, Case.next_step_by: owner, Case.updated_at: deadlines.now()}
    ).where(Case.id == case_id)


async def _tell(user_ids: list[int], ref: str, step: str, **context: Any) -> None:
    await notify(
        sorted(set(user_ids)),
        f"mediation_{step}",
        case_ref=ref,
        link=f"/cases/{ref}",
        template="mediation",
        step=step,
        **context,
    )


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


async def propose(keyring: Keyring, ref: str, access: CaseAccess, form: dict[str, str]) -> int:
    """A supervisor proposes a mediator; the sides then have their objection window."""
    if not access.can_propose_mediator:
        raise NotAllowed(
            _("Only a supervisor can propose a mediator, while the case is in mediation.")
        )
    if await live_appointment(access.case_id):
        raise Conflict(_("A mediator has already been proposed for this case."))
    errors: dict[str, str] = {}
    chosen = form.get("mediator", "")
    mediator = None
    if chosen.isdigit():
        mediator = next((m for m in await roster_choices() if m["id"] == int(chosen)), None)
    if mediator is None:
        errors["mediator"] = _("Choose a mediator from the roster.")
    elif await Appointment.exists().where(
        (Appointment.case == access.case_id)
        & (Appointment.mediator == mediator["id"])
        & Appointment.status.is_in(["objected", "declined"])
    ):
        errors["mediator"] = _(
            "%(name)s was objected to or declined on this case; choose someone else.",
            name=mediator["name"],
        )
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
                status="proposed",
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
                "objections_due": _iso(due),
            },
        )
        await _set_deadline(access.case_id, due, roles.CLAIMANT)
        await _tell(
            [s.user_id for s in await sides_of(access.case_id)],
            ref,
            "proposed",
            mediator=mediator["name"],
            due=_when(due),
        )
    return appointment_id


def _iso(moment: datetime) -> str:
    return _utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


async def answer(
    keyring: Keyring, ref: str, access: CaseAccess, form: dict[str, str], base_url: str = ""
) -> None:
    """A side agrees to the proposed mediator (or their disclosure), or objects."""
    if not access.can_answer_appointment:
        raise NotAllowed(_("Only the parties answer a proposed mediator."))
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
    at = deadlines.now()
    role = side_role(access)
    async with write_transaction(Case._meta.db):
        appointment = await live_appointment(access.case_id)
        if appointment is None or appointment["status"] not in ("proposed", "disclosed"):
            raise Conflict(_("There is no proposed mediator to answer now."))
        stage = "proposal" if appointment["status"] == "proposed" else "disclosure"
        if _utc(appointment["objection_due"]) < at:
            raise Conflict(
                _("The time to answer ended on %(date)s.", date=_when(appointment["objection_due"]))
            )
        if await AppointmentAnswer.exists().where(
            (AppointmentAnswer.appointment == appointment["id"])
            & (AppointmentAnswer.party == access.viewer.id)
            & (AppointmentAnswer.stage == stage)
        ):
            raise Conflict(_("You have already answered."))
        if choice == "object" and stage == "proposal" and await _objected_before(access):
            raise Conflict(
                _("You have already used your one objection to a proposed mediator on this case.")
            )
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
            await _close(appointment, "objected", at)
            await _await_new_proposal(access.case_id, at)
            told = await owners(access.case_id, roles.SUPERVISOR)
            told += [s.user_id for s in await sides_of(access.case_id)]
            if stage == "disclosure":
                told.append(appointment["mediator"])
            await _tell(
                [u for u in told if u != access.viewer.id],
                ref,
                "objected",
                mediator=appointment["mediator.name"],
                reasons=reasons,
            )
            return
        await record(keyring, ref, "mediator.agreed", who, body)
        agreed = {
            row["party"]
            for row in await AppointmentAnswer.select(AppointmentAnswer.party).where(
                (AppointmentAnswer.appointment == appointment["id"])
                & (AppointmentAnswer.stage == stage)
                & AppointmentAnswer.objects.eq(False)
            )
        }
        if set(access.party_ids) <= agreed:
            if stage == "proposal":
                await _invite(keyring, ref, appointment, at, base_url)
            else:
                await _activate(keyring, ref, appointment, at)


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


async def _close(appointment: dict[str, Any], status: str, at: datetime) -> None:
    await Appointment.update({Appointment.status: status, Appointment.ended_at: at}).where(
        Appointment.id == appointment["id"]
    )


async def _await_new_proposal(case_id: int, at: datetime) -> None:
    """Back to the supervisors: someone else must be proposed."""
    case = await Case.select(Case.priority).where(Case.id == case_id).first()
    await _set_deadline(
        case_id,
        await deadlines.stage_deadline("mediation", case["priority"], at),
        roles.SUPERVISOR,
    )


async def _invite(
    keyring: Keyring, ref: str, appointment: dict[str, Any], at: datetime, base_url: str
) -> None:
    """No objection: the mediator is asked to read the summary, disclose, and answer."""
    moved = (
        await Appointment.update(
            {Appointment.status: "invited", Appointment.answer_due: at + ANSWER_WINDOW}
        )
        .where((Appointment.id == appointment["id"]) & (Appointment.status == "proposed"))
        .returning(Appointment.id)
    )
    if not moved:
        return
    due = at + ANSWER_WINDOW
    await record(
        keyring,
        ref,
        "mediator.invited",
        SYSTEM,
        {
            "appointment": appointment["id"],
            "mediator": f"user:{appointment['mediator']}",
            "answer_due": _iso(due),
        },
    )
    await _set_deadline(appointment["case"], due, roles.SUPERVISOR)
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
        due=_when(due),
        account_link=account_link,
    )


async def invitation(viewer: Viewer, appointment_id: int) -> dict[str, Any]:
    """The invitation and the case's summary, for the invited mediator only; 404 else."""
    from litestar.exceptions import NotFoundException

    from portal.policy import may_answer_invitation

    appointment = await Appointment.select().where(Appointment.id == appointment_id).first()
    if appointment is None or not may_answer_invitation(viewer, appointment):
        raise NotFoundException()
    return appointment


async def accept(
    keyring: Keyring, viewer: Viewer, appointment_id: int, form: dict[str, str], address: str
) -> str:
    """The mediator signs their disclosure (by password) and accepts; returns the case ref."""
    appointment = await invitation(viewer, appointment_id)
    errors: dict[str, str] = {}
    kind = form.get("disclosure", "")
    text = form.get("disclosure_text", "").replace("\r\n", "\n").strip()
    if kind not in ("none", "disclose"):
        errors["disclosure"] = _("Say whether you have anything to disclose.")
    elif kind == "disclose" and not text:
        errors["disclosure_text"] = _("Write what you disclose.")
    elif len(text) > TEXT_LIMIT:
        errors["disclosure_text"] = _("Keep this under %(n)s characters.", n=TEXT_LIMIT)
    try:
        await confirm_password(viewer.id, form.get("password", ""), address)
    except FormInvalid as exc:
        errors.update(exc.errors)
    if errors:
        raise FormInvalid(errors)
    at = deadlines.now()
    ref = await _ref(appointment["case"])
    disclosure = text if kind == "disclose" else ""
    async with write_transaction(Case._meta.db):
        status = "disclosed" if disclosure else "active"
        moved = (
            await Appointment.update(
                {
                    Appointment.status: "disclosed" if disclosure else "invited",
                    Appointment.disclosure: disclosure,
                    Appointment.disclosed_at: at,
                    Appointment.objection_due: at + OBJECTION_WINDOW
                    if disclosure
                    else appointment["objection_due"],
                }
            )
            .where((Appointment.id == appointment_id) & (Appointment.status == "invited"))
            .returning(Appointment.id)
        )
        if not moved:
            raise Conflict(_("This invitation has been answered already."))
        who = actor(viewer.id, roles.MEDIATOR)
        await record(
            keyring,
            ref,
            "mediator.disclosed",
            who,
            {"appointment": appointment_id, "disclosure": disclosure or "none"},
        )
        appointment = {**appointment, "status": "invited"}
        if status == "active":
            await _activate(keyring, ref, appointment, at)
        else:
            due = at + OBJECTION_WINDOW
            await _set_deadline(appointment["case"], due, roles.CLAIMANT)
            await _tell(
                [s.user_id for s in await sides_of(appointment["case"])],
                ref,
                "disclosed",
                mediator=viewer.name,
                due=_when(due),
            )
    return ref


async def decline(
    keyring: Keyring, viewer: Viewer, appointment_id: int, form: dict[str, str]
) -> str:
    appointment = await invitation(viewer, appointment_id)
    reasons = form.get("reasons", "").replace("\r\n", "\n").strip()[:TEXT_LIMIT]
    at = deadlines.now()
    ref = await _ref(appointment["case"])
    async with write_transaction(Case._meta.db):
        moved = (
            await Appointment.update(
                {
                    Appointment.status: "declined",
                    Appointment.decline_reasons: reasons,
                    Appointment.ended_at: at,
                }
            )
            .where((Appointment.id == appointment_id) & (Appointment.status == "invited"))
            .returning(Appointment.id)
        )
        if not moved:
            raise Conflict(_("This invitation has been answered already."))
        await record(
            keyring,
            ref,
            "mediator.declined",
            actor(viewer.id, roles.MEDIATOR),
            {"appointment": appointment_id, "reasons": reasons},
        )
        await _await_new_proposal(appointment["case"], at)
        await _tell(
            await owners(appointment["case"], roles.SUPERVISOR),
            ref,
            "declined",
            mediator=viewer.name,
            reasons=reasons,
        )
    return ref


async def _activate(keyring: Keyring, ref: str, appointment: dict[str, Any], at: datetime) -> None:
    """The mediator joins the case and the mediation period starts."""
    ends = at + PERIOD
    moved = (
        await Appointment.update({Appointment.status: "active", Appointment.period_ends: ends})
        .where(
            (Appointment.id == appointment["id"])
            & Appointment.status.is_in(["invited", "disclosed"])
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
        {"appointment": appointment["id"], "period_ends": _iso(ends)},
    )
    await _set_deadline(appointment["case"], ends, roles.MEDIATOR)
    everyone = [s.user_id for s in await sides_of(appointment["case"])]
    await _tell([*everyone, appointment["mediator"]], ref, "started", due=_when(ends))


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
        if appointment is None or appointment["status"] != "active":
            raise Conflict(_("The mediation has not started."))
        if appointment["extended"]:
            raise Conflict(
                _(
                    "The mediation period has been extended once already; it cannot "
                    "be extended again."
                )
            )
        ends = _utc(appointment["period_ends"]) + timedelta(days=days)
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
                "period_ends": _iso(ends),
                "reasons": reasons,
            },
        )
        await _set_deadline(access.case_id, ends, roles.MEDIATOR)
        await _tell(
            [s.user_id for s in await sides_of(access.case_id)], ref, "extended", due=_when(ends)
        )


async def end_mediation(case_id: int, at: datetime) -> None:
    """The mediation is over (settled or at an impasse); call in that step's transaction."""
    await Appointment.update({Appointment.status: "ended", Appointment.ended_at: at}).where(
        (Appointment.case == case_id) & (Appointment.status == "active")
    )


async def advance_due(keyring: Keyring, at: datetime) -> int:
    """Act on windows that passed: invite after the objection window, start after the
    disclosure window, and treat an invitation left unanswered as declined."""
    done = 0
    due = await Appointment.select().where(
        (Appointment.status.is_in(["proposed", "disclosed"]) & (Appointment.objection_due <= at))
        | ((Appointment.status == "invited") & (Appointment.answer_due <= at))
    )
    for appointment in due:
        ref = await _ref(appointment["case"])
        async with write_transaction(Case._meta.db):
            if appointment["status"] == "proposed":
                await _invite(keyring, ref, appointment, at, "")
            elif appointment["status"] == "disclosed":
                await _activate(keyring, ref, appointment, at)
            else:
                moved = (
                    await Appointment.update(
                        {
                            Appointment.status: "declined",
                            Appointment.ended_at: at,
                            Appointment.decline_reasons: "",
                        }
                    )
                    .where(
                        (Appointment.id == appointment["id"]) & (Appointment.status == "invited")
                    )
                    .returning(Appointment.id)
                )
                if not moved:
                    continue
                await record(
                    keyring, ref, "mediator.lapsed", SYSTEM, {"appointment": appointment["id"]}
                )
                await _await_new_proposal(appointment["case"], at)
                await _tell(
                    await owners(appointment["case"], roles.SUPERVISOR),
                    ref,
                    "lapsed",
                    mediator=await _name(appointment["mediator"]),
                )
        done += 1
    return done


async def _ref(case_id: int) -> str:
    row = await Case.select(Case.ref).where(Case.id == case_id).first()
    return str(row["ref"])


async def _name(user_id: int) -> str:
    row = await User.select(User.name).where(User.id == user_id).first()
    return str(row["name"]) if row else ""
