"""Guessing a password or a second-factor code is slowed down, then locked, with a
message that says until when; a stranger's guesses never lock the owner out.

The lock itself is tested in tests/portal/test_login.py
(test_password_guessing_is_locked_with_a_clear_message,
test_guessing_across_many_accounts_locks_the_address). Here: that each guess past the
free ones is made to wait longer than the one before (the waits the portal asks for
are recorded, never timed); that the lock holds for the guesser's address and that
account from it, while the owner logs in from their own address (slowed, and told by
email); and that guessing the six-digit code locks the account.
"""

from __future__ import annotations

import asyncio
import types

import httpx

from portal.accounts import throttle
from portal.accounts.tables import LoginAttempt
from portal.notifications.tables import Notification, OutboundMail
from tests.people import PASSWORD, Browser, Person

WRONG = "not the password!"


async def test_each_wrong_password_past_the_free_ones_waits_longer_then_the_pair_locks(
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
    for _attempt in range(throttle.PAIR_LIMIT):
        response = await b.post("/login", {"email": "alice@example.com", "password": WRONG})
        assert "The email address or password is not right." in response.text
        asked.append(list(waits))
        waits.clear()

    assert asked[: throttle.FREE_ATTEMPTS + 1] == [[]] * (throttle.FREE_ATTEMPTS + 1)
    slowed = [wait for attempt in asked[throttle.FREE_ATTEMPTS + 1 :] for wait in attempt]
    assert len(slowed) == throttle.PAIR_LIMIT - throttle.FREE_ATTEMPTS - 1
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
    for _attempt in range(throttle.CODE_LIMIT):
        response = await b.post("/login/code", {"code": wrong})
        assert response.status_code == 400 and "That code is not right" in response.text

    response = await b.post("/login/code", {"code": right})
    assert response.status_code == 400
    assert "Too many failed logins for this account. Try again after" in response.text
    assert (await b.get("/cases")).status_code != 200


async def browser_at(app, address: str) -> Browser:
    """A browser on another network: the portal sees `address` as the client."""
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=(address, 40000)),
        base_url="http://portal.test",
    )
    b = Browser(client)
    await b.get("/login")
    return b


async def test_a_strangers_guesses_lock_the_stranger_but_never_the_owner(
    people: dict[str, Person], app, browser, monkeypatch
):
    alice = people["alice"]
    stranger = await browser_at(app, "198.51.100.66")
    for _attempt in range(throttle.PAIR_LIMIT):
        response = await stranger.post("/login", {"email": alice.email, "password": WRONG})
        assert "The email address or password is not right." in response.text
    # The stranger is locked out of alice's account, even with her password...
    response = await stranger.post("/login", {"email": alice.email, "password": alice.password})
    assert response.status_code == 400
    assert "Too many failed logins for this account. Try again after" in response.text

    # ...while alice, from her own address, is slowed (the waits are recorded) but let in.
    waits: list[float] = []
    real_sleep = asyncio.sleep

    async def recorded_sleep(seconds: float) -> None:
        waits.append(seconds)
        await real_sleep(seconds)

    monkeypatch.setattr(throttle, "asyncio", types.SimpleNamespace(sleep=recorded_sleep))
    own = await browser()
    response = await own.post("/login", {"email": alice.email, "password": alice.password})
    assert response.status_code == 303 and response.headers["location"] == "/cases"
    assert waits and waits[0] > 0
    # Her success forgets her own address's failures only: the stranger stays locked.
    response = await stranger.post("/login", {"email": alice.email, "password": alice.password})
    assert "Too many failed logins for this account" in response.text

    # The stranger's address is locked for every account once it has guessed enough.
    for number in range(throttle.ADDRESS_LIMIT - throttle.PAIR_LIMIT):
        await stranger.post("/login", {"email": f"someone{number}@example.com", "password": WRONG})
    response = await stranger.post("/login", {"email": people["bob"].email, "password": PASSWORD})
    assert "Too many failed logins from your network. Try again after" in response.text
    response = await own.post("/logout")
    response = await own.post("/login", {"email": people["bob"].email, "password": PASSWORD})
    assert response.status_code == 303


async def test_guessing_spread_over_many_addresses_never_locks_and_tells_the_owner_once(
    people: dict[str, Person], app, browser
):
    bob = people["bob"]
    for n in range(throttle.NOTICE_AFTER + 2):
        guesser = await browser_at(app, f"192.0.2.{n + 1}")
        response = await guesser.post("/login", {"email": bob.email, "password": WRONG})
        assert "The email address or password is not right." in response.text
    assert await LoginAttempt.count().where(LoginAttempt.account == bob.email) == (
        throttle.NOTICE_AFTER + 2
    )
    notes = await Notification.select().where(Notification.user == bob.id)
    assert [n["kind"] for n in notes] == ["login_guessing"]
    [mail] = await OutboundMail.select().where(OutboundMail.to_address == bob.email)
    assert mail["subject"] == "Failed logins to your dispute portal account"
    assert f"wrong password {throttle.NOTICE_AFTER} times" in mail["body"]
    assert f"from {throttle.NOTICE_AFTER} different network addresses" in mail["body"]
    assert "http://portal.test/password/forgot" in mail["body"]

    b = await browser()
    response = await b.post("/login", {"email": bob.email, "password": bob.password})
    assert response.status_code == 303
