"""Who is on a case, who owes its next step, and who is put on it when a stage begins."""

from __future__ import annotations

from datetime import UTC, datetime

from ledger.keys import Keyring
from portal.accounts.tables import User
from portal.cases.events import SYSTEM, record
from portal.cases.tables import CaseParticipant
from portal.procedure import roles


async def on_case(case_id: int, *wanted: str) -> list[int]:
    """The users holding any of the `wanted` roles on the case."""
    rows = await CaseParticipant.select(CaseParticipant.user).where(
        (CaseParticipant.case == case_id) & CaseParticipant.role.is_in(list(wanted))
    )
    return sorted({row["user"] for row in rows})


async def supervisors() -> list[int]:
    rows = await User.select(User.id).where(
        (User.role == roles.SUPERVISOR) & (User.active.eq(True))
    )
    return [row["id"] for row in rows]


async def owners(case_id: int, role: str) -> list[int]:
    """Who owes a step: the people holding `role` on the case, or the supervisors."""
    if role == roles.SUPERVISOR:
        return await supervisors()
    if role == roles.PARTIES:
        return await on_case(case_id, *roles.PARTY_SIDES)
    return await on_case(case_id, role)


async def assign_least_busy(case_id: int, role: str, ref: str, keyring: Keyring,
                            exclude: list[int]) -> int | None:  # fmt: skip
    """Put the active `role` with the fewest open cases on the case, if it has none."""
    if await on_case(case_id, role):
        return None
    rows = await User.raw(
        "SELECT u.id FROM portal_user u "
        'LEFT JOIN case_participant p ON p."user" = u.id AND p.role = {} '
        'LEFT JOIN dispute_case c ON c.id = p."case" '
        "AND c.state NOT IN ('closed', 'withdrawn') "
        "WHERE u.role = {} AND u.active GROUP BY u.id ORDER BY COUNT(c.id), u.id",
        role,
        role,
    )
    for row in rows:
        if row["id"] in exclude:
            continue
        await CaseParticipant.insert(
            CaseParticipant(case=case_id, user=row["id"], role=role, added_at=datetime.now(UTC))
        )
        await record(
            keyring, ref, "participant.added", SYSTEM, {"user": f"user:{row['id']}", "role": role}
        )
        return int(row["id"])
    return None
