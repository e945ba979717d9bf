"""Signing up, logging in and out, CSRF, guessing limits, and the second factor."""

from __future__ import annotations

import asyncio

import pytest

from portal.accounts.tables import LoginAttempt, User, WebSession
from tests.people import PASSWORD


async def test_sign_up_then_log_in_and_out(browser):
    b = await browser()
    page = await b.get("/signup")
    assert page.status_code == 200 and "Create your account" in page.text
    response = await b.post(
        "/signup",
        {
            "name": "Alice Chen",
            "email": "Alice@Example.com",
            "password": PASSWORD,
            "password_again": PASSWORD,
        },
    )
    # The answer is "check your email", as it is for an address that has an account
    # (tests/portal/test_sign_up.py): being logged in at once would tell them apart.
    assert response.status_code == 200 and "Check your email" in response.text
    user = await User.select().where(User.email == "alice@example.com").first()
    assert user["password_hash"].startswith("$argon2id$")

    response = await b.post("/login", {"email": "alice@example.com", "password": PASSWORD})
    assert response.status_code == 303 and response.headers["location"] == "/cases"
    assert (await b.get("/account/second-factor")).status_code == 200  # logged in
    await b.post("/logout")
    assert (await b.get("/account/second-factor")).headers["location"].startswith("/login")


async def test_sign_up_form_keeps_input_and_names_each_mistake(browser):
    b = await browser()
    response = await b.post(
        "/signup",
        {"name": "Alice", "email": "not-an-email", "password": "short", "password_again": "other"},
    )
    assert response.status_code == 400
    assert 'value="Alice"' in response.text and 'value="not-an-email"' in response.text
    assert "Enter an email address like name@example.com." in response.text
    assert "Use at least 10 characters." in response.text
    assert "The two passwords differ" in response.text
    assert await User.count() == 0


async def test_a_form_without_csrf_token_is_refused(people, browser):
    b = await browser()
    response = await b.post(
        "/login", {"email": "alice@example.com", "password": PASSWORD}, csrf=False
    )
    assert response.status_code == 403
    assert "Your form has expired" in response.text


async def test_a_session_cookie_stops_working_after_logout(people, browser):
    alice = people["alice"]
    first = await browser(alice)
    stolen = first.client.cookies.get("portal_session")
    await first.post("/logout")
    assert await WebSession.count().where(WebSession.key == stolen) == 0
    thief = await browser()
    thief.client.cookies.set("portal_session", stolen, domain="portal.test")
    response = await thief.get("/account/second-factor")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


async def test_login_gives_a_new_session_id(people, browser):
    b = await browser()
    await b.get("/login")
    b.client.cookies.set("portal_session", "a" * 64, domain="portal.test")  # planted
    await b.log_in(people["alice"])
    assert b.client.cookies.get("portal_session", domain="portal.test") != "a" * 64
    assert await WebSession.count().where(WebSession.key == "a" * 64) == 0


async def test_password_guessing_is_locked_with_a_clear_message(people, browser):
    # From this address, for this account: tests/security/test_guessing.py shows that
    # the same guesses from elsewhere do not lock its owner out.
    b = await browser()
    for _ in range(5):
        response = await b.post(
            "/login", {"email": "alice@example.com", "password": "wrong guess!"}
        )
        assert response.status_code == 400
        assert "The email address or password is not right." in response.text
    response = await b.post("/login", {"email": "alice@example.com", "password": PASSWORD})
    assert response.status_code == 400
    assert "Too many failed logins for this account. Try again after" in response.text


async def test_an_overlong_email_is_refused_before_anything_is_stored(people, browser):
    b = await browser()
    for email in ("a" * 250 + "@example.com", "x" * 100_000):
        response = await b.post("/login", {"email": email, "password": "a guess!!"})
        assert response.status_code == 400
        assert "An email address has at most 254 characters" in response.text
    assert await LoginAttempt.count() == 0
    # An address of the longest allowed length is counted as before.
    longest = "b" * 242 + "@example.com"
    assert len(longest) == 254
    response = await b.post("/login", {"email": longest, "password": "a guess!!"})
    assert "The email address or password is not right." in response.text
    assert await LoginAttempt.count() == 1


async def test_a_deactivated_account_is_logged_out_at_once(people, browser):
    b = await browser(people["alice"])
    assert (await b.get("/account/second-factor")).status_code == 200
    await User.update({User.active: False, User.session_epoch: User.session_epoch + 1}).where(
        User.id == people["alice"].id
    )
    assert (await b.get("/account/second-factor")).status_code == 303
    response = await b.post("/login", {"email": "alice@example.com", "password": PASSWORD})
    assert "This account has been deactivated" in response.text


async def test_staff_must_pass_the_second_factor(people, browser):
    ada = people["ada"]
    b = await browser()
    response = await b.post("/login", {"email": ada.email, "password": ada.password})
    assert response.headers["location"] == "/login/code"
    # Not logged in yet: a page that needs a login sends back to it.
    assert (await b.get("/cases")).status_code in (303, 404)
    response = await b.post(
        "/login/code", {"code": "000000" if ada.code() != "000000" else "111111"}
    )
    assert response.status_code == 400 and "That code is not right" in response.text
    code = ada.code()
    response = await b.post("/login/code", {"code": code})
    assert response.status_code == 303
    # The same code cannot be used twice.
    other = await browser()
    await other.post("/login", {"email": ada.email, "password": ada.password})
    response = await other.post("/login/code", {"code": code})
    assert response.status_code == 400


@pytest.mark.parametrize(
    "header,expected", [("zh-CN,zh;q=0.9,en;q=0.8", "登录"), ("en-GB", "Log in")]
)
async def test_language_follows_the_browser_until_chosen(browser, header, expected):
    b = await browser()
    page = await b.get("/login", headers={"Accept-Language": header})
    assert expected in page.text


async def test_guessing_across_many_accounts_locks_the_address(people, browser):
    b = await browser()
    # All at once, as a guessing script would: the slowing-down overlaps.
    responses = await asyncio.gather(
        *[
            b.post("/login", {"email": f"someone{number}@example.com", "password": "a guess!!"})
            for number in range(20)
        ]
    )
    assert all("The email address or password is not right." in r.text for r in responses)
    # Even the right password for a real account is refused from this address now.
    response = await b.post("/login", {"email": "alice@example.com", "password": PASSWORD})
    assert response.status_code == 400
    assert "Too many failed logins from your network. Try again after" in response.text
