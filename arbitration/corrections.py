"""Corrections of an issued award. Within the ruleset's `correction_window` a side may
ask for a clerical correction; the tribunal answers with an addendum (its own entry,
naming the award's hash) or refuses with reasons. The award itself never changes."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from arbitration import award as awards
from arbitration import tribunal
from arbitration.tables import Award, Correction
from ledger.keys import Keyring
from portal.cases import deadlines
from portal.cases.events import actor, record
from portal.cases.tables import Case
from portal.database import write_transaction
from portal.errors import Conflict, FormInvalid, NotAllowed, NotFound
from portal.i18n import _, language
from portal.procedure import acting as A
from portal.procedure import roles
from portal.procedure.arbitration import AWARD, CORRECTION, ask, move, subject

if TYPE_CHECKING:
    from ledger.appender import Receipt
    from ledger.entry import Actor
    from portal.procedure.policy import CaseAccess

CORRECTED = move(CORRECTION, "correct").target
"""A correction answered by an addendum: these are numbered, and go with the award."""


async def correction_ends(case_id: int, award: dict[str, Any]) -> datetime | None:
    if award["issued_at"] is None:
        return None
    rules = await tribunal.rules_of(case_id)
    return awards.utc(award["issued_at"]) + rules.correction_window


async def corrections(award_id: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = (
        await Correction.select(*Correction.all_columns(), Correction.party.name)
        .where(Correction.award == award_id)
        .order_by(Correction.id)
    )
    number = 0
    for row in rows:
        if row["status"] == CORRECTED:
            number += 1
            row["number"] = number
    return rows


async def ask_correction(
    keyring: Keyring, ref: str, access: CaseAccess, form: dict[str, str]
) -> int:
    """A side points out a clerical error in the issued award; returns the request's id."""
    if not access.can_ask_correction:
        raise NotAllowed(_("Only the parties ask for a correction of the award."))
    at = deadlines.now()
    award = await awards.current(access.case_id)
    if award is None or not AWARD.state(award["status"]).final:
        raise Conflict(_("There is no issued award to correct."))
    ends = await correction_ends(access.case_id, award)
    if ends is None or at > ends:
        raise NotAllowed(_("The %(days)s days to ask for a correction ended on %(date)s.",
                           days=(await tribunal.rules_of(access.case_id)).correction_window.days,
                           date=ends.strftime("%Y-%m-%d %H:%M UTC") if ends else ""))  # fmt: skip
    errors: dict[str, str] = {}
    request = awards.text_of(
        form, "request", errors, _("Say which error the award contains, and how it should read.")
    )
    if errors:
        raise FormInvalid(errors)
    async with write_transaction(Case._meta.db):
        # The case row first: one such step of a case at a time (PostgreSQL).
        await Case.update({Case.updated_at: at}).where(Case.id == access.case_id)
        rows = await Correction.insert(
            Correction(award=award["id"], case=access.case_id, party=access.viewer.id,
                       request=request, status=CORRECTION.initial, created_at=at)
        ).returning(Correction.id)  # fmt: skip
        by = actor(access.viewer.id, access.acting_role(A.BEFORE_NEUTRAL))
        await record(keyring, ref, "correction.asked", by,
                     {"correction": rows[0]["id"], "award": award["id"],
                      "sha256": award["sha256"], "request": request})  # fmt: skip
        await tribunal.tell_tribunal(access.case_id, ref, "correction_asked", by=access.viewer.id)
    return int(rows[0]["id"])


async def answer_correction(keyring: Keyring, ref: str, access: CaseAccess, correction_id: int,
                            form: dict[str, str]) -> str:  # fmt: skip
    """The tribunal corrects by an addendum, or refuses with reasons (kept in `addendum`
    with the status `refused`); returns the new status."""
    if not access.can_correct_award:
        raise NotAllowed(_("Only the tribunal answers a request for a correction."))
    decision, words = _read_answer(form)
    at = deadlines.now()
    async with write_transaction(Case._meta.db):
        await Case.update({Case.updated_at: at}).where(Case.id == access.case_id)
        row = (
            await Correction.select()
            .where((Correction.id == correction_id) & (Correction.case == access.case_id))
            .first()
        )
        if row is None:
            raise NotFound()
        step = ask(CORRECTION, decision, subject(row), access, at,
                   _("The tribunal has answered this request already."))  # fmt: skip
        award = await Award.select().where(Award.id == row["award"]).first()
        assert award is not None
        who = actor(access.viewer.id, roles.ARBITRATOR)
        changes: dict[Any, Any] = {
            Correction.decided_by: access.viewer.id,
            Correction.decided_at: at,
            Correction.addendum: words,
        }
        if decision == "refuse":
            receipt = await record(
                keyring,
                ref,
                "correction.refused",
                who,
                {"correction": correction_id, "reasons": words},
            )
        else:
            receipt, text, digest = await _issue_addendum(
                keyring, ref, who, award, correction_id, words
            )
            changes.update({Correction.addendum: text, Correction.addendum_sha256: digest})
        changes[Correction.status] = step.target
        changes[Correction.case_seq] = receipt.case_seq
        await Correction.update(changes).where(
            (Correction.id == correction_id) & Correction.status.is_in(sorted(step.sources))
        )
        await tribunal.tell_everyone(
            access.case_id, ref, f"correction_{changes[Correction.status]}", by=access.viewer.id
        )
    return str(changes[Correction.status])


def _read_answer(form: dict[str, str]) -> tuple[str, str]:
    """The tribunal's decision and its words: the addendum, or the reasons for refusing."""
    errors: dict[str, str] = {}
    decision = form.get("decision", "")
    if decision not in ("correct", "refuse"):
        errors["decision"] = _("Choose to issue an addendum or to refuse the correction.")
    field = "addendum" if decision == "correct" else "reasons"
    words = ""
    if decision:
        words = awards.text_of(
            form,
            field,
            errors,
            _("Write the addendum: what the award should say.")
            if decision == "correct"
            else _("Give the tribunal's reasons for refusing."),
        )
    if errors:
        raise FormInvalid(errors)
    return decision, words


async def _issue_addendum(
    keyring: Keyring,
    ref: str,
    who: Actor,
    award: dict[str, Any],
    correction_id: int,
    words: str,
) -> tuple[Receipt, str, str]:
    """Record the next numbered addendum to the award; the award itself never changes,
    so the addendum names the award's hash it corrects. Returns the receipt, the
    addendum's text (in the award's language) and its hash."""
    number = (
        await Correction.count().where(
            (Correction.award == award["id"]) & (Correction.status == CORRECTED)
        )
        + 1
    )
    with language(award["language"]):
        text = (
            "\n\n".join(
                [
                    _("Addendum no. %(n)s to the award in case %(ref)s", n=number, ref=ref),
                    _(
                        "The award whose SHA-256 is %(sha)s is corrected as follows:",
                        sha=award["sha256"],
                    ),
                    words,
                ]
            )
            + "\n"
        )
    digest = awards.text_hash(text)
    receipt = await record(
        keyring,
        ref,
        "award.addendum",
        who,
        {
            "award": award["id"],
            "award_sha256": award["sha256"],
            "correction": correction_id,
            "number": number,
            "sha256": digest,
            "text": text,
        },
    )
    return receipt, text, digest
