"""The main pages pass axe-core's checks: no critical or serious violation, for each
role's pages, in English and, for the people of the demo who read it, in Simplified
Chinese (Bob, Ivy and Lee; a visitor who chooses it)."""

from __future__ import annotations

import pytest

from tests.browser.accessibility import blocking_violations, describe
from tests.browser.demo_site import expect, logged_in


def room(site, state: str) -> str:
    return f"/cases/{site.case_in(state)['ref']}"


# Who looks, and at what: each path is a page of theirs (a room as their role sees it).
PAGES = {
    "alice": lambda site: ["/cases", "/cases/new", "/notifications", "/account",
                           room(site, "investigation"), room(site, "arbitration")],
    "ada": lambda site: ["/staff/queue", room(site, "submitted"), room(site, "awaiting_info")],
    "sue": lambda site: ["/staff/dashboard", "/staff/deadlines", "/admin/users",
                         "/admin/users/invite", "/admin/users/new", "/staff/roster",
                         room(site, "mediation"), room(site, "arbitration"),
                         room(site, "appealed")],
    "sam": lambda site: [room(site, "proposed")],
    "mona": lambda site: [room(site, "mediation")],
    "ari": lambda site: [room(site, "arbitration")],
    "bob": lambda site: ["/cases", room(site, "mediation")],
    "ivy": lambda site: ["/staff/queue", room(site, "investigation")],
    "lee": lambda site: [room(site, "investigation"), "/verify"],
}  # fmt: skip


async def check(page, paths: list[str]) -> list[str]:
    found = []
    for path in paths:
        await page.goto(path)
        await expect(page.locator("main")).to_be_visible()
        if violations := await blocking_violations(page):
            found.append(describe(f"{path} ({await page.locator('html').get_attribute('lang')})",
                                  violations))  # fmt: skip
    return found


async def test_a_visitors_pages_have_no_serious_violation(site, new_page):
    page = await new_page(bypass_csp=True)
    found = await check(page, ["/login", "/signup", "/password/forgot", "/verify"])
    async with page.expect_navigation():
        await page.click("header form.language button:has-text('简体中文')")
    found += await check(page, ["/login", "/signup", "/verify"])
    assert not found, "\n".join(found)


@pytest.mark.parametrize("person", list(PAGES))
async def test_each_roles_pages_have_no_serious_violation(site, new_page, person):
    signed_in = await logged_in(new_page, site, person)
    # The person's cookies, in a context that lets axe's script in (see accessibility.py).
    page = await new_page(storage_state=await signed_in.context.storage_state(), bypass_csp=True)
    found = await check(page, PAGES[person](site))
    assert not found, "\n".join(found)
