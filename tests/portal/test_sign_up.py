"""Signing up does not tell whether an address already has an account: the answer is
the same page either way, and the address is sent an email that says which it was,
through a real SMTP server, in the language of whoever reads it."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from dataclasses import replace
from email.message import EmailMessage

import pytest

from portal.accounts.tables import User
from portal.notifications.delivery import deliver_pending
from portal.notifications.tables import OutboundMail
from portal.settings import Settings
from tests.people import PASSWORD, Person
from tests.portal.test_mail_delivery import SMTPServer, free_port

NEW_PASSWORD = "another long passphrase"
CSRF_VALUE = re.compile(r'(?<=csrf=")[^"]+|(?<=csrf_token" value=")[^"]+')


@pytest.fixture
def smtp_server() -> Iterator[SMTPServer]:
    with SMTPServer(free_port()) as server:
        yield server


@pytest.fixture
def settings(settings: Settings, smtp_server: SMTPServer) -> Settings:
    return replace(settings, smtp_url=smtp_server.url)


async def mail_to(smtp_server: SMTPServer, settings: Settings, address: str) -> EmailMessage:
    """The one message `address` received (the portal's mailer may have sent it first)."""
    await deliver_pending(settings)
    for _ in range(200):  # a liveness bound on the app's own mailer, never a measurement
        found = [m for m in smtp_server.inbox.messages if m["To"] == address]
        if found:
            assert len(found) == 1, [m["Subject"] for m in found]
            return found[0]
        await asyncio.sleep(0.05)
    raise AssertionError(f"no mail reached {address}")


def body_of(message: EmailMessage) -> str:
    return message.get_content().replace("\r\n", "\n")


def as_any_address(html: str, address: str) -> str:
    """The page with the address it names, and its per-response CSRF mask, taken out."""
    return CSRF_VALUE.sub("CSRF", html.replace(address, "ADDRESS"))


async def sign_up(browser, email: str, name: str = "Someone"):
    b = await browser()
    form = {"name": name, "email": email, "password": NEW_PASSWORD, "password_again": NEW_PASSWORD}
    return await b.post("/signup", form)


async def test_sign_up_answers_alike_for_a_taken_and_a_new_address_and_the_mail_says_which(
    people: dict[str, Person], browser, smtp_server, settings
):
    taken = await sign_up(browser, "Alice@Example.com", name="Mallory")
    new = await sign_up(browser, "carol@example.com", name="Carol")

    assert taken.status_code == new.status_code == 200
    assert "Check your email" in taken.text
    assert as_any_address(taken.text, "alice@example.com") == as_any_address(
        new.text, "carol@example.com"
    )
    assert "already exists" not in taken.text

    # Alice's account is as it was: one account, her name, her password.
    rows = await User.select(User.name).where(User.email == "alice@example.com")
    assert rows == [{"name": "Alice"}]
    b = await browser()
    response = await b.post("/login", {"email": "alice@example.com", "password": PASSWORD})
    assert response.status_code == 303
    response = await b.post("/login", {"email": "alice@example.com", "password": NEW_PASSWORD})
    assert response.status_code == 400

    told = await mail_to(smtp_server, settings, "alice@example.com")
    assert told["Subject"] == "Someone tried to sign up with your address"
    assert body_of(told).startswith("Hello Alice,\n")
    assert "no new account was made" in body_of(told)
    assert "http://portal.test/login\n" in body_of(told)
    assert "http://portal.test/password/forgot\n" in body_of(told)

    welcomed = await mail_to(smtp_server, settings, "carol@example.com")
    assert welcomed["Subject"] == "Your dispute portal account is ready"
    assert body_of(welcomed).startswith("Hello Carol,\n")
    assert "http://portal.test/login\n" in body_of(welcomed)


async def test_the_mail_to_an_existing_account_is_in_its_owners_language(
    people: dict[str, Person], browser, smtp_server, settings
):
    await User.update({User.language: "zh_Hans"}).where(User.id == people["bob"].id)
    response = await sign_up(browser, "bob@example.com")
    assert response.status_code == 200
    told = await mail_to(smtp_server, settings, "bob@example.com")
    assert told["Subject"] == "有人尝试用您的邮箱地址注册"
    assert "http://portal.test/password/forgot\n" in body_of(told)


async def test_signing_up_again_and_again_does_not_flood_the_owners_inbox(
    people: dict[str, Person], browser, smtp_server, settings
):
    for _ in range(5):
        response = await sign_up(browser, "eve@example.com")
        assert response.status_code == 200 and "Check your email" in response.text
    rows = await OutboundMail.select(OutboundMail.subject).where(
        OutboundMail.to_address == "eve@example.com"
    )
    assert [r["subject"] for r in rows] == ["Someone tried to sign up with your address"] * 3
