"""The state table, walked exhaustively: every (state, action, role), and each guard.

What may happen is written out below from BRIEF "The life of a case", not read from
`portal.procedure.case.CASE`, so that a change to the table that the brief does not call for fails
here. The walk goes through `lifecycle.take_action`, the function the route calls; a
sample of every action goes through HTTP as well, and the room is checked to offer
exactly the actions allowed, for every state and role.
"""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime, timedelta

import pytest

from ledger.tables import LedgerEntry
from portal.accounts.tables import User
from portal.cases import deadlines, lifecycle
from portal.cases.access import case_access
from portal.cases.categories import state_label
from portal.cases.tables import Case
from portal.procedure import case as states
from portal.procedure import roles
from portal.procedure.policy import CaseAccess
from portal.web.viewer import Viewer
from tests.portal.test_case_room import join, open_case

CLAIMANT, RESPONDENT, AGENT = roles.CLAIMANT, roles.RESPONDENT, roles.AGENT
INVESTIGATOR, ASSESSOR, SUPERVISOR = roles.INVESTIGATOR, roles.ASSESSOR, roles.SUPERVISOR
MEDIATOR, ARBITRATOR, LEGAL = roles.MEDIATOR, roles.ARBITRATOR, roles.LEGAL
SYSTEM = states.SYSTEM  # the portal itself: no person holds it

ROLES = (CLAIMANT, RESPONDENT, AGENT, INVESTIGATOR, ASSESSOR, SUPERVISOR, MEDIATOR, ARBITRATOR,
         LEGAL)  # fmt: skip
# One person per role, holding only that role on the case (supervisors are on every case).
HOLDER = {
    CLAIMANT: "alice", RESPONDENT: "bob", AGENT: "ada", INVESTIGATOR: "ivy", ASSESSOR: "sam",
    SUPERVISOR: "sue", MEDIATOR: "mona", ARBITRATOR: "ari", LEGAL: "lee",
}  # fmt: skip

OPEN = frozenset(states.STATES) - {"withdrawn", "closed"}

# action: (from, to, who may). The guards are tested on their own further down.
ALLOWED: dict[str, tuple[frozenset[str], str, frozenset[str]]] = {
    action: (frozenset(sources), target, frozenset(who))
    for action, (sources, target, who) in {
        "start_review": ({"submitted"}, "triage", {AGENT, SUPERVISOR}),
        "request_info": ({"triage"}, "awaiting_info", {AGENT, SUPERVISOR}),
        "answer_info": ({"awaiting_info"}, "triage", {CLAIMANT}),
        "accept": ({"triage"}, "investigation", {AGENT, SUPERVISOR}),
        "reject": ({"triage"}, "rejected", {AGENT, SUPERVISOR}),
        "appeal": ({"rejected"}, "appealed", {CLAIMANT}),
        "uphold_rejection": ({"appealed"}, "closed", {SUPERVISOR}),
        "overturn_rejection": ({"appealed"}, "triage", {SUPERVISOR}),
        "hand_over": ({"investigation"}, "assessment", {INVESTIGATOR, SUPERVISOR}),
        "propose": ({"assessment"}, "proposed", {ASSESSOR, SUPERVISOR}),
        "accept_proposal": ({"proposed"}, "resolved", {CLAIMANT}),
        "object": ({"proposed"}, "objected", {CLAIMANT, RESPONDENT}),
        "reconsider": ({"objected"}, "reconsideration", {ASSESSOR, SUPERVISOR}),
        "revise_proposal": ({"reconsideration"}, "proposed", {ASSESSOR, SUPERVISOR}),
        "request_mediation": ({"proposed", "objected"}, "mediation", {CLAIMANT, RESPONDENT}),
        "declare_impasse": ({"mediation"}, "impasse", {MEDIATOR}),
        "settle": ({"mediation"}, "settled", {SYSTEM}),  # the last signature does it
        "request_arbitration": ({"proposed", "objected", "impasse"}, "arbitration",
                                {CLAIMANT, RESPONDENT}),
        "close_after_impasse": ({"impasse"}, "closed", {SYSTEM}),  # 14 days without arbitration
        "issue_award": ({"arbitration"}, "awarded", {SYSTEM}),  # the award's last signature
        "record_remedy": ({"resolved", "settled", "awarded"}, "closed",
                          {AGENT, ASSESSOR, SUPERVISOR}),
        "withdraw": (OPEN, "withdrawn", {CLAIMANT}),
    }.items()
}  # fmt: skip


def expected(state: str, action: str, role: str) -> str | None:
    """The state `action` leads to when `role` takes it in `state`, or None if refused."""
    sources, target, who = ALLOWED[action]
    return target if state in sources and role in who else None


def refusal(state: str, action: str, role: str) -> str:
    """The sentence a person is shown when the table refuses them."""
    label = states.declared(action).label
    if state not in ALLOWED[action][0]:
        return f"“{label}” is not possible at this stage of the case ({state_label(state)})."
    return f"Your role on this case cannot “{label}”."


def valid_form() -> dict[str, str]:
    """One form every action accepts: each reads only its own fields."""
    return {
        "questions": "Which order was liquidated?",
        "due_date": (deadlines.now().date() + timedelta(days=5)).isoformat(),
        "answer": "ORD-1001.",
        "severity": "medium",
        "category": "liquidation",
        "in_scope": "yes",
        "reasons": "Because the record shows it.",
        "summary": "The mark price lagged by two seconds.",
        "findings": "The feed lagged.",
        "responsibility": "platform",
        "remedy": "refund",
        "amount": "100",
        "asset": "USDT",
        "reference": "TX-1",
    }


@pytest.fixture(autouse=True)
def clock():
    deadlines.reset_clock()
    yield
    deadlines.reset_clock()


async def cast_on_a_case(people, browser) -> tuple[str, int]:
    """Alice's case against bob, with one person in each other role."""
    _alice, ref = await open_case(people, browser, respondent_email="bob@example.com")
    for role in (INVESTIGATOR, ASSESSOR, MEDIATOR, ARBITRATOR, LEGAL):
        await join(ref, people[HOLDER[role]], role)
    case = await Case.select(Case.id).where(Case.ref == ref).first()
    return ref, case["id"]


async def viewer(person) -> Viewer:
    row = await User.select().where(User.id == person.id).first()
    return Viewer(row["id"], row["email"], row["name"], row["role"], "en",
                  row["totp_enabled"], True)  # fmt: skip


async def put(case_id: int, state: str, people) -> None:
    """Put the case in `state`, as the guards want it for the holders of each role: just
    decided, its proposal by nobody on the case, its reconsideration taken up by sam."""
    await Case.update({
        Case.state: state, Case.state_since: deadlines.now(), Case.proposal_author: None,
        Case.reconsidered_by: people["sam"].id,
    }).where(Case.id == case_id)  # fmt: skip


def test_the_expectation_and_the_table_name_the_same_actions_and_states():
    assert {t.name for t in states.CASE.actions} == set(ALLOWED)
    assert {s.name for s in states.CASE.states} == set(states.STATES)
    for t in states.CASE.actions:
        assert t.sources <= set(states.STATES) and t.target in states.STATES, t.name
        assert (t.sources, t.target, t.roles) == ALLOWED[t.name], t.name
        assert t.label, t.name
    # Every state but the final ones leads somewhere: at least withdrawal.
    used = set().union(*(t.sources for t in states.CASE.actions))
    assert used == OPEN == states.CASE.open_states


def test_the_walk_finds_the_table_sound():
    """Every state reachable from `submitted`, none but the final ones a dead end, and
    nothing leaves a final state."""
    report = states.CASE.walk()
    assert report.sound, report
    assert states.CASE.final_states == {"withdrawn", "closed"}


async def test_every_state_action_and_role(app, people, browser):
    """2,900-odd triples: the allowed ones move the case and are recorded; the rest are
    refused with a sentence naming the action, and write nothing."""
    ref, case_id = await cast_on_a_case(people, browser)
    keyring = app.state.keyring
    access: dict[str, CaseAccess] = {}
    for role, name in HOLDER.items():
        _case, access[role] = await case_access(await viewer(people[name]), ref)
        assert access[role].roles == {role}, name
    before = await LedgerEntry.count().where(LedgerEntry.case_ref == ref)
    moved = 0
    wrong: list[str] = []
    for state in states.STATES:
        await put(case_id, state, people)
        for action in (t.name for t in states.CASE.actions):
            for role in ROLES:
                want = expected(state, action, role)
                try:
                    got = await lifecycle.take_action(keyring, ref, access[role], action,
                                                      valid_form())  # fmt: skip
                except states.Refused as exc:
                    if want is not None:
                        wrong.append(f"{state} {action} {role}: refused ({exc})")
                    elif str(exc) != refusal(state, action, role):
                        wrong.append(f"{state} {action} {role}: said {exc!s}")
                    continue
                moved += 1
                if got != want:
                    wrong.append(f"{state} {action} {role}: allowed, to {got}")
                row = await Case.select(Case.state).where(Case.id == case_id).first()
                last = await (
                    LedgerEntry.select(LedgerEntry.entry)
                    .where(LedgerEntry.case_ref == ref)
                    .order_by(LedgerEntry.case_seq, ascending=False)
                    .first()
                )
                entry = json.loads(bytes(last["entry"]))
                assert row["state"] == got
                assert entry["type"] == "case.transitioned"
                assert (entry["body"]["action"], entry["body"]["from"], entry["body"]["to"]) == (
                    action, state, got)  # fmt: skip
                await put(case_id, state, people)
    assert not wrong, "\n".join(wrong)
    assert moved == sum(
        expected(s, a, r) is not None for s in states.STATES for a in ALLOWED for r in ROLES
    )
    # One entry per step taken; a refusal writes nothing.
    assert await LedgerEntry.count().where(LedgerEntry.case_ref == ref) == before + moved


def error_message(response) -> str:
    return html.unescape(response.text)


async def test_through_http_each_action_is_allowed_or_refused_with_its_reason(people, browser):
    """For each action: its first allowed role in a source state succeeds (303), a role not
    allowed gets 403 saying so, and an allowed role in another state 403 saying that."""
    ref, case_id = await cast_on_a_case(people, browser)
    b = {role: await browser(people[name]) for role, name in HOLDER.items()}
    for action, (sources, target, who) in ALLOWED.items():
        source = next(s for s in states.STATES if s in sources)
        if who == {SYSTEM}:
            # The portal's own steps: nobody can take them by asking.
            await put(case_id, source, people)
            for role in ROLES:
                refused = await b[role].post(f"/cases/{ref}/actions/{action}", valid_form())
                assert refused.status_code == 403, (action, role)
                assert refusal(source, action, role) in error_message(refused)
            continue
        doer = next(r for r in ROLES if r in who)
        outsider = next(r for r in ROLES if r not in who)
        elsewhere = next(s for s in states.STATES if s not in sources)

        await put(case_id, source, people)
        refused = await b[outsider].post(f"/cases/{ref}/actions/{action}", valid_form())
        assert refused.status_code == 403, (action, outsider)
        assert refusal(source, action, outsider) in error_message(refused)

        response = await b[doer].post(f"/cases/{ref}/actions/{action}", valid_form())
        assert response.status_code == 303, (action, doer, response.text[-500:])
        assert (await Case.select(Case.state).where(Case.id == case_id).first())["state"] == target

        await put(case_id, elsewhere, people)
        refused = await b[doer].post(f"/cases/{ref}/actions/{action}", valid_form())
        assert refused.status_code == 403, (action, elsewhere)
        assert refusal(elsewhere, action, doer) in error_message(refused)
        assert (await Case.select(Case.state).where(Case.id == case_id).first())[
            "state"
        ] == elsewhere

    # Someone not on the case cannot even learn it exists.
    eve = await browser(people["eve"])
    await put(case_id, "submitted", people)
    assert (await eve.post(f"/cases/{ref}/actions/withdraw", {})).status_code == 404


OFFERED = re.compile(
    r'<summary class="button[^"]*">([^<]*)</summary>\s*'
    r'<form method="post" action="/cases/[^/]+/actions/(\w+)"'
)


def offered(room_html: str) -> dict[str, str]:
    """The actions the room offers: action -> the label on its button."""
    section = room_html.split('id="actions"', 1)[1].split("</section>", 1)[0]
    return {action: html.unescape(label) for label, action in OFFERED.findall(section)}


async def test_the_room_offers_exactly_the_allowed_actions_for_every_state_and_role(
    people, browser
):
    ref, case_id = await cast_on_a_case(people, browser)
    b = {role: await browser(people[name]) for role, name in HOLDER.items()}
    for state in states.STATES:
        await put(case_id, state, people)
        for role in ROLES:
            room = await b[role].get(f"/cases/{ref}")
            assert room.status_code == 200
            want = {a: states.declared(a).label for a in ALLOWED if expected(state, a, role)}
            assert offered(room.text) == want, (state, role)
            if not want and role in (MEDIATOR, ARBITRATOR, LEGAL, CLAIMANT):
                assert "Nothing is waiting for you on this case." in room.text


async def test_an_appeal_after_14_days_is_refused_on_the_portals_clock(app, people, browser):
    ref, case_id = await cast_on_a_case(people, browser)
    _case, alice = await case_access(await viewer(people["alice"]), ref)
    await put(case_id, "rejected", people)
    decided = deadlines.now()
    deadlines.advance_clock(timedelta(days=14, minutes=1))
    with pytest.raises(states.Refused) as refused:
        await lifecycle.take_action(app.state.keyring, ref, alice, "appeal", valid_form())
    last_day = (decided + timedelta(days=14)).strftime("%Y-%m-%d")
    assert str(refused.value) == f"The 14 days to appeal ended on {last_day}."
    case = await Case.select().where(Case.id == case_id).first()
    assert case["state"] == "rejected"
    assert "appeal" not in {t.name for t in states.CASE.available(case, alice, deadlines.now())}


# The guards, on their own: plain functions of the case, the viewer's roles and the time.

DECIDED = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
SAM, SOL, IVY, SUE, ALICE = 5, 6, 7, 8, 1


def access_of(user_id: int, *held: str, state: str = "") -> CaseAccess:
    person = Viewer(user_id, f"{user_id}@example.com", "", "", "en", True, True)
    return CaseAccess(viewer=person, case_id=1, state=state, roles=frozenset(held),
                      party_ids=(ALICE,))  # fmt: skip


def case_in(state: str, **fields) -> dict:
    return {"id": 1, "state": state, "state_since": DECIDED, "proposal_author": None,
            "reconsidered_by": None, **fields}  # fmt: skip


def refused_with(action: str, case: dict, access: CaseAccess, at: datetime = DECIDED) -> str:
    with pytest.raises(states.Refused) as refused:
        states.CASE.check(action, case, access, at)
    return str(refused.value)


def test_an_appeal_is_open_for_14_days_from_the_rejection():
    alice = access_of(ALICE, CLAIMANT)
    rejected = case_in("rejected")
    assert states.CASE.check("appeal", rejected, alice, DECIDED + timedelta(days=14)).target == (
        "appealed"
    )
    assert refused_with("appeal", rejected, alice, DECIDED + timedelta(days=14, seconds=1)) == (
        "The 14 days to appeal ended on 2026-11-16."
    )
    # A rejection stored without a time zone is read as UTC, as the databases keep it.
    naive = case_in("rejected", state_since=DECIDED.replace(tzinfo=None))
    assert refused_with("appeal", naive, alice, DECIDED + timedelta(days=15)).startswith(
        "The 14 days to appeal ended"
    )


def test_whoever_investigated_a_case_does_not_assess_it():
    message = "You investigated this case, so someone else must assess it."
    assert (
        refused_with("propose", case_in("assessment"), access_of(IVY, INVESTIGATOR, ASSESSOR))
        == message
    )
    assert states.CASE.check("propose", case_in("assessment"), access_of(SAM, ASSESSOR), DECIDED)
    # Nor takes up its reconsideration.
    objected = case_in("objected", proposal_author=SAM)
    assert refused_with("reconsider", objected, access_of(IVY, INVESTIGATOR, ASSESSOR)) == message


def test_the_proposals_author_cannot_reconsider_it_and_another_assessor_can():
    objected = case_in("objected", proposal_author=SAM)
    assert refused_with("reconsider", objected, access_of(SAM, ASSESSOR)) == (
        "You wrote the proposal objected to; a different assessor must reconsider it."
    )
    assert states.CASE.check("reconsider", objected, access_of(SOL, ASSESSOR), DECIDED)
    assert states.CASE.check("reconsider", objected, access_of(SUE, SUPERVISOR), DECIDED)
    assert "reconsider" not in {
        t.name for t in states.CASE.available(objected, access_of(SAM, ASSESSOR), DECIDED)
    }


def test_only_who_took_up_the_reconsideration_revises_the_proposal():
    taken = case_in("reconsideration", proposal_author=SAM, reconsidered_by=SOL)
    assert states.CASE.check("revise_proposal", taken, access_of(SOL, ASSESSOR), DECIDED)
    assert states.CASE.check("revise_proposal", taken, access_of(SUE, SUPERVISOR), DECIDED)
    assert refused_with("revise_proposal", taken, access_of(SAM, ASSESSOR)) == (
        "Another assessor is reconsidering this proposal."
    )


def test_an_unknown_action_is_refused_plainly():
    assert refused_with("teleport", case_in("triage"), access_of(SUE, SUPERVISOR)) == (
        "There is no such action."
    )
