"""What the case room shows of a tribunal's constitution, for one viewer: the
rules, the seats and their challenges, the lists and, once closed, their rankings, and
the nominations owed."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from arbitration import listing, rankings, seating
from arbitration.rules import DEFAULT, RULESETS, ruleset
from arbitration.tables import Challenge
from portal.accounts.tables import User
from portal.cases.sides import needs_representative, sides_of, staff_choices
from portal.procedure import roles
from portal.procedure.arbitration import (
    CANDIDATE_LIST,
    CHALLENGE,
    CONSTITUTING,
    SEAT,
    allows,
    subject,
)

if TYPE_CHECKING:
    from portal.procedure.policy import CaseAccess


async def panel(case: dict[str, Any], access: CaseAccess, at: datetime) -> dict[str, Any] | None:
    """The constitution's part of the arbitration panel, for one viewer."""
    arbitration = await seating.started(case["id"])
    if arbitration is None:
        return await _before_start(case, access)
    rules = ruleset(arbitration["ruleset"])
    seat_views = await _seat_views(arbitration, case["id"], access, at)
    list_views = []
    for candidate_list in await seating.lists(arbitration["id"]):
        list_views.append(await _list_view(arbitration, candidate_list, access))
    nominations = []
    if rules.arbitrators == 3 and arbitration["status"] == CONSTITUTING:
        nominations = await _open_nominations(arbitration, case["id"], access, at)
    wants_roster = any(n["mine"] or n["for_supervisor"] for n in nominations)
    return {
        "arbitration": arbitration,
        "ruleset": rules,
        "ruleset_label": rules.label(),
        "seats": seat_views,
        "lists": list_views,
        "nominations": nominations,
        "roster_options": [
            (str(row["id"]), seating.roster_line(row))
            for row in (
                await seating.eligible(arbitration["id"], case["id"]) if wants_roster else []
            )
        ],
        "may_send_list": access.can_start_arbitration
        and await rankings.seat_awaiting_list(arbitration) is not None,
    }


async def _before_start(case: dict[str, Any], access: CaseAccess) -> dict[str, Any] | None:
    """A case in arbitration with none started yet: the choices for starting it."""
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


async def _seat_views(
    arbitration: dict[str, Any], case_id: int, access: CaseAccess, at: datetime
) -> list[dict[str, Any]]:
    """Every seat with its challenges, and whether this viewer may challenge or decide.

    A party challenges a seat once while a challenge of theirs is open on it."""
    challenges = (
        await Challenge.select(*Challenge.all_columns(), Challenge.party.name)
        .where(Challenge.case == case_id)
        .order_by(Challenge.id)
    )
    seat_views = []
    for seat in await seating.seats(arbitration["id"]):
        until = seating.challenge_until(arbitration, seat)
        mine = [c for c in challenges if c["seat"] == seat["id"]]
        seat_views.append(
            {
                **seat,
                "label": seating.seat_label(seat["seat"]),
                "status_label": seating.seat_status(seat["status"]),
                "challenge_until": until,
                "challenges": mine,
                "may_challenge": access.can_challenge
                and until is not None
                and allows(SEAT, "challenge", subject(seat, challenge_until=until), access, at)
                and not any(
                    c["party"] == access.viewer.id and c["status"] in CHALLENGE.open_states
                    for c in mine
                ),
                "may_decide": access.can_decide_challenge
                and allows(SEAT, "decide_challenge", subject(seat), access, at),
            }
        )
    return seat_views


async def _open_nominations(
    arbitration: dict[str, Any], case_id: int, access: CaseAccess, at: datetime
) -> list[dict[str, Any]]:
    """The sides' seats not yet filled, under three-member rules: the side names its
    arbitrator, and a supervisor (not a party) may name one once the side's time is up."""
    is_supervisor = roles.SUPERVISOR in access.roles
    sides = await sides_of(case_id)
    nominations = []
    for place in seating.NOMINEE_SEATS:
        if await seating.live_seat(arbitration["id"], place) is not None:
            continue
        owing = seating.side_of_seat(sides, place)
        due = await seating.nomination_due(arbitration, place)
        nominations.append(
            {
                "seat": place,
                "label": seating.seat_label(place),
                "side": ", ".join(s.name for s in owing),
                "due": due,
                "mine": access.can_nominate and any(s.user_id == access.viewer.id for s in owing),
                "for_supervisor": access.can_nominate
                and is_supervisor
                and access.viewer.id not in access.party_ids
                and due <= at,
            }
        )
    return nominations


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
    answers = await seating.answers(candidate_list["id"])
    is_open = candidate_list["status"] in CANDIDATE_LIST.open_states
    rankers = await seating.rankers(arbitration, candidate_list["seat"]) if is_open else []
    answered = {a["ranker"] for a in answers}
    view: dict[str, Any] = {
        **candidate_list,
        "label": seating.seat_label(candidate_list["seat"]),
        "candidates": [
            {
                "id": c,
                "name": names[c],
                "line": seating.roster_line(profiles[c]) if c in profiles else names[c],
                "field": listing.field(c),
            }
            for c in candidates
        ],
        "answered": [a["ranker.name"] for a in answers],
        "pending": list((await seating.names([r for r in rankers if r not in answered])).values()),
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
