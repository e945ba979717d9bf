"""In production every cookie the portal sets is Secure, HttpOnly and SameSite.

The portal runs here as production does (`PORTAL_ENV=production`, settings read from
the environment by `Settings.from_env`), reached over https; a person logs in, with
the second factor, and switches language, which between them set every cookie the
portal has: the CSRF token, the session (twice: logged in, then past the second
factor) and the language.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from ledger.keys import Keyring
from portal.settings import Settings
from tests.people import Person
from tests.portal.conftest import SECRET
from tests.support import ORIGIN


@pytest.fixture
def settings(db, tmp_path: Path) -> Settings:
    """Production's settings, as `portal serve` reads them from the environment."""
    key_file = tmp_path / "ledger.key"
    Keyring.open(key_file, ORIGIN, create=True)  # production never makes its own key
    return Settings.from_env(
        {
            "PORTAL_ENV": "production",
            "PORTAL_DATA_DIR": str(tmp_path / "data"),
            "PORTAL_DATABASE_URL": db.url,
            "PORTAL_LOG_ORIGIN": ORIGIN,
            "PORTAL_SIGNING_KEY_FILE": str(key_file),
            "PORTAL_SECRET_KEY": SECRET,
            "PORTAL_BASE_URL": "https://portal.test",
        }
    )


def test_production_sends_cookies_over_https_only_unless_told_otherwise():
    production = Settings.from_env({"PORTAL_ENV": "production"})
    assert production.secure_cookies
    development = Settings.from_env({})
    assert not development.secure_cookies  # http://127.0.0.1:8000 in `make run`
    told = Settings.from_env({"PORTAL_ENV": "production", "PORTAL_SECURE_COOKIES": "0"})
    assert not told.secure_cookies  # documented in README: for a plain-http test rig only


async def test_every_cookie_set_in_production_is_secure_httponly_and_samesite(
    app, settings, people: dict[str, Person]
):
    assert settings.is_production and settings.secure_cookies
    set_cookies: list[str] = []
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=("203.0.113.8", 50000)),
        base_url="https://portal.test",
    ) as client:

        async def keep(response: httpx.Response) -> None:
            set_cookies.extend(response.headers.get_list("set-cookie"))

        client.event_hooks["response"] = [keep]
        await client.get("/login")
        token = client.cookies["portal_csrf"]
        ada = people["ada"]
        response = await client.post(
            "/login", data={"email": ada.email, "password": ada.password, "_csrf_token": token}
        )
        assert response.headers["location"] == "/login/code", response.text
        response = await client.post("/login/code", data={"code": ada.code(), "_csrf_token": token})
        assert response.status_code == 303, response.text
        assert (await client.get("/cases")).status_code == 200
        response = await client.post(
            "/language", data={"language": "zh_Hans", "next": "/cases", "_csrf_token": token}
        )
        assert response.status_code == 303

    names = {cookie.split("=", 1)[0] for cookie in set_cookies}
    assert names == {"portal_csrf", "portal_session", "portal_lang"}, set_cookies
    for cookie in set_cookies:
        attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
        assert {"secure", "httponly", "samesite"} <= attributes, cookie
