"""The running portal a browser test visits: its address, the demo's people and cases,
and logging in as one of them the way a person does, second factor included.

Playwright is imported here, guarded, so that a machine without it collects the
browser tests and skips them with the reason instead of failing to import them.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass
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
    "async_playwright",
    "expect",
    "log_in",
    "watch_navigations",
]

TOTP_PERIOD = 30


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
