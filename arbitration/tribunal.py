"""Who the tribunal of a case is, and telling the people of a case about its steps.

The tribunal's members are the case's participants with the role `arbitrator`: the
constitution (`arbitration.constitution`) puts them there once they accepted, and the
policy reads the same rows. What the tribunal drafts among itself is told only to those
the policy lets read the tribunal's channel; what it issues is told to everyone on the case.
"""

from __future__ import annotations

from typing import Any

from arbitration.rules import Ruleset, ruleset
from arbitration.tables import Arbitration
from portal.cases.access import readers
from portal.cases.tables import CaseParticipant
from portal.notifications.notify import notify
from portal.procedure import roles
from portal.procedure.policy import TRIBUNAL


async def members(case_id: int) -> list[dict[str, Any]]:
    """The arbitrators on the case ({"user", "name"}), in the order they joined."""
    rows = (
        await CaseParticipant.select(CaseParticipant.user, CaseParticipant.user.name)
        .where((CaseParticipant.case == case_id) & (CaseParticipant.role == roles.ARBITRATOR))
        .order_by(CaseParticipant.id)
    )
    found: dict[int, dict[str, Any]] = {}
    for row in rows:
        found.setdefault(row["user"], {"user": row["user"], "name": row["user.name"]})
    return list(found.values())


async def rules_of(case_id: int) -> Ruleset:
    row = await Arbitration.select(Arbitration.ruleset).where(Arbitration.case == case_id).first()
    return ruleset(row["ruleset"] if row else "")


async def everyone_on(case_id: int) -> list[int]:
    rows = await CaseParticipant.select(CaseParticipant.user).where(CaseParticipant.case == case_id)
    return sorted({row["user"] for row in rows})


async def tell(
    user_ids: list[int], ref: str, step: str, by: int | None = None, **context: Any
) -> None:
    """Notify `user_ids` (but not `by`, who did it) of one step of the proceedings."""
    await notify(
        sorted({u for u in user_ids if u != by}),
        f"arbitration_{step}",
        case_ref=ref,
        link=f"/cases/{ref}#proceedings",
        template="arbitration_proceedings",
        step=step,
        **context,
    )


async def tell_tribunal(case_id: int, ref: str, step: str, by: int | None = None,
                        **context: Any) -> None:  # fmt: skip
    await tell(await readers(case_id, TRIBUNAL, None), ref, step, by, **context)


async def tell_everyone(case_id: int, ref: str, step: str, by: int | None = None,
                        **context: Any) -> None:  # fmt: skip
    await tell(await everyone_on(case_id), ref, step, by, **context)
