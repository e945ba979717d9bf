"""Choosing 简体中文 from the header: the page says it is in Chinese (its `lang`), the
choice holds from page to page, and English can be chosen back."""

from __future__ import annotations

import re

from tests.browser.demo_site import expect, log_in


async def choose(page, language: str) -> None:
    async with page.expect_navigation():
        await page.click(f"header form.language button:has-text('{language}')")


async def test_a_visitor_reads_the_portal_in_chinese_until_she_chooses_english(site, page):
    await page.goto("/login")
    html = page.locator("html")
    await expect(html).to_have_attribute("lang", "en")

    await choose(page, "简体中文")
    await expect(page).to_have_url(re.compile(r"/login$"))
    await expect(html).to_have_attribute("lang", "zh-Hans")
    await page.goto("/signup")
    await expect(html).to_have_attribute("lang", "zh-Hans")

    await choose(page, "English")
    await expect(page).to_have_url(re.compile(r"/signup$"))
    await expect(html).to_have_attribute("lang", "en")


async def test_mona_switches_her_account_to_chinese_and_back(site, page):
    # Mona is on no other test's path: her account's language changes for a while.
    ref = site.case_in("mediation")["ref"]
    await log_in(page, site.person("mona"))
    html = page.locator("html")
    await expect(html).to_have_attribute("lang", "en")

    await choose(page, "简体中文")
    await expect(html).to_have_attribute("lang", "zh-Hans")
    await page.goto(f"/cases/{ref}")
    await expect(html).to_have_attribute("lang", "zh-Hans")
    await expect(page.locator("#statements")).to_contain_text("我希望尽快解决")

    await choose(page, "English")
    await expect(page).to_have_url(re.compile(rf"/cases/{ref}$"))
    await expect(html).to_have_attribute("lang", "en")
