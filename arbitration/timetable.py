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

The dates as the form gives them are read in `arbitration.dates`; extensions are
`arbitration.extensions`.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from arbitration import dates, orders, tribunal
from arbitration.tables import Award, TimetableStep
from ledger.keys import Keyring
from portal.cases import deadlines
from portal.cases.events import SYSTEM, actor, record
from portal.cases.sides import sides_of
from portal.cases.tables import Case, DeadlineReminder
from portal.database import write_transaction
from portal.errors import NotAllowed
from portal.i18n import _
from portal.procedure import roles
from portal.procedure.arbitration import AWARD, TIMETABLE, ask, timetable_state

if TYPE_CHECKING:
    from portal.procedure.policy import CaseAccess


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


async def _award_issued(case_id: int) -> bool:
    issued: bool = await Award.exists().where(
        (Award.case == case_id) & Award.status.is_in(sorted(AWARD.final_states))
    )
    return issued


async def next_deadline(case_id: int, at: datetime) -> tuple[datetime, str, str] | None:
    """(due, owner role, step) of the next date still to come; after the last one, the
    award's, the tribunal's own; None once the award is issued."""
    if await _award_issued(case_id):
        return None
    steps = await steps_of(case_id)
    if not steps:
        return None
    for row in steps:
        if dates.utc(row["due_at"]) > at:
            return dates.utc(row["due_at"]), await owner_role(case_id, row["owed_by"]), row["step"]
    rules = await tribunal.rules_of(case_id)
    return dates.utc(steps[-1]["due_at"]) + rules.award_window, roles.ARBITRATOR, "award"


async def keep_deadline(case_id: int, at: datetime) -> None:
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
    chosen = dates.parse(form, at)
    async with write_transaction(Case._meta.db):
        # The case row first: one such step of a case at a time (PostgreSQL).
        await Case.update({Case.updated_at: at}).where(Case.id == access.case_id)
        state = timetable_state(
            await TimetableStep.exists().where(TimetableStep.case == access.case_id),
            await _award_issued(access.case_id),
        )
        ask(
            TIMETABLE, "set_timetable", {"state": state}, access, at,
            _("The timetable is set. A date moves by an extension, or by a later order."),
        )  # fmt: skip
        other = await other_side(access.case_id)

        def paragraphs() -> list[str]:
            lines = []
            for n, d in enumerate(chosen, start=1):
                owed = dates.OWED_BY[d.step]
                if d.step == "hearing":
                    lines.append(_("%(n)s. Hearing: %(date)s, at %(place)s.", n=n,
                                   date=dates.shown(d.due_at), place=d.place))  # fmt: skip
                else:
                    who = dates.owed_by_label(owed)
                    if owed == "respondent" and other == roles.PLATFORM:
                        who = _("the platform")
                    lines.append(_("%(n)s. %(step)s, to be filed by %(who)s by %(date)s.", n=n,
                                   step=dates.step_label(d.step), who=who,
                                   date=dates.shown(d.due_at)))  # fmt: skip
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
                    {"step": d.step, "owed_by": dates.OWED_BY[d.step], "due": dates.iso(d.due_at),
                     **({"place": d.place} if d.place else {})}
                    for d in chosen
                ],
            },
        )  # fmt: skip
        for d in chosen:
            await TimetableStep.insert(
                TimetableStep(
                    case=access.case_id,
                    step=d.step,
                    owed_by=dates.OWED_BY[d.step],
                    due_at=d.due_at,
                    place=d.place,
                    set_by=access.viewer.id,
                    case_seq=receipt.case_seq,
                    updated_at=at,
                )
            )
        await keep_deadline(access.case_id, at)


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
        if not reminded or found is None or found[0] == dates.utc(case["deadline_at"]):
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
                             {"step": step, "due": dates.iso(due), "owner": owner})  # fmt: skip
                moved += 1
    return moved
