"""`portal user create`, run as an operator runs it: in a shell, on a real database."""

from __future__ import annotations

import re

import pytest

from portal.accounts.tables import User
from tests.people import PASSWORD
from tests.support import portal_env, run_portal


@pytest.fixture
def env(db, tmp_path):
    return portal_env(db.url, tmp_path, PORTAL_BASE_URL="http://portal.test")


async def test_without_a_password_it_prints_a_link_to_choose_one(app, env, browser):
    result = run_portal(
        "user",
        "create",
        "--email",
        "Rita@Example.com",
        "--name",
        "Rita Root",
        "--role",
        "supervisor",
        env=env,
    )
    assert "Created supervisor account" in result.stdout
    link = re.search(r"^http://portal\.test(/invite/[A-Za-z0-9_-]{40,})$", result.stdout, re.M)
    assert link, result.stdout
    rita = await User.select().where(User.email == "rita@example.com").first()
    assert (rita["name"], rita["role"], rita["password_hash"]) == ("Rita Root", "supervisor", "")

    b = await browser()
    page = await b.get(link.group(1))
    assert page.status_code == 200 and "Welcome, Rita Root" in page.text
    response = await b.post(link.group(1), {"password": PASSWORD, "password_again": PASSWORD})
    assert response.status_code == 303
    assert response.headers["location"] == "/account/second-factor"
    assert (await b.get(link.group(1))).status_code == 410


async def test_with_a_password_the_account_can_log_in(app, env, browser):
    run_portal(
        "user",
        "create",
        "--email",
        "ian@example.com",
        "--name",
        "Ian Vest",
        "--role",
        "investigator",
        "--password",
        PASSWORD,
        env=env,
    )
    b = await browser()
    response = await b.post("/login", {"email": "ian@example.com", "password": PASSWORD})
    assert response.status_code == 303
    page = await b.get("/account")
    assert "ian@example.com · Investigator" in page.text and 'value="Ian Vest"' in page.text
    # No second factor yet: the settings page says the role needs one.
    assert "Your role needs it before you can see any case." in page.text


async def test_refuses_an_unknown_role_a_taken_address_and_a_weak_password(db, env):
    result = run_portal(
        "user",
        "create",
        "--email",
        "x@example.com",
        "--name",
        "X",
        "--role",
        "boss",
        env=env,
        check=False,
    )
    assert result.returncode == 1
    assert "Unknown role 'boss': choose one of agent, investigator" in result.stderr
    assert "Nothing was created." in result.stderr
    party = run_portal(
        "user",
        "create",
        "--email",
        "x@example.com",
        "--name",
        "X",
        "--role",
        "party",
        env=env,
        check=False,
    )
    assert party.returncode == 1 and "Unknown role 'party'" in party.stderr
    assert await User.count() == 0

    run_portal(
        "user", "create", "--email", "a@example.com", "--name", "A", "--role", "agent", env=env
    )
    again = run_portal(
        "user",
        "create",
        "--email",
        "a@example.com",
        "--name",
        "A",
        "--role",
        "agent",
        env=env,
        check=False,
    )
    assert again.returncode == 1
    assert "An account with this email address already exists." in again.stderr
    weak = run_portal(
        "user",
        "create",
        "--email",
        "b@example.com",
        "--name",
        "B",
        "--role",
        "agent",
        "--password",
        "short",
        env=env,
        check=False,
    )
    assert weak.returncode == 1 and "--password: Use at least 10 characters." in weak.stderr
    assert await User.count() == 1
