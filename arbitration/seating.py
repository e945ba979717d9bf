"""Who sits where on a tribunal: its seats and their names, and the reading and
shared writing steps every part of the constitution uses (see `arbitration.constitution`
for the whole procedure).

Each writing step here runs inside its caller's write transaction, after `hold`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from arbitration.rules import Ruleset, ruleset
from arbitration.tables import Arbitration, CandidateList, ListAnswer, Seat
from portal.accounts.tables import User
from portal.cases import deadlines
from portal.cases.sides import Side, sides_of
from portal.cases.tables import Case, CaseParticipant
from portal.i18n import _, gettext
from portal.notifications.notify import notify
from portal.procedure import roles
from portal.procedure.arbitration import APPOINTED, CANDIDATE_LIST, CONSTITUTING, SEAT, move

SOLE, PRESIDING = "sole", "presiding"
CLAIMANT_NOMINEE, RESPONDENT_NOMINEE = "claimant_nominee", "respondent_nominee"
NOMINEE_SEATS = (CLAIMANT_NOMINEE, RESPONDENT_NOMINEE)
LIST_SEATS = (SOLE, PRESIDING)
LIVE = SEAT.open_states
"""A seat that holds its place: its arbitrator invited, or sitting."""
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
    return gettext(SEAT.state(status).label)


def nominee_seat(side_role_name: str) -> str:
    return CLAIMANT_NOMINEE if side_role_name == roles.CLAIMANT else RESPONDENT_NOMINEE


def utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def when(moment: datetime) -> str:
    return utc(moment).strftime("%Y-%m-%d %H:%M UTC")


def iso(moment: datetime) -> str:
    return utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def text_of(form: dict[str, str], name: str) -> str:
    return form.get(name, "").replace("\r\n", "\n").strip()


# Reading


async def started(case_id: int) -> dict[str, Any] | None:
    row: dict[str, Any] | None = (
        await Arbitration.select().where(Arbitration.case == case_id).first()
    )
    return row


async def arbitration_row(arbitration_id: int) -> dict[str, Any]:
    row = await Arbitration.select().where(Arbitration.id == arbitration_id).first()
    assert row is not None
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


async def names(user_ids: list[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    rows = await User.select(User.id, User.name).where(User.id.is_in(user_ids))
    return {row["id"]: row["name"] for row in rows}


async def ref_of(case_id: int) -> str:
    row = await Case.select(Case.ref).where(Case.id == case_id).first()
    assert row is not None
    return str(row["ref"])


async def rankers(arbitration: dict[str, Any], seat: str) -> list[int]:
    """Who ranks a list: the sides for a sole arbitrator, the co-arbitrators for the
    presiding one."""
    if seat == PRESIDING:
        rows = await Seat.select(Seat.arbitrator).where(
            (Seat.arbitration == arbitration["id"])
            & Seat.seat.is_in(list(NOMINEE_SEATS))
            & (Seat.status == APPOINTED)
        )
        return sorted(row["arbitrator"] for row in rows)
    return [side.user_id for side in await sides_of(arbitration["case"])]


async def live_seat(arbitration_id: int, seat: str) -> dict[str, Any] | None:
    row: dict[str, Any] | None = (
        await Seat.select()
        .where(
            (Seat.arbitration == arbitration_id)
            & (Seat.seat == seat)
            & Seat.status.is_in(sorted(LIVE))
        )
        .first()
    )
    return row


async def lists(arbitration_id: int, seat: str | None = None) -> list[dict[str, Any]]:
    query = CandidateList.select().where(CandidateList.arbitration == arbitration_id)
    if seat is not None:
        query = query.where(CandidateList.seat == seat)
    rows: list[dict[str, Any]] = await query.order_by(CandidateList.id)
    return rows


async def answers(list_id: int) -> list[dict[str, Any]]:
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
    return utc(since) + rules.nomination_window


def side_of_seat(sides: list[Side], seat: str) -> list[Side]:
    return [s for s in sides if nominee_seat(s.role) == seat]


# Writing: shared steps, each called inside the caller's write transaction


async def hold(arbitration_id: int) -> None:
    """Take the arbitration's row for this transaction (see the module's docstring)."""
    await Arbitration.raw("UPDATE arbitration SET status = status WHERE id = {}", arbitration_id)


async def tell(user_ids: list[int], ref: str, step: str, **context: Any) -> None:
    await notify(
        sorted(set(user_ids)),
        f"arbitration_{step}",
        case_ref=ref,
        link=f"/cases/{ref}",
        template="arbitration_constitution",
        step=step,
        **context,
    )


async def everyone(case_id: int) -> list[int]:
    rows = await CaseParticipant.select(CaseParticipant.user).where(CaseParticipant.case == case_id)
    return [row["user"] for row in rows]


async def refresh_deadline(arbitration: dict[str, Any], at: datetime) -> None:
    """While the tribunal is being formed, the case's deadline is the nearest step owed."""
    status = (
        await Arbitration.select(Arbitration.status)
        .where(Arbitration.id == arbitration["id"])
        .first()
    )
    assert status is not None
    if status["status"] != CONSTITUTING:
        return
    dues: list[tuple[datetime, str]] = []
    for row in await lists(arbitration["id"]):
        if row["status"] in CANDIDATE_LIST.open_states:
            owner = roles.ARBITRATOR if row["seat"] == PRESIDING else roles.CLAIMANT
            dues.append((utc(row["due_at"]), owner))
    for row in await seats(arbitration["id"]):
        if row["status"] in move(SEAT, "accept").sources:
            dues.append((utc(row["answer_due"]), roles.SUPERVISOR))
    rules = ruleset(arbitration["ruleset"])
    if rules.arbitrators == 3:
        sides = await sides_of(arbitration["case"])
        for seat in NOMINEE_SEATS:
            if await live_seat(arbitration["id"], seat) is None:
                owing = side_of_seat(sides, seat)
                owner = owing[0].role if owing else roles.SUPERVISOR
                dues.append((await nomination_due(arbitration, seat), owner))
    due: datetime | None
    if dues:
        due, owner = min(dues)
    else:
        case = await Case.select(Case.priority).where(Case.id == arbitration["case"]).first()
        assert case is not None
        due = await deadlines.stage_deadline("arbitration", case["priority"], at)
        owner = roles.SUPERVISOR
    await Case.update({Case.deadline_at: due, Case.next_step_by: owner, Case.updated_at: at}).where(
        Case.id == arbitration["case"]
    )


def challenge_until(arbitration: dict[str, Any], seat: dict[str, Any]) -> datetime | None:
    if seat["appointed_at"] is None:
        return None
    return utc(seat["appointed_at"]) + ruleset(arbitration["ruleset"]).challenge_window
