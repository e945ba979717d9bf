"""The running portal a browser test visits: its address, the demo's people and cases,
and logging in as one of them the way a person does, second factor included.

Playwright is imported here, guarded, so that a machine without it collects the
browser tests and skips them with the reason instead of failing to import them.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyotp

try:
    from playwright.async_api import async_playwright, expect
except ImportError as exc:  # the conftest skips (or, when required, fails) with this
    PLAYWRIGHT_MISSING: str | None = f"the playwright package is not installed ({exc})"
    async_playwright = expect = None  # type: ignore[assignment]
else:
    PLAYWRIGHT_MISSING = None

if TYPE_CHECKING:
    from playwright.async_api import Page

__all__ = [
    "PLAYWRIGHT_MISSING",
    "Account",
    "DemoSite",
    "MailInbox",
    "async_playwright",
    "expect",
    "file_a_case",
    "log_in",
    "logged_in",
    "post_statement",
    "take_step",
    "watch_navigations",
]

TOTP_PERIOD = 30
MAIL_DEADLINE = 90.0  # a liveness bound for the portal's mailer, never a measurement


@dataclass
class Account:
    """One account of the demo (or one a test made), as its owner knows it."""

    email: str
    password: str
    role: str
    totp_secret: str | None = None
    last_step: int = 0
    """The latest TOTP step this account has used: the portal takes each step only once."""

    async def fresh_code(self) -> str:
        """A code the portal has not seen for this account: this step's, else the next one's
        (the portal allows one step of drift). When both are spent, wait for a new step."""
        assert self.totp_secret, f"{self.email} has no second factor"
        while True:
            now = int(time.time()) // TOTP_PERIOD
            for step in (now, now + 1):
                if step > self.last_step:
                    self.last_step = step
                    return pyotp.TOTP(self.totp_secret).at(step * TOTP_PERIOD)
            await asyncio.sleep(1)

    def spent(self, code: str) -> None:
        """Note that `code` was entered (at enrolment, say), so its step is never reused."""
        assert self.totp_secret
        totp = pyotp.TOTP(self.totp_secret)
        now = int(time.time()) // TOTP_PERIOD
        for step in (now - 1, now, now + 1):
            if totp.at(step * TOTP_PERIOD) == code:
                self.last_step = max(self.last_step, step)


class MailInbox:
    """What the SMTP server beside the portal received (aiosmtpd calls `handle_DATA`
    from its own thread; a list's append is safe there)."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = BytesParser(policy=policy.default).parsebytes(envelope.content)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 Message accepted for delivery"

    async def mail_to(self, address: str, *containing: str) -> EmailMessage:
        """The first mail to `address` whose text contains each of `containing`, once
        it came."""
        end = time.monotonic() + MAIL_DEADLINE
        while time.monotonic() < end:
            for message in list(self.messages):
                text = text_of(message)
                if address in str(message["To"]) and all(part in text for part in containing):
                    return message
            await asyncio.sleep(0.2)
        sent = [(str(m["To"]), str(m["Subject"])) for m in self.messages]
        raise AssertionError(f"No mail to {address} with {containing!r} came; there were {sent}")


def text_of(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None, message
    return str(body.get_content())  # type: ignore[attr-defined]


@dataclass
class DemoSite:
    """`portal serve` on a database filled by `portal demo`."""

    kind: str
    base_url: str
    env: dict[str, str]
    accounts: dict[str, Account]
    cases: list[dict[str, Any]]
    log_path: Path
    """Where the server's output goes: read it when a test fails."""
    mail: MailInbox | None = None
    """The mail the portal sent, as the SMTP server beside it received it."""
    sessions: dict[str, Any] = field(default_factory=dict)
    """Each person's cookies once logged in, so that later tests need no second code."""

    def person(self, name: str) -> Account:
        """A demo account by its first name: alice, bob, ada, ivy, sam, sue, mona, ari, lee."""
        return self.accounts[name]

    def case_in(self, state: str) -> dict[str, Any]:
        (case,) = [c for c in self.cases if c["state"] == state]
        return case


async def log_in(page: Page, account: Account) -> None:
    """Log in through /login, and /login/code when the account has a second factor;
    end on /cases, where the portal sends a person who logged in."""
    await page.goto("/login")
    await page.fill("input[name=email]", account.email)
    await page.fill("input[name=password]", account.password)
    async with page.expect_navigation():
        await page.click("main button[type=submit]")
    if account.totp_secret:
        await expect(page).to_have_url(re.compile(r"/login/code$"))
        await page.fill("input[name=code]", await account.fresh_code())
        async with page.expect_navigation():
            await page.click("main button[type=submit]")
    await expect(page).to_have_url(re.compile(r"/cases$"))


async def watch_navigations(page: Page) -> list[str]:
    """Every load of the page's main document from now on, and a marker that only a
    load would erase: htmx swaps keep both untouched."""
    loads: list[str] = []
    page.on("framenavigated", lambda frame: frame == page.main_frame and loads.append(frame.url))
    await page.evaluate("window.__marker = 1")
    return loads


async def logged_in(new_page: Callable[..., Awaitable[Page]], site: DemoSite, name: str) -> Page:
    """A page of its own, logged in as the demo's `name`, at /cases. The first time, by
    /login like a person; after that with the cookies of that login, so that tests do
    not wait for the next 30-second step of the second factor (each code works once)."""
    if name in site.sessions:
        page = await new_page(storage_state=site.sessions[name])
        await page.goto("/cases")
        if not re.search(r"/login", page.url):
            return page
    else:
        page = await new_page()
    await log_in(page, site.person(name))
    site.sessions[name] = await page.context.storage_state()
    return page


async def file_a_case(page: Page, what_happened: str, files: list[dict[str, Any]] = (),
                      **fields: str) -> str:  # fmt: skip
    """File a dispute from /cases/new as the person logged in on `page`; its ref."""
    await page.goto("/cases/new")
    await page.select_option("#f-category", fields.pop("category", "fees_service"))
    await page.fill(
        "#f-contested_resolution", fields.pop("contested", "Support closed my ticket unanswered.")
    )
    await page.fill("#f-what_happened", what_happened)
    await page.fill("#f-happened_on", fields.pop("happened_on", "2026-11-01"))
    await page.fill("#f-remedy_wanted", fields.pop("remedy", "Refund the difference."))
    for name, value in fields.items():
        await page.fill(f"#f-{name}", value)
    if files:
        await page.set_input_files("#f-evidence", files=list(files))
    async with page.expect_navigation():
        await page.click("main button[type=submit]")
    await expect(page).to_have_url(re.compile(r"/cases/DR-\d{4}-\d{6}$"))
    return page.url.rsplit("/", 1)[1]


async def take_step(page: Page, ref: str, action: str, **form: str) -> None:
    """Take a step of the case's life from its room, as the person on `page`: open the
    step's form under "What you can do now", fill it in, send it. The room is opened
    afresh: others may have moved the case since the page was loaded."""
    await page.goto(f"/cases/{ref}")
    form_url = f"/cases/{ref}/actions/{action}"
    step = page.locator(f"#actions details.action:has(form[action='{form_url}'])")
    await step.locator("summary").click()
    for name, value in form.items():
        control = step.locator(f"[name={name}]")
        if await control.evaluate("(element) => element.tagName") == "SELECT":
            await control.select_option(value)
        else:
            await control.fill(value)
    async with page.expect_navigation():
        await step.locator("button[type=submit]").click()
    await expect(page).to_have_url(re.compile(rf"/cases/{ref}$"))
    await expect(page.locator(".field-error")).to_have_count(0)


async def post_statement(page: Page, text: str) -> None:
    """Say `text` in the room's channel that is open on `page`, with htmx: no page load."""
    loads = await watch_navigations(page)
    await page.fill("#statement-text", text)
    await page.click("#statement-form button[type=submit]")
    await expect(page.locator("#statements")).to_contain_text(text)
    await expect(page.locator("#statement-text")).to_have_value("")
    assert await page.evaluate("window.__marker") == 1, "the page was loaded again"
    assert loads == [], f"the page was loaded again: {loads}"
