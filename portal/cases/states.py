"""The life of a case as data: one table of (action, from, to, who may, guard).

Screens offer exactly the actions `available` returns for the viewer, and the route
that performs one asks `check` again, so what is shown and what is allowed cannot
drift apart. A guard is a plain function of the case and the viewer's access that
returns None when the action may go ahead, or a message saying why not.

    submitted -> triage -> investigation -> assessment -> proposed -> resolved -> closed
                   |  \\-> awaiting_info (clock paused) -> triage
                   \\-> rejected -> appealed (supervisor) -> triage | closed
    proposed -> objected -> reconsideration -> proposed
    proposed/objected -> mediation -> settled (the last signature) -> closed
                         mediation -> impasse -> arbitration (asked within 14 days) | closed
    proposed/objected -> arbitration -> awarded (the award issued) -> closed
    any open state -> withdrawn (by the claimant)

Some steps are the portal's own, never offered as a button: the last signature on a
settlement settles the case, the award's last signature issues it, and an impasse nobody
takes to arbitration closes it.
Their "who may" is `SYSTEM`, which no person holds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from portal.accounts import roles
from portal.i18n import _
from portal.policy import CaseAccess

SUBMITTED = "submitted"
TRIAGE = "triage"
AWAITING_INFO = "awaiting_info"
INVESTIGATION = "investigation"
ASSESSMENT = "assessment"
PROPOSED = "proposed"
OBJECTED = "objected"
RECONSIDERATION = "reconsideration"
MEDIATION = "mediation"
ARBITRATION = "arbitration"
RESOLVED = "resolved"
REJECTED = "rejected"
APPEALED = "appealed"
WITHDRAWN = "withdrawn"
CLOSED = "closed"
IMPASSE = "impasse"
SETTLED = "settled"
AWARDED = "awarded"

STATES = (
    SUBMITTED, TRIAGE, AWAITING_INFO, INVESTIGATION, ASSESSMENT, PROPOSED, OBJECTED,
    RECONSIDERATION, MEDIATION, ARBITRATION, RESOLVED, REJECTED, APPEALED, WITHDRAWN, CLOSED,
    IMPASSE, SETTLED, AWARDED,
)  # fmt: skip
FINAL_STATES = frozenset((WITHDRAWN, CLOSED))
OPEN_STATES = frozenset(s for s in STATES if s not in FINAL_STATES)

OUTCOMES = (WITHDRAWN, RESOLVED, SETTLED, AWARDED, REJECTED, IMPASSE)
"""How a case can end, kept on the case (`Case.outcome`) once reached: a closed case
no longer says by its state whether it was resolved, settled, awarded or rejected.
`impasse` is the outcome of a case closed after an impasse nobody took to arbitration."""

APPEAL_WINDOW = timedelta(days=14)
ARBITRATION_WINDOW = timedelta(days=14)
"""After an impasse, how long a party has to take the case to arbitration."""

SYSTEM = "system"
"""The portal itself: the role of steps that follow from another one."""

Guard = Callable[[dict[str, Any], CaseAccess, datetime], str | None]


def always(case: dict[str, Any], access: CaseAccess, now: datetime) -> str | None:
    return None


def not_the_investigator(case: dict[str, Any], access: CaseAccess, now: datetime) -> str | None:
    """Separation of duties: whoever investigated a case never assesses it."""
    if roles.INVESTIGATOR in access.roles:
        return _("You investigated this case, so someone else must assess it.")
    return None


def within_appeal_window(case: dict[str, Any], access: CaseAccess, now: datetime) -> str | None:
    decided = case.get("state_since")
    if decided is not None and now > _utc(decided) + APPEAL_WINDOW:
        return _(
            "The 14 days to appeal ended on %(date)s.",
            date=(_utc(decided) + APPEAL_WINDOW).strftime("%Y-%m-%d"),
        )
    return None


def within_arbitration_window(case: dict[str, Any], access: CaseAccess,
                              now: datetime) -> str | None:  # fmt: skip
    """After an impasse a party has 14 days to ask for arbitration; before, no limit."""
    decided = case.get("state_since")
    if case["state"] == IMPASSE and decided is not None:
        ends = _utc(decided) + ARBITRATION_WINDOW
        if now > ends:
            return _("The 14 days to ask for arbitration ended on %(date)s.",
                     date=ends.strftime("%Y-%m-%d"))  # fmt: skip
    return None


def not_the_proposals_author(case: dict[str, Any], access: CaseAccess, now: datetime) -> str | None:
    """Reconsideration goes to a different assessor, or a supervisor."""
    if roles.SUPERVISOR in access.roles:
        return None
    if case.get("proposal_author") == access.viewer.id:
        return _("You wrote the proposal objected to; a different assessor must reconsider it.")
    return not_the_investigator(case, access, now)


def taken_up_by_viewer(case: dict[str, Any], access: CaseAccess, now: datetime) -> str | None:
    """Only who took up the reconsideration revises the proposal (or a supervisor)."""
    if roles.SUPERVISOR in access.roles or case.get("reconsidered_by") == access.viewer.id:
        return None
    return _("Another assessor is reconsidering this proposal.")


def _utc(moment: datetime) -> datetime:
    from datetime import UTC

    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset[str]
    target: str
    roles: frozenset[str]
    guard: Guard = always

    def label(self) -> str:
        return ACTION_LABELS[self.action]()


def _t(action: str, sources: tuple[str, ...] | frozenset[str], target: str,
       who: tuple[str, ...], guard: Guard = always) -> Transition:  # fmt: skip
    return Transition(action, frozenset(sources), target, frozenset(who), guard)


STAFF_LEAD = (roles.SUPERVISOR,)

TABLE: tuple[Transition, ...] = (
    _t("start_review", (SUBMITTED,), TRIAGE, (roles.AGENT, *STAFF_LEAD)),
    _t("request_info", (TRIAGE,), AWAITING_INFO, (roles.AGENT, *STAFF_LEAD)),
    _t("answer_info", (AWAITING_INFO,), TRIAGE, (roles.CLAIMANT,)),
    _t("accept", (TRIAGE,), INVESTIGATION, (roles.AGENT, *STAFF_LEAD)),
    _t("reject", (TRIAGE,), REJECTED, (roles.AGENT, *STAFF_LEAD)),
    _t("appeal", (REJECTED,), APPEALED, (roles.CLAIMANT,), within_appeal_window),
    _t("uphold_rejection", (APPEALED,), CLOSED, STAFF_LEAD),
    _t("overturn_rejection", (APPEALED,), TRIAGE, STAFF_LEAD),
    _t("hand_over", (INVESTIGATION,), ASSESSMENT, (roles.INVESTIGATOR, *STAFF_LEAD)),
    _t("propose", (ASSESSMENT,), PROPOSED, (roles.ASSESSOR, *STAFF_LEAD), not_the_investigator),
    _t("accept_proposal", (PROPOSED,), RESOLVED, (roles.CLAIMANT,)),
    _t("object", (PROPOSED,), OBJECTED, (roles.CLAIMANT, roles.RESPONDENT)),
    _t("reconsider", (OBJECTED,), RECONSIDERATION, (roles.ASSESSOR, *STAFF_LEAD),
       not_the_proposals_author),
    _t("revise_proposal", (RECONSIDERATION,), PROPOSED, (roles.ASSESSOR, *STAFF_LEAD),
       taken_up_by_viewer),
    _t("request_mediation", (PROPOSED, OBJECTED), MEDIATION, (roles.CLAIMANT, roles.RESPONDENT)),
    _t("declare_impasse", (MEDIATION,), IMPASSE, (roles.MEDIATOR,)),
    _t("settle", (MEDIATION,), SETTLED, (SYSTEM,)),
    _t("request_arbitration", (PROPOSED, OBJECTED, IMPASSE), ARBITRATION,
       (roles.CLAIMANT, roles.RESPONDENT), within_arbitration_window),
    _t("close_after_impasse", (IMPASSE,), CLOSED, (SYSTEM,)),
    _t("issue_award", (ARBITRATION,), AWARDED, (SYSTEM,)),
    _t("record_remedy", (RESOLVED, SETTLED, AWARDED), CLOSED,
       (roles.AGENT, roles.ASSESSOR, *STAFF_LEAD)),
    _t("withdraw", OPEN_STATES, WITHDRAWN, (roles.CLAIMANT,)),
)  # fmt: skip

BY_ACTION = {t.action: t for t in TABLE}


def outcome_after(action: str) -> str | None:
    """The outcome the case has after `action`: its target when that is an outcome, none
    ("") once a rejection is overturned, or None when the step leaves the outcome as it was
    (closing a resolved case keeps "resolved", upholding a rejection keeps "rejected")."""
    if action == "overturn_rejection":
        return ""
    if action == "close_after_impasse":
        return IMPASSE
    target = BY_ACTION[action].target
    return target if target in OUTCOMES and target != IMPASSE else None

ACTION_LABELS: dict[str, Callable[[], str]] = {
    "start_review": lambda: _("Start first review"),
    "request_info": lambda: _("Ask the claimant for information"),
    "answer_info": lambda: _("Send your answer"),
    "accept": lambda: _("Accept for investigation"),
    "reject": lambda: _("Reject"),
    "appeal": lambda: _("Appeal the rejection"),
    "uphold_rejection": lambda: _("Uphold the rejection"),
    "overturn_rejection": lambda: _("Overturn the rejection"),
    "hand_over": lambda: _("Hand over to assessment"),
    "propose": lambda: _("Make the proposal"),
    "accept_proposal": lambda: _("Accept the proposal"),
    "object": lambda: _("Object to the proposal"),
    "reconsider": lambda: _("Take up the reconsideration"),
    "revise_proposal": lambda: _("Issue the revised proposal"),
    "request_mediation": lambda: _("Ask for mediation"),
    "declare_impasse": lambda: _("Declare an impasse"),
    "settle": lambda: _("Settle the case"),
    "request_arbitration": lambda: _("Ask for arbitration"),
    "close_after_impasse": lambda: _("Close the case after the impasse"),
    "issue_award": lambda: _("Issue the award"),
    "record_remedy": lambda: _("Record that the remedy was carried out"),
    "withdraw": lambda: _("Withdraw the case"),
}


class TransitionRefused(Exception):
    """The action is not open to this person now; the message says why."""


def check(action: str, case: dict[str, Any], access: CaseAccess, now: datetime) -> Transition:
    """The transition, if the viewer may take it now; TransitionRefused saying why not."""
    from portal.cases.categories import state_label

    transition = BY_ACTION.get(action)
    if transition is None:
        raise TransitionRefused(_("There is no such action."))
    if case["state"] not in transition.sources:
        raise TransitionRefused(
            _(
                "“%(action)s” is not possible at this stage of the case (%(state)s).",
                action=transition.label(),
                state=state_label(case["state"]),
            )
        )
    if not access.roles & transition.roles:
        raise TransitionRefused(
            _("Your role on this case cannot “%(action)s”.", action=transition.label())
        )
    reason = transition.guard(case, access, now)
    if reason:
        raise TransitionRefused(reason)
    return transition


def available(case: dict[str, Any], access: CaseAccess, now: datetime) -> list[Transition]:
    """Every action the viewer may take now, in the table's order."""
    found = []
    for transition in TABLE:
        try:
            check(transition.action, case, access, now)
        except TransitionRefused:
            continue
        found.append(transition)
    return found
