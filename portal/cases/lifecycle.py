"""Moving a case along its life: one function per step of the state table.

`take_action` checks the table (`portal.cases.states`), reads and checks the step's
form, and then, in one write transaction, changes the case only if it is still in the
state the check saw, records the transition in the ledger with the reasons or decision
in its body, sets the next deadline and its owner, and tells whoever must act next.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from ledger.keys import Keyring
from portal.accounts import roles
from portal.accounts.tables import User
from portal.cases import deadlines, states
from portal.cases.categories import CATEGORIES, state_label
from portal.cases.events import SYSTEM, actor, record
from portal.cases.tables import Case, CaseParticipant, InfoRequest, Proposal
from portal.database import write_transaction
from portal.errors import Conflict, FormInvalid, NotAllowed
from portal.i18n import _
from portal.integrations import webhooks
from portal.notifications.notify import notify
from portal.policy import CaseAccess
from portal.procedure.labels import role_label

SEVERITIES = ("low", "medium", "high", "critical")
RESPONSIBILITIES = ("platform", "user", "shared", "third_party")
REMEDIES = ("refund", "compensation", "unfreeze", "warning", "no_action")
TEXT_LIMIT = 20_000


@dataclass
class Step:
    """What one action changes, worked out from its form before anything is written."""

    body: dict[str, Any] = field(default_factory=dict)  # goes into the ledger entry
    case_changes: dict[Any, Any] = field(default_factory=dict)
    after: list[Callable[[int, int], Awaitable[None]]] = field(default_factory=list)


def _text(form: dict[str, str], name: str, errors: dict[str, str], message: str,
          required: bool = True) -> str:  # fmt: skip
    value = form.get(name, "").replace("\r\n", "\n").strip()
    if required and not value:
        errors[name] = message
    elif len(value) > TEXT_LIMIT:
        errors[name] = _("Keep this under %(n)s characters.", n=TEXT_LIMIT)
    return value


def _due(form: dict[str, str], name: str, errors: dict[str, str], at: datetime) -> datetime:
    """A due date from the form: a day after today at the earliest, 60 days at the most."""
    try:
        day = date.fromisoformat(form.get(name, "").strip())
    except ValueError:
        errors[name] = _("Enter the due date, like 2026-12-01.")
        return at
    due = datetime(day.year, day.month, day.day, 23, 59, tzinfo=UTC)
    if due <= at:
        errors[name] = _("The due date must be after today.")
    elif due > at + timedelta(days=60):
        errors[name] = _("Give at most 60 days.")
    return due


def _amount(form: dict[str, str], errors: dict[str, str]) -> tuple[str, str]:
    amount = form.get("amount", "").strip().replace(",", "")
    asset = form.get("asset", "").strip().upper()
    try:
        value = Decimal(amount)
        if not value.is_finite() or value <= 0:
            raise InvalidOperation
        amount = format(value.normalize(), "f")
    except InvalidOperation:
        errors["amount"] = _("Enter the amount as a positive number, like 1250.50.")
    if not asset or len(asset) > 20 or not asset.replace(".", "").replace("-", "").isalnum():
        errors["asset"] = _("Enter the asset's symbol, like USDT or BTC.")
    return amount, asset


async def _people(case_id: int, *wanted: str) -> list[int]:
    rows = await CaseParticipant.select(CaseParticipant.user).where(
        (CaseParticipant.case == case_id) & CaseParticipant.role.is_in(list(wanted))
    )
    return sorted({row["user"] for row in rows})


async def _supervisors() -> list[int]:
    rows = await User.select(User.id).where(
        (User.role == roles.SUPERVISOR) & (User.active.eq(True))
    )
    return [row["id"] for row in rows]


async def owners(case_id: int, role: str) -> list[int]:
    """Who owes a step: the people holding `role` on the case, or the supervisors."""
    if role == roles.SUPERVISOR:
        return await _supervisors()
    if role == roles.PARTIES:
        return await _people(case_id, *roles.PARTY_SIDES)
    return await _people(case_id, role)


async def _assign_least_busy(case_id: int, role: str, ref: str, keyring: Keyring,
                             exclude: list[int]) -> int | None:  # fmt: skip
    """Put the active `role` with the fewest open cases on the case, if it has none."""
    if await _people(case_id, role):
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


def parse(action: str, form: dict[str, str], case: dict[str, Any], access: CaseAccess,
          at: datetime) -> Step:  # fmt: skip
    """The step's form, checked; FormInvalid names what to fix next to each field."""
    errors: dict[str, str] = {}
    step = Step()
    if action == "request_info":
        step.body["questions"] = _text(form, "questions", errors, _("Write your questions."))
        step.body["due"] = _due(form, "due_date", errors, at).isoformat()
    elif action == "answer_info":
        step.body["answer"] = _text(form, "answer", errors, _("Write your answer."))
    elif action == "accept":
        severity = form.get("severity", "")
        if severity not in SEVERITIES:
            errors["severity"] = _("Choose the severity.")
        category = form.get("category") or case["category"]
        if category not in CATEGORIES:
            errors["category"] = _("Choose what the dispute is about.")
        if form.get("in_scope") != "yes":
            errors["in_scope"] = _(
                "Only a case in scope can be accepted; reject it with reasons otherwise."
            )
        step.body.update(severity=severity, category=category, in_scope=True)
        step.case_changes.update(
            {Case.severity: severity, Case.category: category, Case.in_scope: True,
             Case.priority: "priority" if severity in ("high", "critical") else "standard"}
        )  # fmt: skip
    elif action in ("reject", "appeal", "uphold_rejection", "overturn_rejection", "object",
                    "declare_impasse"):  # fmt: skip
        step.body["reasons"] = _text(form, "reasons", errors, _("Give your reasons."))
        if action == "reject":
            step.case_changes[Case.in_scope] = form.get("in_scope") == "yes"
            step.body["in_scope"] = form.get("in_scope") == "yes"
    elif action == "hand_over":
        step.body["summary"] = _text(
            form, "summary", errors, _("Summarise what the investigation found.")
        )
    elif action in ("propose", "revise_proposal"):
        step.body["findings"] = _text(form, "findings", errors, _("Write the findings."))
        responsibility = form.get("responsibility", "")
        if responsibility not in RESPONSIBILITIES:
            errors["responsibility"] = _("Choose who is responsible.")
        remedy = form.get("remedy", "")
        if remedy not in REMEDIES:
            errors["remedy"] = _("Choose the remedy.")
        amount = asset = ""
        if remedy in ("refund", "compensation"):
            amount, asset = _amount(form, errors)
        details = _text(form, "remedy_details", errors, "", required=False)
        step.body.update(responsibility=responsibility, remedy=remedy, amount=amount,
                         asset=asset, remedy_details=details)  # fmt: skip
    elif action in ("accept_proposal", "request_mediation", "request_arbitration", "withdraw",
                    "start_review", "reconsider"):  # fmt: skip
        reason = _text(form, "reasons", errors, "", required=False)
        if reason:
            step.body["reasons"] = reason
    elif action == "record_remedy":
        step.body["reference"] = _text(
            form,
            "reference",
            errors,
            _("Give a reference for the remedy, such as the refund's transaction ID."),
        )[:200]
    if errors:
        raise FormInvalid(errors)
    return step


async def take_action(keyring: Keyring, ref: str, access: CaseAccess, action: str,
                      form: dict[str, str]) -> str:  # fmt: skip
    """Perform `action` on the case; returns the new state."""
    at = deadlines.now()
    case = await Case.select().where(Case.id == access.case_id).first()
    transition = states.check(action, case, access, at)
    step = parse(action, form, case, access, at)
    role = next(r for r in _ROLE_ORDER if r in access.roles & transition.roles)
    target = transition.target
    async with write_transaction(Case._meta.db):
        # Only if nobody moved the case since it was checked.
        changes: dict[Any, Any] = {Case.state: target, Case.state_since: at, Case.updated_at: at}
        changes.update(_outcome_changes(action, at))
        changes.update(step.case_changes)
        moved = (
            await Case.update(changes)
            .where((Case.id == case["id"]) & (Case.state == case["state"]))
            .returning(Case.id)
        )
        if not moved:
            raise Conflict(
                _("Someone changed this case meanwhile. Reload the page and look again.")
            )
        body = {"action": action, "from": case["state"], "to": target, **step.body}
        receipt = await record(keyring, ref, "case.transitioned", actor(access.viewer.id, role),
                               body)  # fmt: skip
        await _consequences(keyring, ref, case, access, action, step, at, receipt.case_seq)
        # Last, so the events carry the case as the move left it (deadline, outcome).
        await webhooks.case_moved(ref, action, case["state"], target)
    return target


def _outcome_changes(action: str, at: datetime) -> dict[Any, Any]:
    """The case's outcome after the step (`states.outcome_after`), written with the move."""
    outcome = states.outcome_after(action)
    if outcome is None:
        return {}
    return {Case.outcome: outcome, Case.outcome_at: at if outcome else None}


_ROLE_ORDER = (
    roles.CLAIMANT, roles.RESPONDENT, roles.PLATFORM, roles.MEDIATOR, roles.AGENT,
    roles.INVESTIGATOR, roles.ASSESSOR, roles.SUPERVISOR,
)  # fmt: skip


async def _consequences(keyring: Keyring, ref: str, case: dict[str, Any], access: CaseAccess,
                        action: str, step: Step, at: datetime, seq: int) -> None:  # fmt: skip
    """The rows, deadline, owner and notifications that follow each action."""
    case_id = case["id"]
    target = states.BY_ACTION[action].target
    priority = step.case_changes.get(Case.priority, case["priority"])
    updates: dict[Any, Any] = {}
    owner = deadlines.OWNER.get(target)
    deadline = await deadlines.stage_deadline(target, priority, at)

    if action == "request_info":
        claimant = (await _people(case_id, roles.CLAIMANT))[0]
        due = datetime.fromisoformat(step.body["due"])
        await InfoRequest.insert(InfoRequest(
            case=case_id, addressee=claimant, asked_by=access.viewer.id,
            questions=step.body["questions"], due_at=due, created_at=at))  # fmt: skip
        left = deadlines.remaining(case, at)
        updates[Case.paused_remaining] = max(left, 0) if left is not None else None
        deadline = due
    elif action == "answer_info":
        await InfoRequest.update(
            {InfoRequest.answer: step.body["answer"], InfoRequest.answered_at: at}
        ).where(
            (InfoRequest.case == case_id)
            & (InfoRequest.addressee == access.viewer.id)
            & InfoRequest.answered_at.is_null()
        )
        paused = case.get("paused_remaining")
        if paused is not None:
            deadline = at + timedelta(seconds=paused)  # the clock starts again where it stopped
        updates[Case.paused_remaining] = None
    elif action == "accept":
        await _assign_least_busy(case_id, roles.INVESTIGATOR, ref, keyring, exclude=[])
    elif action == "hand_over":
        investigators = await _people(case_id, roles.INVESTIGATOR)
        await _assign_least_busy(case_id, roles.ASSESSOR, ref, keyring, exclude=investigators)
    elif action in ("propose", "revise_proposal"):
        answer_due = deadline or at + timedelta(days=7)
        await Proposal.insert(Proposal(
            case=case_id, author=access.viewer.id, findings=step.body["findings"],
            responsibility=step.body["responsibility"], remedy=step.body["remedy"],
            amount=step.body["amount"], asset=step.body["asset"],
            remedy_details=step.body["remedy_details"], answer_due=answer_due, case_seq=seq,
            created_at=at))  # fmt: skip
        updates[Case.proposal_author] = access.viewer.id
        updates[Case.reconsidered_by] = None
    elif action == "reconsider":
        updates[Case.reconsidered_by] = access.viewer.id
    elif action == "record_remedy":
        updates[Case.remedy_reference] = step.body["reference"]
    elif action == "declare_impasse":
        from mediation.appointment import end_mediation  # mediation/ builds on this module

        await end_mediation(case_id, at)
    if target in states.FINAL_STATES:
        deadline, owner = None, None
    updates[Case.deadline_at] = deadline
    updates[Case.next_step_by] = owner or ""
    await Case.update(updates).where(Case.id == case_id)

    await tell_of_move(ref, case_id, target, owner, deadline, by=access.viewer.id)


async def tell_of_move(ref: str, case_id: int, target: str, owner: str | None,
                       deadline: datetime | None, by: int | None) -> None:  # fmt: skip
    """Tell everyone on the case; whoever owes the next step learns it is theirs."""
    everyone = await _people(case_id, *_ROLE_ORDER)
    owing = set(await owners(case_id, owner)) if owner else set()
    when = deadline.strftime("%Y-%m-%d %H:%M UTC") if deadline else ""
    link = f"/cases/{ref}"
    others = [u for u in everyone if u != by and u not in owing]
    for group, yours in ((sorted(owing - {by}), True), (others, False)):
        if group:
            await notify(group, "case_moved", case_ref=ref, link=link, template="case_moved",
                         state=target, yours=yours, deadline=when,
                         state_label=state_label)  # fmt: skip


async def take_system_step(keyring: Keyring, ref: str, case_id: int, action: str,
                           body: dict[str, Any], at: datetime) -> None:  # fmt: skip
    """A step the portal takes itself (`states.SYSTEM` in the table), as a consequence of
    another: call inside that step's write transaction, so both happen or neither."""
    transition = states.BY_ACTION[action]
    if states.SYSTEM not in transition.roles:
        raise ValueError(f"{action} is taken by people, not by the portal")
    target = transition.target
    case = await Case.select(Case.state, Case.priority).where(Case.id == case_id).first()
    deadline = await deadlines.stage_deadline(target, case["priority"], at)
    owner = deadlines.OWNER.get(target)
    if target in states.FINAL_STATES:
        deadline, owner = None, None
    moved = (
        await Case.update({
            Case.state: target, Case.state_since: at, Case.updated_at: at,
            Case.deadline_at: deadline, Case.next_step_by: owner or "",
            **_outcome_changes(action, at),
        })
        .where((Case.id == case_id) & Case.state.is_in(list(transition.sources)))
        .returning(Case.id)
    )  # fmt: skip
    if not moved:
        raise Conflict(_("Someone changed this case meanwhile. Reload the page and look again."))
    await record(keyring, ref, "case.transitioned", SYSTEM,
                 {"action": action, "from": case["state"], "to": target, **body})  # fmt: skip
    await tell_of_move(ref, case_id, target, owner, deadline, by=None)
    await webhooks.case_moved(ref, action, case["state"], target)


async def ask_respondent(keyring: Keyring, ref: str, access: CaseAccess,
                         form: dict[str, str]) -> None:  # fmt: skip
    """Investigators put questions to the respondent; the case does not wait on them."""
    if not access.can_ask_respondent:
        raise NotAllowed(_("Only the investigator can ask the respondent."))
    respondents = await _people(access.case_id, roles.RESPONDENT)
    at = deadlines.now()
    errors: dict[str, str] = {}
    questions = _text(form, "questions", errors, _("Write your questions."))
    due = _due(form, "due_date", errors, at)
    if errors:
        raise FormInvalid(errors)
    async with write_transaction(Case._meta.db):
        await InfoRequest.insert(InfoRequest(
            case=access.case_id, addressee=respondents[0], asked_by=access.viewer.id,
            questions=questions, due_at=due, created_at=at))  # fmt: skip
        await record(keyring, ref, "info.requested", actor(access.viewer.id, roles.INVESTIGATOR),
                     {"to": f"user:{respondents[0]}", "questions": questions,
                      "due": due.isoformat()})  # fmt: skip
        await notify(
            respondents,
            "case_moved",
            case_ref=ref,
            link=f"/cases/{ref}",
            template="case_moved",
            state="investigation",
            yours=True,
            deadline=due.strftime("%Y-%m-%d %H:%M UTC"),
            state_label=state_label,
        )


async def answer_request(keyring: Keyring, ref: str, access: CaseAccess, request_id: int,
                         form: dict[str, str]) -> None:  # fmt: skip
    """The respondent answers questions put to them (the claimant answers by `answer_info`)."""
    row = (
        await InfoRequest.select()
        .where((InfoRequest.id == request_id) & (InfoRequest.case == access.case_id))
        .first()
    )
    if row is None or row["addressee"] != access.viewer.id:
        from litestar.exceptions import NotFoundException

        raise NotFoundException()
    if row["answered_at"] is not None:
        raise Conflict(_("These questions have been answered already."))
    errors: dict[str, str] = {}
    answer = _text(form, "answer", errors, _("Write your answer."))
    if errors:
        raise FormInvalid(errors)
    at = deadlines.now()
    async with write_transaction(Case._meta.db):
        await InfoRequest.update({InfoRequest.answer: answer, InfoRequest.answered_at: at}).where(
            InfoRequest.id == request_id
        )
        who = roles.RESPONDENT if roles.RESPONDENT in access.roles else roles.CLAIMANT
        await record(keyring, ref, "info.answered", actor(access.viewer.id, who),
                     {"request": request_id, "answer": answer})  # fmt: skip
        await notify([row["asked_by"]], "case_moved", case_ref=ref, link=f"/cases/{ref}",
                     template="case_moved", state=access.state, yours=True, deadline="",
                     state_label=state_label)  # fmt: skip


__all__ = ["answer_request", "ask_respondent", "owners", "parse", "role_label", "take_action"]
