"""The sides of a case before a mediator or a tribunal: who must agree, who signs, who
ranks a list of arbitrators, and what each is called.

The sides are the claimant and the respondent; when no customer is the respondent the
claimant contests the platform's own decision, so a staff member speaks for the platform
(`platform`). A settlement needs every side and the mediator.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ledger.entry import Actor
from ledger.keys import Keyring
from portal.accounts.tables import User
from portal.cases.events import record
from portal.cases.tables import CaseParticipant
from portal.i18n import _
from portal.procedure import roles


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


async def needs_representative(case_id: int) -> bool:
    """No customer is the respondent and nobody speaks for the platform yet."""
    return not any(s.role in (roles.RESPONDENT, roles.PLATFORM) for s in await sides_of(case_id))


async def staff_choices() -> list[dict[str, object]]:
    """Who may speak for the platform: active staff."""
    rows: list[dict[str, object]] = (
        await User.select(User.id, User.name, User.role)
        .where(User.role.is_in(list(roles.STAFF)) & User.active.eq(True))
        .order_by(User.name)
    )
    return rows


async def chosen_representative(form: dict[str, str], errors: dict[str, str]) -> int | None:
    """The staff member the form names to speak for the platform; an error if none."""
    picked = form.get("representative", "")
    staff = {int(str(s["id"])) for s in await staff_choices()}
    if picked.isdigit() and int(picked) in staff:
        return int(picked)
    errors["representative"] = _("Choose who speaks for the platform.")
    return None


async def add_representative(keyring: Keyring, ref: str, case_id: int, user_id: int,
                             by: Actor, at: datetime) -> None:  # fmt: skip
    """Put the platform's spokesperson on the case, in the caller's transaction."""
    await CaseParticipant.insert(
        CaseParticipant(case=case_id, user=user_id, role=roles.PLATFORM, added_at=at)
    )
    await record(keyring, ref, "participant.added", by,
                 {"user": f"user:{user_id}", "role": roles.PLATFORM})  # fmt: skip


async def name_of(user_id: int) -> str:
    row = await User.select(User.name).where(User.id == user_id).first()
    return str(row["name"]) if row else ""
