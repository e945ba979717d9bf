"""Loading what the policy decides on: a case, its participants, and who may read a channel.

The rules are the kernel's (`portal.procedure.policy`); these are the two reads every
case route and every notice starts from, so the kernel stays free of the cases' tables.
"""

from __future__ import annotations

from typing import Any

from portal.cases.tables import Case, CaseParticipant
from portal.errors import NotFound
from portal.procedure.people import Viewer
from portal.procedure.policy import CaseAccess, access_on, readers_among

PARTICIPANT_COLUMNS = (CaseParticipant.user, CaseParticipant.role, CaseParticipant.acts_for)


async def case_access(viewer: Viewer, ref: str) -> tuple[dict[str, Any], CaseAccess]:
    """The case and what the viewer may do on it; 404 if they are not on it."""
    case = await Case.select().where(Case.ref == ref).first()
    if case is None or not viewer.cleared_for_cases:
        raise NotFound()
    participants = await CaseParticipant.select(*PARTICIPANT_COLUMNS).where(
        CaseParticipant.case == case["id"]
    )
    access = access_on(viewer, case, participants)
    if access is None:
        raise NotFound()
    return case, access


async def readers(case_id: int, channel: str, party_id: int | None) -> list[int]:
    """Everyone on the case who may read `channel`: who to tell of something said there."""
    participants = await CaseParticipant.select(*PARTICIPANT_COLUMNS).where(
        CaseParticipant.case == case_id
    )
    return readers_among(case_id, participants, channel, party_id)
