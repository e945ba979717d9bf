"""The API is tested through the real app: the portal tests' fixtures, with webhook
settings that let a test drive the deliverer itself, and helpers that get a key the way
a supervisor does, on the staff pages."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from portal.settings import Settings
from tests.integrations.receiver import Receiver
from tests.portal.conftest import SECRET, app, browser, people  # noqa: F401 (fixtures)
from tests.support import ORIGIN

ALL_SCOPES = ("cases:file", "records:attach", "cases:read", "webhooks:manage")
KEY = re.compile(r"<code>(dpk_[0-9a-f]{8}_[A-Za-z0-9_-]+)</code>")


@pytest.fixture
def settings(db, tmp_path: Path) -> Settings:
    """As the portal tests', but the background deliverer stays idle (a test sends what is
    due by calling `deliver_due`), retries wait 10 ms and receivers get half a second."""
    return Settings(
        env="development",
        data_dir=tmp_path / "data",
        database_url=db.url,
        log_origin=ORIGIN,
        signing_key_file=tmp_path / "ledger.key",
        seal_cert_file=tmp_path / "casefile-seal.pem",
        seal_key_file=tmp_path / "casefile-seal.key",
        secret_key=SECRET,
        integrate_interval=0.2,
        base_url="http://portal.test",
        webhook_backoff_seconds=0.01,
        webhook_timeout_seconds=0.5,
        webhook_interval=3600,
        api_rate_per_minute=1000,
    )


@dataclass
class Integration:
    id: int
    token: str

    @property
    def prefix(self) -> str:
        return self.token[: len("dpk_") + 8]  # the secret after it may hold "_" too


async def make_integration(sue_browser, name: str = "Exchange back end") -> int:
    response = await sue_browser.post("/staff/integrations", {"name": name})
    assert response.status_code == 303, response.text
    return int(response.headers["location"].rsplit("-", 1)[1])


async def make_key(sue_browser, integration_id: int, scopes=ALL_SCOPES) -> str:
    response = await sue_browser.post(
        f"/staff/integrations/{integration_id}/keys", {"scopes": list(scopes)}
    )
    assert response.status_code == 201, response.text
    return KEY.search(response.text).group(1)


@pytest.fixture
async def sue(people, browser):  # noqa: F811 (the imported fixtures)
    return await browser(people["sue"])


@pytest.fixture
async def integration(sue) -> Integration:
    """An integration with one key that holds every scope."""
    integration_id = await make_integration(sue)
    return Integration(integration_id, await make_key(sue, integration_id))


@pytest.fixture
async def api(app):  # noqa: F811 (the imported fixture)
    """`await api(token)`: an HTTP client for the API with that key, and no cookies."""
    clients: list[httpx.AsyncClient] = []

    async def open_client(token: str | None) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=("198.51.100.20", 40000)),
            base_url="http://portal.test",
            headers=headers,
        )
        clients.append(client)
        return client

    yield open_client
    for client in clients:
        await client.aclose()


@pytest.fixture
async def receiver():
    """`await receiver(failures=2)`: a started webhook receiver, closed after the test."""
    started: list[Receiver] = []

    async def start(**options) -> Receiver:
        server = await Receiver(**options).start()
        started.append(server)
        return server

    yield start
    for server in started:
        await server.close()
