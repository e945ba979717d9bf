"""Who may do what while a case is in mediation: every mediation route, for every person.

The case: alice's claim against bob, in mediation with mona at work; ada is the agent,
lee from legal reads it, sue supervises, eve is on no case. The answers come from the
policy (`portal.procedure.policy.CaseAccess`), which these rows pin down; a form left empty is
answered 400 to whoever may use it, so that 400 means "allowed, fix the form".
"""

from __future__ import annotations

from tests.mediation.test_journeys import appointed, in_mediation
from tests.portal.test_case_room import join

PEOPLE = ("alice", "bob", "mona", "ada", "sue", "lee", "eve")


def expect(default: int, **exceptions: int) -> dict[str, int]:
    table = {name: exceptions.get(name, default) for name in PEOPLE}
    table.setdefault("eve", 404)
    table["eve"] = exceptions.get("eve", 404)
    return table


def rows(ids: dict[str, int]) -> list[tuple[str, str, dict[str, str], dict[str, int]]]:
    alice, bob = ids["alice"], ids["bob"]
    return [
        # A mediator is at work: proposing another is a conflict, not a permission.
        ("POST", "/mediation/propose", {}, expect(403, sue=409)),
        ("POST", "/mediation/answer", {"answer": "agree"}, expect(403, alice=409, bob=409)),
        ("POST", "/mediation/extend", {}, expect(403, mona=400)),
        ("POST", "/mediation/offers", {}, expect(403, alice=400, bob=400, mona=400)),
        ("POST", "/mediation/sign", {}, expect(403, alice=400, bob=400, mona=400)),
        ("GET", "/mediation/settlement.pdf", {}, expect(404)),
        # The caucuses: each side with the mediator only.
        ("GET", f"?channel=caucus&party={alice}", {}, expect(404, alice=200, mona=200)),
        ("GET", f"?channel=caucus&party={bob}", {}, expect(404, bob=200, mona=200)),
        ("GET", f"/statements?channel=caucus&party={alice}", {}, expect(404, alice=200, mona=200)),
        ("POST", "/statements", {"channel": "caucus", "party": str(bob), "text": "Hi"},
         expect(404, bob=200, mona=200)),
        ("GET", "", {}, expect(200)),
    ]  # fmt: skip


async def test_every_mediation_route_for_every_person(people, browser):
    alice, ada, ref = await in_mediation(people, browser)
    sue, mona = await appointed(people, browser, ref)
    await join(ref, people["lee"], "legal")
    # Staff log in once each here: a second-factor code works only once.
    opened = {"alice": alice, "ada": ada, "sue": sue, "mona": mona}
    browsers = {name: opened.get(name) or await browser(people[name]) for name in PEOPLE}
    ids = {name: people[name].id for name in PEOPLE}
    wrong = []
    for method, path, form, table in rows(ids):
        url = f"/cases/{ref}{path}"
        for name, status in table.items():
            b = browsers[name]
            if method == "GET":
                response = await b.get(url)
            else:
                response = await b.post(url, form, htmx=path == "/statements")
            if response.status_code != status:
                wrong.append(f"{method} {path} as {name}: {response.status_code}, not {status}")
    assert not wrong, "\n".join(wrong)
