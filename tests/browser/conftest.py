"""Browser tests: the real portal over HTTP, driven by Debian's Chromium with Playwright.

One server per database kind for the whole run: `portal migrate`, `portal demo --json`,
then `portal serve --workers 2` on a free port, on SQLite and, when a server answers,
on PostgreSQL (in a database of its own, dropped after). Every browser test runs on
each. The tests share the demo, so each one makes its own statements, files and
accounts, and never depends on another having run.

Playwright or Chromium missing is a skip with the reason; with PORTAL_REQUIRE_BROWSER=1
(as CI sets it) it is a failure.

Every page is watched: a console error (a Content-Security-Policy violation is one) or
an uncaught exception fails the test that was running. Each test leaves a screenshot of
its pages, as they were at its end, in tests/browser/screenshots/ (or in
PORTAL_BROWSER_SCREENSHOTS); the run's summary says where. A test takes more along the
way with the `screenshot` fixture.

The portal's mail goes to a real SMTP server (aiosmtpd) the fixture runs beside it, so
a test reads the links people are sent (an invitation, say) from the mail itself.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import pytest_asyncio
from aiosmtpd.controller import Controller

from tests.browser.demo_site import (
    PLAYWRIGHT_MISSING,
    Account,
    DemoSite,
    MailInbox,
    async_playwright,
    expect,
)
from tests.support import (
    Unavailable,
    free_port,
    portal_env,
    portal_serving,
    postgres_database,
    run_portal,
)

if TYPE_CHECKING:
    from playwright.async_api import Browser, BrowserContext, ConsoleMessage, Page, WebError

HERE = Path(__file__).parent
# Debian's Chromium; PORTAL_TEST_CHROMIUM names another build (or, in the suite's own
# test, a missing one).
CHROMIUM = os.environ.get("PORTAL_TEST_CHROMIUM", "/usr/bin/chromium")
# The project's flags for Chromium: no sandbox (containers), and nothing that reaches
# for the network on its own (there is none) or writes outside its fresh profile.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(os.environ.get("PORTAL_BROWSER_SCREENSHOTS") or HERE / "screenshots")

if expect is not None:
    # htmx polls every 3 to 5 s: give a poll, and a busy machine, room.
    expect.set_options(timeout=20_000)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests share the session's event loop, in which Playwright and Chromium live,
    and start servers, which makes them slow."""
    session_loop = pytest.mark.asyncio(loop_scope="session")
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.slow)
            if pytest_asyncio.is_async_test(item):
                item.add_marker(session_loop, append=False)


# --- The server --------------------------------------------------------------------


@contextmanager
def _postgres_database() -> Iterator[str]:
    try:
        with postgres_database("portal_browser") as url:
            yield url
    except Unavailable as exc:
        if os.environ.get("PORTAL_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PORTAL_REQUIRE_POSTGRES=1 but {exc}")
        pytest.skip(str(exc))


@contextmanager
def _smtp_server() -> Iterator[tuple[str, MailInbox]]:
    """A real SMTP server on a free port, in a thread of its own, until the block ends."""
    inbox = MailInbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield f"smtp://127.0.0.1:{port}", inbox
    finally:
        controller.stop()


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def site(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    browser_installed: None,
) -> Iterator[DemoSite]:
    """The demo portal, served by two workers on the database kind of the parameter.
    Only browsers visit it: without one, no server is started."""
    tmp = tmp_path_factory.mktemp(f"browser-{request.param}")
    with ExitStack() as cleanup:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp / 'portal.sqlite3'}"
        else:
            url = cleanup.enter_context(_postgres_database())
        smtp_url, inbox = cleanup.enter_context(_smtp_server())
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        # Links the CLI prints (set-password links) must point at this server.
        env = portal_env(url, tmp, PORTAL_BASE_URL=base_url, PORTAL_SMTP_URL=smtp_url)
        run_portal("migrate", env=env)
        demo = json.loads(run_portal("demo", "--json", env=env).stdout)
        log_path = tmp / "serve.log"
        cleanup.enter_context(portal_serving(env, port, log_path))
        yield DemoSite(
            kind=request.param,
            base_url=base_url,
            env=env,
            accounts={
                a["email"].split("@")[0]: Account(
                    a["email"], a["password"], a["role"], a["totp_secret"]
                )
                for a in demo["accounts"]
            },
            cases=demo["cases"],
            log_path=log_path,
            mail=inbox,
        )


# --- The browser ---------------------------------------------------------------------


def _browser_unavailable(reason: str) -> None:
    if os.environ.get("PORTAL_REQUIRE_BROWSER") == "1":
        pytest.fail(f"PORTAL_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser_installed() -> None:
    """Playwright and Chromium are here, or the browser tests skip (or fail) saying why."""
    if PLAYWRIGHT_MISSING:
        _browser_unavailable(PLAYWRIGHT_MISSING)
    if not os.access(CHROMIUM, os.X_OK):
        _browser_unavailable(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def chromium(browser_installed: None) -> AsyncIterator[Browser]:
    """Debian's Chromium, headless, for the whole run; each test gets fresh contexts."""
    async with async_playwright() as playwright:
        try:
            # Playwright gives the browser a fresh temporary profile (--user-data-dir).
            browser = await playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
        except Exception as exc:
            _browser_unavailable(f"Chromium at {CHROMIUM} did not start: {exc}")
        try:
            yield browser
        finally:
            await browser.close()


@dataclass
class BrowserProblems:
    """Console errors and uncaught exceptions of the pages a test opened."""

    entries: list[str] = field(default_factory=list)
    reported: int = 0

    def take(self) -> list[str]:
        """The problems so far, which the test expected: they no longer fail it."""
        taken, self.entries = self.entries, []
        self.reported = 0
        return taken

    def unreported(self) -> list[str]:
        fresh = self.entries[self.reported :]
        self.reported = len(self.entries)
        return fresh


PROBLEMS = pytest.StashKey[BrowserProblems]()
SHOTS = pytest.StashKey[list[Path]]()


@pytest.fixture
def browser_problems(request: pytest.FixtureRequest) -> BrowserProblems:
    return request.node.stash.setdefault(PROBLEMS, BrowserProblems())


def _watch(context: BrowserContext, problems: BrowserProblems) -> None:
    def on_console(message: ConsoleMessage) -> None:
        where = message.location.get("url") or (message.page.url if message.page else "?")
        if message.type == "error":
            problems.entries.append(f"console error at {where}: {message.text}")

    def on_error(error: WebError) -> None:
        page = error.page.url if error.page else "?"
        problems.entries.append(f"uncaught exception at {page}: {error.error}")

    context.on("console", on_console)
    context.on("weberror", on_error)


def _shot_name(request: pytest.FixtureRequest) -> str:
    return re.sub(r"[^\w.\[\]-]+", "_", request.node.nodeid.split("/")[-1].replace("::", "__"))


async def _take_screenshot(page: Page, path: Path, request: pytest.FixtureRequest) -> None:
    """Save the picture, and name it in the run's summary and the test's report (its
    `screenshot` properties, which the JUnit XML report lists)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=path, full_page=True)
    request.config.stash.setdefault(SHOTS, []).append(path)
    request.node.user_properties.append(("screenshot", str(path)))
    print(f"screenshot: {path}")


async def _screenshots(pages: list[Page], request: pytest.FixtureRequest) -> None:
    """One picture of each page as the test left it, named after the test."""
    name = _shot_name(request)
    for n, page in enumerate(pages, start=1):
        path = SCREENSHOTS / (f"{name}.png" if n == 1 else f"{name}-{n}.png")
        if not page.is_closed():
            await _take_screenshot(page, path, request)


@pytest_asyncio.fixture(loop_scope="session")
async def new_page(
    chromium: Browser,
    site: DemoSite,
    browser_problems: BrowserProblems,
    request: pytest.FixtureRequest,
) -> AsyncIterator[Callable[[], Awaitable[Page]]]:
    """`await new_page()`: a page in a browser context of its own (its own cookies, so
    its own person), at the site's address, watched for errors."""
    contexts = []
    pages: list[Page] = []

    async def open_page(**options: Any) -> Page:
        """`options` go to the browser context: `storage_state` (a person already logged
        in), `bypass_csp` (the accessibility checker only)."""
        context = await chromium.new_context(base_url=site.base_url, locale="en-US", **options)
        _watch(context, browser_problems)
        contexts.append(context)
        page = await context.new_page()
        pages.append(page)
        return page

    yield open_page
    try:
        await _screenshots(pages, request)
    finally:
        for context in contexts:
            await context.close()
    # Shown with the captured output of a failing test.
    print(f"server log: {site.log_path}")
    if late := browser_problems.unreported():
        pytest.fail("The browser reported, as the test ended:\n  " + "\n  ".join(late))


@pytest.fixture
def screenshot(request: pytest.FixtureRequest) -> Callable[[Page, str], Awaitable[None]]:
    """`await screenshot(page, "proposal-accepted")`: a picture of a step along the way,
    named after the test and the step, beside the ones taken as the test ends."""

    async def take(page: Page, step: str) -> None:
        label = re.sub(r"[^\w.-]+", "_", step)
        await _take_screenshot(page, SCREENSHOTS / f"{_shot_name(request)}@{label}.png", request)

    return take


@pytest_asyncio.fixture(loop_scope="session")
async def page(new_page: Callable[[], Awaitable[Page]]) -> Page:
    """The test's first page."""
    return await new_page()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Any:
    """Fail a browser test whose pages logged an error, though its assertions passed."""
    result = yield
    problems = item.stash.get(PROBLEMS, None)
    if problems and (fresh := problems.unreported()):
        raise AssertionError(
            "The browser reported errors (a CSP violation shows as one):\n  " + "\n  ".join(fresh)
        )
    return result


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    if shots := config.stash.get(SHOTS, None):
        terminalreporter.write_line(f"browser tests: {len(shots)} screenshots in {SCREENSHOTS}")
