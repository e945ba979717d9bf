"""The tribunal's timetable: its dates, their deadlines, and extensions of them.

The tribunal sets the dates once, in order and in the future, by Procedural Order no. 1:
statement of claim (owed by the claimant), defence (by the other side), evidence (both),
reply (the claimant), an optional hearing (the tribunal's, with a place or video link)
and closing submissions (both). A side may ask to move a date it owes, by at most the
ruleset's `extension_limit`; the tribunal grants it (the date moves, and any later date
it would overtake moves by as much, in a new order) or refuses it with reasons.

Each date is a deadline like any other stage's: the case's `deadline_at` and
`next_step_by` name the next date still to come, so the ordinary sweep reminds whoever
owes it. A date that passed stays the case's deadline until its "overdue" reminder has
gone out; the sweep then moves on to the next (`advance_timetables`). After closing,
the deadline is the tribunal's own, for the award.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Any

from arbitration import orders, tribunal
from arbitration.tables import Award, Extension, TimetableStep
from ledger.keys import Keyring
from portal.accounts import roles
from portal.cases import deadlines
from portal.cases.events import SYSTEM, actor, record
from portal.cases.sides import side_role, sides_of
from portal.cases.tables import Case, DeadlineReminder
from portal.database import write_transaction
from portal.errors import Conflict, FormInvalid, NotAllowed
from portal.i18n import _

if TYPE_CHECKING:
    from portal.policy import CaseAccess

STEPS = ("claim", "defence", "evidence", "reply", "hearing", "closing")
OWED_BY = {
    "claim": "claimant",
    "defence": "respondent",
    "evidence": "both",
    "reply": "claimant",
    "hearing": "tribunal",
    "closing": "both",
}
REASONS_LIMIT = 5_000
PLACE_LIMIT = 500


def step_label(step: str) -> str:
    return {
        "claim": _("Statement of claim"),
        "defence": _("Statement of defence"),
        "evidence": _("Evidence"),
        "reply": _("Reply"),
        "hearing": _("Hearing"),
        "closing": _("Closing submissions"),
    }.get(step, step)


def owed_by_label(owed_by: str) -> str:
    return {
        "claimant": _("the claimant"),
        "respondent": _("the respondent"),
        "both": _("both sides"),
        "tribunal": _("the tribunal"),
    }.get(owed_by, owed_by)


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _iso(moment: datetime) -> str:
    return _utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def _shown(moment: datetime) -> str:
    return _utc(moment).strftime("%Y-%m-%d %H:%M UTC")


def _day(form: dict[str, str], name: str, errors: dict[str, str], at: datetime,
         required: bool = True) -> datetime | None:  # fmt: skip
    """A date from the form, at the end of that day (UTC), after now."""
    raw = form.get(name, "").strip()
    if not raw and not required:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        errors[name] = _("Enter the date, like 2026-12-01.")
        return None
    moment = datetime(day.year, day.month, day.day, 23, 59, tzinfo=UTC)
    if moment <= at:
        errors[name] = _("The date must be in the future.")
        return None
    return moment


def _hearing(
    form: dict[str, str], errors: dict[str, str], at: datetime
) -> tuple[datetime | None, str]:
    raw = form.get("hearing_on", "").strip()
    if not raw:
        return None, ""
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        errors["hearing_on"] = _("Enter the date, like 2026-12-01.")
        return None, ""
    try:
        clock = time.fromisoformat(form.get("hearing_time", "").strip())
    except ValueError:
        errors["hearing_time"] = _("Enter the hearing's time (UTC), like 09:30.")
        return None, ""
    place = form.get("hearing_place", "").replace("\r\n", "\n").strip()
    if not place:
        errors["hearing_place"] = _("Give the hearing's address, or its video link.")
    elif len(place) > PLACE_LIMIT:
        errors["hearing_place"] = _("Keep this under %(n)s characters.", n=PLACE_LIMIT)
    moment = datetime.combine(day, clock.replace(tzinfo=None), tzinfo=UTC)
    if moment <= at:
        errors["hearing_on"] = _("The date must be in the future.")
        return None, place
    return moment, place


@dataclass(frozen=True)
class Date:
    step: str
    due_at: datetime
    place: str = ""


def parse(form: dict[str, str], at: datetime) -> list[Date]:
    """The timetable's dates from the form, checked: each in the future, each after the
    one before. FormInvalid names the field to fix."""
    errors: dict[str, str] = {}
    found: list[Date] = []
    for step in STEPS:
        if step == "hearing":
            moment, place = _hearing(form, errors, at)
            if moment is not None:
                found.append(Date(step, moment, place))
            continue
        moment = _day(form, f"{step}_on", errors, at)
        if moment is not None:
            found.append(Date(step, moment))
    if not errors:
        for before, after in itertools.pairwise(found):
            if after.due_at <= before.due_at:
                field = "hearing_on" if after.step == "hearing" else f"{after.step}_on"
                errors[field] = _(
                    "This date must come after the %(step)s (%(date)s).",
                    step=step_label(before.step).lower(),
                    date=_shown(before.due_at),
                )
                break
    if errors:
        raise FormInvalid(errors)
    return found


async def steps_of(case_id: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = (
        await TimetableStep.select()
        .where(TimetableStep.case == case_id)
        .order_by(TimetableStep.due_at)
    )
    return rows


async def other_side(case_id: int) -> str:
    """The role that answers the claim: a customer respondent, or the platform."""
    roles_on = [s.role for s in await sides_of(case_id)]
    return roles.RESPONDENT if roles.RESPONDENT in roles_on else roles.PLATFORM


async def owner_role(case_id: int, owed_by: str) -> str:
    """Who the case's deadline names for a date: a side, every side, or the tribunal."""
    if owed_by == "respondent":
        return await other_side(case_id)
    if owed_by == "tribunal":
        return roles.ARBITRATOR
    if owed_by == "both":
        return roles.PARTIES
    return roles.CLAIMANT


async def next_deadline(case_id: int, at: datetime) -> tuple[datetime, str, str] | None:
    """(due, owner role, step) of the next date still to come; after the last one, the
    award's, the tribunal's own; None once the award is issued."""
    if await Award.exists().where((Award.case == case_id) & (Award.status == "issued")):
        return None
    steps = await steps_of(case_id)
    if not steps:
        return None
    for row in steps:
        if _utc(row["due_at"]) > at:
            return _utc(row["due_at"]), await owner_role(case_id, row["owed_by"]), row["step"]
    rules = await tribunal.rules_of(case_id)
    return _utc(steps[-1]["due_at"]) + rules.award_window, roles.ARBITRATOR, "award"


async def _keep_deadline(case_id: int, at: datetime) -> None:
    found = await next_deadline(case_id, at)
    if found is not None:
        await Case.update({Case.deadline_at: found[0], Case.next_step_by: found[1]}).where(
            Case.id == case_id
        )


async def set_timetable(
    keyring: Keyring, ref: str, access: CaseAccess, form: dict[str, str]
) -> None:
    """Set the dates, issued as the case's first procedural order."""
    if not access.can_conduct_proceedings:
        raise NotAllowed(_("Only the tribunal sets the timetable, while it sits."))
    at = deadlines.now()
    dates = parse(form, at)
    async with write_transaction(Case._meta.db):
        # The case row first: one such step of a case at a time (PostgreSQL).
        await Case.update({Case.updated_at: at}).where(Case.id == access.case_id)
        if await TimetableStep.exists().where(TimetableStep.case == access.case_id):
            raise Conflict(
                _("The timetable is set. A date moves by an extension, or by a later order.")
            )
        other = await other_side(access.case_id)

        def paragraphs() -> list[str]:
            lines = []
            for n, d in enumerate(dates, start=1):
                owed = OWED_BY[d.step]
                if d.step == "hearing":
                    lines.append(_("%(n)s. Hearing: %(date)s, at %(place)s.", n=n,
                                   date=_shown(d.due_at), place=d.place))  # fmt: skip
                else:
                    who = owed_by_label(owed)
                    if owed == "respondent" and other == roles.PLATFORM:
                        who = _("the platform")
                    lines.append(_("%(n)s. %(step)s, to be filed by %(who)s by %(date)s.", n=n,
                                   step=step_label(d.step), who=who,
                                   date=_shown(d.due_at)))  # fmt: skip
            return [
                _("The tribunal sets the following timetable:"),
                "\n".join(lines),
                _("Each date is a deadline. A party that needs more time asks the tribunal "
                  "for an extension, with reasons, before the date passes."),
            ]  # fmt: skip

        order = await orders.issue(keyring, ref, access.case_id, access.viewer.id, paragraphs, at)
        receipt = await record(
            keyring,
            ref,
            "timetable.set",
            actor(access.viewer.id, roles.ARBITRATOR),
            {
                "order": order["number"],
                "dates": [
                    {"step": d.step, "owed_by": OWED_BY[d.step], "due": _iso(d.due_at),
                     **({"place": d.place} if d.place else {})}
                    for d in dates
                ],
            },
        )  # fmt: skip
        for d in dates:
            await TimetableStep.insert(
                TimetableStep(
                    case=access.case_id,
                    step=d.step,
                    owed_by=OWED_BY[d.step],
                    due_at=d.due_at,
                    place=d.place,
                    set_by=access.viewer.id,
                    case_seq=receipt.case_seq,
                    updated_at=at,
                )
            )
        await _keep_deadline(access.case_id, at)


def _owes(access: CaseAccess, owed_by: str, other: str) -> bool:
    if owed_by == "both":
        return True
    if owed_by == "claimant":
        return roles.CLAIMANT in access.roles
    if owed_by == "respondent":
        return other in access.roles
    return False


async def ask_extension(
    keyring: Keyring, ref: str, access: CaseAccess, form: dict[str, str]
) -> int:
    """A side asks to move a date it owes; returns the request's id."""
    if not access.can_ask_extension:
        raise NotAllowed(_("Only the parties ask the tribunal for an extension."))
    at = deadlines.now()
    errors: dict[str, str] = {}
    step_id = form.get("step", "")
    step = None
    if step_id.isdigit():
        step = (
            await TimetableStep.select()
            .where((TimetableStep.id == int(step_id)) & (TimetableStep.case == access.case_id))
            .first()
        )
    other = await other_side(access.case_id)
    if step is None or not _owes(access, step["owed_by"], other):
        errors["step"] = _("Choose a date your side owes.")
    elif _utc(step["due_at"]) <= at:
        errors["step"] = _("This date has passed; it can no longer be extended.")
    wanted = _day(form, "wanted_on", errors, at)
    rules = await tribunal.rules_of(access.case_id)
    if step is not None and wanted is not None and "step" not in errors:
        current = _utc(step["due_at"])
        if wanted <= current:
            errors["wanted_on"] = _("Ask for a date after the one set (%(date)s).",
                                    date=_shown(current))  # fmt: skip
        elif wanted - current > rules.extension_limit:
            errors["wanted_on"] = _(
                "An extension may be at most %(days)s days: until %(date)s at the latest.",
                days=rules.extension_limit.days,
                date=(current + rules.extension_limit).strftime("%Y-%m-%d"),
            )
    reasons = form.get("reasons", "").replace("\r\n", "\n").strip()
    if not reasons:
        errors["reasons"] = _("Say why you need more time.")
    elif len(reasons) > REASONS_LIMIT:
        errors["reasons"] = _("Keep this under %(n)s characters.", n=REASONS_LIMIT)
    if errors:
        raise FormInvalid(errors)
    assert step is not None and wanted is not None
    role = side_role(access)
    async with write_transaction(Case._meta.db):
        # The case row first: one such step of a case at a time (PostgreSQL).
        await Case.update({Case.updated_at: at}).where(Case.id == access.case_id)
        if await Extension.exists().where(
            (Extension.step == step["id"]) & (Extension.status == "pending")
        ):
            raise Conflict(_("An extension of this date is already before the tribunal."))
        await record(keyring, ref, "extension.asked", actor(access.viewer.id, role),
                     {"step": step["step"], "due": _iso(step["due_at"]), "wanted": _iso(wanted),
                      "reasons": reasons})  # fmt: skip
        rows = await Extension.insert(
            Extension(
                case=access.case_id,
                step=step["id"],
                party=access.viewer.id,
                wanted=wanted,
                reasons=reasons,
                status="pending",
                created_at=at,
            )
        ).returning(Extension.id)
        await tribunal.tell_tribunal(access.case_id, ref, "extension_asked", by=access.viewer.id,
                                     step_label=step_label(step["step"]))  # fmt: skip
    return int(rows[0]["id"])


async def answer_extension(keyring: Keyring, ref: str, access: CaseAccess, extension_id: int,
                           form: dict[str, str]) -> str:  # fmt: skip
    """The tribunal grants or refuses an extension; returns the new status."""
    if not access.can_conduct_proceedings:
        raise NotAllowed(_("Only the tribunal answers a request for an extension."))
    errors: dict[str, str] = {}
    decision = form.get("decision", "")
    if decision not in ("grant", "refuse"):
        errors["decision"] = _("Choose to grant or refuse the extension.")
    reasons = form.get("reasons", "").replace("\r\n", "\n").strip()
    if decision == "refuse" and not reasons:
        errors["reasons"] = _("Give the tribunal's reasons for refusing.")
    elif len(reasons) > REASONS_LIMIT:
        errors["reasons"] = _("Keep this under %(n)s characters.", n=REASONS_LIMIT)
    if errors:
        raise FormInvalid(errors)
    at = deadlines.now()
    async with write_transaction(Case._meta.db):
        ext = (
            await Extension.select(*Extension.all_columns(), Extension.party.name)
            .where((Extension.id == extension_id) & (Extension.case == access.case_id))
            .first()
        )
        if ext is None:
            from litestar.exceptions import NotFoundException

            raise NotFoundException()
        status = "granted" if decision == "grant" else "refused"
        moved = (
            await Extension.update({
                Extension.status: status, Extension.decided_by: access.viewer.id,
                Extension.decision: reasons, Extension.decided_at: at,
            })
            .where((Extension.id == extension_id) & (Extension.status == "pending"))
            .returning(Extension.id)
        )  # fmt: skip
        if not moved:
            raise Conflict(_("The tribunal has answered this request already."))
        step = await TimetableStep.select().where(TimetableStep.id == ext["step"]).first()
        who = actor(access.viewer.id, roles.ARBITRATOR)
        if status == "refused":
            await record(keyring, ref, "extension.refused", who,
                         {"extension": extension_id, "step": step["step"],
                          "reasons": reasons})  # fmt: skip
        else:
            await _grant(keyring, ref, access, ext, step, reasons, at)
        await tribunal.tell([ext["party"]], ref, f"extension_{status}",
                            step_label=step_label(step["step"]), reasons=reasons)  # fmt: skip
    return status


async def _grant(keyring: Keyring, ref: str, access: CaseAccess, ext: dict[str, Any],
                 step: dict[str, Any], reasons: str, at: datetime) -> None:  # fmt: skip
    """Move the date, and every later date it would overtake by as much; an order says so."""
    new = _utc(ext["wanted"])
    delta = new - _utc(step["due_at"])
    moves: list[tuple[dict[str, Any], datetime]] = [(step, new)]
    previous = new
    for later in await steps_of(access.case_id):
        if _utc(later["due_at"]) <= _utc(step["due_at"]) or later["id"] == step["id"]:
            continue
        due = _utc(later["due_at"])
        if due <= previous:
            due = due + delta
            moves.append((later, due))
        previous = due

    def paragraphs() -> list[str]:
        found = [
            _("On the request of %(name)s, the tribunal extends the date for the %(step)s "
              "from %(old)s to %(new)s.", name=ext["party.name"],
              step=step_label(step["step"]).lower(), old=_shown(step["due_at"]),
              new=_shown(new)),
        ]  # fmt: skip
        for later, due in moves[1:]:
            found.append(_("So that the timetable stays in order, the %(step)s moves from "
                           "%(old)s to %(new)s.", step=step_label(later["step"]).lower(),
                           old=_shown(later["due_at"]), new=_shown(due)))  # fmt: skip
        if reasons:
            found.append(_("Reasons: %(reasons)s", reasons=reasons))
        return found

    order = await orders.issue(keyring, ref, access.case_id, access.viewer.id, paragraphs, at)
    receipt = await record(
        keyring,
        ref,
        "extension.granted",
        actor(access.viewer.id, roles.ARBITRATOR),
        {"extension": ext["id"], "order": order["number"],
         "moved": [{"step": row["step"], "from": _iso(row["due_at"]), "to": _iso(due)}
                   for row, due in moves]},
    )  # fmt: skip
    for row, due in moves:
        await TimetableStep.update(
            {TimetableStep.due_at: due, TimetableStep.case_seq: receipt.case_seq,
             TimetableStep.updated_at: at}
        ).where(TimetableStep.id == row["id"])  # fmt: skip
    await _keep_deadline(access.case_id, at)


async def advance_timetables(keyring: Keyring, at: datetime) -> int:
    """Move each arbitration's deadline on from a date that passed, once its overdue
    reminder went out; returns how many moved."""
    moved = 0
    with_dates = {row["case"] for row in await TimetableStep.select(TimetableStep.case).where(
        TimetableStep.due_at <= at)}  # fmt: skip
    if not with_dates:
        return 0
    for case in await Case.select(Case.id, Case.ref, Case.deadline_at).where(
        (Case.state == "arbitration") & Case.id.is_in(sorted(with_dates))
        & Case.deadline_at.is_not_null() & (Case.deadline_at <= at)
    ):  # fmt: skip
        reminded = await DeadlineReminder.exists().where(
            (DeadlineReminder.case == case["id"])
            & (DeadlineReminder.deadline_at == case["deadline_at"])
            & (DeadlineReminder.kind == "overdue")
        )
        found = await next_deadline(case["id"], at)
        if not reminded or found is None or found[0] == _utc(case["deadline_at"]):
            continue
        due, owner, step = found
        async with write_transaction(Case._meta.db):
            done = (
                await Case.update({Case.deadline_at: due, Case.next_step_by: owner})
                .where((Case.id == case["id"]) & (Case.deadline_at == case["deadline_at"]))
                .returning(Case.id)
            )
            if done:
                await record(keyring, case["ref"], "timetable.next", SYSTEM,
                             {"step": step, "due": _iso(due), "owner": owner})  # fmt: skip
                moved += 1
    return moved


def extension_status(status: str) -> str:
    return {"pending": _("before the tribunal"), "granted": _("granted"),
            "refused": _("refused")}.get(status, status)  # fmt: skip


async def extensions(case_id: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = (
        await Extension.select(
            *Extension.all_columns(), Extension.party.name, Extension.step.step,
            Extension.step.due_at,
        )
        .where(Extension.case == case_id)
        .order_by(Extension.id)
    )  # fmt: skip
    return rows
