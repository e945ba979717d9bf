"""How a seat is filled: lists sent and closed, the best candidate invited, a seat
ended or emptied and filled again, the tribunal constituted, and the steps time takes
(`advance_due`). Each runs inside its caller's write transaction.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from arbitration import listing, seating
from arbitration.rules import ruleset
from arbitration.tables import Arbitration, CandidateList, ListAnswer, Seat
from ledger.keys import Keyring
from portal.accounts import invitations
from portal.accounts.tables import User
from portal.cases.events import SYSTEM, record
from portal.cases.lifecycle import owners
from portal.cases.sides import sides_of
from portal.cases.tables import Case, CaseParticipant
from portal.database import write_transaction
from portal.i18n import _
from portal.notifications.notify import absolute_link, notify
from portal.procedure import roles
from portal.procedure.arbitration import APPOINTED, ARBITRATION, CANDIDATE_LIST, SEAT, move


async def send_new_list(keyring: Keyring, ref: str, arbitration: dict[str, Any], seat: str,
                        at: datetime) -> int | None:  # fmt: skip
    """Send a new list for `seat` to its rankers; tell the supervisors if nobody is left."""
    rules = ruleset(arbitration["ruleset"])
    pool = await seating.eligible(arbitration["id"], arbitration["case"])
    if not pool:
        await record(keyring, ref, "arbitration.no_candidates", SYSTEM, {"seat": seat})
        await seating.tell(await owners(arbitration["case"], roles.SUPERVISOR), ref,
                           "no_candidates", seat=seating.seat_label(seat))  # fmt: skip
        return None
    chosen = [int(row["id"]) for row in pool[: rules.list_size]]
    due = at + rules.list_window
    rows = await CandidateList.insert(
        CandidateList(
            arbitration=arbitration["id"],
            seat=seat,
            candidates=json.dumps(chosen),
            due_at=due,
            status="open",
            case_seq=0,
            created_at=at,
        )
    ).returning(CandidateList.id)
    list_id = int(rows[0]["id"])
    receipt = await record(
        keyring,
        ref,
        "arbitration.list_sent",
        SYSTEM,
        {
            "list": list_id,
            "seat": seat,
            "candidates": [f"user:{c}" for c in chosen],
            "strikes": rules.strikes,
            "due": seating.iso(due),
        },
    )
    await CandidateList.update({CandidateList.case_seq: receipt.case_seq}).where(
        CandidateList.id == list_id
    )
    await seating.tell(await seating.rankers(arbitration, seat), ref, "list_sent",
                       seat=seating.seat_label(seat), due=seating.when(due),
                       strikes=rules.strikes)  # fmt: skip
    await seating.refresh_deadline(arbitration, at)
    return list_id


async def close_list(keyring: Keyring, ref: str, arbitration: dict[str, Any],
                     candidate_list: dict[str, Any], at: datetime) -> bool:  # fmt: skip
    """Close a list: rankers who said nothing accept all in list order; the order is
    revealed with every answer, and the best candidate is invited."""
    step = move(CANDIDATE_LIST, "close_list")
    closed = (
        await CandidateList.update({CandidateList.status: step.target, CandidateList.closed_at: at})
        .where((CandidateList.id == candidate_list["id"])
               & CandidateList.status.is_in(sorted(step.sources)))
        .returning(CandidateList.id)
    )  # fmt: skip
    if not closed:
        return False
    seat = candidate_list["seat"]
    candidates = [int(c) for c in json.loads(candidate_list["candidates"])]
    answers = await seating.answers(candidate_list["id"])
    answered = {a["ranker"] for a in answers}
    for ranker in await seating.rankers(arbitration, seat):
        if ranker in answered:
            continue
        stored = listing.answer_json(listing.accept_all(candidates))
        receipt = await record(
            keyring,
            ref,
            "arbitration.list_answered",
            SYSTEM,
            {
                "list": candidate_list["id"],
                "seat": seat,
                "ranker": f"user:{ranker}",
                "defaulted": True,
                "content_sha256": listing.commitment(stored),
            },
        )
        await ListAnswer.insert(
            ListAnswer(
                candidate_list=candidate_list["id"],
                ranker=ranker,
                ranking=stored,
                defaulted=True,
                case_seq=receipt.case_seq,
                created_at=at,
            )
        )
        answers.append({"ranker": ranker, "ranking": stored, "defaulted": True})
    rankings = [listing.ranking_of(a["ranking"]) for a in answers]
    order = listing.combined_order(candidates, rankings)
    await record(
        keyring,
        ref,
        "arbitration.list_closed",
        SYSTEM,
        {
            "list": candidate_list["id"],
            "seat": seat,
            "rankings": {
                f"user:{a['ranker']}": {f"user:{c}": r for c, r in ranking.items()}
                for a, ranking in zip(answers, rankings, strict=True)
            },
            "answers": {f"user:{a['ranker']}": a["ranking"] for a in answers},
            "defaulted": [f"user:{a['ranker']}" for a in answers if a["defaulted"]],
            "order": [f"user:{c}" for c in order],
        },
    )
    await invite_next(keyring, ref, arbitration, seat, at)
    return True


async def invite_next(keyring: Keyring, ref: str, arbitration: dict[str, Any], seat: str,
                      at: datetime) -> None:  # fmt: skip
    """Invite the best candidate of the seat's last closed list not yet asked; when the
    list is used up, tell the supervisors and send a new one."""
    closed = [
        row
        for row in await seating.lists(arbitration["id"], seat)
        if CANDIDATE_LIST.state(row["status"]).final
    ]
    if closed:
        last = closed[-1]
        candidates = [int(c) for c in json.loads(last["candidates"])]
        rankings = [listing.ranking_of(a["ranking"]) for a in await seating.answers(last["id"])]
        eligible = await seating.eligible(arbitration["id"], arbitration["case"])
        pool = {int(row["id"]) for row in eligible}
        best = next((c for c in listing.combined_order(candidates, rankings) if c in pool), None)
        if best is not None:
            await invite(keyring, ref, arbitration, seat, best, "list", at)
            return
        await record(keyring, ref, "arbitration.list_exhausted", SYSTEM,
                     {"list": last["id"], "seat": seat})  # fmt: skip
        await seating.tell(await owners(arbitration["case"], roles.SUPERVISOR), ref, "exhausted",
                           seat=seating.seat_label(seat))  # fmt: skip
    await send_new_list(keyring, ref, arbitration, seat, at)


async def invite(keyring: Keyring, ref: str, arbitration: dict[str, Any], seat: str,
                 arbitrator: int, chosen_by: str, at: datetime) -> int:  # fmt: skip
    rules = ruleset(arbitration["ruleset"])
    due = at + rules.answer_window
    rows = await Seat.insert(
        Seat(
            arbitration=arbitration["id"],
            case=arbitration["case"],
            seat=seat,
            arbitrator=arbitrator,
            chosen_by=chosen_by,
            status="invited",
            answer_due=due,
            created_at=at,
        )
    ).returning(Seat.id)
    seat_id = int(rows[0]["id"])
    person = await User.select(User.name, User.password_hash).where(User.id == arbitrator).first()
    assert person is not None
    await record(
        keyring,
        ref,
        "arbitrator.invited",
        SYSTEM,
        {
            "seat": seat,
            "seat_id": seat_id,
            "arbitrator": f"user:{arbitrator}",
            "name": person["name"],
            "chosen_by": chosen_by,
            "answer_due": seating.iso(due),
        },
    )
    account_link = ""
    if not person["password_hash"]:
        # Not yet an account holder: the same single-use link every outsider gets.
        new = await invitations.create_token(arbitrator, invitations.INVITE)
        account_link = absolute_link(f"/invite/{new.token}")
    await notify(
        [arbitrator],
        "arbitration_invited",
        case_ref=ref,
        link=f"/arbitration/invitations/{seat_id}",
        template="arbitration_constitution",
        step="invited",
        seat=seating.seat_label(seat),
        due=seating.when(due),
        account_link=account_link,
    )
    await seating.refresh_deadline(arbitration, at)
    return seat_id


async def refill(keyring: Keyring, ref: str, arbitration: dict[str, Any], seat: str,
                 at: datetime) -> None:  # fmt: skip
    """A seat fell empty: fill it by the method that filled it."""
    if seat in seating.LIST_SEATS:
        await invite_next(keyring, ref, arbitration, seat, at)
        return
    sides = seating.side_of_seat(await sides_of(arbitration["case"]), seat)
    due = await seating.nomination_due(arbitration, seat)
    await seating.tell([s.user_id for s in sides], ref, "nominate_again", due=seating.when(due))
    await seating.refresh_deadline(arbitration, at)


async def after_appointment(keyring: Keyring, ref: str, arbitration: dict[str, Any],
                            at: datetime) -> None:  # fmt: skip
    """Both co-arbitrators in: the presiding list goes out; every seat filled: constituted."""
    rules = ruleset(arbitration["ruleset"])
    active = {
        row["seat"] for row in await seating.seats(arbitration["id"]) if row["status"] == APPOINTED
    }
    if (
        rules.arbitrators == 3
        and set(seating.NOMINEE_SEATS) <= active
        and seating.PRESIDING not in active
        and await seating.live_seat(arbitration["id"], seating.PRESIDING) is None
        and not await seating.lists(arbitration["id"], seating.PRESIDING)
    ):
        await send_new_list(keyring, ref, arbitration, seating.PRESIDING, at)
    if set(seating.seats_of(rules)) <= active:
        await constitute(keyring, ref, arbitration, at)
    else:
        await seating.refresh_deadline(arbitration, at)


async def constitute(keyring: Keyring, ref: str, arbitration: dict[str, Any],
                     at: datetime) -> None:  # fmt: skip
    step = move(ARBITRATION, "constitute")
    moved = (
        await Arbitration.update({Arbitration.status: step.target, Arbitration.constituted_at: at})
        .where((Arbitration.id == arbitration["id"])
               & Arbitration.status.is_in(sorted(step.sources)))
        .returning(Arbitration.id)
    )  # fmt: skip
    if not moved:
        return
    members = [row for row in await seating.seats(arbitration["id"]) if row["status"] == APPOINTED]
    await record(
        keyring,
        ref,
        "tribunal.constituted",
        SYSTEM,
        {
            "ruleset": arbitration["ruleset"],
            "arbitrators": [
                {"seat": row["seat"], "arbitrator": f"user:{row['arbitrator']}"} for row in members
            ],
        },
    )
    due = at + seating.TIMETABLE_WINDOW
    await Case.update(
        {Case.deadline_at: due, Case.next_step_by: roles.ARBITRATOR, Case.updated_at: at}
    ).where(Case.id == arbitration["case"])
    names = _(", ").join(row["arbitrator.name"] for row in members)
    await seating.tell(await seating.everyone(arbitration["case"]), ref, "constituted", names=names,
                       due=seating.when(due))  # fmt: skip


async def end_seat(keyring: Keyring, ref: str, seat: dict[str, Any], ending: str,
                   event: str, who: Any, at: datetime, reasons: str = "") -> bool:  # fmt: skip
    """An invitation declined or lapsed (`ending`: the seat's action): the seat is filled
    again."""
    step = move(SEAT, ending)
    status = step.target
    moved = (
        await Seat.update({Seat.status: status, Seat.ended_at: at, Seat.decline_reasons: reasons})
        .where((Seat.id == seat["id"]) & Seat.status.is_in(sorted(step.sources)))
        .returning(Seat.id)
    )
    if not moved:
        return False
    body: dict[str, Any] = {
        "seat": seat["seat"],
        "seat_id": seat["id"],
        "arbitrator": f"user:{seat['arbitrator']}",
    }
    if ending == "decline":
        body["reasons"] = reasons
    await record(keyring, ref, event, who, body)
    name = (await seating.names([seat["arbitrator"]])).get(seat["arbitrator"], "")
    await seating.tell(await owners(seat["case"], roles.SUPERVISOR), ref, status, name=name,
                       seat=seating.seat_label(seat["seat"]), reasons=reasons)  # fmt: skip
    arbitration = await seating.arbitration_row(seat["arbitration"])
    await refill(keyring, ref, arbitration, seat["seat"], at)
    return True


async def remove(keyring: Keyring, ref: str, seat: dict[str, Any], at: datetime) -> None:
    """A challenge upheld: the arbitrator leaves the case and the tribunal is incomplete."""
    await Seat.update({Seat.status: move(SEAT, "remove").target, Seat.ended_at: at}).where(
        Seat.id == seat["id"]
    )
    await CaseParticipant.delete().where(
        (CaseParticipant.case == seat["case"])
        & (CaseParticipant.user == seat["arbitrator"])
        & (CaseParticipant.role == roles.ARBITRATOR)
    )
    body = {"seat": seat["seat"], "seat_id": seat["id"],
            "arbitrator": f"user:{seat['arbitrator']}"}  # fmt: skip
    await record(keyring, ref, "participant.removed", SYSTEM,
                 {"user": f"user:{seat['arbitrator']}", "role": roles.ARBITRATOR})  # fmt: skip
    await record(keyring, ref, "arbitrator.removed", SYSTEM, body)
    reopen = move(ARBITRATION, "reopen")
    await Arbitration.update({Arbitration.status: reopen.target}).where(
        (Arbitration.id == seat["arbitration"]) & Arbitration.status.is_in(sorted(reopen.sources))
    )
    arbitration = await seating.arbitration_row(seat["arbitration"])
    await refill(keyring, ref, arbitration, seat["seat"], at)


# Steps time takes


async def advance_due(keyring: Keyring, at: datetime) -> int:
    """Close the lists whose deadline passed (rankers who said nothing accept all in list
    order), and treat invitations left unanswered as lapsed."""
    done = 0
    lists = await CandidateList.select(*CandidateList.all_columns()).where(
        CandidateList.status.is_in(sorted(move(CANDIDATE_LIST, "close_list").sources))
        & (CandidateList.due_at <= at)
        & (CandidateList.arbitration.case.state == "arbitration")  # type: ignore[union-attr]
    )
    for candidate_list in lists:
        arbitration = await seating.arbitration_row(candidate_list["arbitration"])
        ref = await seating.ref_of(arbitration["case"])
        async with write_transaction(Case._meta.db):
            await seating.hold(arbitration["id"])
            if await close_list(keyring, ref, arbitration, candidate_list, at):
                done += 1
    invited = await Seat.select().where(
        Seat.status.is_in(sorted(move(SEAT, "lapse").sources))
        & (Seat.answer_due <= at)
        & (Seat.case.state == "arbitration")
    )
    for seat in invited:
        ref = await seating.ref_of(seat["case"])
        async with write_transaction(Case._meta.db):
            await seating.hold(seat["arbitration"])
            if await end_seat(keyring, ref, seat, "lapse", "arbitrator.lapsed", SYSTEM, at):
                done += 1
    return done
