"""Constituting a tribunal: the ruleset, the list method, nominations, the arbitrators'
invitations and disclosures, and challenges (BRIEF "Arbitration"; issue 6, 1-4).

    started --(sole)--> list sent to the sides --(all answered, or the deadline)--> closed
            --(three)--> each side names one; both accepted --> list sent to the two
    list closed --> the best combined ranking invited (`arbitration.listing`)
    invited --(discloses, signs by password, accepts)--> active (on the case)
            --(declines, or no answer in `answer_window`)--> declined / lapsed
               --> the next best of the list; a list used up --> a new list, and the
                   supervisors are told; a nominee --> the same side names again
    every seat active --> constituted: the tribunal owes the timetable
    active --(a side challenges within `challenge_window`; a supervisor upholds)-->
            removed (off the case, never invited to it again); the seat is filled
            again by the same method

Who is on a list: arbitrators on the roster (active, `on_roster`), nobody already on the
case in another role (its mediator, staff, a co-arbitrator), and nobody who already held,
declined or lost a seat of this tribunal. The list is in roster order (name, then id).

A ranker's answer stays secret until the list closes: see `arbitration.listing`.

A side that does not name its arbitrator in `nomination_window` is late like any step:
the case's deadline is the nomination's, so the sweep's overdue reminder tells the
supervisors, and from then a supervisor may name an arbitrator for that side.

Each step is one write transaction holding the change and its ledger entries; it first
takes the arbitration's row (a no-op update: a row lock on PostgreSQL, and SQLite's
IMMEDIATE transactions are serial anyway), so two requests or two sweeps cannot both
invite, close or appoint. Steps that follow from time passing run in `advance_due`.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from arbitration import listing
from arbitration.rules import DEFAULT, RULESETS, Ruleset, ruleset
from arbitration.tables import Arbitration, CandidateList, Challenge, ListAnswer, Seat
from ledger.keys import Keyring
from portal.accounts import invitations, roles
from portal.accounts.reauth import confirm_password
from portal.accounts.tables import User
from portal.cases import deadlines
from portal.cases.events import SYSTEM, actor, record
from portal.cases.lifecycle import owners
from portal.cases.sides import (
    Side,
    add_representative,
    chosen_representative,
    needs_representative,
    side_role,
    sides_of,
    staff_choices,
)
from portal.cases.tables import Case, CaseParticipant
from portal.database import write_transaction
from portal.errors import Conflict, FormInvalid, NotAllowed
from portal.i18n import _
from portal.notifications.notify import absolute_link, notify

if TYPE_CHECKING:
    from portal.policy import CaseAccess
    from portal.procedure.people import Viewer

SOLE, PRESIDING = "sole", "presiding"
CLAIMANT_NOMINEE, RESPONDENT_NOMINEE = "claimant_nominee", "respondent_nominee"
NOMINEE_SEATS = (CLAIMANT_NOMINEE, RESPONDENT_NOMINEE)
LIST_SEATS = (SOLE, PRESIDING)
LIVE = ("invited", "active")
TIMETABLE_WINDOW = timedelta(days=5)
"""Once constituted, the tribunal's time to set the timetable."""
TEXT_LIMIT = 5_000


def seats_of(rules: Ruleset) -> tuple[str, ...]:
    return (SOLE,) if rules.arbitrators == 1 else (*NOMINEE_SEATS, PRESIDING)


def seat_label(seat: str) -> str:
    return {
        SOLE: _("sole arbitrator"),
        PRESIDING: _("presiding arbitrator"),
        CLAIMANT_NOMINEE: _("arbitrator named by the claimant"),
        RESPONDENT_NOMINEE: _("arbitrator named by the other side"),
    }.get(seat, seat)


def seat_status(status: str) -> str:
    return {
        "invited": _("invited"),
        "active": _("appointed"),
        "declined": _("declined"),
        "lapsed": _("did not answer in time"),
        "removed": _("removed after a challenge"),
    }.get(status, status)


def nominee_seat(side_role_name: str) -> str:
    return CLAIMANT_NOMINEE if side_role_name == roles.CLAIMANT else RESPONDENT_NOMINEE


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _when(moment: datetime) -> str:
    return _utc(moment).strftime("%Y-%m-%d %H:%M UTC")


def _iso(moment: datetime) -> str:
    return _utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def _text(form: dict[str, str], name: str) -> str:
    return form.get(name, "").replace("\r\n", "\n").strip()


# Reading


async def started(case_id: int) -> dict[str, Any] | None:
    row: dict[str, Any] | None = (
        await Arbitration.select().where(Arbitration.case == case_id).first()
    )
    return row


async def _arbitration(arbitration_id: int) -> dict[str, Any]:
    row: dict[str, Any] = await Arbitration.select().where(Arbitration.id == arbitration_id).first()
    return row


async def seats(arbitration_id: int) -> list[dict[str, Any]]:
    """Every seat of the tribunal, each invitation in order."""
    rows: list[dict[str, Any]] = (
        await Seat.select(*Seat.all_columns(), Seat.arbitrator.name)
        .where(Seat.arbitration == arbitration_id)
        .order_by(Seat.id)
    )
    return rows


async def eligible(arbitration_id: int, case_id: int) -> list[dict[str, Any]]:
    """Arbitrators who may be put on a list or named (see the module's docstring)."""
    rows: list[dict[str, Any]] = await User.raw(
        "SELECT u.id, u.name, p.languages, p.expertise, p.jurisdiction "
        'FROM portal_user u LEFT JOIN neutral_profile p ON p."user" = u.id '
        "WHERE u.role = {} AND u.active AND (p.on_roster IS NULL OR p.on_roster) "
        'AND u.id NOT IN (SELECT "user" FROM case_participant WHERE "case" = {}) '
        "AND u.id NOT IN (SELECT arbitrator FROM tribunal_seat WHERE arbitration = {}) "
        "ORDER BY u.name, u.id",
        roles.ARBITRATOR,
        case_id,
        arbitration_id,
    )
    return rows


def roster_line(row: dict[str, Any]) -> str:
    details = " · ".join(
        part for part in (row.get("languages"), row.get("jurisdiction"),
                          (row.get("expertise") or "")[:80]) if part
    )  # fmt: skip
    return f"{row['name']} — {details}" if details else str(row["name"])


async def _names(user_ids: list[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    rows = await User.select(User.id, User.name).where(User.id.is_in(user_ids))
    return {row["id"]: row["name"] for row in rows}


async def _ref(case_id: int) -> str:
    row = await Case.select(Case.ref).where(Case.id == case_id).first()
    return str(row["ref"])


async def _rankers(arbitration: dict[str, Any], seat: str) -> list[int]:
    """Who ranks a list: the sides for a sole arbitrator, the co-arbitrators for the
    presiding one."""
    if seat == PRESIDING:
        rows = await Seat.select(Seat.arbitrator).where(
            (Seat.arbitration == arbitration["id"])
            & Seat.seat.is_in(list(NOMINEE_SEATS))
            & (Seat.status == "active")
        )
        return sorted(row["arbitrator"] for row in rows)
    return [side.user_id for side in await sides_of(arbitration["case"])]


async def _live_seat(arbitration_id: int, seat: str) -> dict[str, Any] | None:
    row: dict[str, Any] | None = (
        await Seat.select()
        .where(
            (Seat.arbitration == arbitration_id)
            & (Seat.seat == seat)
            & Seat.status.is_in(list(LIVE))
        )
        .first()
    )
    return row


async def _lists(arbitration_id: int, seat: str | None = None) -> list[dict[str, Any]]:
    query = CandidateList.select().where(CandidateList.arbitration == arbitration_id)
    if seat is not None:
        query = query.where(CandidateList.seat == seat)
    rows: list[dict[str, Any]] = await query.order_by(CandidateList.id)
    return rows


async def _answers(list_id: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = (
        await ListAnswer.select(*ListAnswer.all_columns(), ListAnswer.ranker.name)
        .where(ListAnswer.candidate_list == list_id)
        .order_by(ListAnswer.id)
    )
    return rows


async def nomination_due(arbitration: dict[str, Any], seat: str) -> datetime:
    """A side names its arbitrator within the window from the start, or from the day
    its last nominee declined, lapsed or was removed."""
    rules = ruleset(arbitration["ruleset"])
    ended = (
        await Seat.select(Seat.ended_at)
        .where(
            (Seat.arbitration == arbitration["id"])
            & (Seat.seat == seat)
            & Seat.ended_at.is_not_null()
        )
        .order_by(Seat.ended_at, ascending=False)
        .first()
    )
    since = ended["ended_at"] if ended else arbitration["started_at"]
    return _utc(since) + rules.nomination_window


def _side_of_seat(sides: list[Side], seat: str) -> list[Side]:
    return [s for s in sides if nominee_seat(s.role) == seat]


# Writing: shared steps, each called inside the caller's write transaction


async def _hold(arbitration_id: int) -> None:
    """Take the arbitration's row for this transaction (see the module's docstring)."""
    await Arbitration.raw("UPDATE arbitration SET status = status WHERE id = {}", arbitration_id)


async def _tell(user_ids: list[int], ref: str, step: str, **context: Any) -> None:
    await notify(
        sorted(set(user_ids)),
        f"arbitration_{step}",
        case_ref=ref,
        link=f"/cases/{ref}",
        template="arbitration_constitution",
        step=step,
        **context,
    )


async def _everyone(case_id: int) -> list[int]:
    rows = await CaseParticipant.select(CaseParticipant.user).where(CaseParticipant.case == case_id)
    return [row["user"] for row in rows]


async def _refresh_deadline(arbitration: dict[str, Any], at: datetime) -> None:
    """While the tribunal is being formed, the case's deadline is the nearest step owed."""
    status = (
        await Arbitration.select(Arbitration.status)
        .where(Arbitration.id == arbitration["id"])
        .first()
    )
    if status["status"] != "constituting":
        return
    dues: list[tuple[datetime, str]] = []
    for row in await _lists(arbitration["id"]):
        if row["status"] == "open":
            owner = roles.ARBITRATOR if row["seat"] == PRESIDING else roles.CLAIMANT
            dues.append((_utc(row["due_at"]), owner))
    for row in await seats(arbitration["id"]):
        if row["status"] == "invited":
            dues.append((_utc(row["answer_due"]), roles.SUPERVISOR))
    rules = ruleset(arbitration["ruleset"])
    if rules.arbitrators == 3:
        sides = await sides_of(arbitration["case"])
        for seat in NOMINEE_SEATS:
            if await _live_seat(arbitration["id"], seat) is None:
                owing = _side_of_seat(sides, seat)
                owner = owing[0].role if owing else roles.SUPERVISOR
                dues.append((await nomination_due(arbitration, seat), owner))
    if dues:
        due, owner = min(dues)
    else:
        case = await Case.select(Case.priority).where(Case.id == arbitration["case"]).first()
        due = await deadlines.stage_deadline("arbitration", case["priority"], at)
        owner = roles.SUPERVISOR
    await Case.update({Case.deadline_at: due, Case.next_step_by: owner, Case.updated_at: at}).where(
        Case.id == arbitration["case"]
    )


async def _send_list(keyring: Keyring, ref: str, arbitration: dict[str, Any], seat: str,
                     at: datetime) -> int | None:  # fmt: skip
    """Send a new list for `seat` to its rankers; tell the supervisors if nobody is left."""
    rules = ruleset(arbitration["ruleset"])
    pool = await eligible(arbitration["id"], arbitration["case"])
    if not pool:
        await record(keyring, ref, "arbitration.no_candidates", SYSTEM, {"seat": seat})
        await _tell(await owners(arbitration["case"], roles.SUPERVISOR), ref, "no_candidates",
                    seat=seat_label(seat))  # fmt: skip
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
            "due": _iso(due),
        },
    )
    await CandidateList.update({CandidateList.case_seq: receipt.case_seq}).where(
        CandidateList.id == list_id
    )
    await _tell(await _rankers(arbitration, seat), ref, "list_sent", seat=seat_label(seat),
                due=_when(due), strikes=rules.strikes)  # fmt: skip
    await _refresh_deadline(arbitration, at)
    return list_id


async def _close_list(keyring: Keyring, ref: str, arbitration: dict[str, Any],
                      candidate_list: dict[str, Any], at: datetime) -> bool:  # fmt: skip
    """Close a list: rankers who said nothing accept all in list order; the order is
    revealed with every answer, and the best candidate is invited."""
    closed = (
        await CandidateList.update({CandidateList.status: "closed", CandidateList.closed_at: at})
        .where((CandidateList.id == candidate_list["id"]) & (CandidateList.status == "open"))
        .returning(CandidateList.id)
    )
    if not closed:
        return False
    seat = candidate_list["seat"]
    candidates = [int(c) for c in json.loads(candidate_list["candidates"])]
    answers = await _answers(candidate_list["id"])
    answered = {a["ranker"] for a in answers}
    for ranker in await _rankers(arbitration, seat):
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
    await _invite_next(keyring, ref, arbitration, seat, at)
    return True


async def _invite_next(keyring: Keyring, ref: str, arbitration: dict[str, Any], seat: str,
                       at: datetime) -> None:  # fmt: skip
    """Invite the best candidate of the seat's last closed list not yet asked; when the
    list is used up, tell the supervisors and send a new one."""
    closed = [row for row in await _lists(arbitration["id"], seat) if row["status"] == "closed"]
    if closed:
        last = closed[-1]
        candidates = [int(c) for c in json.loads(last["candidates"])]
        rankings = [listing.ranking_of(a["ranking"]) for a in await _answers(last["id"])]
        pool = {int(row["id"]) for row in await eligible(arbitration["id"], arbitration["case"])}
        best = next((c for c in listing.combined_order(candidates, rankings) if c in pool), None)
        if best is not None:
            await _invite(keyring, ref, arbitration, seat, best, "list", at)
            return
        await record(keyring, ref, "arbitration.list_exhausted", SYSTEM,
                     {"list": last["id"], "seat": seat})  # fmt: skip
        await _tell(await owners(arbitration["case"], roles.SUPERVISOR), ref, "exhausted",
                    seat=seat_label(seat))  # fmt: skip
    await _send_list(keyring, ref, arbitration, seat, at)


async def _invite(keyring: Keyring, ref: str, arbitration: dict[str, Any], seat: str,
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
            "answer_due": _iso(due),
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
        seat=seat_label(seat),
        due=_when(due),
        account_link=account_link,
    )
    await _refresh_deadline(arbitration, at)
    return seat_id


async def _refill(keyring: Keyring, ref: str, arbitration: dict[str, Any], seat: str,
                  at: datetime) -> None:  # fmt: skip
    """A seat fell empty: fill it by the method that filled it."""
    if seat in LIST_SEATS:
        await _invite_next(keyring, ref, arbitration, seat, at)
        return
    sides = _side_of_seat(await sides_of(arbitration["case"]), seat)
    due = await nomination_due(arbitration, seat)
    await _tell([s.user_id for s in sides], ref, "nominate_again", due=_when(due))
    await _refresh_deadline(arbitration, at)


async def _after_appointment(keyring: Keyring, ref: str, arbitration: dict[str, Any],
                             at: datetime) -> None:  # fmt: skip
    """Both co-arbitrators in: the presiding list goes out; every seat filled: constituted."""
    rules = ruleset(arbitration["ruleset"])
    active = {row["seat"] for row in await seats(arbitration["id"]) if row["status"] == "active"}
    if (
        rules.arbitrators == 3
        and set(NOMINEE_SEATS) <= active
        and PRESIDING not in active
        and await _live_seat(arbitration["id"], PRESIDING) is None
        and not await _lists(arbitration["id"], PRESIDING)
    ):
        await _send_list(keyring, ref, arbitration, PRESIDING, at)
    if set(seats_of(rules)) <= active:
        await _constitute(keyring, ref, arbitration, at)
    else:
        await _refresh_deadline(arbitration, at)


async def _constitute(keyring: Keyring, ref: str, arbitration: dict[str, Any],
                      at: datetime) -> None:  # fmt: skip
    moved = (
        await Arbitration.update(
            {Arbitration.status: "constituted", Arbitration.constituted_at: at}
        )
        .where((Arbitration.id == arbitration["id"]) & (Arbitration.status == "constituting"))
        .returning(Arbitration.id)
    )
    if not moved:
        return
    members = [row for row in await seats(arbitration["id"]) if row["status"] == "active"]
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
    due = at + TIMETABLE_WINDOW
    await Case.update(
        {Case.deadline_at: due, Case.next_step_by: roles.ARBITRATOR, Case.updated_at: at}
    ).where(Case.id == arbitration["case"])
    names = _(", ").join(row["arbitrator.name"] for row in members)
    await _tell(await _everyone(arbitration["case"]), ref, "constituted", names=names,
                due=_when(due))  # fmt: skip


async def _end_seat(keyring: Keyring, ref: str, seat: dict[str, Any], status: str,
                    event: str, who: Any, at: datetime, reasons: str = "") -> bool:  # fmt: skip
    """An invitation declined or lapsed: the seat is filled again."""
    moved = (
        await Seat.update({Seat.status: status, Seat.ended_at: at, Seat.decline_reasons: reasons})
        .where((Seat.id == seat["id"]) & (Seat.status == "invited"))
        .returning(Seat.id)
    )
    if not moved:
        return False
    body: dict[str, Any] = {
        "seat": seat["seat"],
        "seat_id": seat["id"],
        "arbitrator": f"user:{seat['arbitrator']}",
    }
    if status == "declined":
        body["reasons"] = reasons
    await record(keyring, ref, event, who, body)
    name = (await _names([seat["arbitrator"]])).get(seat["arbitrator"], "")
    await _tell(await owners(seat["case"], roles.SUPERVISOR), ref, status, name=name,
                seat=seat_label(seat["seat"]), reasons=reasons)  # fmt: skip
    arbitration = await _arbitration(seat["arbitration"])
    await _refill(keyring, ref, arbitration, seat["seat"], at)
    return True


# Steps people take


async def start(keyring: Keyring, ref: str, access: CaseAccess, form: dict[str, str]) -> None:
    """A supervisor chooses the rules: a list goes out, or the sides name their arbitrators."""
    if not access.can_start_arbitration:
        raise NotAllowed(
            _("Only a supervisor starts the arbitration.")
        )
    errors: dict[str, str] = {}
    key = form.get("ruleset") or DEFAULT
    if key not in RULESETS:
        errors["ruleset"] = _("Choose the rules of this arbitration.")
    representative = None
    if await needs_representative(access.case_id):
        representative = await chosen_representative(form, errors)
    if errors:
        raise FormInvalid(errors)
    at = deadlines.now()
    rules = RULESETS[key]
    async with write_transaction(Case._meta.db):
        if await started(access.case_id):
            raise Conflict(_("The arbitration of this case has started already."))
        who = actor(access.viewer.id, roles.SUPERVISOR)
        if representative is not None:
            await add_representative(keyring, ref, access.case_id, representative, who, at)
        await Arbitration.insert(
            Arbitration(
                case=access.case_id,
                ruleset=key,
                started_by=access.viewer.id,
                status="constituting",
                started_at=at,
            )
        )
        arbitration = await started(access.case_id)
        assert arbitration is not None
        await record(keyring, ref, "arbitration.started", who, {"ruleset": key})
        if rules.arbitrators == 1:
            await _send_list(keyring, ref, arbitration, SOLE, at)
            return
        due = at + rules.nomination_window
        await _tell([s.user_id for s in await sides_of(access.case_id)], ref, "nominate",
                    due=_when(due))  # fmt: skip
        await _refresh_deadline(arbitration, at)


async def send_list(keyring: Keyring, ref: str, access: CaseAccess) -> None:
    """A supervisor sends a new list for a seat that has neither an arbitrator nor an open
    list (after the roster ran out, for instance)."""
    if not access.can_start_arbitration:
        raise NotAllowed(_("Only a supervisor sends a new list."))
    at = deadlines.now()
    async with write_transaction(Case._meta.db):
        arbitration = await started(access.case_id)
        if arbitration is None:
            raise Conflict(_("Start the arbitration first."))
        await _hold(arbitration["id"])
        seat = await _seat_awaiting_list(arbitration)
        if seat is None:
            raise Conflict(_("No seat of this tribunal is waiting for a list."))
        if await _send_list(keyring, ref, arbitration, seat, at) is None:
            raise Conflict(
                _("No arbitrator on the roster can be put on this list. Add arbitrators to "
                  "the roster first.")
            )  # fmt: skip


async def _seat_awaiting_list(arbitration: dict[str, Any]) -> str | None:
    """The list seat that has no arbitrator, no invitation and no open list, if any."""
    if arbitration["status"] != "constituting":
        return None
    rules = ruleset(arbitration["ruleset"])
    seat = SOLE if rules.arbitrators == 1 else PRESIDING
    if seat == PRESIDING and set(NOMINEE_SEATS) - {
        row["seat"] for row in await seats(arbitration["id"]) if row["status"] == "active"
    }:
        return None
    if await _live_seat(arbitration["id"], seat) is not None:
        return None
    if any(row["status"] == "open" for row in await _lists(arbitration["id"], seat)):
        return None
    return seat


async def answer_list(keyring: Keyring, ref: str, access: CaseAccess, list_id: int,
                      form: dict[str, str]) -> None:  # fmt: skip
    """A ranker strikes and ranks a list; the last answer closes it."""
    from litestar.exceptions import NotFoundException

    if not access.can_shape_tribunal:
        raise NotAllowed(
            _("Only the sides, or the co-arbitrators for the presiding arbitrator, rank a list.")
        )
    arbitration = await started(access.case_id)
    candidate_list = (
        await CandidateList.select().where(CandidateList.id == list_id).first()
        if arbitration
        else None
    )
    if candidate_list is None or candidate_list["arbitration"] != arbitration["id"]:
        raise NotFoundException()
    seat = candidate_list["seat"]
    if not access.may_rank(seat) or access.viewer.id not in await _rankers(arbitration, seat):
        raise NotAllowed(_("You are not asked to rank this list."))
    rules = ruleset(arbitration["ruleset"])
    candidates = [int(c) for c in json.loads(candidate_list["candidates"])]
    ranking = listing.read_answer(candidates, form, rules.strikes, await _names(candidates))
    at = deadlines.now()
    async with write_transaction(Case._meta.db):
        await _hold(arbitration["id"])
        current = await CandidateList.select().where(CandidateList.id == list_id).first()
        if current["status"] != "open":
            raise Conflict(_("This list has closed; it can no longer be answered."))
        if _utc(current["due_at"]) < at:
            raise Conflict(
                _("The time to answer this list ended on %(date)s.", date=_when(current["due_at"]))
            )
        if await ListAnswer.exists().where(
            (ListAnswer.candidate_list == list_id) & (ListAnswer.ranker == access.viewer.id)
        ):
            raise Conflict(_("You have already answered this list."))
        stored = listing.answer_json(ranking)
        receipt = await record(
            keyring,
            ref,
            "arbitration.list_answered",
            actor(access.viewer.id, side_role(access)),
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
        answered = {a["ranker"] for a in await _answers(list_id)}
        if set(await _rankers(arbitration, seat)) <= answered:
            await _close_list(keyring, ref, arbitration, current, at)


async def nominate(keyring: Keyring, ref: str, access: CaseAccess, form: dict[str, str]) -> None:
    """Three members: a side names its arbitrator; after its window, a supervisor may."""
    if not access.can_nominate:
        raise NotAllowed(
            _("Only the sides name arbitrators; a supervisor names one for a side that did "
              "not in time.")
        )  # fmt: skip
    arbitration = await started(access.case_id)
    if arbitration is None:
        raise Conflict(_("Start the arbitration first."))
    if ruleset(arbitration["ruleset"]).arbitrators != 3:
        raise Conflict(
            _("Under these rules the arbitrator is chosen from a list; nobody is named.")
        )
    sides = await sides_of(access.case_id)
    mine = next((s for s in sides if s.user_id == access.viewer.id), None)
    errors: dict[str, str] = {}
    if mine is not None:
        seat = nominee_seat(mine.role)
    else:
        seat = form.get("seat", "")
        if seat not in NOMINEE_SEATS:
            errors["seat"] = _("Choose the side you name an arbitrator for.")
    chosen = form.get("arbitrator", "")
    pool = {int(row["id"]): row for row in await eligible(arbitration["id"], access.case_id)}
    if not chosen.isdigit() or int(chosen) not in pool:
        errors["arbitrator"] = _("Choose an arbitrator from the roster.")
    if errors:
        raise FormInvalid(errors)
    at = deadlines.now()
    async with write_transaction(Case._meta.db):
        await _hold(arbitration["id"])
        if await _live_seat(arbitration["id"], seat) is not None:
            raise Conflict(_("An arbitrator has already been named for this side."))
        if mine is None:
            due = await nomination_due(arbitration, seat)
            if at < due:
                raise Conflict(
                    _("The side has until %(date)s to name its arbitrator.", date=_when(due))
                )
        if int(chosen) not in {int(r["id"]) for r in await eligible(arbitration["id"],
                                                                     access.case_id)}:  # fmt: skip
            raise Conflict(_("This arbitrator can no longer be named on this case."))
        role = mine.role if mine is not None else roles.SUPERVISOR
        await record(
            keyring,
            ref,
            "arbitrator.nominated",
            actor(access.viewer.id, role),
            {"seat": seat, "arbitrator": f"user:{chosen}", "name": pool[int(chosen)]["name"]},
        )
        await _invite(keyring, ref, arbitration, seat, int(chosen), "nomination", at)


async def invitation(viewer: Viewer, seat_id: int) -> dict[str, Any]:
    """The seat offered, for the arbitrator invited only and while it is open; 404 else."""
    from litestar.exceptions import NotFoundException

    from portal.policy import may_answer_seat

    seat = await Seat.select().where(Seat.id == seat_id).first()
    if seat is None or not may_answer_seat(viewer, seat):
        raise NotFoundException()
    case = await Case.select(Case.state).where(Case.id == seat["case"]).first()
    if case["state"] != "arbitration":
        raise NotFoundException()
    seat["seat_label"] = seat_label(seat["seat"])
    return dict(seat)


async def accept(keyring: Keyring, viewer: Viewer, seat_id: int, form: dict[str, str],
                 address: str) -> str:  # fmt: skip
    """The arbitrator signs their disclosure (by password) and accepts; returns the ref."""
    seat = await invitation(viewer, seat_id)
    errors: dict[str, str] = {}
    kind = form.get("disclosure", "")
    text = _text(form, "disclosure_text")
    if kind not in ("none", "disclose"):
        errors["disclosure"] = _("Say whether you have anything to disclose.")
    elif kind == "disclose" and not text:
        errors["disclosure_text"] = _("Write what you disclose.")
    elif len(text) > TEXT_LIMIT:
        errors["disclosure_text"] = _("Keep this under %(n)s characters.", n=TEXT_LIMIT)
    try:
        await confirm_password(viewer.id, form.get("password", ""), address)
    except FormInvalid as exc:
        errors.update(exc.errors)
    if errors:
        raise FormInvalid(errors)
    disclosure = text if kind == "disclose" else ""
    at = deadlines.now()
    ref = await _ref(seat["case"])
    async with write_transaction(Case._meta.db):
        await _hold(seat["arbitration"])
        moved = (
            await Seat.update(
                {
                    Seat.status: "active",
                    Seat.disclosure: disclosure,
                    Seat.disclosed_at: at,
                    Seat.appointed_at: at,
                }
            )
            .where((Seat.id == seat_id) & (Seat.status == "invited"))
            .returning(Seat.id)
        )
        if not moved:
            raise Conflict(_("This invitation has been answered already."))
        arbitration = await _arbitration(seat["arbitration"])
        rules = ruleset(arbitration["ruleset"])
        body = {"seat": seat["seat"], "seat_id": seat_id}
        await record(keyring, ref, "arbitrator.disclosed", actor(viewer.id, roles.ARBITRATOR),
                     {**body, "disclosure": disclosure or "none"})  # fmt: skip
        await CaseParticipant.insert(
            CaseParticipant(case=seat["case"], user=viewer.id, role=roles.ARBITRATOR, added_at=at)
        )
        await record(keyring, ref, "participant.added", SYSTEM,
                     {"user": f"user:{viewer.id}", "role": roles.ARBITRATOR})  # fmt: skip
        until = at + rules.challenge_window
        await record(keyring, ref, "arbitrator.appointed", SYSTEM,
                     {**body, "arbitrator": f"user:{viewer.id}",
                      "challenge_until": _iso(until)})  # fmt: skip
        told = [s.user_id for s in await sides_of(seat["case"])]
        told += await owners(seat["case"], roles.SUPERVISOR)
        await _tell(told, ref, "appointed", name=viewer.name, seat=seat_label(seat["seat"]),
                    disclosure=disclosure, until=_when(until))  # fmt: skip
        await _after_appointment(keyring, ref, arbitration, at)
    return ref


async def decline(keyring: Keyring, viewer: Viewer, seat_id: int, form: dict[str, str]) -> str:
    seat = await invitation(viewer, seat_id)
    reasons = _text(form, "reasons")[:TEXT_LIMIT]
    at = deadlines.now()
    ref = await _ref(seat["case"])
    async with write_transaction(Case._meta.db):
        await _hold(seat["arbitration"])
        ended = await _end_seat(keyring, ref, seat, "declined", "arbitrator.declined",
                                actor(viewer.id, roles.ARBITRATOR), at, reasons)  # fmt: skip
        if not ended:
            raise Conflict(_("This invitation has been answered already."))
    return ref


def challenge_until(arbitration: dict[str, Any], seat: dict[str, Any]) -> datetime | None:
    if seat["appointed_at"] is None:
        return None
    return _utc(seat["appointed_at"]) + ruleset(arbitration["ruleset"]).challenge_window


async def challenge(keyring: Keyring, ref: str, access: CaseAccess, seat_id: int,
                    form: dict[str, str]) -> None:  # fmt: skip
    """A side challenges an appointed arbitrator, with reasons, within the window."""
    from litestar.exceptions import NotFoundException

    if not access.can_challenge:
        raise NotAllowed(_("Only the parties may challenge an arbitrator."))
    seat = (
        await Seat.select(*Seat.all_columns(), Seat.arbitrator.name)
        .where((Seat.id == seat_id) & (Seat.case == access.case_id))
        .first()
    )
    if seat is None:
        raise NotFoundException()
    reasons = _text(form, "reasons")
    if not reasons:
        raise FormInvalid({"reasons": _("Give your reasons for the challenge.")})
    if len(reasons) > TEXT_LIMIT:
        raise FormInvalid({"reasons": _("Keep this under %(n)s characters.", n=TEXT_LIMIT)})
    at = deadlines.now()
    async with write_transaction(Case._meta.db):
        await _hold(seat["arbitration"])
        current = await Seat.select(Seat.status).where(Seat.id == seat_id).first()
        if current["status"] != "active":
            raise Conflict(_("Only an appointed arbitrator can be challenged."))
        until = challenge_until(await _arbitration(seat["arbitration"]), seat)
        if until is not None and until < at:
            raise Conflict(
                _("The time to challenge %(name)s ended on %(date)s.",
                  name=seat["arbitrator.name"], date=_when(until))
            )  # fmt: skip
        if await Challenge.exists().where(
            (Challenge.seat == seat_id)
            & (Challenge.party == access.viewer.id)
            & (Challenge.status == "pending")
        ):
            raise Conflict(
                _("You have already challenged this arbitrator; a supervisor will decide.")
            )
        rows = await Challenge.insert(
            Challenge(
                seat=seat_id,
                case=access.case_id,
                party=access.viewer.id,
                reasons=reasons,
                status="pending",
                created_at=at,
            )
        ).returning(Challenge.id)
        await record(
            keyring,
            ref,
            "arbitrator.challenged",
            actor(access.viewer.id, side_role(access)),
            {
                "challenge": rows[0]["id"],
                "seat": seat["seat"],
                "seat_id": seat_id,
                "arbitrator": f"user:{seat['arbitrator']}",
                "reasons": reasons,
            },
        )
        told = await owners(access.case_id, roles.SUPERVISOR)
        told += [s.user_id for s in await sides_of(access.case_id)] + [seat["arbitrator"]]
        await _tell([u for u in told if u != access.viewer.id], ref, "challenged",
                    name=seat["arbitrator.name"], reasons=reasons)  # fmt: skip


async def decide_challenge(keyring: Keyring, ref: str, access: CaseAccess, challenge_id: int,
                           form: dict[str, str]) -> None:  # fmt: skip
    """A supervisor upholds a challenge (the arbitrator leaves, the seat is filled again
    by the same method) or dismisses it, with reasons."""
    from litestar.exceptions import NotFoundException

    if not access.can_decide_challenge:
        raise NotAllowed(_("Only a supervisor decides a challenge."))
    found = (
        await Challenge.select()
        .where((Challenge.id == challenge_id) & (Challenge.case == access.case_id))
        .first()
    )
    if found is None:
        raise NotFoundException()
    errors: dict[str, str] = {}
    decision = form.get("decision", "")
    reasons = _text(form, "reasons")
    if decision not in ("uphold", "dismiss"):
        errors["decision"] = _("Choose whether you uphold or dismiss the challenge.")
    if not reasons:
        errors["reasons"] = _("Give the reasons for your decision.")
    elif len(reasons) > TEXT_LIMIT:
        errors["reasons"] = _("Keep this under %(n)s characters.", n=TEXT_LIMIT)
    if errors:
        raise FormInvalid(errors)
    status = "upheld" if decision == "uphold" else "dismissed"
    at = deadlines.now()
    seat = (
        await Seat.select(*Seat.all_columns(), Seat.arbitrator.name)
        .where(Seat.id == found["seat"])
        .first()
    )
    async with write_transaction(Case._meta.db):
        await _hold(seat["arbitration"])
        if (await Seat.select(Seat.status).where(Seat.id == seat["id"]).first())[
            "status"
        ] != "active":
            raise Conflict(_("This arbitrator is no longer on the tribunal."))
        moved = (
            await Challenge.update(
                {
                    Challenge.status: status,
                    Challenge.decided_by: access.viewer.id,
                    Challenge.decision: reasons,
                    Challenge.decided_at: at,
                }
            )
            .where((Challenge.id == challenge_id) & (Challenge.status == "pending"))
            .returning(Challenge.id)
        )
        if not moved:
            raise Conflict(_("This challenge has been decided already."))
        body = {"seat": seat["seat"], "seat_id": seat["id"],
                "arbitrator": f"user:{seat['arbitrator']}"}  # fmt: skip
        await record(keyring, ref, "challenge.decided", actor(access.viewer.id, roles.SUPERVISOR),
                     {"challenge": challenge_id, **body, "decision": status,
                      "reasons": reasons})  # fmt: skip
        told = [s.user_id for s in await sides_of(access.case_id)] + [seat["arbitrator"]]
        await _tell(told, ref, f"challenge_{status}", name=seat["arbitrator.name"],
                    reasons=reasons)  # fmt: skip
        if status == "upheld":
            await _remove(keyring, ref, seat, at)


async def _remove(keyring: Keyring, ref: str, seat: dict[str, Any], at: datetime) -> None:
    """A challenge upheld: the arbitrator leaves the case and the tribunal is incomplete."""
    await Seat.update({Seat.status: "removed", Seat.ended_at: at}).where(Seat.id == seat["id"])
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
    await Arbitration.update({Arbitration.status: "constituting"}).where(
        (Arbitration.id == seat["arbitration"]) & (Arbitration.status == "constituted")
    )
    arbitration = await _arbitration(seat["arbitration"])
    await _refill(keyring, ref, arbitration, seat["seat"], at)


# Steps time takes


async def advance_due(keyring: Keyring, at: datetime) -> int:
    """Close the lists whose deadline passed (rankers who said nothing accept all in list
    order), and treat invitations left unanswered as lapsed."""
    done = 0
    lists = await CandidateList.select(*CandidateList.all_columns()).where(
        (CandidateList.status == "open")
        & (CandidateList.due_at <= at)
        & (CandidateList.arbitration.case.state == "arbitration")
    )
    for candidate_list in lists:
        arbitration = await _arbitration(candidate_list["arbitration"])
        ref = await _ref(arbitration["case"])
        async with write_transaction(Case._meta.db):
            await _hold(arbitration["id"])
            if await _close_list(keyring, ref, arbitration, candidate_list, at):
                done += 1
    invited = await Seat.select().where(
        (Seat.status == "invited") & (Seat.answer_due <= at) & (Seat.case.state == "arbitration")
    )
    for seat in invited:
        ref = await _ref(seat["case"])
        async with write_transaction(Case._meta.db):
            await _hold(seat["arbitration"])
            if await _end_seat(keyring, ref, seat, "lapsed", "arbitrator.lapsed", SYSTEM, at):
                done += 1
    return done


# What the room shows


async def panel(case: dict[str, Any], access: CaseAccess, at: datetime) -> dict[str, Any] | None:
    """The constitution's part of the arbitration panel, for one viewer."""
    arbitration = await started(case["id"])
    is_supervisor = roles.SUPERVISOR in access.roles
    if arbitration is None:
        if case["state"] != "arbitration":
            return None
        return {
            "arbitration": None,
            "rulesets": [(key, rules.label()) for key, rules in RULESETS.items()],
            "default_ruleset": DEFAULT,
            "needs_representative": await needs_representative(case["id"]),
            "staff_options": [
                (str(s["id"]), s["name"])
                for s in (await staff_choices() if access.can_start_arbitration else [])
            ],
        }
    rules = ruleset(arbitration["ruleset"])
    all_seats = await seats(arbitration["id"])
    challenges = (
        await Challenge.select(*Challenge.all_columns(), Challenge.party.name)
        .where(Challenge.case == case["id"])
        .order_by(Challenge.id)
    )
    seat_views = []
    for seat in all_seats:
        until = challenge_until(arbitration, seat)
        mine = [c for c in challenges if c["seat"] == seat["id"]]
        seat_views.append(
            {
                **seat,
                "label": seat_label(seat["seat"]),
                "status_label": seat_status(seat["status"]),
                "challenge_until": until,
                "challenges": mine,
                "may_challenge": access.can_challenge
                and seat["status"] == "active"
                and until is not None
                and at <= until
                and not any(
                    c["party"] == access.viewer.id and c["status"] == "pending" for c in mine
                ),
                "may_decide": access.can_decide_challenge and seat["status"] == "active",
            }
        )
    list_views = []
    for candidate_list in await _lists(arbitration["id"]):
        list_views.append(await _list_view(arbitration, candidate_list, access))
    sides = await sides_of(case["id"])
    nominations = []
    if rules.arbitrators == 3 and arbitration["status"] == "constituting":
        for seat in NOMINEE_SEATS:
            if await _live_seat(arbitration["id"], seat) is not None:
                continue
            owing = _side_of_seat(sides, seat)
            due = await nomination_due(arbitration, seat)
            nominations.append(
                {
                    "seat": seat,
                    "label": seat_label(seat),
                    "side": ", ".join(s.name for s in owing),
                    "due": due,
                    "mine": access.can_nominate
                    and any(s.user_id == access.viewer.id for s in owing),
                    "for_supervisor": access.can_nominate
                    and is_supervisor
                    and access.viewer.id not in access.party_ids
                    and due <= at,
                }
            )
    wants_roster = any(n["mine"] or n["for_supervisor"] for n in nominations)
    return {
        "arbitration": arbitration,
        "ruleset": rules,
        "ruleset_label": rules.label(),
        "seats": seat_views,
        "lists": list_views,
        "nominations": nominations,
        "roster_options": [
            (str(row["id"]), roster_line(row))
            for row in (await eligible(arbitration["id"], case["id"]) if wants_roster else [])
        ],
        "may_send_list": access.can_start_arbitration
        and await _seat_awaiting_list(arbitration) is not None,
    }


async def _list_view(arbitration: dict[str, Any], candidate_list: dict[str, Any],
                     access: CaseAccess) -> dict[str, Any]:  # fmt: skip
    """A list as the viewer may see it: who answered, and the answers once it closed."""
    candidates = [int(c) for c in json.loads(candidate_list["candidates"])]
    profiles = {
        int(row["id"]): row
        for row in await User.raw(
            "SELECT u.id, u.name, p.languages, p.expertise, p.jurisdiction FROM portal_user u "
            'LEFT JOIN neutral_profile p ON p."user" = u.id WHERE u.id IN ('
            + ", ".join(str(c) for c in candidates)
            + ")"
        )
    } if candidates else {}  # fmt: skip
    names = {c: str(profiles[c]["name"]) if c in profiles else "" for c in candidates}
    answers = await _answers(candidate_list["id"])
    is_open = candidate_list["status"] == "open"
    rankers = await _rankers(arbitration, candidate_list["seat"]) if is_open else []
    answered = {a["ranker"] for a in answers}
    view: dict[str, Any] = {
        **candidate_list,
        "label": seat_label(candidate_list["seat"]),
        "candidates": [
            {
                "id": c,
                "name": names[c],
                "line": roster_line(profiles[c]) if c in profiles else names[c],
                "field": listing.field(c),
            }
            for c in candidates
        ],
        "answered": [a["ranker.name"] for a in answers],
        "pending": list((await _names([r for r in rankers if r not in answered])).values()),
        "mine": is_open
        and access.viewer.id in rankers
        and access.viewer.id not in answered
        and access.may_rank(candidate_list["seat"]),
        "strikes": min(ruleset(arbitration["ruleset"]).strikes, len(candidates) - 1),
        "rankings": [],
        "order": [],
    }
    if not is_open:
        rankings = []
        for answer in answers:
            ranking = listing.ranking_of(answer["ranking"])
            rankings.append(ranking)
            view["rankings"].append(
                {
                    "ranker": answer["ranker.name"],
                    "defaulted": answer["defaulted"],
                    "ranks": [(names[c], ranking.get(c)) for c in candidates],
                }
            )
        view["order"] = [names[c] for c in listing.combined_order(candidates, rankings)]
    return view
