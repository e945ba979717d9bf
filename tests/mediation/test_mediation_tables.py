"""Mediation's tables, walked exhaustively: the appointment, an offer, the settlement.

What may happen is written out below from BRIEF "Mediation", not read from
`portal.procedure.mediation`, so that a change to a table the brief does not call for
fails here. Every (state, action, role) is asked of each table; each guard is tried on
both sides of its line; and the services are shown, over HTTP, to refuse what the tables
refuse, with the message the person reads.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mediation.tables import Appointment, Offer
from portal.cases import deadlines
from portal.procedure import roles
from portal.procedure.mediation import APPOINTMENT, OFFER, SETTLEMENT, acting, subject
from portal.procedure.table import SYSTEM, Procedure, Refused
from tests.mediation.test_journeys import (
    PAY_90,
    agree,
    appointed,
    appointment_of,
    in_mediation,
    offer_form,
    ok,
    propose,
    put_on_roster,
)

CLAIMANT, RESPONDENT, PLATFORM = roles.CLAIMANT, roles.RESPONDENT, roles.PLATFORM
MEDIATOR, SUPERVISOR = roles.MEDIATOR, roles.SUPERVISOR
SIDES = {CLAIMANT, RESPONDENT, PLATFORM}
# Everyone who might ask, and the portal itself.
ROLES = (CLAIMANT, RESPONDENT, PLATFORM, MEDIATOR, SUPERVISOR, roles.AGENT, roles.ASSESSOR,
         roles.INVESTIGATOR, roles.ARBITRATOR, roles.LEGAL, SYSTEM)  # fmt: skip

Spec = dict[str, tuple[set[str], str, set[str]]]

# action: (from, to, who may).
APPOINTMENT_SPEC: Spec = {
    "agree_to_proposal": ({"proposed"}, "proposed", SIDES),
    "object_to_proposal": ({"proposed"}, "objected", SIDES),
    "invite": ({"proposed"}, "invited", {SYSTEM}),  # every side agreed, or the window passed
    "accept": ({"invited"}, "active", {MEDIATOR}),  # nothing disclosed
    "disclose": ({"invited"}, "disclosed", {MEDIATOR}),
    "decline": ({"invited"}, "declined", {MEDIATOR}),
    "lapse": ({"invited"}, "declined", {SYSTEM}),  # no answer in time
    "agree_to_disclosure": ({"disclosed"}, "disclosed", SIDES),
    "object_to_disclosure": ({"disclosed"}, "objected", SIDES),
    "start": ({"disclosed"}, "active", {SYSTEM}),
    "extend": ({"active"}, "active", {MEDIATOR}),
    "end": ({"active"}, "ended", {SYSTEM}),  # settled, or an impasse
}
OFFER_SPEC: Spec = {
    "accept": ({"open"}, "open", SIDES),  # one side of several
    "reject": ({"open"}, "rejected", SIDES),
    "counter": ({"open"}, "countered", SIDES),
    "conclude": ({"open"}, "accepted", {SYSTEM}),  # the last acceptance
    "expire": ({"open"}, "expired", {SYSTEM}),
    "supersede": ({"open"}, "superseded", {SYSTEM}),  # another offer was accepted
}
SETTLEMENT_SPEC: Spec = {
    "sign": ({"signing"}, "signing", SIDES | {MEDIATOR}),
    "seal": ({"signing"}, "signed", {SYSTEM}),  # the last signature
}
# The statuses stored in the database today, and which of them nothing follows.
STATUSES = {
    "appointment": ({"proposed", "invited", "disclosed", "active"}, {"objected", "declined",
                                                                     "ended"}),
    "offer": ({"open"}, {"accepted", "rejected", "countered", "expired", "superseded"}),
    "settlement": ({"signing"}, {"signed"}),
}  # fmt: skip
TABLES = ((APPOINTMENT, APPOINTMENT_SPEC), (OFFER, OFFER_SPEC), (SETTLEMENT, SETTLEMENT_SPEC))

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def row(status: str) -> dict[str, Any]:
    """A row every guard lets through: its windows still open, never extended."""
    later = NOW + timedelta(days=1)
    return {"status": status, "objection_due": later, "expires_at": later, "extended": False}


@pytest.mark.parametrize(("table", "spec"), TABLES, ids=lambda t: getattr(t, "name", ""))
def test_the_table_is_the_brief(table: Procedure, spec: Spec) -> None:
    live, final = STATUSES[table.name]
    assert {s.name for s in table.states} == live | final
    assert table.open_states == live and table.final_states == final
    assert {a.name: (set(a.sources), a.target, set(a.roles)) for a in table.actions} == spec
    assert table.walk().sound, table.walk()


@pytest.mark.parametrize(("table", "spec"), TABLES, ids=lambda t: getattr(t, "name", ""))
def test_every_state_action_and_role(table: Procedure, spec: Spec) -> None:
    """Each role may take exactly the actions the brief gives it, from exactly their states."""
    for state in (s.name for s in table.states):
        for name, (sources, _target, who) in spec.items():
            step = table.action(name)
            assert step is not None
            for role in ROLES:
                asking = acting(role)
                if state in sources and role in who:
                    assert table.check(name, subject(row(state)), asking, NOW) is step
                    assert step in table.available(subject(row(state)), asking, NOW)
                    continue
                with pytest.raises(Refused) as refused:
                    table.check(name, subject(row(state)), asking, NOW)
                if state not in sources:
                    label = table.state(state).label
                    assert str(refused.value) == (
                        f"“{step.label}” is not possible at this stage of the case ({label})."
                    )
                else:
                    assert str(refused.value) == f"Your role on this case cannot “{step.label}”."
                assert step not in table.available(subject(row(state)), asking, NOW)


def test_the_steps_the_portal_takes_are_never_a_persons() -> None:
    for table, spec in TABLES:
        for name, (_sources, _target, who) in spec.items():
            assert (table.action(name).automatic) == (who == {SYSTEM}), (table.name, name)


def test_the_sides_answer_only_within_the_objection_window() -> None:
    due = NOW - timedelta(minutes=1)
    answers = {
        "proposed": ("agree_to_proposal", "object_to_proposal"),
        "disclosed": ("agree_to_disclosure", "object_to_disclosure"),
    }
    for status, steps in answers.items():
        for name in steps:
            late = subject({**row(status), "objection_due": due})
            with pytest.raises(Refused, match="The time to answer ended on 2026-12-01 11:59 UTC"):
                APPOINTMENT.check(name, late, acting(CLAIMANT), NOW)
            on_time = subject({**row(status), "objection_due": NOW})
            assert APPOINTMENT.check(name, on_time, acting(CLAIMANT), NOW).name == name


def test_the_period_is_extended_once() -> None:
    extended = subject({**row("active"), "extended": True})
    with pytest.raises(Refused, match="extended once already"):
        APPOINTMENT.check("extend", extended, acting(MEDIATOR), NOW)


def test_an_offer_is_answered_only_while_it_stands() -> None:
    for name in ("accept", "reject", "counter"):
        expired = subject({**row("open"), "expires_at": NOW})
        with pytest.raises(Refused, match="This offer expired on 2026-12-01 12:00 UTC"):
            OFFER.check(name, expired, acting(RESPONDENT), NOW)
    # The portal's own steps need no such guard: the sweep chooses the rows.
    assert OFFER.check("expire", subject(row("open")), acting(SYSTEM), NOW).target == "expired"


# The services refuse what the tables refuse, with the message the person reads.


@pytest.fixture(autouse=True)
def clock():
    deadlines.reset_clock()
    yield
    deadlines.reset_clock()


def text(response) -> str:
    return html.unescape(response.text)


async def test_a_side_cannot_answer_once_the_objection_window_passed(people, browser):
    alice, _ada, ref = await in_mediation(people, browser)
    sue = await browser(people["sue"])
    await put_on_roster(sue, people["mona"])
    await ok(await propose(sue, ref, people["mona"]))
    deadlines.advance_clock(timedelta(days=5, minutes=1))  # the sweep has not run yet
    late = await alice.post(f"/cases/{ref}/mediation/answer", {"answer": "agree"})
    assert late.status_code == 409 and "The time to answer ended on" in text(late)
    assert (await appointment_of(ref))["status"] == "proposed"


async def test_an_answered_invitation_cannot_be_answered_again(people, browser):
    _alice, _ada, ref = await in_mediation(people, browser)
    _sue, mona = await appointed(people, browser, ref)
    appointment = await appointment_of(ref)
    assert appointment["status"] == "active"
    again = await mona.post(
        f"/mediation/invitations/{appointment['id']}/accept",
        {"disclosure": "none", "password": people["mona"].password},
    )
    # The invitation is no longer open: it is not there for anyone, as any other page.
    assert again.status_code == 404 and "There is nothing here" in text(again)
    declined = await mona.post(f"/mediation/invitations/{appointment['id']}/decline", {})
    assert declined.status_code == 404
    assert (await Appointment.select().where(Appointment.id == appointment["id"]).first())[
        "status"
    ] == "active"


async def test_a_proposal_cannot_be_answered_once_the_mediator_is_invited(people, browser):
    alice, _ada, ref = await in_mediation(people, browser)
    sue = await browser(people["sue"])
    await put_on_roster(sue, people["mona"])
    await ok(await propose(sue, ref, people["mona"]))
    for name in ("alice", "bob"):
        await agree(await browser(people[name]), ref)
    objection = {"answer": "object", "reasons": "Too late."}
    again = await alice.post(f"/cases/{ref}/mediation/answer", objection)
    assert again.status_code == 409 and "no proposed mediator to answer" in text(again)


async def test_an_offer_not_on_the_case_is_not_found_and_a_closed_one_not_open(people, browser):
    alice, _ada, ref = await in_mediation(people, browser)
    _sue, mona = await appointed(people, browser, ref)
    missing = await alice.post(f"/cases/{ref}/mediation/offers/999999/answer", {"answer": "accept"})
    assert missing.status_code == 404 and "There is nothing here" in text(missing)
    await ok(await mona.post(f"/cases/{ref}/mediation/offers", offer_form(pay=PAY_90)))
    offer = await Offer.select().first()
    bob = await browser(people["bob"])
    await ok(await bob.post(f"/cases/{ref}/mediation/offers/{offer['id']}/answer",
                            {"answer": "reject"}))  # fmt: skip
    late = await alice.post(f"/cases/{ref}/mediation/offers/{offer['id']}/counter",
                            offer_form(pay=PAY_90))  # fmt: skip
    assert late.status_code == 409 and "This offer is no longer open." in text(late)
