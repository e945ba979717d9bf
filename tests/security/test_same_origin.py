"""A form another website makes a logged-in browser send is refused by its `Origin`
(or, when the browser sends none, its `Referer`), even with a valid CSRF token; the
portal's own forms, and clients that send neither header, work as before."""

from __future__ import annotations

import pytest

from portal.accounts.tables import User
from tests.people import Person

SWITCH = {"language": "zh_Hans", "next": "/cases"}


async def language_of(person: Person) -> str:
    row = await User.select(User.language).where(User.id == person.id).first()
    return row["language"]


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "http://portal.test.evil.example"},
        {"Origin": "null"},  # a sandboxed frame, a page opened from a file
        {"Referer": "https://evil.example/forms/attack.html"},
        {"Origin": "https://evil.example", "Referer": "http://portal.test/cases"},
    ],
    ids=["origin", "lookalike-origin", "null-origin", "referer-only", "origin-wins"],
)
async def test_an_unsafe_request_from_another_site_is_refused_and_changes_nothing(
    people: dict[str, Person], browser, headers
):
    alice = people["alice"]
    b = await browser(alice)
    response = await b.post("/language", SWITCH, headers=headers)
    assert response.status_code == 403
    assert "sent from another website" in response.text
    assert "Nothing was changed" in response.text or "nothing was changed" in response.text
    assert await language_of(alice) == "en"


async def test_a_login_from_another_site_opens_no_session(people: dict[str, Person], browser):
    b = await browser()
    response = await b.post(
        "/login",
        {"email": people["alice"].email, "password": people["alice"].password},
        headers={"Referer": "https://evil.example/login"},
    )
    assert response.status_code == 403
    assert (await b.get("/account/second-factor")).status_code == 303  # still logged out


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://portal.test"},
        {"Referer": "http://portal.test/cases?x=1"},
        {"Origin": "http://PORTAL.test:80"},  # the same origin, written otherwise
        {},  # neither header (an API client, curl): CSRF decides, as before
    ],
    ids=["origin", "referer", "origin-with-default-port", "no-header"],
)
async def test_the_portals_own_forms_are_accepted(people: dict[str, Person], browser, headers):
    alice = people["alice"]
    b = await browser(alice)
    response = await b.post("/language", SWITCH, headers=headers)
    assert response.status_code == 303
    assert await language_of(alice) == "zh_Hans"
