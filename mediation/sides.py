"""The sides of a mediation: who must agree, who signs, and what each is called.

The sides are the claimant and the respondent; when no customer is the respondent the
claimant contests the platform's own decision, so a staff member speaks for the platform
(`platform`, BRIEF "Mediation"). A settlement needs every side and the mediator.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from portal.accounts import roles
from portal.accounts.tables import User
from portal.cases.tables import CaseParticipant

if TYPE_CHECKING:
    from portal.policy import CaseAccess


@dataclass(frozen=True)
class Side:
    user_id: int
    role: str  # claimant, respondent, platform
    name: str


async def sides_of(case_id: int) -> list[Side]:
    """Every side of the case, the claimant first."""
    rows = await CaseParticipant.select(
        CaseParticipant.user, CaseParticipant.role, CaseParticipant.user.name
    ).where((CaseParticipant.case == case_id) & CaseParticipant.role.is_in(list(roles.PARTY_SIDES)))
    order = {side: n for n, side in enumerate(roles.PARTY_SIDES)}
    found: dict[int, Side] = {}
    for row in sorted(rows, key=lambda r: (order[r["role"]], r["user"])):
        found.setdefault(row["user"], Side(row["user"], row["role"], row["user.name"]))
    return list(found.values())


async def mediator_of(case_id: int) -> dict[str, object] | None:
    """The mediator on the case (once they accepted): their id and name."""
    row: dict[str, object] | None = (
        await CaseParticipant.select(CaseParticipant.user, CaseParticipant.user.name)
        .where((CaseParticipant.case == case_id) & (CaseParticipant.role == roles.MEDIATOR))
        .first()
    )
    return row


def side_role(access: CaseAccess) -> str:
    """The role a person acts in on a mediation: their side, or mediator."""
    for role in (*roles.PARTY_SIDES, roles.MEDIATOR):
        if role in access.roles:
            return role
    return sorted(access.roles)[0]


async def name_of(user_id: int) -> str:
    row = await User.select(User.name).where(User.id == user_id).first()
    return str(row["name"]) if row else ""
