"""Guessing a password or a second-factor code is slowed down, then locked, with a
message that says until when.

The lock itself is tested in tests/portal/test_login.py
(test_password_guessing_is_locked_with_a_clear_message,
test_guessing_across_many_accounts_locks_the_address). Here: that each guess past the
free ones is made to wait longer than the one before (the waits the portal asks for
are recorded, never timed), and that guessing the six-digit code is locked like
guessing the password.
"""

from __future__ import annotations

import asyncio
import types

from portal.accounts import throttle
from tests.people import Person

WRONG = "not the password!"


async def test_each_wrong_password_past_the_free_ones_waits_longer_then_the_account_locks(
    people: dict[str, Person], browser, monkeypatch
):
    waits: list[float] = []
    real_sleep = asyncio.sleep

    async def recorded_sleep(seconds: float) -> None:
        waits.append(seconds)
        await real_sleep(seconds)  # the wait still happens: only its length is noted

    monkeypatch.setattr(throttle, "asyncio", types.SimpleNamespace(sleep=recorded_sleep))
    b = await browser()
    asked = []
    for _attempt in range(throttle.ACCOUNT_LIMIT):
        response = await b.post("/login", {"email": "alice@example.com", "password": WRONG})
        assert "The email address or password is not right." in response.text
        asked.append(list(waits))
        waits.clear()

    assert asked[: throttle.FREE_ATTEMPTS + 1] == [[]] * (throttle.FREE_ATTEMPTS + 1)
    slowed = [wait for attempt in asked[throttle.FREE_ATTEMPTS + 1 :] for wait in attempt]
    assert len(slowed) == throttle.ACCOUNT_LIMIT - throttle.FREE_ATTEMPTS - 1
    assert slowed == sorted(set(slowed)) and slowed[0] > 0 and slowed[-1] <= throttle.MAX_DELAY

    response = await b.post(
        "/login", {"email": "alice@example.com", "password": people["alice"].password}
    )
    assert response.status_code == 400
    assert "Too many failed logins for this account. Try again after" in response.text
    assert "or reset your password" in response.text


async def test_guessing_the_second_factor_code_locks_the_account(
    people: dict[str, Person], browser
):
    ada = people["ada"]
    right = ada.code()
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    b = await browser()
    response = await b.post("/login", {"email": ada.email, "password": ada.password})
    assert response.headers["location"] == "/login/code"
    for _attempt in range(throttle.ACCOUNT_LIMIT):
        response = await b.post("/login/code", {"code": wrong})
        assert response.status_code == 400 and "That code is not right" in response.text

    response = await b.post("/login/code", {"code": right})
    assert response.status_code == 400
    assert "Too many failed logins for this account. Try again after" in response.text
    assert (await b.get("/cases")).status_code != 200
