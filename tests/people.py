"""The people of the tests, set up once per test through the real account code.

alice files disputes and bob answers them; ada is an agent, ivy an investigator,
sam an assessor and sue the supervisor; mona mediates, ari arbitrates, lee is from
legal; eve has an account but is on no case.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pyotp

from portal.accounts.passwords import hash_password
from portal.accounts.second_factor import new_secret, seal
from portal.accounts.service import create_user
from portal.accounts.tables import User
from portal.procedure import roles

PASSWORD = "correct horse battery staple"

CAST = {
    "alice": roles.PARTY,
    "bob": roles.PARTY,
    "eve": roles.PARTY,
    "ada": roles.AGENT,
    "ivy": roles.INVESTIGATOR,
    "sam": roles.ASSESSOR,
    "sue": roles.SUPERVISOR,
    "mona": roles.MEDIATOR,
    "ari": roles.ARBITRATOR,
    "lee": roles.LEGAL,
}


@dataclass
class Person:
    name: str
    id: int
    email: str
    role: str
    password: str
    totp_secret: str | None

    def code(self, offset_steps: int = 0) -> str:
        """The authenticator's code, `offset_steps` periods from now."""
        assert self.totp_secret
        moment = datetime.now(UTC) + timedelta(seconds=30 * offset_steps)
        return pyotp.TOTP(self.totp_secret).at(moment)


_password_hash: list[str] = []


async def make_person(name: str, role: str, secret_key: str) -> Person:
    """An account made by `create_user`; the password's argon2id hash is computed once per
    run and given to the rest, so that ten people per test do not cost ten hashes."""
    email = f"{name}@example.com"
    user_id = await create_user(email=email, name=name.capitalize(), role=role, password=None)
    if not _password_hash:
        _password_hash.append(await hash_password(PASSWORD))
    await User.update({User.password_hash: _password_hash[0]}).where(User.id == user_id)
    secret = None
    if role in roles.NEEDS_SECOND_FACTOR:
        secret = new_secret()
        await User.update(
            {User.totp_secret: seal(secret, secret_key), User.totp_enabled: True}
        ).where(User.id == user_id)
    return Person(name, user_id, email, role, PASSWORD, secret)


CSRF_FIELD = re.compile(r'name="_csrf_token" value="([^"]+)"')


class Browser:
    """One person's browser: its own cookies, and forms sent with their CSRF token."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.client.get(path, **kwargs)

    def csrf_token(self) -> str:
        token = self.client.cookies.get("portal_csrf")
        assert token, "no CSRF cookie yet: get a page first"
        return token

    async def post(
        self,
        path: str,
        data: dict[str, Any] | None = None,
        *,
        files: Any = None,
        htmx: bool = False,
        csrf: bool = True,
        **kwargs: Any,
    ) -> httpx.Response:
        if "portal_csrf" not in self.client.cookies:
            await self.client.get("/login")
        headers = dict(kwargs.pop("headers", {}) or {})
        data = dict(data or {})
        if htmx:
            headers["HX-Request"] = "true"
        if csrf:
            if htmx or files is not None:
                headers["X-CSRFToken"] = self.csrf_token()
            else:
                data["_csrf_token"] = self.csrf_token()
        return await self.client.post(path, data=data, files=files, headers=headers, **kwargs)

    async def log_in(self, person: Person, code_offset: int = 0) -> None:
        response = await self.post("/login", {"email": person.email, "password": person.password})
        assert response.status_code == 303, response.text
        if response.headers["location"] == "/login/code":
            response = await self.post("/login/code", {"code": person.code(code_offset)})
            assert response.status_code == 303, response.text
