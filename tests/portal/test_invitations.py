"""Single-use links: invitations to choose a first password, and password resets."""

from __future__ import annotations

import asyncio
import hashlib
import re
from datetime import UTC, datetime, timedelta

import pyotp

from portal.accounts.tables import AccountToken, User
from portal.notifications.tables import OutboundMail
from tests.people import PASSWORD

NEW_PASSWORD = "a different, longer passphrase"
LINK = re.compile(r"http://portal\.test(/(?:invite|password/reset)/[A-Za-z0-9_-]+)")


async def mails_to(address: str) -> list[dict]:
    return (
        await OutboundMail.select()
        .where(OutboundMail.to_address == address)
        .order_by(OutboundMail.id)
    )


async def link_in_last_mail(address: str) -> str:
    """The path of the link in the newest email to `address`."""
    mails = await mails_to(address)
    assert mails, f"no email to {address}"
    found = LINK.search(mails[-1]["body"])
    assert found, mails[-1]["body"]
    return found.group(1)


async def invite(b, **fields):
    """`b` is the supervisor's browser."""
    form = {
        "name": "Nadia Mediator",
        "email": "nadia@example.com",
        "role": "mediator",
        "language": "en",
        **fields,
    }
    response = await b.post("/admin/users/invite", form)
    assert response.status_code == 201, response.text
    return response


async def test_an_invited_mediator_chooses_a_password_and_the_link_works_once(people, browser):
    response = await invite(await browser(people["sue"]))
    assert "Invitation sent" in response.text and "nadia@example.com" in response.text
    nadia = await User.select().where(User.email == "nadia@example.com").first()
    assert nadia["role"] == "mediator" and nadia["password_hash"] == ""

    [mail] = await mails_to("nadia@example.com")
    assert mail["subject"] == "You are invited to the dispute portal"
    assert "Sue has invited you to the dispute portal as Mediator." in mail["body"]
    path = await link_in_last_mail("nadia@example.com")
    token = path.removeprefix("/invite/")

    # Only the SHA-256 of the token is kept, and it lives for seven days.
    [row] = await AccountToken.select().where(AccountToken.user == nadia["id"])
    assert row["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert row["purpose"] == "invite" and row["created_by"] == people["sue"].id
    assert token not in repr(await AccountToken.select())
    expires = row["expires_at"].replace(tzinfo=row["expires_at"].tzinfo or UTC)
    assert timedelta(days=6, hours=23) < expires - datetime.now(UTC) <= timedelta(days=7)

    visitor = await browser()
    page = await visitor.get(path)
    assert page.status_code == 200 and "Welcome, Nadia Mediator" in page.text
    weak = await visitor.post(path, {"password": "short", "password_again": "short"})
    assert weak.status_code == 400 and "Use at least 10 characters." in weak.text
    assert (await AccountToken.select().where(AccountToken.id == row["id"]).first())[
        "used_at"
    ] is None

    accepted = await visitor.post(path, {"password": PASSWORD, "password_again": PASSWORD})
    assert accepted.status_code == 303
    assert accepted.headers["location"] == "/account/second-factor"
    assert (await visitor.get("/account/second-factor")).status_code == 200  # logged in

    stored = (await User.select().where(User.id == nadia["id"]).first())["password_hash"]
    assert stored.startswith("$argon2id$")
    again = await (await browser()).post(
        path, {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD}
    )
    assert again.status_code == 410 and "already been used" in again.text, again.text[-1200:]
    assert (await (await browser()).get(path)).status_code == 410
    assert (await User.select().where(User.id == nadia["id"]).first())["password_hash"] == stored

    login = await (await browser()).post(
        "/login", {"email": "nadia@example.com", "password": PASSWORD}
    )
    assert login.status_code == 303


async def test_staff_created_by_a_supervisor_choose_their_own_password(people, browser):
    sue = await browser(people["sue"])
    form = await sue.get("/admin/users/new")
    assert form.status_code == 200 and "New staff account" in form.text
    wrong_role = await sue.post(
        "/admin/users/new", {"name": "Otto", "email": "otto@example.com", "role": "mediator"}
    )
    assert wrong_role.status_code == 400 and "Choose one of the roles offered." in wrong_role.text
    taken = await sue.post(
        "/admin/users/new", {"name": "Ada 2", "email": "ada@example.com", "role": "agent"}
    )
    assert taken.status_code == 400 and "already exists" in taken.text
    created = await sue.post(
        "/admin/users/new",
        {"name": "Otto Agent", "email": "Otto@Example.com", "role": "agent", "language": "zh_Hans"},
    )
    assert created.status_code == 201
    otto = await User.select().where(User.email == "otto@example.com").first()
    assert (otto["role"], otto["language"], otto["password_hash"]) == ("agent", "zh_Hans", "")

    path = await link_in_last_mail("otto@example.com")
    b = await browser()
    response = await b.post(path, {"password": PASSWORD, "password_again": PASSWORD})
    assert response.headers["location"] == "/account/second-factor"
    enrol = await b.get("/account/second-factor")
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', enrol.text).group(1)
    response = await b.post("/account/second-factor", {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 303
    assert (await User.select().where(User.id == otto["id"]).first())["totp_enabled"]


async def test_an_expired_invitation_is_refused_and_a_new_one_works(people, browser):
    sue = await browser(people["sue"])
    await invite(sue)
    path = await link_in_last_mail("nadia@example.com")
    await AccountToken.update(
        {AccountToken.expires_at: datetime.now(UTC) - timedelta(minutes=1)}
    ).where(AccountToken.purpose == "invite")

    visitor = await browser()
    page = await visitor.get(path)
    assert page.status_code == 410 and "This invitation has expired." in page.text
    response = await visitor.post(path, {"password": PASSWORD, "password_again": PASSWORD})
    assert response.status_code == 410 and "expired" in response.text
    assert (await User.select().where(User.email == "nadia@example.com").first())[
        "password_hash"
    ] == ""

    nadia_id = (await User.select(User.id).where(User.email == "nadia@example.com").first())["id"]
    assert "Send a new invitation" in (await sue.get("/admin/users")).text
    resent = await sue.post(f"/admin/users/{nadia_id}/invite-again")
    assert resent.status_code == 200 and "Invitation sent" in resent.text
    fresh = await link_in_last_mail("nadia@example.com")
    assert fresh != path
    response = await visitor.post(fresh, {"password": PASSWORD, "password_again": PASSWORD})
    assert response.status_code == 303


async def test_an_unknown_link_says_so(browser):
    b = await browser()
    page = await b.get("/invite/not-a-real-token")
    assert page.status_code == 404 and "This invitation link is not valid." in page.text
    page = await b.get("/password/reset/not-a-real-token")
    assert page.status_code == 404 and "This password reset link is not valid." in page.text


async def test_two_racing_uses_of_one_invitation_succeed_once(people, browser):
    await invite(await browser(people["sue"]))
    path = await link_in_last_mail("nadia@example.com")
    first, second = await browser(), await browser()
    await first.get(path)
    await second.get(path)
    responses = await asyncio.gather(
        first.post(path, {"password": PASSWORD, "password_again": PASSWORD}),
        second.post(path, {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD}),
    )
    assert sorted(r.status_code for r in responses) == [303, 410]


async def test_a_deactivated_invitees_link_does_not_work(people, browser):
    await invite(await browser(people["sue"]))
    path = await link_in_last_mail("nadia@example.com")
    await User.update({User.active: False}).where(User.email == "nadia@example.com")
    response = await (await browser()).post(
        path, {"password": PASSWORD, "password_again": PASSWORD}
    )
    assert response.status_code == 410 and "deactivated" in response.text
    assert (await User.select().where(User.email == "nadia@example.com").first())[
        "password_hash"
    ] == ""


async def test_password_reset_does_not_tell_whether_an_account_exists(people, browser):
    b = await browser()
    assert "Forgot your password?" in (await b.get("/password/forgot")).text
    known = await b.post("/password/forgot", {"email": "alice@example.com"})
    unknown = await b.post("/password/forgot", {"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 200
    assert "If an account exists for alice@example.com" in known.text
    assert known.text.replace("alice@", "nobody@") == unknown.text.replace(
        # The CSRF token in the page differs per response; compare the rest.
        re.search(r'data-csrf="([^"]*)"', unknown.text).group(1),
        re.search(r'data-csrf="([^"]*)"', known.text).group(1),
    )
    assert await mails_to("nobody@example.com") == []
    [mail] = await mails_to("alice@example.com")
    assert mail["subject"] == "Reset your password for the dispute portal"
    assert "within 60 minutes" in mail["body"]


async def test_a_reset_link_sets_a_new_password_once_and_ends_every_session(people, browser):
    alice = people["alice"]
    logged_in = await browser(alice)
    assert (await logged_in.get("/account")).status_code == 200

    b = await browser()
    await b.post("/password/forgot", {"email": "alice@example.com"})
    path = await link_in_last_mail("alice@example.com")
    token = path.removeprefix("/password/reset/")
    [row] = await AccountToken.select().where(AccountToken.purpose == "reset")
    assert row["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert token not in repr(await AccountToken.select())

    page = await b.get(path)
    assert page.status_code == 200 and "alice@example.com" in page.text
    mismatch = await b.post(path, {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD + "!"})
    assert mismatch.status_code == 400 and "The two passwords differ" in mismatch.text
    done = await b.post(path, {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD})
    assert done.status_code == 200 and "Password changed" in done.text

    # The browser that was logged in is logged out on its very next request.
    response = await logged_in.get("/account")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    old = await b.post("/login", {"email": alice.email, "password": PASSWORD})
    assert old.status_code == 400
    new = await b.post("/login", {"email": alice.email, "password": NEW_PASSWORD})
    assert new.status_code == 303

    again = await (await browser()).post(path, {"password": PASSWORD, "password_again": PASSWORD})
    assert again.status_code == 410 and "already been used" in again.text, again.text[-1200:]
    relogin = await (await browser()).post(
        "/login", {"email": alice.email, "password": NEW_PASSWORD}
    )
    assert relogin.status_code == 303


async def test_an_expired_reset_link_is_refused(people, browser):
    b = await browser()
    await b.post("/password/forgot", {"email": "alice@example.com"})
    path = await link_in_last_mail("alice@example.com")
    await AccountToken.update(
        {AccountToken.expires_at: datetime.now(UTC) - timedelta(seconds=1)}
    ).where(AccountToken.purpose == "reset")
    response = await b.post(path, {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD})
    assert response.status_code == 410 and "has expired" in response.text
    assert "/password/forgot" in response.text  # what to do instead
    login = await b.post("/login", {"email": "alice@example.com", "password": PASSWORD})
    assert login.status_code == 303


async def test_at_most_three_reset_emails_an_hour(people, browser):
    b = await browser()
    for _ in range(5):
        response = await b.post("/password/forgot", {"email": "alice@example.com"})
        assert response.status_code == 200 and "If an account exists" in response.text
    assert len(await mails_to("alice@example.com")) == 3
    # An hour later the account may ask again.
    await AccountToken.update(
        {AccountToken.created_at: datetime.now(UTC) - timedelta(hours=1, minutes=1)}
    ).where(AccountToken.purpose == "reset")
    await b.post("/password/forgot", {"email": "alice@example.com"})
    assert len(await mails_to("alice@example.com")) == 4


async def test_an_old_invitation_does_not_replace_a_password_chosen_since(people, browser):
    await invite(await browser(people["sue"]))
    invitation = await link_in_last_mail("nadia@example.com")
    b = await browser()
    # Nadia lost the invitation and asked for a reset link instead.
    await b.post("/password/forgot", {"email": "nadia@example.com"})
    reset = await link_in_last_mail("nadia@example.com")
    assert reset.startswith("/password/reset/")
    await b.post(reset, {"password": PASSWORD, "password_again": PASSWORD})
    chosen = (await User.select().where(User.email == "nadia@example.com").first())["password_hash"]
    assert chosen

    response = await b.post(invitation, {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD})
    assert response.status_code == 410 and "already been used" in response.text
    assert (await User.select().where(User.email == "nadia@example.com").first())[
        "password_hash"
    ] == chosen
