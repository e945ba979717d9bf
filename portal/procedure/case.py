"""The life of a case as data: its states, and its actions with who may take them and when.

Each state says what it means, who owes the next step, how long that step may take by
default, whether its owner is reminded and which staff queue lists it; each action says
where it may start, where it goes, who may take it, under which guard and with which form.
Deadlines, queues, reminders, labels, the screens and the executor
(`portal.cases.lifecycle`) all ask this table, so a step is declared here once.

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
takes to arbitration closes it. Their "who may" is `SYSTEM`, which no person holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from portal.i18n import N_, _
from portal.procedure import roles
from portal.procedure.roles import (
    AGENT,
    ASSESSOR,
    CLAIMANT,
    INVESTIGATOR,
    MEDIATOR,
    RESPONDENT,
    SUPERVISOR,
)
from portal.procedure.table import (
    SYSTEM,
    Action,
    Field,
    Hours,
    Procedure,
    Refused,
    State,
    action,
)  # fmt: skip

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
"""The order in which lists and charts show the states (the table below is in the order
of the deadline policy's page); a test checks both name the same states."""

OUTCOMES = (WITHDRAWN, RESOLVED, SETTLED, AWARDED, REJECTED, IMPASSE)
"""How a case can end, kept on the case (`Case.outcome`) once reached: a closed case
no longer says by its state whether it was resolved, settled, awarded or rejected.
`impasse` is the outcome of a case closed after an impasse nobody took to arbitration."""

APPEAL_WINDOW = timedelta(days=14)
ARBITRATION_WINDOW = timedelta(days=14)
"""After an impasse, how long a party has to take the case to arbitration."""

SEVERITIES = ("low", "medium", "high", "critical")
RESPONSIBILITIES = ("platform", "user", "shared", "third_party")
REMEDIES = ("refund", "compensation", "unfreeze", "warning", "no_action")
YES_NO = ("yes", "no")


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def not_the_investigator(case: Mapping[str, Any], access: Any, now: datetime) -> str | None:
    """Separation of duties: whoever investigated a case never assesses it."""
    if roles.INVESTIGATOR in access.roles:
        return _("You investigated this case, so someone else must assess it.")
    return None


def within_appeal_window(case: Mapping[str, Any], access: Any, now: datetime) -> str | None:
    decided = case.get("state_since")
    if decided is not None and now > _utc(decided) + APPEAL_WINDOW:
        return _(
            "The 14 days to appeal ended on %(date)s.",
            date=(_utc(decided) + APPEAL_WINDOW).strftime("%Y-%m-%d"),
        )
    return None


def within_arbitration_window(case: Mapping[str, Any], access: Any,
                              now: datetime) -> str | None:  # fmt: skip
    """After an impasse a party has 14 days to ask for arbitration; before, no limit."""
    decided = case.get("state_since")
    if case["state"] == IMPASSE and decided is not None:
        ends = _utc(decided) + ARBITRATION_WINDOW
        if now > ends:
            return _("The 14 days to ask for arbitration ended on %(date)s.",
                     date=ends.strftime("%Y-%m-%d"))  # fmt: skip
    return None


def not_the_proposals_author(case: Mapping[str, Any], access: Any, now: datetime) -> str | None:
    """Reconsideration goes to a different assessor, or a supervisor."""
    if roles.SUPERVISOR in access.roles:
        return None
    if case.get("proposal_author") == access.viewer.id:
        return _("You wrote the proposal objected to; a different assessor must reconsider it.")
    return not_the_investigator(case, access, now)


def taken_up_by_viewer(case: Mapping[str, Any], access: Any, now: datetime) -> str | None:
    """Only who took up the reconsideration revises the proposal (or a supervisor)."""
    if roles.SUPERVISOR in access.roles or case.get("reconsidered_by") == access.viewer.id:
        return None
    return _("Another assessor is reconsidering this proposal.")


# A rejection's deadline is the claimant's window to appeal, and an impasse's the parties'
# window to ask for arbitration: rights, not steps owed, so nobody is late when one goes
# unused (`reminded=False`).
def _state(name: str, label: str, owner: str | None = None, hours: tuple[int, int] | None = None,
           queue: str | None = None, reminded: bool = True, final: bool = False,
           meaning: str = "") -> State:  # fmt: skip
    return State(name, label, owner, Hours(*hours) if hours else None,
                 reminded and not final, queue, final, meaning)  # fmt: skip


_STATES = (
    _state(SUBMITTED, N_("Submitted"), AGENT, (24, 4), "untriaged",
           meaning="Filed; first review (triage) has not started."),
    _state(TRIAGE, N_("In first review"), AGENT, (24, 4), "untriaged",
           meaning="An agent decides category, severity and whether it is in scope."),
    _state(AWAITING_INFO, N_("Waiting for information"), CLAIMANT, (120, 72), "untriaged",
           meaning="The claimant owes an answer; the staff's clock is paused."),
    _state(INVESTIGATION, N_("Under investigation"), INVESTIGATOR, (120, 48),
           "investigation", meaning="An investigator gathers the platform's records."),
    _state(ASSESSMENT, N_("In assessment"), ASSESSOR, (72, 24), "assessment",
           meaning="An assessor (never the investigator) writes the proposal."),
    _state(PROPOSED, N_("Proposal made"), CLAIMANT, (168, 72),
           meaning="The claimant accepts, objects, or asks for mediation or arbitration."),
    _state(OBJECTED, N_("Proposal objected to"), ASSESSOR, (72, 24), "assessment",
           meaning="A party objected; another assessor is to reconsider."),
    _state(RECONSIDERATION, N_("In reconsideration"), ASSESSOR, (72, 24), "assessment",
           meaning="The assessor who took it up writes the revised proposal."),
    _state(REJECTED, N_("Rejected"), CLAIMANT, (336, 336), reminded=False,
           meaning="Rejected with reasons; the claimant has 14 days to appeal."),
    _state(APPEALED, N_("Rejection appealed"), SUPERVISOR, (72, 24),
           meaning="A supervisor upholds or overturns the rejection."),
    _state(RESOLVED, N_("Resolved"), AGENT, (120, 48),
           meaning="The proposal was accepted; staff carry out the remedy."),
    _state(MEDIATION, N_("In mediation"), SUPERVISOR, (72, 24),
           meaning="A supervisor proposes a mediator, who then talks to both sides."),
    _state(IMPASSE, N_("Mediation at an impasse"), CLAIMANT, (336, 336), reminded=False,
           meaning="The parties have 14 days to ask for arbitration; otherwise it closes."),
    _state(SETTLED, N_("Settled"), AGENT, (120, 48),
           meaning="Everyone signed the settlement; staff carry out what it says."),
    _state(ARBITRATION, N_("In arbitration"), SUPERVISOR, (72, 24),
           meaning="A supervisor chooses the rules; then the tribunal's timetable runs."),
    _state(AWARDED, N_("Award issued"), AGENT, (120, 48),
           meaning="The tribunal's award binds; staff carry out what it says."),
    _state(WITHDRAWN, N_("Withdrawn"), final=True, meaning="The claimant withdrew the case."),
    _state(CLOSED, N_("Closed"), final=True,
           meaning="Over; the outcome on the case says how it ended."),
)  # fmt: skip

OPEN_STATES = frozenset(s.name for s in _STATES if not s.final)
FINAL_STATES = frozenset(s.name for s in _STATES if s.final)

LEAD = (SUPERVISOR,)
PARTY_SIDES = (CLAIMANT, RESPONDENT)

REASONS = (Field("reasons", N_("Your reasons"), kind="textarea"),)
NOTE = (Field("reasons", N_("A note (optional)"), required=False, kind="textarea"),)
PROPOSAL = (
    Field("findings", N_("Findings"), kind="textarea"),
    Field("responsibility", N_("Who is responsible"), kind="choice", choices=RESPONSIBILITIES),
    Field("remedy", N_("Proposed remedy"), kind="choice", choices=REMEDIES),
    Field("amount", N_("Amount (refund or compensation)"), required=False, kind="amount"),
    Field("asset", N_("Asset"), required=False),
    Field("remedy_details", N_("Details of the remedy"), required=False, kind="textarea"),
)

_ACTIONS = (
    action("start_review", (SUBMITTED,), TRIAGE, (AGENT, *LEAD), N_("Start first review"),
           form=NOTE),
    action("request_info", (TRIAGE,), AWAITING_INFO, (AGENT, *LEAD),
           N_("Ask the claimant for information"),
           form=(Field("questions", N_("Questions for the claimant"), kind="textarea"),
                 Field("due_date", N_("Answer due by"), kind="date"))),
    action("answer_info", (AWAITING_INFO,), TRIAGE, (CLAIMANT,), N_("Send your answer"),
           form=(Field("answer", N_("Your answer"), kind="textarea"),)),
    action("accept", (TRIAGE,), INVESTIGATION, (AGENT, *LEAD), N_("Accept for investigation"),
           form=(Field("category", N_("Category"), kind="choice"),  # the platform's categories
                 Field("severity", N_("Severity"), kind="choice", choices=SEVERITIES),
                 Field("in_scope", N_("In scope?"), kind="choice", choices=YES_NO))),
    action("reject", (TRIAGE,), REJECTED, (AGENT, *LEAD), N_("Reject"),
           form=(Field("in_scope", N_("In scope?"), required=False, kind="choice",
                       choices=YES_NO), *REASONS)),
    action("appeal", (REJECTED,), APPEALED, (CLAIMANT,), N_("Appeal the rejection"),
           within_appeal_window, form=REASONS),
    action("uphold_rejection", (APPEALED,), CLOSED, LEAD, N_("Uphold the rejection"),
           form=REASONS),
    action("overturn_rejection", (APPEALED,), TRIAGE, LEAD, N_("Overturn the rejection"),
           form=REASONS),
    action("hand_over", (INVESTIGATION,), ASSESSMENT, (INVESTIGATOR, *LEAD),
           N_("Hand over to assessment"),
           form=(Field("summary", N_("What the investigation found"), kind="textarea"),)),
    action("propose", (ASSESSMENT,), PROPOSED, (ASSESSOR, *LEAD), N_("Make the proposal"),
           not_the_investigator, form=PROPOSAL),
    action("accept_proposal", (PROPOSED,), RESOLVED, (CLAIMANT,), N_("Accept the proposal"),
           form=NOTE),
    action("object", (PROPOSED,), OBJECTED, PARTY_SIDES, N_("Object to the proposal"),
           form=REASONS),
    action("reconsider", (OBJECTED,), RECONSIDERATION, (ASSESSOR, *LEAD),
           N_("Take up the reconsideration"), not_the_proposals_author, form=NOTE),
    action("revise_proposal", (RECONSIDERATION,), PROPOSED, (ASSESSOR, *LEAD),
           N_("Issue the revised proposal"), taken_up_by_viewer, form=PROPOSAL),
    action("request_mediation", (PROPOSED, OBJECTED), MEDIATION, PARTY_SIDES,
           N_("Ask for mediation"), form=NOTE),
    action("declare_impasse", (MEDIATION,), IMPASSE, (MEDIATOR,),
           N_("Declare an impasse"), form=REASONS),
    action("settle", (MEDIATION,), SETTLED, (SYSTEM,), N_("Settle the case")),
    action("request_arbitration", (PROPOSED, OBJECTED, IMPASSE), ARBITRATION, PARTY_SIDES,
           N_("Ask for arbitration"), within_arbitration_window, form=NOTE),
    action("close_after_impasse", (IMPASSE,), CLOSED, (SYSTEM,),
           N_("Close the case after the impasse")),
    action("issue_award", (ARBITRATION,), AWARDED, (SYSTEM,), N_("Issue the award")),
    action("record_remedy", (RESOLVED, SETTLED, AWARDED), CLOSED, (AGENT, ASSESSOR, *LEAD),
           N_("Record that the remedy was carried out"),
           form=(Field("reference",
                       N_("Reference (for example the refund's transaction ID)")),)),
    action("withdraw", OPEN_STATES, WITHDRAWN, (CLAIMANT,), N_("Withdraw the case"), form=NOTE),
)  # fmt: skip

CASE = Procedure("case", _STATES, _ACTIONS, initial=SUBMITTED)
"""The case's life: every screen, service and test asks this table."""


def declared(name: str) -> Action:
    """The action `name` of the case's table (KeyError for an action it does not have)."""
    step = CASE.action(name)
    if step is None:
        raise KeyError(name)
    return step


def outcome_after(name: str) -> str | None:
    """The outcome the case has after `name`: its target when that is an outcome, none
    ("") once a rejection is overturned, or None when the step leaves the outcome as it was
    (closing a resolved case keeps "resolved", upholding a rejection keeps "rejected")."""
    if name == "overturn_rejection":
        return ""
    if name == "close_after_impasse":
        return IMPASSE
    target = declared(name).target
    return target if target in OUTCOMES and target != IMPASSE else None


def held_by_queue(queue: str) -> tuple[str, ...]:
    """The states a staff queue lists, in the order screens show states."""
    return tuple(name for name in STATES if CASE.state(name).queue == queue)


__all__ = [
    "APPEAL_WINDOW", "ARBITRATION_WINDOW", "CASE", "FINAL_STATES", "OPEN_STATES", "OUTCOMES",
    "REMEDIES", "RESPONSIBILITIES", "SEVERITIES", "STATES", "SYSTEM", "Refused", "declared",
    "held_by_queue", "outcome_after",
]  # fmt: skip
