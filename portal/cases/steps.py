"""What each action of the case's table reads from its form and what follows from it.

The table (`portal.procedure.case`) says where an action goes and who may take it; here
each action has at most two small functions, registered by its name: `@reads` turns its
form into the ledger entry's body and the case's changes, `@follows` writes the rows
that follow the move (a request, a proposal, an assignment) and adjusts the deadline.
The executor (`portal.cases.lifecycle.take_action`) calls them; an action without a
reader has no form, one without a follower changes nothing beyond its move.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ledger.keys import Keyring
from portal.cases import deadlines
from portal.cases.categories import CATEGORIES
from portal.cases.forms import StepForm
from portal.cases.people import assign_least_busy, on_case
from portal.cases.tables import Case, InfoRequest, Proposal
from portal.i18n import _
from portal.procedure import roles
from portal.procedure.case import REMEDIES, RESPONSIBILITIES, SEVERITIES


@dataclass
class Step:
    """What one action changes, worked out from its form before anything is written."""

    body: dict[str, Any] = field(default_factory=dict)  # goes into the ledger entry
    case_changes: dict[Any, Any] = field(default_factory=dict)


@dataclass
class Taken:
    """An action just taken, as its follower sees it inside the move's transaction.

    `deadline` starts as the target stage's default; a follower may change it, and adds
    what else the case row should say to `updates`.
    """

    keyring: Keyring
    ref: str
    case: dict[str, Any]  # the case as the check saw it, before the move
    viewer: int
    at: datetime
    seq: int  # the transition's entry in the case's chain
    body: dict[str, Any]
    deadline: datetime | None
    updates: dict[Any, Any] = field(default_factory=dict)


Reader = Callable[[StepForm, Step], None]
Follower = Callable[[Taken], Awaitable[None]]
READERS: dict[str, Reader] = {}
FOLLOWERS: dict[str, Follower] = {}


def reads(*actions: str) -> Callable[[Reader], Reader]:
    def register(reader: Reader) -> Reader:
        READERS.update(dict.fromkeys(actions, reader))
        return reader

    return register


def follows(*actions: str) -> Callable[[Follower], Follower]:
    def register(follower: Follower) -> Follower:
        FOLLOWERS.update(dict.fromkeys(actions, follower))
        return follower

    return register


def read(action: str, values: dict[str, str], case: dict[str, Any], at: datetime) -> Step:
    """The action's form, checked; FormInvalid names what to fix next to each field."""
    form, step = StepForm(values, case, at), Step()
    reader = READERS.get(action)
    if reader is not None:
        reader(form, step)
    form.check()
    return step


async def follow(action: str, taken: Taken) -> None:
    follower = FOLLOWERS.get(action)
    if follower is not None:
        await follower(taken)


@reads("request_info")
def read_request_info(form: StepForm, step: Step) -> None:
    step.body["questions"] = form.text("questions", _("Write your questions."))
    step.body["due"] = form.due("due_date").isoformat()


@follows("request_info")
async def request_info(taken: Taken) -> None:
    """The claimant is asked; the staff's clock stops with what was left of it."""
    claimant = (await on_case(taken.case["id"], roles.CLAIMANT))[0]
    due = datetime.fromisoformat(taken.body["due"])
    await InfoRequest.insert(InfoRequest(
        case=taken.case["id"], addressee=claimant, asked_by=taken.viewer,
        questions=taken.body["questions"], due_at=due, created_at=taken.at))  # fmt: skip
    left = deadlines.remaining(taken.case, taken.at)
    taken.updates[Case.paused_remaining] = max(left, 0) if left is not None else None
    taken.deadline = due


@reads("answer_info")
def read_answer_info(form: StepForm, step: Step) -> None:
    step.body["answer"] = form.text("answer", _("Write your answer."))


@follows("answer_info")
async def answer_info(taken: Taken) -> None:
    """The claimant's answer; the staff's clock starts again where it stopped."""
    await InfoRequest.update(
        {InfoRequest.answer: taken.body["answer"], InfoRequest.answered_at: taken.at}
    ).where(
        (InfoRequest.case == taken.case["id"])
        & (InfoRequest.addressee == taken.viewer)
        & InfoRequest.answered_at.is_null()
    )
    paused = taken.case.get("paused_remaining")
    if paused is not None:
        taken.deadline = taken.at + timedelta(seconds=paused)
    taken.updates[Case.paused_remaining] = None


@reads("accept")
def read_accept(form: StepForm, step: Step) -> None:
    severity = form.get("severity")
    if severity not in SEVERITIES:
        form.errors["severity"] = _("Choose the severity.")
    category = form.get("category") or form.case["category"]
    if category not in CATEGORIES:
        form.errors["category"] = _("Choose what the dispute is about.")
    if form.get("in_scope") != "yes":
        form.errors["in_scope"] = _(
            "Only a case in scope can be accepted; reject it with reasons otherwise."
        )
    step.body.update(severity=severity, category=category, in_scope=True)
    step.case_changes.update(
        {Case.severity: severity, Case.category: category, Case.in_scope: True,
         Case.priority: "priority" if severity in ("high", "critical") else "standard"}
    )  # fmt: skip


@follows("accept")
async def accept(taken: Taken) -> None:
    await assign_least_busy(taken.case["id"], roles.INVESTIGATOR, taken.ref, taken.keyring,
                            exclude=[])  # fmt: skip


@reads("appeal", "uphold_rejection", "overturn_rejection", "object", "declare_impasse")
def read_reasons(form: StepForm, step: Step) -> None:
    step.body["reasons"] = form.text("reasons", _("Give your reasons."))


@reads("reject")
def read_reject(form: StepForm, step: Step) -> None:
    read_reasons(form, step)
    in_scope = form.get("in_scope") == "yes"
    step.case_changes[Case.in_scope] = in_scope
    step.body["in_scope"] = in_scope


@reads("hand_over")
def read_hand_over(form: StepForm, step: Step) -> None:
    step.body["summary"] = form.text("summary", _("Summarise what the investigation found."))


@follows("hand_over")
async def hand_over(taken: Taken) -> None:
    """An assessor who did not investigate the case takes it up."""
    investigators = await on_case(taken.case["id"], roles.INVESTIGATOR)
    await assign_least_busy(taken.case["id"], roles.ASSESSOR, taken.ref, taken.keyring,
                            exclude=investigators)  # fmt: skip


@reads("propose", "revise_proposal")
def read_proposal(form: StepForm, step: Step) -> None:
    step.body["findings"] = form.text("findings", _("Write the findings."))
    responsibility = form.get("responsibility")
    if responsibility not in RESPONSIBILITIES:
        form.errors["responsibility"] = _("Choose who is responsible.")
    remedy = form.get("remedy")
    if remedy not in REMEDIES:
        form.errors["remedy"] = _("Choose the remedy.")
    amount = asset = ""
    if remedy in ("refund", "compensation"):
        amount, asset = form.amount()
    details = form.text("remedy_details", "", required=False)
    step.body.update(responsibility=responsibility, remedy=remedy, amount=amount,
                     asset=asset, remedy_details=details)  # fmt: skip


@follows("propose", "revise_proposal")
async def proposal(taken: Taken) -> None:
    """The proposal's row, answerable until the proposed stage's deadline."""
    body = taken.body
    await Proposal.insert(Proposal(
        case=taken.case["id"], author=taken.viewer, findings=body["findings"],
        responsibility=body["responsibility"], remedy=body["remedy"], amount=body["amount"],
        asset=body["asset"], remedy_details=body["remedy_details"],
        answer_due=taken.deadline or taken.at + timedelta(days=7), case_seq=taken.seq,
        created_at=taken.at))  # fmt: skip
    taken.updates[Case.proposal_author] = taken.viewer
    taken.updates[Case.reconsidered_by] = None


@reads("accept_proposal", "request_mediation", "request_arbitration", "withdraw",
       "start_review", "reconsider")  # fmt: skip
def read_note(form: StepForm, step: Step) -> None:
    reason = form.text("reasons", "", required=False)
    if reason:
        step.body["reasons"] = reason


@follows("reconsider")
async def reconsider(taken: Taken) -> None:
    taken.updates[Case.reconsidered_by] = taken.viewer


@reads("record_remedy")
def read_record_remedy(form: StepForm, step: Step) -> None:
    step.body["reference"] = form.text(
        "reference", _("Give a reference for the remedy, such as the refund's transaction ID.")
    )[:200]


@follows("record_remedy")
async def record_remedy(taken: Taken) -> None:
    taken.updates[Case.remedy_reference] = taken.body["reference"]
