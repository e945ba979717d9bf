"""Constituting a tribunal through the real app (BRIEF "Arbitration"; issue 6, 1-4): the
list method for a sole arbitrator, a side that lets the deadline pass, an invitation
declined and one left unanswered, three members with the presiding arbitrator chosen by
the two, and challenges upheld and dismissed.

The roster: ari and five more arbitrators, in roster order (by name) abe, ari, bea, cal,
dot, eli. Lists of five take the first five nobody excluded.
"""

from __future__ import annotations

import html
import json
from datetime import timedelta

import pytest

from arbitration import listing
from arbitration.tables import Arbitration, CandidateList, Challenge, ListAnswer, Seat
from portal.cases import deadlines
from portal.cases.sweep import sweep
from portal.notifications.tables import Notification
from portal.procedure import roles
from tests.people import make_person
from tests.portal.conftest import SECRET
from tests.portal.test_journeys import case_of, chain, on_case, step, to_proposed

ROSTER = ("abe", "ari", "bea", "cal", "dot", "eli")


@pytest.fixture(autouse=True)
def clock():
    deadlines.reset_clock()
    yield
    deadlines.reset_clock()


def page_text(response) -> str:
    return html.unescape(response.text)


async def ok(response, status: int = 303):
    assert response.status_code == status, page_text(response)[-2000:]
    return response


async def on_roster(people) -> None:
    """ari and five more arbitrators (no profile yet: on the roster by default)."""
    for name in ROSTER:
        if name not in people:
            people[name] = await make_person(name, roles.ARBITRATOR, SECRET)


async def in_arbitration(people, browser):
    """alice's case against bob, proposed, then taken to arbitration by alice."""
    alice, _ada, _ivy, _sam, ref = await to_proposed(people, browser)
    await step(alice, ref, "request_arbitration")
    assert (await case_of(ref))["state"] == "arbitration"
    await on_roster(people)
    return alice, ref


async def arbitration_of(ref: str) -> dict:
    case = await case_of(ref)
    return await Arbitration.select().where(Arbitration.case == case["id"]).first()


async def latest_list(ref: str) -> dict:
    arbitration = await arbitration_of(ref)
    return (
        await CandidateList.select()
        .where(CandidateList.arbitration == arbitration["id"])
        .order_by(CandidateList.id, ascending=False)
        .first()
    )


async def seat_of(ref: str, person=None) -> dict:
    """The latest seat of the case (of `person`, when given)."""
    case = await case_of(ref)
    query = Seat.select().where(Seat.case == case["id"])
    if person is not None:
        query = query.where(Seat.arbitrator == person.id)
    return await query.order_by(Seat.id, ascending=False).first()


def names_of(people, candidate_list: dict) -> list[str]:
    ids = {p.id: name for name, p in people.items()}
    return [ids[c] for c in json.loads(candidate_list["candidates"])]


async def start(sue, ref: str, ruleset: str = "sole", **form: str):
    return await sue.post(f"/cases/{ref}/arbitration/start", {"ruleset": ruleset, **form})


def ranking_form(people, **ranks: int | str) -> dict[str, str]:
    """{"abe": "strike", "ari": 1, ...} as the list form's fields."""
    return {listing.field(people[name].id): str(rank) for name, rank in ranks.items()}


async def rank(b, people, ref: str, candidate_list: dict, **ranks: int | str):
    url = f"/cases/{ref}/arbitration/lists/{candidate_list['id']}/answer"
    return await b.post(url, ranking_form(people, **ranks))


async def accept(b, person, seat: dict, disclosure: str = ""):
    form = {"disclosure": "disclose" if disclosure else "none", "password": person.password}
    if disclosure:
        form["disclosure_text"] = disclosure
    return await b.post(f"/arbitration/invitations/{seat['id']}/accept", form)


async def ari_invited(people, browser, ref: str):
    """sue starts a sole arbitration; alice strikes abe, bob strikes cal and dot; ari and
    bea tie on the sum of ranks (3) and on the worst rank (2): list order invites ari."""
    sue, alice, bob = [await browser(people[n]) for n in ("sue", "alice", "bob")]
    await ok(await start(sue, ref))
    sent = await latest_list(ref)
    assert names_of(people, sent) == ["abe", "ari", "bea", "cal", "dot"]
    await ok(await rank(alice, people, ref, sent, abe="strike", ari=1, bea=2, cal=3, dot=4))
    await ok(await rank(bob, people, ref, sent, cal="strike", dot="strike", bea=1, ari=2, abe=3))
    seat = await seat_of(ref)
    assert (seat["arbitrator"], seat["seat"], seat["status"]) == (
        people["ari"].id,
        "sole",
        "invited",
    )
    return {"sue": sue, "alice": alice, "bob": bob}


async def constituted_sole(people, browser, ref: str) -> dict:
    """From a case in arbitration to a tribunal of ari alone, through the real steps.
    Returns the browsers of sue, alice, bob and ari."""
    await on_roster(people)
    browsers = await ari_invited(people, browser, ref)
    ari = await browser(people["ari"])
    await ok(await accept(ari, people["ari"], await seat_of(ref)))
    assert (await arbitration_of(ref))["status"] == "constituted"
    return {**browsers, "ari": ari}


async def test_a_sole_arbitrator_from_the_list_to_a_constituted_tribunal(people, browser):
    alice, ref = await in_arbitration(people, browser)
    sue, bob, ari = [await browser(people[n]) for n in ("sue", "bob", "ari")]

    # Only a supervisor starts it, choosing the rules.
    assert "Start the arbitration" in page_text(await sue.get(f"/cases/{ref}"))
    assert "Start the arbitration" not in page_text(await alice.get(f"/cases/{ref}"))
    assert (await start(alice, ref)).status_code == 403
    await ok(await start(sue, ref))
    assert (await arbitration_of(ref))["ruleset"] == "sole"
    sent = await latest_list(ref)
    assert names_of(people, sent) == ["abe", "ari", "bea", "cal", "dot"]
    entries = {e["type"]: e for e in await chain(ref)}
    assert entries["arbitration.started"]["body"] == {"ruleset": "sole"}
    assert entries["arbitration.list_sent"]["body"]["candidates"] == [
        f"user:{people[n].id}" for n in ("abe", "ari", "bea", "cal", "dot")
    ]
    assert await Notification.exists().where(
        (Notification.user == people["bob"].id) & (Notification.kind == "arbitration_list_sent")
    )
    assert (await case_of(ref))["deadline_at"] == sent["due_at"]

    # A ranking that breaks the rules says what to fix and stores nothing.
    too_many = await rank(alice, people, ref, sent, abe="strike", ari="strike", bea="strike",
                          cal=1, dot=2)  # fmt: skip
    assert too_many.status_code == 400
    assert "You may strike at most 2 candidates." in page_text(too_many)
    twice = await rank(alice, people, ref, sent, abe=1, ari=1, bea=2, cal=3, dot=4)
    assert twice.status_code == 400 and "each number once" in page_text(twice)
    missing = await rank(alice, people, ref, sent, abe=1, ari=2, bea=3, cal=4)
    assert missing.status_code == 400 and "Give Dot a rank, or strike them." in page_text(missing)
    assert not await ListAnswer.exists()

    # alice answers; bob cannot see how until the list closes, nor can the ledger tell.
    await ok(await rank(alice, people, ref, sent, abe="strike", ari=1, bea=2, cal=3, dot=4))
    again = await rank(alice, people, ref, sent, abe="strike", ari=1, bea=2, cal=3, dot=4)
    assert again.status_code == 409 and "already answered" in page_text(again)
    answered = [e for e in await chain(ref) if e["type"] == "arbitration.list_answered"]
    assert set(answered[0]["body"]) == {"list", "seat", "content_sha256"}
    bob_room = page_text(await bob.get(f"/cases/{ref}"))
    assert "Combined order" not in bob_room and "Abe struck" not in bob_room
    assert "Send your ranking" in bob_room and "Not answered yet: Bob" in bob_room
    assert (await rank(ari, people, ref, sent, ari=1)).status_code == 404  # not on the case

    # bob answers: the list closes; ari and bea tie, and list order invites ari.
    await ok(await rank(bob, people, ref, sent, cal="strike", dot="strike", bea=1, ari=2, abe=3))
    assert (await latest_list(ref))["status"] == "closed"
    closed = next(e for e in await chain(ref) if e["type"] == "arbitration.list_closed")["body"]
    assert closed["order"] == [f"user:{people['ari'].id}", f"user:{people['bea'].id}"]
    alice_text = closed["answers"][f"user:{people['alice'].id}"]
    assert listing.commitment(alice_text) == answered[0]["body"]["content_sha256"]
    assert closed["rankings"][f"user:{people['bob'].id}"][f"user:{people['cal'].id}"] is None
    assert "Combined order: Ari, Bea" in page_text(await bob.get(f"/cases/{ref}"))

    # ari is invited: only ari sees the invitation, and not the case until accepting.
    seat = await seat_of(ref)
    invitation = f"/arbitration/invitations/{seat['id']}"
    assert seat["arbitrator"] == people["ari"].id and seat["status"] == "invited"
    assert await Notification.exists().where(
        (Notification.user == people["ari"].id) & (Notification.link == invitation)
    )
    assert (await ari.get(f"/cases/{ref}")).status_code == 404
    assert (await alice.get(invitation)).status_code == 404
    assert (await (await browser(people["bea"])).get(invitation)).status_code == 404
    assert "Disclosure and acceptance" in page_text(await ok(await ari.get(invitation), 200))

    # ari signs the disclosure with the password, and the tribunal is constituted.
    wrong = await ari.post(f"{invitation}/accept", {"disclosure": "none", "password": "nope"})
    assert wrong.status_code == 400 and "That is not your password." in page_text(wrong)
    said = "I spoke at a conference the platform sponsored in 2024."
    await ok(await accept(ari, people["ari"], seat, disclosure=said))
    seat = await seat_of(ref)
    assert seat["status"] == "active" and seat["appointed_at"] is not None
    assert await on_case(ref, people["ari"], "arbitrator")
    arbitration = await arbitration_of(ref)
    assert arbitration["status"] == "constituted" and arbitration["constituted_at"]
    case = await case_of(ref)
    assert case["next_step_by"] == "arbitrator"
    assert case["deadline_at"] - arbitration["constituted_at"] == timedelta(days=5)
    assert (await ari.get(invitation)).status_code == 404  # answered: gone
    room = page_text(await bob.get(f"/cases/{ref}"))
    assert said in room and "The tribunal was constituted on" in room
    assert await Notification.exists().where(
        (Notification.user == people["alice"].id) & (Notification.kind == "arbitration_constituted")
    )
    types = [e["type"] for e in await chain(ref)]
    for expected in ("arbitrator.invited", "arbitrator.disclosed", "participant.added",
                     "arbitrator.appointed", "tribunal.constituted"):  # fmt: skip
        assert expected in types, expected
    disclosed = next(e for e in await chain(ref) if e["type"] == "arbitrator.disclosed")
    assert disclosed["actor"] == {"id": f"user:{people['ari'].id}", "role": "arbitrator"}
    assert disclosed["body"]["disclosure"] == said


async def test_a_side_that_misses_the_deadline_accepts_all_in_list_order(app, people, browser):
    alice, ref = await in_arbitration(people, browser)
    sue, bob = await browser(people["sue"]), await browser(people["bob"])
    await ok(await start(sue, ref))
    sent = await latest_list(ref)
    await ok(await rank(alice, people, ref, sent, abe="strike", ari="strike", cal=1, bea=2, dot=3))
    deadlines.advance_clock(timedelta(days=7, minutes=1))
    late = await rank(bob, people, ref, sent, abe=1, ari=2, bea=3, cal=4, dot=5)
    assert late.status_code == 409 and "The time to answer this list ended" in page_text(late)
    assert (await latest_list(ref))["status"] == "open"

    await sweep(keyring=app.state.keyring)
    assert (await latest_list(ref))["status"] == "closed"
    bobs = await ListAnswer.select().where(ListAnswer.ranker == people["bob"].id).first()
    assert bobs["defaulted"]
    assert listing.ranking_of(bobs["ranking"]) == {
        people[n].id: i for i, n in enumerate(("abe", "ari", "bea", "cal", "dot"), start=1)
    }
    entries = await chain(ref)
    defaulted = [e for e in entries if e["type"] == "arbitration.list_answered"][-1]
    assert defaulted["actor"]["id"] == "system"
    assert defaulted["body"]["ranker"] == f"user:{people['bob'].id}"
    assert defaulted["body"]["defaulted"] is True
    # bea and cal both sum to 5; bea's worst rank (3) beats cal's (4).
    closed = next(e for e in entries if e["type"] == "arbitration.list_closed")["body"]
    assert closed["order"][:2] == [f"user:{people['bea'].id}", f"user:{people['cal'].id}"]
    assert (await seat_of(ref))["arbitrator"] == people["bea"].id
    room = page_text(await bob.get(f"/cases/{ref}"))
    assert "no answer: all accepted in list order" in room
    # A second sweep finds nothing more to do.
    assert (await sweep(keyring=app.state.keyring)).steps == 0


async def test_a_declined_invitation_goes_to_the_next_best_then_a_new_list(app, people, browser):
    _alice, ref = await in_arbitration(people, browser)
    await ari_invited(people, browser, ref)
    ari, bea = await browser(people["ari"]), await browser(people["bea"])
    first = await seat_of(ref)
    await ok(
        await ari.post(
            f"/arbitration/invitations/{first['id']}/decline", {"reasons": "I am on leave."}
        )
    )
    assert (await seat_of(ref, people["ari"]))["status"] == "declined"
    assert not await on_case(ref, people["ari"], "arbitrator")
    declined = next(e for e in await chain(ref) if e["type"] == "arbitrator.declined")
    assert declined["body"]["reasons"] == "I am on leave."
    assert await Notification.exists().where(
        (Notification.user == people["sue"].id) & (Notification.kind == "arbitration_declined")
    )
    # The next best of the same list: bea.
    second = await seat_of(ref)
    assert (second["arbitrator"], second["status"]) == (people["bea"].id, "invited")
    assert (await bea.get(f"/arbitration/invitations/{second['id']}")).status_code == 200

    # bea lets the answer window pass: the list has nobody left, so a new one is sent,
    # without ari or bea, and the supervisors are told.
    deadlines.advance_clock(timedelta(days=5, minutes=1))
    await sweep(keyring=app.state.keyring)
    assert (await seat_of(ref, people["bea"]))["status"] == "lapsed"
    fresh = await latest_list(ref)
    assert fresh["status"] == "open"
    assert names_of(people, fresh) == ["abe", "cal", "dot", "eli"]
    types = [e["type"] for e in await chain(ref)]
    assert "arbitrator.lapsed" in types and "arbitration.list_exhausted" in types
    assert types.count("arbitration.list_sent") == 2
    assert await Notification.exists().where(
        (Notification.user == people["sue"].id) & (Notification.kind == "arbitration_exhausted")
    )


async def test_three_members_named_by_the_sides_choose_the_presiding_arbitrator(people, browser):
    alice, ref = await in_arbitration(people, browser)
    sue, bob = await browser(people["sue"]), await browser(people["bob"])
    abe, bea = await browser(people["abe"]), await browser(people["bea"])
    await ok(await start(sue, ref, "three"))
    assert not await CandidateList.exists()  # the sides name theirs first
    assert "to name an arbitrator" in page_text(await alice.get(f"/cases/{ref}"))

    nominate = f"/cases/{ref}/arbitration/nominate"
    bad = await alice.post(nominate, {"arbitrator": str(people["eve"].id)})
    assert bad.status_code == 400 and "Choose an arbitrator from the roster." in page_text(bad)
    early = await sue.post(
        nominate, {"seat": "respondent_nominee", "arbitrator": str(people["cal"].id)}
    )
    assert early.status_code == 409 and "has until" in page_text(early)
    await ok(await alice.post(nominate, {"arbitrator": str(people["abe"].id)}))
    twice = await alice.post(nominate, {"arbitrator": str(people["cal"].id)})
    assert twice.status_code == 409
    await ok(await bob.post(nominate, {"arbitrator": str(people["bea"].id)}))
    abe_seat, bea_seat = await seat_of(ref, people["abe"]), await seat_of(ref, people["bea"])
    assert (abe_seat["seat"], bea_seat["seat"]) == ("claimant_nominee", "respondent_nominee")
    nominated = [e for e in await chain(ref) if e["type"] == "arbitrator.nominated"]
    assert nominated[0]["actor"]["role"] == "claimant"

    # Both accept: the presiding list goes to the two of them, not to the sides.
    await ok(await accept(abe, people["abe"], abe_seat))
    assert not await CandidateList.exists()
    await ok(await accept(bea, people["bea"], bea_seat))
    presiding = await latest_list(ref)
    assert presiding["seat"] == "presiding"
    assert names_of(people, presiding) == ["ari", "cal", "dot", "eli"]
    assert (await arbitration_of(ref))["status"] == "constituting"
    assert (
        await rank(alice, people, ref, presiding, ari=1, cal=2, dot=3, eli=4)
    ).status_code == 403
    assert "Send your ranking" not in page_text(await alice.get(f"/cases/{ref}"))
    assert "Send your ranking" in page_text(await abe.get(f"/cases/{ref}"))
    await ok(await rank(abe, people, ref, presiding, ari="strike", cal=1, dot=2, eli=3))
    await ok(await rank(bea, people, ref, presiding, eli="strike", dot=1, cal=2, ari=3))
    seat = await seat_of(ref)
    assert (seat["seat"], seat["arbitrator"]) == ("presiding", people["cal"].id)
    answered = [e for e in await chain(ref) if e["type"] == "arbitration.list_answered"]
    assert answered[0]["actor"] == {"id": f"user:{people['abe'].id}", "role": "arbitrator"}

    cal = await browser(people["cal"])
    await ok(await accept(cal, people["cal"], seat))
    arbitration = await arbitration_of(ref)
    assert arbitration["status"] == "constituted"
    constituted = next(e for e in await chain(ref) if e["type"] == "tribunal.constituted")
    assert {a["seat"] for a in constituted["body"]["arbitrators"]} == {
        "claimant_nominee", "respondent_nominee", "presiding"
    }  # fmt: skip
    for name in ("abe", "bea", "cal"):
        assert await on_case(ref, people[name], "arbitrator")

    # The tribunal so formed awards by a majority, bea dissenting.
    from tests.arbitration.test_award import DISSENT, REASONS, award_form, vote

    await ok(await cal.post(f"/cases/{ref}/tribunal/award", award_form()))
    await ok(await abe.post(f"/cases/{ref}/statements",
                            {"channel": "tribunal", "text": "I agree with the draft."},
                            htmx=True), 200)  # fmt: skip
    await ok(await vote(bea, ref, people["bea"], "dissent", DISSENT))
    await ok(await vote(abe, ref, people["abe"]))
    assert (await case_of(ref))["state"] == "arbitration"
    await ok(await vote(cal, ref, people["cal"]))
    assert (await case_of(ref))["state"] == "awarded"
    room = page_text(await alice.get(f"/cases/{ref}"))
    assert REASONS in room and DISSENT in room and "I agree with the draft." not in room


async def test_a_side_that_names_nobody_in_time_gets_one_named_by_a_supervisor(
    app, people, browser
):
    alice, ref = await in_arbitration(people, browser)
    sue = await browser(people["sue"])
    await ok(await start(sue, ref, "three"))
    nominate = f"/cases/{ref}/arbitration/nominate"
    await ok(await alice.post(nominate, {"arbitrator": str(people["abe"].id)}))
    abe = await browser(people["abe"])
    await ok(await accept(abe, people["abe"], await seat_of(ref, people["abe"])))
    arbitration = await arbitration_of(ref)
    due = arbitration["started_at"] + timedelta(days=10)
    assert (await case_of(ref))["deadline_at"] == due  # bob's nomination, the nearest step
    # The window passes: the overdue reminder tells the supervisors, who may now name.
    deadlines.advance_clock(timedelta(days=10, minutes=1))
    await sweep(keyring=app.state.keyring)
    assert await Notification.exists().where(
        (Notification.user == people["sue"].id) & (Notification.kind == "deadline_overdue")
    )
    assert "you may name an arbitrator for it" in page_text(await sue.get(f"/cases/{ref}"))
    await ok(
        await sue.post(
            nominate, {"seat": "respondent_nominee", "arbitrator": str(people["cal"].id)}
        )
    )
    seat = await seat_of(ref, people["cal"])
    assert (seat["seat"], seat["chosen_by"]) == ("respondent_nominee", "nomination")
    named = [e for e in await chain(ref) if e["type"] == "arbitrator.nominated"][-1]
    assert named["actor"] == {"id": f"user:{people['sue'].id}", "role": "supervisor"}


async def test_a_challenge_upheld_replaces_the_arbitrator_by_the_same_method(people, browser):
    _alice, ref = await in_arbitration(people, browser)
    b = await constituted_sole(people, browser, ref)
    alice, bob, sue, ari = b["alice"], b["bob"], b["sue"], b["ari"]
    seat = await seat_of(ref)
    url = f"/cases/{ref}/arbitration/seats/{seat['id']}/challenge"
    empty = await alice.post(url, {"reasons": ""})
    assert empty.status_code == 400 and "Give your reasons for the challenge." in page_text(empty)
    assert (await sue.post(url, {"reasons": "No."})).status_code == 403
    reasons = "Ari advised Bob's company in 2023."
    await ok(await alice.post(url, {"reasons": reasons}))
    assert await Notification.exists().where(
        (Notification.user == people["sue"].id) & (Notification.kind == "arbitration_challenged")
    )
    assert reasons in page_text(await bob.get(f"/cases/{ref}"))
    challenge = await Challenge.select().first()
    decide = f"/cases/{ref}/arbitration/challenges/{challenge['id']}/decide"
    assert (await alice.post(decide, {"decision": "uphold", "reasons": "x"})).status_code == 403
    no_reasons = await sue.post(decide, {"decision": "uphold"})
    assert no_reasons.status_code == 400 and "Give the reasons" in page_text(no_reasons)

    await ok(await sue.post(decide, {"decision": "uphold", "reasons": "A real tie to Bob."}))
    assert (await Challenge.select().first())["status"] == "upheld"
    assert (await seat_of(ref, people["ari"]))["status"] == "removed"
    assert not await on_case(ref, people["ari"], "arbitrator")
    assert (await ari.get(f"/cases/{ref}")).status_code == 404
    assert (await arbitration_of(ref))["status"] == "constituting"
    types = [e["type"] for e in await chain(ref)]
    assert "challenge.decided" in types and "arbitrator.removed" in types

    # The next best of the same list is invited; ari is never invited again.
    replacement = await seat_of(ref)
    assert (replacement["arbitrator"], replacement["seat"]) == (people["bea"].id, "sole")
    bea = await browser(people["bea"])
    await ok(await accept(bea, people["bea"], replacement))
    assert (await arbitration_of(ref))["status"] == "constituted"
    assert await Seat.count().where(Seat.arbitrator == people["ari"].id) == 1
    assert "A real tie to Bob." in page_text(await alice.get(f"/cases/{ref}"))


async def test_a_challenge_dismissed_and_one_too_late(people, browser):
    _alice, ref = await in_arbitration(people, browser)
    b = await constituted_sole(people, browser, ref)
    bob, sue = b["bob"], b["sue"]
    seat = await seat_of(ref)
    url = f"/cases/{ref}/arbitration/seats/{seat['id']}/challenge"
    await ok(await bob.post(url, {"reasons": "Ari was slow in another case."}))
    challenge = await Challenge.select().first()
    await ok(
        await sue.post(
            f"/cases/{ref}/arbitration/challenges/{challenge['id']}/decide",
            {"decision": "dismiss", "reasons": "Slowness is no ground."},
        )
    )
    assert (await Challenge.select().first())["status"] == "dismissed"
    assert (await seat_of(ref))["status"] == "active"
    assert await on_case(ref, people["ari"], "arbitrator")
    assert (await arbitration_of(ref))["status"] == "constituted"
    decided = next(e for e in await chain(ref) if e["type"] == "challenge.decided")
    assert decided["body"]["decision"] == "dismissed"
    assert decided["actor"] == {"id": f"user:{people['sue'].id}", "role": "supervisor"}
    deadlines.advance_clock(timedelta(days=15, minutes=1))
    late = await b["alice"].post(url, {"reasons": "Something new."})
    assert late.status_code == 409 and "The time to challenge Ari ended" in page_text(late)


def test_the_combined_order_keeps_the_unstruck_by_sum_then_worst_rank_then_list_order():
    a, b, c, d = 1, 2, 3, 4
    rankings = [{a: 1, b: 2, c: None, d: 3}, {a: 3, b: 2, c: 1, d: 1}]
    # a: 4 (worst 3), b: 4 (worst 2), d: 4 (worst 3); c struck.
    assert listing.combined_order([a, b, c, d], rankings) == [b, a, d]
    assert listing.combined_order([a, b], [listing.accept_all([a, b])] * 2) == [a, b]


# Who may do what: every constitution route, for every person, once ari sits alone.

PEOPLE = ("alice", "bob", "ada", "sue", "ari", "eve")


def expect(default: int, **exceptions: int) -> dict[str, int]:
    return {name: exceptions.get(name, 404 if name == "eve" else default) for name in PEOPLE}


async def test_every_constitution_route_for_every_person(people, browser):
    # Staff log in once each here: a second-factor code works only once.
    alice, ada, _ivy, _sam, ref = await to_proposed(people, browser)
    await step(alice, ref, "request_arbitration")
    b = await constituted_sole(people, browser, ref)
    browsers = {**b, "ada": ada, "eve": await browser(people["eve"])}
    seat = await seat_of(ref)
    closed = await latest_list(ref)
    case = f"/cases/{ref}/arbitration"
    invitation = f"/arbitration/invitations/{seat['id']}"
    rows = [
        # Started and constituted: a second start or list is a conflict, not a permission.
        ("POST", f"{case}/start", {}, expect(403, sue=409)),
        ("POST", f"{case}/lists", {}, expect(403, sue=409)),
        # The sides rank a sole arbitrator's list (an empty form: 400, allowed).
        ("POST", f"{case}/lists/{closed['id']}/answer", {}, expect(403, alice=400, bob=400)),
        ("POST", f"{case}/lists/999/answer", {}, expect(403, alice=404, bob=404, ari=404)),
        # Under sole rules nobody names an arbitrator.
        ("POST", f"{case}/nominate", {}, expect(403, alice=409, bob=409, sue=409)),
        ("POST", f"{case}/seats/{seat['id']}/challenge", {}, expect(403, alice=400, bob=400)),
        ("POST", f"{case}/challenges/999/decide", {}, expect(403, sue=404)),
        # The seat is taken: its invitation is nobody's any more.
        ("GET", invitation, {}, expect(404)),
        ("POST", f"{invitation}/accept", {"disclosure": "none"}, expect(404)),
        ("POST", f"{invitation}/decline", {}, expect(404)),
        ("GET", f"/cases/{ref}", {}, expect(200)),
    ]
    wrong = []
    for method, url, form, table in rows:
        for name, status in table.items():
            client = browsers[name]
            response = await (client.get(url) if method == "GET" else client.post(url, form))
            if response.status_code != status:
                wrong.append(f"{method} {url} as {name}: {response.status_code}, not {status}")
    assert not wrong, "\n".join(wrong)
