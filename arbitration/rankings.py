"""The list method, from the sides' point of view: a supervisor sends a new list, a
ranker strikes and ranks it, and the last answer closes it. A ranker's answer stays
secret until the list closes (`arbitration.listing`).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from arbitration import filling, listing, seating
from arbitration.rules import ruleset
from arbitration.tables import CandidateList, ListAnswer
from ledger.keys import Keyring
from portal.cases import deadlines
from portal.cases.events import actor, record
from portal.cases.tables import Case
from portal.database import write_transaction
from portal.errors import Conflict, NotAllowed, NotFound
from portal.i18n import _
from portal.procedure import acting as A
from portal.procedure.arbitration import (
    APPOINTED,
    CANDIDATE_LIST,
    CONSTITUTING,
    ask,
    subject,
)

if TYPE_CHECKING:
    from portal.procedure.policy import CaseAccess


async def send_list(keyring: Keyring, ref: str, access: CaseAccess) -> None:
    """A supervisor sends a new list for a seat that has neither an arbitrator nor an open
    list (after the roster ran out, for instance)."""
    if not access.can_start_arbitration:
        raise NotAllowed(_("Only a supervisor sends a new list."))
    at = deadlines.now()
    async with write_transaction(Case._meta.db):
        arbitration = await seating.started(access.case_id)
        if arbitration is None:
            raise Conflict(_("Start the arbitration first."))
        await seating.hold(arbitration["id"])
        seat = await seat_awaiting_list(arbitration)
        if seat is None:
            raise Conflict(_("No seat of this tribunal is waiting for a list."))
        if await filling.send_new_list(keyring, ref, arbitration, seat, at) is None:
            raise Conflict(
                _("No arbitrator on the roster can be put on this list. Add arbitrators to "
                  "the roster first.")
            )  # fmt: skip


async def seat_awaiting_list(arbitration: dict[str, Any]) -> str | None:
    """The list seat that has no arbitrator, no invitation and no open list, if any."""
    if arbitration["status"] != CONSTITUTING:
        return None
    rules = ruleset(arbitration["ruleset"])
    seat = seating.SOLE if rules.arbitrators == 1 else seating.PRESIDING
    if seat == seating.PRESIDING and set(seating.NOMINEE_SEATS) - {
        row["seat"] for row in await seating.seats(arbitration["id"]) if row["status"] == APPOINTED
    }:
        return None
    if await seating.live_seat(arbitration["id"], seat) is not None:
        return None
    if any(
        row["status"] in CANDIDATE_LIST.open_states
        for row in await seating.lists(arbitration["id"], seat)
    ):
        return None
    return seat


async def answer_list(keyring: Keyring, ref: str, access: CaseAccess, list_id: int,
                      form: dict[str, str]) -> None:  # fmt: skip
    """A ranker strikes and ranks a list; the last answer closes it."""
    if not access.can_shape_tribunal:
        raise NotAllowed(
            _("Only the sides, or the co-arbitrators for the presiding arbitrator, rank a list.")
        )
    arbitration = await seating.started(access.case_id)
    candidate_list = (
        await CandidateList.select().where(CandidateList.id == list_id).first()
        if arbitration
        else None
    )
    if (
        arbitration is None
        or candidate_list is None
        or candidate_list["arbitration"] != arbitration["id"]
    ):
        raise NotFound()
    seat = candidate_list["seat"]
    rankers = await seating.rankers(arbitration, seat)
    if not access.may_rank(seat) or access.viewer.id not in rankers:
        raise NotAllowed(_("You are not asked to rank this list."))
    rules = ruleset(arbitration["ruleset"])
    candidates = [int(c) for c in json.loads(candidate_list["candidates"])]
    ranking = listing.read_answer(candidates, form, rules.strikes, await seating.names(candidates))
    at = deadlines.now()
    async with write_transaction(Case._meta.db):
        await seating.hold(arbitration["id"])
        current = await CandidateList.select().where(CandidateList.id == list_id).first()
        assert current is not None
        ask(CANDIDATE_LIST, "answer_list", subject(current), access, at,
            _("This list has closed; it can no longer be answered."))  # fmt: skip
        if await ListAnswer.exists().where(
            (ListAnswer.candidate_list == list_id) & (ListAnswer.ranker == access.viewer.id)
        ):
            raise Conflict(_("You have already answered this list."))
        stored = listing.answer_json(ranking)
        receipt = await record(
            keyring,
            ref,
            "arbitration.list_answered",
            actor(access.viewer.id, access.acting_role(A.BEFORE_NEUTRAL)),
            {"list": list_id, "seat": seat, "content_sha256": listing.commitment(stored)},
        )
        await ListAnswer.insert(
            ListAnswer(
                candidate_list=list_id,
                ranker=access.viewer.id,
                ranking=stored,
                defaulted=False,
                case_seq=receipt.case_seq,
                created_at=at,
            )
        )
        answered = {a["ranker"] for a in await seating.answers(list_id)}
        if set(await seating.rankers(arbitration, seat)) <= answered:
            await filling.close_list(keyring, ref, arbitration, current, at)
