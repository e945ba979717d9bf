"""Extensions of the timetable: a side asks to move a date it owes, by at most the
ruleset's `extension_limit`; the tribunal grants it (the date moves, and any later date
it would overtake moves by as much, in a new order) or refuses it with reasons."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from arbitration import dates, orders, timetable, tribunal
from arbitration.tables import Extension, TimetableStep
from ledger.keys import Keyring
from portal.cases import deadlines
from portal.cases.events import actor, record
from portal.cases.tables import Case
from portal.database import write_transaction
from portal.errors import Conflict, FormInvalid, NotAllowed, NotFound
from portal.i18n import _, gettext
from portal.procedure import acting as A
from portal.procedure import roles
from portal.procedure.arbitration import EXTENSION, ask, subject

if TYPE_CHECKING:
    from portal.procedure.policy import CaseAccess


def owes(access: CaseAccess, owed_by: str, other: str) -> bool:
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
    other = await timetable.other_side(access.case_id)
    if step is None or not owes(access, step["owed_by"], other):
        errors["step"] = _("Choose a date your side owes.")
    elif dates.utc(step["due_at"]) <= at:
        errors["step"] = _("This date has passed; it can no longer be extended.")
    wanted = dates.day(form, "wanted_on", errors, at)
    rules = await tribunal.rules_of(access.case_id)
    if step is not None and wanted is not None and "step" not in errors:
        current = dates.utc(step["due_at"])
        if wanted <= current:
            errors["wanted_on"] = _("Ask for a date after the one set (%(date)s).",
                                    date=dates.shown(current))  # fmt: skip
        elif wanted - current > rules.extension_limit:
            errors["wanted_on"] = _(
                "An extension may be at most %(days)s days: until %(date)s at the latest.",
                days=rules.extension_limit.days,
                date=(current + rules.extension_limit).strftime("%Y-%m-%d"),
            )
    reasons = form.get("reasons", "").replace("\r\n", "\n").strip()
    if not reasons:
        errors["reasons"] = _("Say why you need more time.")
    elif len(reasons) > dates.REASONS_LIMIT:
        errors["reasons"] = _("Keep this under %(n)s characters.", n=dates.REASONS_LIMIT)
    if errors:
        raise FormInvalid(errors)
    assert step is not None and wanted is not None
    role = access.acting_role(A.BEFORE_NEUTRAL)
    async with write_transaction(Case._meta.db):
        # The case row first: one such step of a case at a time (PostgreSQL).
        await Case.update({Case.updated_at: at}).where(Case.id == access.case_id)
        if await Extension.exists().where(
            (Extension.step == step["id"]) & Extension.status.is_in(sorted(EXTENSION.open_states))
        ):
            raise Conflict(_("An extension of this date is already before the tribunal."))
        await record(keyring, ref, "extension.asked", actor(access.viewer.id, role),
                     {"step": step["step"], "due": dates.iso(step["due_at"]),
                      "wanted": dates.iso(wanted), "reasons": reasons})  # fmt: skip
        rows = await Extension.insert(
            Extension(
                case=access.case_id,
                step=step["id"],
                party=access.viewer.id,
                wanted=wanted,
                reasons=reasons,
                status=EXTENSION.initial,
                created_at=at,
            )
        ).returning(Extension.id)
        await tribunal.tell_tribunal(access.case_id, ref, "extension_asked", by=access.viewer.id,
                                     step_label=dates.step_label(step["step"]))  # fmt: skip
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
    elif len(reasons) > dates.REASONS_LIMIT:
        errors["reasons"] = _("Keep this under %(n)s characters.", n=dates.REASONS_LIMIT)
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
            raise NotFound()
        answer = ask(EXTENSION, decision, subject(ext), access, at,
                     _("The tribunal has answered this request already."))  # fmt: skip
        status = answer.target
        moved = (
            await Extension.update({
                Extension.status: status, Extension.decided_by: access.viewer.id,
                Extension.decision: reasons, Extension.decided_at: at,
            })
            .where((Extension.id == extension_id) & Extension.status.is_in(sorted(answer.sources)))
            .returning(Extension.id)
        )  # fmt: skip
        if not moved:
            raise Conflict(_("The tribunal has answered this request already."))
        step = await TimetableStep.select().where(TimetableStep.id == ext["step"]).first()
        assert step is not None
        who = actor(access.viewer.id, roles.ARBITRATOR)
        if answer.name == "refuse":
            await record(keyring, ref, "extension.refused", who,
                         {"extension": extension_id, "step": step["step"],
                          "reasons": reasons})  # fmt: skip
        else:
            await _grant(keyring, ref, access, ext, step, reasons, at)
        await tribunal.tell([ext["party"]], ref, f"extension_{status}",
                            step_label=dates.step_label(step["step"]), reasons=reasons)  # fmt: skip
    return status


async def _grant(keyring: Keyring, ref: str, access: CaseAccess, ext: dict[str, Any],
                 step: dict[str, Any], reasons: str, at: datetime) -> None:  # fmt: skip
    """Move the date, and every later date it would overtake by as much; an order says so."""
    new = dates.utc(ext["wanted"])
    delta = new - dates.utc(step["due_at"])
    moves: list[tuple[dict[str, Any], datetime]] = [(step, new)]
    previous = new
    for later in await timetable.steps_of(access.case_id):
        if dates.utc(later["due_at"]) <= dates.utc(step["due_at"]) or later["id"] == step["id"]:
            continue
        due = dates.utc(later["due_at"])
        if due <= previous:
            due = due + delta
            moves.append((later, due))
        previous = due

    def paragraphs() -> list[str]:
        found = [
            _("On the request of %(name)s, the tribunal extends the date for the %(step)s "
              "from %(old)s to %(new)s.", name=ext["party.name"],
              step=dates.step_label(step["step"]).lower(), old=dates.shown(step["due_at"]),
              new=dates.shown(new)),
        ]  # fmt: skip
        for later, due in moves[1:]:
            found.append(_("So that the timetable stays in order, the %(step)s moves from "
                           "%(old)s to %(new)s.", step=dates.step_label(later["step"]).lower(),
                           old=dates.shown(later["due_at"]), new=dates.shown(due)))  # fmt: skip
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
         "moved": [{"step": row["step"], "from": dates.iso(row["due_at"]), "to": dates.iso(due)}
                   for row, due in moves]},
    )  # fmt: skip
    for row, due in moves:
        await TimetableStep.update(
            {TimetableStep.due_at: due, TimetableStep.case_seq: receipt.case_seq,
             TimetableStep.updated_at: at}
        ).where(TimetableStep.id == row["id"])  # fmt: skip
    await timetable.keep_deadline(access.case_id, at)


def extension_status(status: str) -> str:
    return gettext(EXTENSION.state(status).label)


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
