"""The short satisfaction survey a claimant answers once their case is closed."""

from __future__ import annotations

from typing import Any

from ledger.keys import Keyring
from portal.cases import deadlines
from portal.cases.events import actor, record
from portal.cases.tables import Case, Survey
from portal.database import write_transaction
from portal.errors import Conflict, FormInvalid
from portal.i18n import _
from portal.procedure import roles
from portal.procedure.policy import CaseAccess


async def answer(keyring: Keyring, ref: str, case: dict[str, Any], access: CaseAccess,
                 form: dict[str, str]) -> None:  # fmt: skip
    if not access.can_answer_survey(case["state"]):
        raise FormInvalid(
            {"score": _("Only the claimant answers the survey, once the case is closed.")}
        )
    score = form.get("score", "")
    if score not in ("1", "2", "3", "4", "5"):
        raise FormInvalid({"score": _("Choose a score from 1 to 5.")})
    comment = form.get("comment", "").strip()[:2000]
    async with write_transaction(Case._meta.db):
        if await Survey.exists().where(Survey.case == case["id"]):
            raise Conflict(_("You have answered the survey already. Thank you."))
        await Survey.insert(
            Survey(case=case["id"], score=int(score), comment=comment, created_at=deadlines.now())
        )
        await record(keyring, ref, "survey.answered", actor(access.viewer.id, roles.CLAIMANT),
                     {"score": int(score), "comment": comment})  # fmt: skip
