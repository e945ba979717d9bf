"""Every move of a case reaches the platform's webhooks.

Subscribed to the case's moves (`portal.procedure.hooks`) rather than called by the
executor, which sits below integrations. It runs inside the move's transaction, after the
move, its deadline and its other consequences, so the queued events carry the case as the
move left it and are delivered only if the move commits. `portal.listeners` imports it.
"""

from __future__ import annotations

from portal.cases.tables import Case
from portal.integrations import webhooks
from portal.procedure.hooks import Move, after


@after("case")
async def queue_webhooks(move: Move) -> None:
    rows = await Case.select(Case.ref).where(Case.id == move.case_id)
    await webhooks.case_moved(rows[0]["ref"], move.action, move.source, move.target)
