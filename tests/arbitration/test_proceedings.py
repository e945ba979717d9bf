"""Arbitral proceedings through the real app (BRIEF "Arbitration"): the timetable as
Procedural Order no. 1, its dates reminded like every deadline, extensions refused and
granted, and orders numbered per case.

The tribunal is set up directly in the database (`constituted`), as the constitution
leaves it: an Arbitration row, active seats, and the arbitrators on the case.
"""

from __future__ import annotations

import hashlib
import html
from datetime import UTC, datetime, timedelta

import pytest

from arbitration.tables import Arbitration, Extension, ProceduralOrder, Seat, TimetableStep
from portal.cases import deadlines
from portal.cases.sweep import sweep
from portal.cases.tables import CaseParticipant
from portal.notifications.tables import Notification
from portal.procedure import roles
from tests.people import make_person
from tests.portal.conftest import SECRET
from tests.portal.test_journeys import case_of, chain, step, to_proposed


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


async def constituted(people, browser, members: int = 1):
    """alice's case against bob, taken to arbitration by alice, before a tribunal that
    sits: ari alone, or ari presiding with two more arbitrators. Returns the browsers
    of alice, bob and the arbitrators, and the case's reference."""
    alice, _ada, _ivy, _sam, ref = await to_proposed(people, browser)
    await step(alice, ref, "request_arbitration")
    case = await case_of(ref)
    assert case["state"] == "arbitration"
    tribunal = [people["ari"]]
    for name in ("aria", "abel")[: members - 1]:
        if name not in people:
            people[name] = await make_person(name, roles.ARBITRATOR, SECRET)
        tribunal.append(people[name])
    at = datetime.now(UTC)
    rows = await Arbitration.insert(
        Arbitration(case=case["id"], ruleset="sole" if members == 1 else "three",
                    started_by=people["sue"].id, status="constituted", started_at=at,
                    constituted_at=at)
    ).returning(Arbitration.id)  # fmt: skip
    seats = ["sole"] if members == 1 else ["presiding", "claimant_nominee", "respondent_nominee"]
    for seat, person in zip(seats, tribunal, strict=True):
        await Seat.insert(
            Seat(arbitration=rows[0]["id"], case=case["id"], seat=seat, arbitrator=person.id,
                 chosen_by="list", status="active", answer_due=at, appointed_at=at,
                 created_at=at)
        )  # fmt: skip
        await CaseParticipant.insert(
            CaseParticipant(case=case["id"], user=person.id, role=roles.ARBITRATOR, added_at=at)
        )
    bob = await browser(people["bob"])
    arbitrators = [await browser(p) for p in tribunal]
    return alice, bob, arbitrators, ref


def day(days: int) -> str:
    return (deadlines.now().date() + timedelta(days=days)).isoformat()


def timetable_form(**changes: str) -> dict[str, str]:
    form = {
        "claim_on": day(14),
        "defence_on": day(28),
        "evidence_on": day(42),
        "reply_on": day(49),
        "hearing_on": day(56),
        "hearing_time": "10:00",
        "hearing_place": "https://video.example/hearing-1",
        "closing_on": day(63),
    }
    form.update(changes)
    return {k: v for k, v in form.items() if v is not None}


async def timetable_set(people, browser, members: int = 1):
    alice, bob, arbitrators, ref = await constituted(people, browser, members)
    await ok(await arbitrators[0].post(f"/cases/{ref}/tribunal/timetable", timetable_form()))
    return alice, bob, arbitrators, ref


async def dates(ref: str) -> dict[str, datetime]:
    case = await case_of(ref)
    rows = await TimetableStep.select().where(TimetableStep.case == case["id"])
    return {r["step"]: r["due_at"].astimezone(UTC) for r in rows}


def advance_to(moment: datetime) -> None:
    deadlines.advance_clock(moment - deadlines.now())


def end_of(days: int) -> datetime:
    d = deadlines.now().date() + timedelta(days=days)
    return datetime(d.year, d.month, d.day, 23, 59, tzinfo=UTC)


async def test_the_timetable_is_procedural_order_no_1_with_its_dates_in_order(people, browser):
    alice, bob, (ari,), ref = await constituted(people, browser)

    # Only the tribunal sets it.
    refused = await alice.post(f"/cases/{ref}/tribunal/timetable", timetable_form())
    assert refused.status_code == 403
    # Out of order, or in the past: the field says what to fix, and nothing is stored.
    wrong = await ari.post(f"/cases/{ref}/tribunal/timetable",
                           timetable_form(reply_on=day(30)))  # fmt: skip
    assert wrong.status_code == 400
    assert "This date must come after the evidence" in page_text(wrong)
    past = await ari.post(f"/cases/{ref}/tribunal/timetable", timetable_form(claim_on=day(-1)))
    assert past.status_code == 400 and "The date must be in the future." in page_text(past)
    no_place = await ari.post(f"/cases/{ref}/tribunal/timetable",
                              timetable_form(hearing_place=""))  # fmt: skip
    assert no_place.status_code == 400 and "video link" in page_text(no_place)
    assert not await TimetableStep.exists() and not await ProceduralOrder.exists()

    await ok(await ari.post(f"/cases/{ref}/tribunal/timetable", timetable_form()))
    set_dates = await dates(ref)
    assert list(set_dates) == ["claim", "defence", "evidence", "reply", "hearing", "closing"]
    assert set_dates["claim"] == end_of(14)
    assert set_dates["hearing"] == end_of(56).replace(hour=10, minute=0)
    assert sorted(set_dates.values()) == list(set_dates.values())

    order = await ProceduralOrder.select().first()
    assert order["number"] == 1
    text = order["text"]
    assert text.startswith(f"Procedural Order no. 1 in case {ref}")
    lines = [
        f"1. Statement of claim, to be filed by the claimant by {day(14)} 23:59 UTC.",
        f"2. Statement of defence, to be filed by the respondent by {day(28)} 23:59 UTC.",
        f"3. Evidence, to be filed by both sides by {day(42)} 23:59 UTC.",
        f"4. Reply, to be filed by the claimant by {day(49)} 23:59 UTC.",
        f"5. Hearing: {day(56)} 10:00 UTC, at https://video.example/hearing-1.",
        f"6. Closing submissions, to be filed by both sides by {day(63)} 23:59 UTC.",
    ]
    assert [text.index(line) for line in lines] == sorted(text.index(line) for line in lines)
    assert order["sha256"] == hashlib.sha256(text.encode()).hexdigest()
    issued = [e for e in await chain(ref) if e["type"] == "order.issued"]
    assert issued[0]["body"] == {"number": 1, "sha256": order["sha256"], "text": text}

    # The first date is the case's deadline, the claimant's; everyone is told.
    case = await case_of(ref)
    assert case["deadline_at"].astimezone(UTC) == end_of(14)
    assert case["next_step_by"] == "claimant"
    for person in ("alice", "bob", "ada"):
        assert await Notification.exists().where(
            (Notification.user == people[person].id) & (Notification.kind == "arbitration_order")
        )
    room = page_text(await bob.get(f"/cases/{ref}"))
    assert "Procedural Order no. 1" in room and "https://video.example/hearing-1" in room

    # Set once; a later order is numbered 2.
    again = await ari.post(f"/cases/{ref}/tribunal/timetable", timetable_form())
    assert again.status_code == 409
    assert (await bob.post(f"/cases/{ref}/tribunal/orders", {"text": "x"})).status_code == 403
    empty = await ari.post(f"/cases/{ref}/tribunal/orders", {"text": " "})
    assert empty.status_code == 400 and "Write what the tribunal orders." in page_text(empty)
    await ok(await ari.post(f"/cases/{ref}/tribunal/orders",
                            {"text": "The parties file their documents in English."}))  # fmt: skip
    second = (
        await ProceduralOrder.select().order_by(ProceduralOrder.number, ascending=False).first()
    )
    assert second["number"] == 2
    assert "The parties file their documents in English." in second["text"]
    assert "Procedural Order no. 2" in page_text(await alice.get(f"/cases/{ref}"))


async def test_each_date_is_reminded_and_the_deadline_moves_on_when_it_passes(app, people, browser):
    _alice, _bob, _arbitrators, ref = await timetable_set(people, browser)
    keyring = app.state.keyring

    def reminded(person, kind: str):
        return Notification.exists().where(
            (Notification.user == people[person].id) & (Notification.kind == f"deadline_{kind}")
        )

    due = await dates(ref)
    advance_to(due["claim"] - timedelta(hours=18))
    result = await sweep(keyring=keyring)
    assert result.due_soon == 1
    assert await reminded("alice", "due_soon") and not await reminded("bob", "due_soon")

    advance_to(due["claim"] + timedelta(minutes=1))
    result = await sweep(keyring=keyring)
    assert result.overdue == 1 and await reminded("alice", "overdue")
    assert (await case_of(ref))["deadline_at"].astimezone(UTC) == due["claim"]
    # The reminder went out; the next sweep moves the deadline to the defence, bob's.
    await sweep(keyring=keyring)
    case = await case_of(ref)
    assert case["deadline_at"].astimezone(UTC) == due["defence"]
    assert case["next_step_by"] == "respondent"
    moves = [e["body"] for e in await chain(ref) if e["type"] == "timetable.next"]
    assert moves[-1]["step"] == "defence" and moves[-1]["owner"] == "respondent"

    advance_to(due["defence"] - timedelta(hours=12))
    result = await sweep(keyring=keyring)
    assert result.due_soon == 1 and await reminded("bob", "due_soon")

    # The hearing is the tribunal's; after closing, the award is, within 30 days.
    advance_to(due["reply"] + timedelta(minutes=1))
    for _ in range(6):
        await sweep(keyring=keyring)
    case = await case_of(ref)
    assert case["deadline_at"].astimezone(UTC) == due["hearing"]
    assert case["next_step_by"] == "arbitrator"
    advance_to(due["closing"] + timedelta(minutes=1))
    for _ in range(4):
        await sweep(keyring=keyring)
    case = await case_of(ref)
    assert case["deadline_at"].astimezone(UTC) == due["closing"] + timedelta(days=30)
    assert case["next_step_by"] == "arbitrator"
    assert await Notification.exists().where(
        (Notification.user == people["ari"].id) & (Notification.kind == "deadline_overdue")
    )


async def test_an_extension_refused_then_one_granted_moves_the_dates_by_a_new_order(
    people, browser
):
    alice, bob, (ari,), ref = await timetable_set(people, browser)
    steps = {
        r["step"]: r
        for r in await TimetableStep.select().where(
            TimetableStep.case == (await case_of(ref))["id"]
        )
    }
    defence = steps["defence"]
    ask = f"/cases/{ref}/tribunal/extensions"

    # A side asks only for a date it owes, within the ruleset's 30 days, with reasons.
    not_his = await bob.post(ask, {"step": str(steps["claim"]["id"]), "wanted_on": day(20),
                                   "reasons": "x"})  # fmt: skip
    assert not_his.status_code == 400 and "Choose a date your side owes." in page_text(not_his)
    too_long = await bob.post(ask, {"step": str(defence["id"]), "wanted_on": day(28 + 31),
                                    "reasons": "Travelling."})  # fmt: skip
    assert too_long.status_code == 400 and "at most 30 days" in page_text(too_long)
    no_reasons = await bob.post(ask, {"step": str(defence["id"]), "wanted_on": day(38)})
    assert no_reasons.status_code == 400 and "Say why you need more time." in page_text(no_reasons)
    arbitrator_asks = await ari.post(ask, {"step": str(defence["id"]), "wanted_on": day(38),
                                           "reasons": "x"})  # fmt: skip
    assert arbitrator_asks.status_code == 403
    assert not await Extension.exists()

    await ok(await bob.post(ask, {"step": str(defence["id"]), "wanted_on": day(38),
                                  "reasons": "My lawyer is abroad until then."}))  # fmt: skip
    first = await Extension.select().first()
    assert first["status"] == "pending"
    assert await Notification.exists().where(
        (Notification.user == people["ari"].id)
        & (Notification.kind == "arbitration_extension_asked")
    )
    twice = await bob.post(ask, {"step": str(defence["id"]), "wanted_on": day(40),
                                 "reasons": "Again."})  # fmt: skip
    assert twice.status_code == 409

    answer = f"/cases/{ref}/tribunal/extensions/{first['id']}/answer"
    assert (await alice.post(answer, {"decision": "grant"})).status_code == 403
    bare = await ari.post(answer, {"decision": "refuse"})
    assert bare.status_code == 400 and "Give the tribunal's reasons for refusing." in page_text(
        bare
    )
    await ok(await ari.post(answer, {"decision": "refuse",
                                     "reasons": "The defence was known for weeks."}))  # fmt: skip
    assert (await Extension.select().first())["status"] == "refused"
    assert (await dates(ref))["defence"] == end_of(28)
    assert await ProceduralOrder.count() == 1  # a refusal is no order
    assert await Notification.exists().where(
        (Notification.user == people["bob"].id)
        & (Notification.kind == "arbitration_extension_refused")
    )
    assert "The defence was known for weeks." in page_text(await bob.get(f"/cases/{ref}"))
    assert (await ari.post(answer, {"decision": "grant"})).status_code == 409

    # Asked again, for 20 days: granted. Every later date it would overtake moves as much.
    await ok(await bob.post(ask, {"step": str(defence["id"]), "wanted_on": day(48),
                                  "reasons": "A witness is in hospital."}))  # fmt: skip
    second = await Extension.select().order_by(Extension.id, ascending=False).first()
    await ok(await ari.post(f"/cases/{ref}/tribunal/extensions/{second['id']}/answer",
                            {"decision": "grant"}))  # fmt: skip
    moved = await dates(ref)
    assert moved["claim"] == end_of(14)
    assert moved["defence"] == end_of(48)
    assert moved["evidence"] == end_of(62) and moved["closing"] == end_of(83)
    assert sorted(moved.values()) == list(moved.values())
    order = await ProceduralOrder.select().order_by(ProceduralOrder.number, ascending=False).first()
    assert order["number"] == 2
    assert f"from {day(28)} 23:59 UTC to {day(48)} 23:59 UTC" in order["text"]
    assert "the evidence moves from" in order["text"]
    assert await Notification.exists().where(
        (Notification.user == people["bob"].id)
        & (Notification.kind == "arbitration_extension_granted")
    )
    granted = [e for e in await chain(ref) if e["type"] == "extension.granted"][-1]
    assert granted["body"]["order"] == 2
    assert (await case_of(ref))["deadline_at"].astimezone(UTC) == end_of(14)  # still the claim
