"""Moving a case along its life: one executor for every action of the case's table.

`take_action` checks the table (`portal.procedure.case`) and reads the action's form
(`portal.cases.steps`), and then, in one write transaction, changes the case only if it
is still in the state the check saw, records the transition in the ledger with the
reasons or decision in its body, writes what follows from the action, sets the next
deadline and its owner, runs the after-a-move hooks (`portal.procedure.hooks`: the end
of a mediation, webhooks) and tells whoever must act next.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ledger.keys import Keyring
from portal.cases import deadlines, steps
from portal.cases.categories import state_label
from portal.cases.events import SYSTEM, actor, record
from portal.cases.forms import StepForm
from portal.cases.people import on_case, owners
from portal.cases.tables import Case, InfoRequest
from portal.database import write_transaction
from portal.errors import Conflict, NotAllowed, NotFound
from portal.i18n import _
from portal.notifications.notify import notify
from portal.procedure import acting as A
from portal.procedure import case as states
from portal.procedure import hooks, roles
from portal.procedure.case import REMEDIES, RESPONSIBILITIES, SEVERITIES
from portal.procedure.labels import role_label
from portal.procedure.policy import CaseAccess


async def take_action(keyring: Keyring, ref: str, access: CaseAccess, action: str,
                      form: dict[str, str]) -> str:  # fmt: skip
    """Perform `action` on the case; returns the new state."""
    at = deadlines.now()
    case = await _row(access.case_id)
    declared = states.CASE.check(action, case, access, at, translate=_)
    step = steps.read(action, form, case, at)
    role = access.acting_role(A.MOVING, declared.roles)
    target = declared.target
    async with write_transaction(Case._meta.db):
        await _move(case["id"], (case["state"],), target, action, at, step.case_changes)
        body = {"action": action, "from": case["state"], "to": target, **step.body}
        receipt = await record(keyring, ref, "case.transitioned", actor(access.viewer.id, role),
                               body)  # fmt: skip
        priority = step.case_changes.get(Case.priority, case["priority"])
        taken = steps.Taken(keyring, ref, case, access.viewer.id, at, receipt.case_seq, body,
                            await deadlines.stage_deadline(target, priority, at))  # fmt: skip
        await steps.follow(action, taken)
        deadline, owner = await _next_step(case["id"], target, taken.deadline, taken.updates)
        await hooks.run(hooks.Move("case", action, case["state"], target, case["id"], at,
                                   receipt.case_seq, body))  # fmt: skip
        await tell_of_move(ref, case["id"], target, owner, deadline, by=access.viewer.id)
    return target


async def _row(case_id: int, *columns: Any) -> dict[str, Any]:
    """The case's row (it exists: whoever moves it was given access to it)."""
    row: dict[str, Any] | None = await Case.select(*columns).where(Case.id == case_id).first()
    if row is None:
        raise LookupError(f"no case {case_id}")
    return row


async def _move(case_id: int, sources: tuple[str, ...], target: str, action: str, at: datetime,
                changes: dict[Any, Any]) -> None:  # fmt: skip
    """Move the case, only if it is still in one of `sources` (nobody moved it meanwhile)."""
    moved = (
        await Case.update({
            Case.state: target, Case.state_since: at, Case.updated_at: at,
            **_outcome_changes(action, at), **changes,
        })
        .where((Case.id == case_id) & Case.state.is_in(list(sources)))
        .returning(Case.id)
    )  # fmt: skip
    if not moved:
        raise Conflict(_("Someone changed this case meanwhile. Reload the page and look again."))


async def _next_step(case_id: int, target: str, deadline: datetime | None,
                     updates: dict[Any, Any]) -> tuple[datetime | None, str | None]:  # fmt: skip
    """Write who owes the next step and by when (nobody, once the case is final)."""
    owner = states.CASE.state(target).owner
    if target in states.FINAL_STATES:
        deadline, owner = None, None
    updates = {**updates, Case.deadline_at: deadline, Case.next_step_by: owner or ""}
    await Case.update(updates).where(Case.id == case_id)
    return deadline, owner


def _outcome_changes(action: str, at: datetime) -> dict[Any, Any]:
    """The case's outcome after the step (`states.outcome_after`), written with the move."""
    outcome = states.outcome_after(action)
    if outcome is None:
        return {}
    return {Case.outcome: outcome, Case.outcome_at: at if outcome else None}


async def tell_of_move(ref: str, case_id: int, target: str, owner: str | None,
                       deadline: datetime | None, by: int | None) -> None:  # fmt: skip
    """Tell everyone on the case; whoever owes the next step learns it is theirs."""
    everyone = await on_case(case_id, *A.ACTING_ORDER[A.MOVING])
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
    """A step the portal takes itself (`SYSTEM` in the table), as a consequence of
    another: call inside that step's write transaction, so both happen or neither."""
    declared = states.declared(action)
    if states.SYSTEM not in declared.roles:
        raise ValueError(f"{action} is taken by people, not by the portal")
    target = declared.target
    case = await _row(case_id, Case.state, Case.priority)
    deadline = await deadlines.stage_deadline(target, case["priority"], at)
    await _move(case_id, tuple(declared.sources), target, action, at, {})
    deadline, owner = await _next_step(case_id, target, deadline, {})
    entry = {"action": action, "from": case["state"], "to": target, **body}
    receipt = await record(keyring, ref, "case.transitioned", SYSTEM, entry)
    await hooks.run(hooks.Move("case", action, case["state"], target, case_id, at,
                               receipt.case_seq, entry))  # fmt: skip
    await tell_of_move(ref, case_id, target, owner, deadline, by=None)


async def ask_respondent(keyring: Keyring, ref: str, access: CaseAccess,
                         form: dict[str, str]) -> None:  # fmt: skip
    """Investigators put questions to the respondent; the case does not wait on them."""
    if not access.can_ask_respondent:
        raise NotAllowed(_("Only the investigator can ask the respondent."))
    respondents = await on_case(access.case_id, roles.RESPONDENT)
    at = deadlines.now()
    asked = StepForm(form, {}, at)
    questions = asked.text("questions", _("Write your questions."))
    due = asked.due("due_date")
    asked.check()
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
        raise NotFound()
    if row["answered_at"] is not None:
        raise Conflict(_("These questions have been answered already."))
    at = deadlines.now()
    answered = StepForm(form, {}, at)
    answer = answered.text("answer", _("Write your answer."))
    answered.check()
    async with write_transaction(Case._meta.db):
        await InfoRequest.update({InfoRequest.answer: answer, InfoRequest.answered_at: at}).where(
            InfoRequest.id == request_id
        )
        who = access.acting_role(A.ANSWERING)
        await record(keyring, ref, "info.answered", actor(access.viewer.id, who),
                     {"request": request_id, "answer": answer})  # fmt: skip
        await notify([row["asked_by"]], "case_moved", case_ref=ref, link=f"/cases/{ref}",
                     template="case_moved", state=access.state, yours=True, deadline="",
                     state_label=state_label)  # fmt: skip


__all__ = [
    "REMEDIES", "RESPONSIBILITIES", "SEVERITIES", "answer_request", "ask_respondent", "owners",
    "role_label", "take_action", "take_system_step", "tell_of_move",
]  # fmt: skip
