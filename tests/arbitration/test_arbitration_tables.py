"""Arbitration's sub-procedures as tables, walked exhaustively: every (state, action,
role) of every table, each guard, and the services refusing what the tables refuse.

What may happen is written out below from BRIEF "Arbitration" and the diagrams of
`arbitration.constitution`, not read from `portal.procedure.arbitration`, so that a change
to a table that the brief does not call for fails here. The states are the `status`
strings the database keeps, so each table starts where a new row starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from arbitration.tables import (
    Arbitration,
    Award,
    CandidateList,
    Challenge,
    Correction,
    Extension,
    Seat,
)
from portal.procedure import arbitration as tables
from portal.procedure import roles
from portal.procedure.table import SYSTEM, Procedure, Refused
from tests.arbitration.test_constitution import (
    ari_invited,
    in_arbitration,
    latest_list,
    ok,
    page_text,
    rank,
    seat_of,
)

SIDES = {roles.CLAIMANT, roles.RESPONDENT, roles.PLATFORM}
ARB, SUP = roles.ARBITRATOR, roles.SUPERVISOR
EVERY_ROLE = (*roles.PARTY_SIDES, roles.AGENT, roles.INVESTIGATOR, roles.ASSESSOR, SUP,
              roles.MEDIATOR, ARB, roles.LEGAL, SYSTEM)  # fmt: skip

# table: {action: (from, to, who may)}
ALLOWED: dict[str, dict[str, tuple[set[str], str, set[str]]]] = {
    "arbitration": {
        "constitute": ({"constituting"}, "constituted", {SYSTEM}),
        "reopen": ({"constituted"}, "constituting", {SYSTEM}),
        "issue_award": ({"constituted"}, "awarded", {SYSTEM}),
    },
    "candidate_list": {
        "answer_list": ({"open"}, "open", SIDES | {ARB}),
        "close_list": ({"open"}, "closed", {SYSTEM}),
    },
    "seat": {
        "accept": ({"invited"}, "active", {ARB}),
        "decline": ({"invited"}, "declined", {ARB}),
        "lapse": ({"invited"}, "lapsed", {SYSTEM}),
        "challenge": ({"active"}, "active", SIDES),
        "decide_challenge": ({"active"}, "active", {SUP}),
        "remove": ({"active"}, "removed", {SYSTEM}),
    },
    "challenge": {
        "uphold": ({"pending"}, "upheld", {SUP}),
        "dismiss": ({"pending"}, "dismissed", {SUP}),
    },
    "timetable": {
        "set_timetable": ({"unset"}, "set", {ARB}),
        "issue_order": ({"unset", "set"}, "set", {ARB}),
        "ask_extension": ({"set"}, "set", SIDES),
        "answer_extension": ({"set"}, "set", {ARB}),
        "close": ({"set"}, "done", {SYSTEM}),
    },
    "extension": {
        "grant": ({"pending"}, "granted", {ARB}),
        "refuse": ({"pending"}, "refused", {ARB}),
    },
    "award": {
        "save_draft": ({"draft"}, "draft", {ARB}),
        "sign": ({"draft"}, "draft", {ARB}),
        "dissent": ({"draft"}, "draft", {ARB}),
        "issue": ({"draft"}, "issued", {SYSTEM}),
    },
    "correction": {
        "correct": ({"pending"}, "corrected", {ARB}),
        "refuse": ({"pending"}, "refused", {ARB}),
    },
}
FINAL = {
    "arbitration": {"awarded"},
    "candidate_list": {"closed"},
    "seat": {"declined", "lapsed", "removed"},
    "challenge": {"upheld", "dismissed"},
    "timetable": {"done"},
    "extension": {"granted", "refused"},
    "award": {"issued"},
    "correction": {"corrected", "refused"},
}
# Where a stored row starts: the column's default is the table's first state.
STORED = {
    "arbitration": Arbitration, "candidate_list": CandidateList, "seat": Seat,
    "challenge": Challenge, "extension": Extension, "award": Award, "correction": Correction,
}  # fmt: skip

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
BY_NAME = {p.name: p for p in tables.PROCEDURES}


@dataclass(frozen=True)
class Holder:
    """Someone holding one role, as a case's access does."""

    roles: frozenset[str]


def row(state: str) -> dict[str, object]:
    """A subject every guard lets through: a list not yet due, a challenge in time."""
    return {"state": state, "due_at": NOW + timedelta(days=1),
            "challenge_until": NOW + timedelta(days=1), "arbitrator.name": "Ari"}  # fmt: skip


def test_every_table_is_written_out_here():
    assert set(BY_NAME) == set(ALLOWED)
    for name, procedure in BY_NAME.items():
        declared = {a.name: (set(a.sources), a.target, set(a.roles)) for a in procedure.actions}
        assert declared == ALLOWED[name], name
        assert procedure.final_states == FINAL[name], name


@pytest.mark.parametrize("procedure", tables.PROCEDURES, ids=lambda p: p.name)
def test_every_table_is_sound(procedure: Procedure):
    """Every state reachable from the first, none a dead end, nothing leaves a final one."""
    report = procedure.walk()
    assert report.sound, report
    if procedure.name in STORED:
        column = STORED[procedure.name].status  # type: ignore[attr-defined]
        assert procedure.initial == column.default


@pytest.mark.parametrize("procedure", tables.PROCEDURES, ids=lambda p: p.name)
def test_every_state_action_and_role(procedure: Procedure):
    """`check` allows exactly the (state, action, role) written out above."""
    allowed = ALLOWED[procedure.name]
    for state in (s.name for s in procedure.states):
        for action, (sources, _target, who) in allowed.items():
            for role in EVERY_ROLE:
                holder = Holder(frozenset((role,)))
                expected = state in sources and role in who
                try:
                    procedure.check(action, row(state), holder, NOW)
                    taken = True
                except Refused:
                    taken = False
                assert taken == expected, (procedure.name, state, action, role)
                offered = action in {a.name for a in procedure.available(row(state), holder, NOW)}
                assert offered == expected


def test_the_guards_refuse_a_list_past_its_deadline_and_a_challenge_out_of_time():
    side = Holder(frozenset((roles.CLAIMANT,)))
    due = {**row("open"), "due_at": NOW - timedelta(minutes=1)}
    with pytest.raises(Refused, match="The time to answer this list ended on 2026-12-01 11:59"):
        tables.CANDIDATE_LIST.check("answer_list", due, side, NOW)
    late = {**row("active"), "challenge_until": NOW - timedelta(days=1)}
    with pytest.raises(Refused, match="The time to challenge Ari ended on 2026-11-30 12:00"):
        tables.SEAT.check("challenge", late, side, NOW)
    unknown = {**row("active"), "challenge_until": None}
    assert tables.allows(tables.SEAT, "challenge", unknown, side, NOW)


def test_the_timetable_state_follows_its_dates_and_the_award():
    assert tables.timetable_state(has_dates=False, award_issued=False) == "unset"
    assert tables.timetable_state(has_dates=True, award_issued=False) == "set"
    assert tables.timetable_state(has_dates=True, award_issued=True) == "done"


def test_a_stored_row_is_asked_about_by_its_status():
    seat = {"id": 7, "status": "invited"}
    assert tables.subject(seat)["state"] == "invited"
    assert tables.SEAT.state(tables.APPOINTED).name == "active"
    assert tables.CONSTITUTING == "constituting"


async def test_the_services_refuse_what_the_tables_refuse(people, browser):
    """A list answered once it closed, and a challenge to an arbitrator only invited: the
    tables refuse both, and so do the routes, in the words people already know."""
    _alice, ref = await in_arbitration(people, browser)
    b = await ari_invited(people, browser, ref)
    closed = await latest_list(ref)
    assert closed["status"] == "closed"
    holder = Holder(frozenset((roles.CLAIMANT,)))
    with pytest.raises(Refused):
        tables.CANDIDATE_LIST.check("answer_list", tables.subject(closed), holder, NOW)
    again = await rank(b["alice"], people, ref, closed, ari=1, bea=2, cal=3, dot=4, abe=5)
    assert again.status_code == 409
    assert "This list has closed; it can no longer be answered." in page_text(again)

    seat = await seat_of(ref)
    assert seat["status"] == "invited"
    with pytest.raises(Refused):
        tables.SEAT.check("challenge", tables.subject(seat), holder, NOW)
    url = f"/cases/{ref}/arbitration/seats/{seat['id']}/challenge"
    early = await b["alice"].post(url, {"reasons": "Ari is too close to bob."})
    assert early.status_code == 409
    assert "Only an appointed arbitrator can be challenged." in page_text(early)
    room = page_text(await ok(await b["alice"].get(f"/cases/{ref}"), 200))
    assert f"/arbitration/seats/{seat['id']}/challenge" not in room
    assert not await Challenge.exists()
