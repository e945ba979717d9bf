"""A case's status as the platform's back end reads it: state, deadline, outcome.

The outcome is read from the case's own ledger entries, newest first: the step that
decided the case (a proposal accepted, a settlement, an award, a rejection upheld, a
withdrawal...) and, after it, whether the remedy was recorded as carried out. A case
that moved on after a decision (a rejection appealed) has no outcome until the next.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from ledger.tables import LedgerEntry
from portal.cases.tables import Case, Proposal
from portal.errors import NotFound
from portal.integrations.schemas import CaseStatus, Outcome, Remedy

DECISIONS = {
    "accept_proposal": "proposal_accepted",
    "settle": "settled",
    "issue_award": "awarded",
    "reject": "rejected",
    "uphold_rejection": "rejection_upheld",
    "close_after_impasse": "closed_after_impasse",
    "withdraw": "withdrawn",
}
REMEDY_DONE = "record_remedy"


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def outcome_of(case: dict[str, Any]) -> Outcome | None:
    entries = (
        await LedgerEntry.select(LedgerEntry.entry)
        .where(
            (LedgerEntry.case_ref == case["ref"]) & (LedgerEntry.event_type == "case.transitioned")
        )
        .order_by(LedgerEntry.case_seq, ascending=False)
        .limit(2)  # the decision, and the remedy recorded after it
    )
    carried_out = False
    for row in entries:
        entry = json.loads(bytes(row["entry"]))
        action = entry["body"].get("action")
        if action == REMEDY_DONE and not carried_out:
            carried_out = True
            continue
        if action not in DECISIONS:
            return None
        remedy = None
        if action == "accept_proposal":
            proposal = (
                await Proposal.select(
                    Proposal.remedy, Proposal.amount, Proposal.asset, Proposal.remedy_details
                )
                .where(Proposal.case == case["id"])
                .order_by(Proposal.id, ascending=False)
                .first()
            )
            if proposal:
                remedy = Remedy(
                    remedy=proposal["remedy"],
                    amount=proposal["amount"],
                    asset=proposal["asset"],
                    details=proposal["remedy_details"],
                )
        return Outcome(
            decision=DECISIONS[action],  # type: ignore[arg-type]
            decided_at=datetime.fromisoformat(entry["at"].replace("Z", "+00:00")),
            remedy=remedy,
            remedy_carried_out=carried_out,
            remedy_reference=case["remedy_reference"] if carried_out else "",
        )
    return None


async def case_status(ref: str) -> CaseStatus:
    """The case's status; 404 for a reference that does not exist."""
    case = (
        await Case.select(
            Case.id,
            Case.ref,
            Case.state,
            Case.next_step_by,
            Case.deadline_at,
            Case.filed_at,
            Case.updated_at,
            Case.remedy_reference,
        )
        .where(Case.ref == ref)
        .first()
    )
    if case is None:
        raise NotFound()
    return CaseStatus(
        ref=case["ref"],
        state=case["state"],
        next_step_by=case["next_step_by"] or None,
        deadline_at=_utc(case["deadline_at"]) if case["deadline_at"] else None,
        filed_at=_utc(case["filed_at"]),
        updated_at=_utc(case["updated_at"]),
        outcome=await outcome_of(case),
    )
