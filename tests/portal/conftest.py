"""The real app over HTTP, on each database, with the test cast signed up."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest

from ledger.audit import verify_log
from ledger.integrator import integrate
from ledger.keys import trusted_verifiers
from portal.app import create_app
from portal.settings import Settings
from tests.people import CAST, Browser, Person, make_person
from tests.support import ORIGIN

SECRET = "test-secret-key-for-sessions-and-csrf-0123456789"


@pytest.fixture
def settings(db, tmp_path: Path) -> Settings:
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
    )


@pytest.fixture
async def app(settings: Settings):
    application = create_app(settings)
    # The lifespan runs in the test's own event loop (the database pool belongs to it),
    # in one task from start to end, as a server would run it.
    started, stop = asyncio.Event(), asyncio.Event()

    async def serve() -> None:
        async with application.lifespan():
            started.set()
            await stop.wait()

    task = asyncio.create_task(serve())
    waiting = asyncio.create_task(started.wait())
    await asyncio.wait({task, waiting}, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        task.result()  # startup failed: raise its error
    yield application
    stop.set()
    await task
    await ledger_verifies(application)


async def ledger_verifies(application) -> None:
    """After every test of the web app: integrate what is left, then `verify` the whole log.

    Whatever a test did through the app (filings, statements, evidence, downloads), the
    ledger it leaves behind must pass every check of the spec.
    """
    keyring = application.state.keyring
    engine = application.state.settings.database_url
    from portal.database import bind_tables, connected, create_engine
    from portal.tables import ALL_TABLES

    db = create_engine(engine)
    bind_tables(db, ALL_TABLES)
    async with connected(db, pool_size=2):
        await integrate(keyring, wait=True)
        report = await verify_log(keyring.origin, trusted_verifiers(keyring))
    assert report.ok, report.render()


@pytest.fixture
async def people(app) -> dict[str, Person]:
    return {name: await make_person(name, role, SECRET) for name, role in CAST.items()}


@pytest.fixture
async def browser(app) -> AsyncIterator[Callable[..., Awaitable[Browser]]]:
    """`await browser(person)` opens a new browser, logged in as `person` when given."""
    clients: list[httpx.AsyncClient] = []

    async def open_browser(person: Person | None = None) -> Browser:
        # Plain httpx over ASGI: the app's lifespan already runs under the `app` fixture.
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=("203.0.113.7", 50000)),
            base_url="http://portal.test",
        )
        clients.append(client)
        b = Browser(client)
        await b.get("/login")
        if person is not None:
            await b.log_in(person)
        return b

    yield open_browser
    for client in clients:
        await client.aclose()
