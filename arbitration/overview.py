"""What the case room shows of an arbitration, for one viewer: the tribunal's
constitution, then its proceedings. Each part decides, through the policy, what the
viewer may read; the tribunal's deliberations are never part of what a side is shown.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from arbitration import constitution_view, proceedings
from arbitration.tables import Arbitration

if TYPE_CHECKING:
    from portal.procedure.policy import CaseAccess

SHOWN_IN = frozenset(("arbitration", "awarded", "closed", "withdrawn"))


async def overview(case: dict[str, Any], access: CaseAccess, at: datetime) -> dict[str, Any] | None:
    """The arbitration panel's data, or None when the case never went to arbitration."""
    if case["state"] not in SHOWN_IN:
        return None
    started = await Arbitration.select().where(Arbitration.case == case["id"]).first()
    if started is None and case["state"] != "arbitration":
        return None
    return {
        "arbitration": started,
        "constitution": await constitution_view.panel(case, access, at),
        "proceedings": await proceedings.panel(case, access, at) if started else None,
    }
