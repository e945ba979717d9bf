"""The supervisor's user pages, and every person's own settings page."""

from __future__ import annotations

import re

import pytest

from portal.accounts.tables import User
from tests.people import PASSWORD

NEW_PASSWORD = "a different, longer passphrase"


def logged_out(response) -> bool:
    return response.status_code == 303 and response.headers["location"].startswith("/login")


def row_of(page, user_id: int) -> str:
    """The HTML of one account's row in the user list."""
    found = re.search(rf'<tr id="user-{user_id}">(.*?)</tr>', page.text, re.S)
    assert found, f"no row for user {user_id}"
    return found.group(1)


async def user(person) -> dict:
    return await User.select().where(User.id == person.id).first()


@pytest.mark.parametrize("name", ["alice", "ada", "ivy", "mona", "lee"])
async def test_admin_pages_do_not_exist_for_anyone_but_supervisors(people, browser, name):
    b = await browser(people[name])
    for path in ("/admin/users", "/admin/users/new", "/admin/users/invite"):
        response = await b.get(path)
        assert response.status_code == 404, path
        assert "There is nothing here" in response.text
    target = people["bob"].id
    for action in ("deactivate", "reactivate", "invite-again"):
        assert (await b.post(f"/admin/users/{target}/{action}")).status_code == 404
    forged = await b.post(
        "/admin/users/new", {"name": "X", "email": "x@example.com", "role": "agent"}
    )
    assert forged.status_code == 404
    assert await User.count().where(User.email == "x@example.com") == 0
    assert (await user(people["bob"]))["active"]


async def test_anonymous_visitors_are_sent_to_log_in(browser):
    b = await browser()
    assert logged_out(await b.get("/admin/users"))
    assert logged_out(await b.get("/account"))


async def test_the_list_shows_each_account_and_filters_by_role(people, browser):
    sue = await browser(people["sue"])
    page = await sue.get("/admin/users")
    assert page.status_code == 200
    for person in people.values():
        assert person.email in page.text
    ada_row = row_of(page, people["ada"].id)
    assert "Agent" in ada_row and "<td>yes</td>" in ada_row and "<td>on</td>" in ada_row
    alice_row = row_of(page, people["alice"].id)
    assert "<td>off</td>" in alice_row  # customers have no second factor here
    assert "data-confirm=" in alice_row and "/deactivate" in alice_row
    assert "/deactivate" not in row_of(page, people["sue"].id)

    agents = await sue.get("/admin/users?role=agent")
    assert "ada@example.com" in agents.text
    assert "alice@example.com" not in agents.text and "sue@example.com" not in agents.text
    found = await sue.get("/admin/users?q=MONA")
    assert "mona@example.com" in found.text and "ari@example.com" not in found.text


async def test_deactivation_logs_the_person_out_at_once_and_reactivation_lets_them_back(
    people, browser
):
    alice = people["alice"]
    hers = await browser(alice)
    assert (await hers.get("/account")).status_code == 200
    sue = await browser(people["sue"])

    epoch = (await user(alice))["session_epoch"]
    response = await sue.post(f"/admin/users/{alice.id}/deactivate")
    assert response.status_code == 303 and response.headers["location"] == "/admin/users"
    row = await user(alice)
    assert not row["active"] and row["session_epoch"] == epoch + 1
    assert logged_out(await hers.get("/account"))
    login = await hers.post("/login", {"email": alice.email, "password": PASSWORD})
    assert login.status_code == 400 and "This account has been deactivated" in login.text
    row = row_of(await sue.get("/admin/users"), alice.id)
    assert "<td>no</td>" in row and "/reactivate" in row

    response = await sue.post(f"/admin/users/{alice.id}/reactivate")
    assert response.status_code == 303
    login = await hers.post("/login", {"email": alice.email, "password": PASSWORD})
    assert login.status_code == 303
    assert (await hers.get("/account")).status_code == 200


async def test_a_supervisor_cannot_deactivate_themselves(people, browser):
    sue = people["sue"]
    b = await browser(sue)
    response = await b.post(f"/admin/users/{sue.id}/deactivate")
    assert response.status_code == 409
    assert "You cannot deactivate your own account" in response.text
    assert (await user(sue))["active"]
    assert (await b.get("/admin/users")).status_code == 200  # still logged in


async def test_an_unknown_account_is_not_found(people, browser):
    b = await browser(people["sue"])
    assert (await b.post("/admin/users/999999/deactivate")).status_code == 404


async def test_admin_forms_without_csrf_token_are_refused(people, browser):
    b = await browser(people["sue"])
    response = await b.post(f"/admin/users/{people['alice'].id}/deactivate", csrf=False)
    assert response.status_code == 403 and "Your form has expired" in response.text
    assert (await user(people["alice"]))["active"]
    response = await b.post(
        "/admin/users/invite",
        {"name": "Nadia", "email": "nadia@example.com", "role": "mediator"},
        csrf=False,
    )
    assert response.status_code == 403
    assert await User.count().where(User.email == "nadia@example.com") == 0


async def test_settings_page_shows_the_account_and_its_second_factor(people, browser):
    page = await (await browser(people["ada"])).get("/account")
    assert page.status_code == 200
    assert "ada@example.com" in page.text and 'value="Ada"' in page.text
    assert "On: you enter a code" in page.text and 'href="/account/second-factor"' in page.text
    page = await (await browser(people["alice"])).get("/account")
    assert re.search(r'id="second-factor-state">Off\.', page.text)


async def test_changing_name_and_language(people, browser):
    b = await browser(people["alice"])
    response = await b.post("/account/name", {"name": "  Alice   Chen "})
    assert response.status_code == 303 and response.headers["location"] == "/account?saved=name"
    assert (await user(people["alice"]))["name"] == "Alice Chen"
    page = await b.get("/account?saved=name")
    assert "Your name is saved." in page.text and '<a href="/account">Alice Chen</a>' in page.text
    empty = await b.post("/account/name", {"name": "   "})
    assert empty.status_code == 400 and "Enter your name." in empty.text
    assert (await user(people["alice"]))["name"] == "Alice Chen"

    response = await b.post("/account/language", {"language": "zh_Hans"})
    assert response.status_code == 303
    assert (await user(people["alice"]))["language"] == "zh_Hans"
    assert '<html lang="zh-Hans">' in (await b.get("/account")).text
    bad = await b.post("/account/language", {"language": "fr"})
    assert bad.status_code == 400
    assert (await user(people["alice"]))["language"] == "zh_Hans"


async def test_changing_the_password_needs_the_current_one_and_ends_other_sessions(people, browser):
    alice = people["alice"]
    here = await browser(alice)
    elsewhere = await browser(alice)
    before = await user(alice)

    wrong = await here.post(
        "/account/password",
        {
            "current_password": "not my password",
            "password": NEW_PASSWORD,
            "password_again": NEW_PASSWORD,
        },
    )
    assert wrong.status_code == 400 and "That is not your current password." in wrong.text
    weak = await here.post(
        "/account/password",
        {"current_password": PASSWORD, "password": "short", "password_again": "short"},
    )
    assert weak.status_code == 400 and "Use at least 10 characters." in weak.text
    assert (await user(alice))["password_hash"] == before["password_hash"]
    assert (await elsewhere.get("/account")).status_code == 200

    changed = await here.post(
        "/account/password",
        {"current_password": PASSWORD, "password": NEW_PASSWORD, "password_again": NEW_PASSWORD},
    )
    assert changed.status_code == 303
    assert (await user(alice))["session_epoch"] == before["session_epoch"] + 1
    page = await here.get("/account?saved=password")
    assert page.status_code == 200 and "Your new password is saved." in page.text
    assert logged_out(await elsewhere.get("/account"))

    fresh = await browser()
    old = await fresh.post("/login", {"email": alice.email, "password": PASSWORD})
    assert old.status_code == 400
    new = await fresh.post("/login", {"email": alice.email, "password": NEW_PASSWORD})
    assert new.status_code == 303


async def test_a_staff_member_keeps_the_second_factor_after_changing_the_password(people, browser):
    sue = await browser(people["sue"])
    changed = await sue.post(
        "/account/password",
        {"current_password": PASSWORD, "password": NEW_PASSWORD, "password_again": NEW_PASSWORD},
    )
    assert changed.status_code == 303
    # Still past the second factor: supervisor pages need it.
    assert (await sue.get("/admin/users")).status_code == 200


async def test_settings_forms_without_csrf_token_are_refused(people, browser):
    b = await browser(people["alice"])
    response = await b.post("/account/name", {"name": "Mallory"}, csrf=False)
    assert response.status_code == 403
    response = await b.post(
        "/account/password",
        {"current_password": PASSWORD, "password": NEW_PASSWORD, "password_again": NEW_PASSWORD},
        csrf=False,
    )
    assert response.status_code == 403
    row = await user(people["alice"])
    assert row["name"] == "Alice" and row["session_epoch"] == 0
