"""What a move of the case means for its mediation: an impasse ends the mediator's work.

The case's executor sits below mediation and cannot call it; this subscribes to the
case's moves instead (`portal.procedure.hooks`), and runs inside the move's transaction,
so the mediation ends with the impasse or not at all. Its windows (a mediator invited
once nobody objected, an invitation lapsed, an offer expired) are the sweep's to act on
when time passes. `portal.listeners` imports it.
"""

from __future__ import annotations

from mediation import offers, windows
from mediation.appointment import end_mediation
from portal.procedure.hooks import Move, after, when_time_passes


@after("case", "declare_impasse")
async def impasse_ends_mediation(move: Move) -> None:
    await end_mediation(move.case_id, move.at)


when_time_passes(windows.advance_due)
when_time_passes(offers.expire_due)
