"""The case room is live: a statement sent with htmx shows without a page load, and the
other people on the case see it arrive by polling, without reloading either."""

from __future__ import annotations

import uuid

from tests.browser.demo_site import expect, log_in, watch_navigations


async def test_alices_statement_shows_at_once_and_reaches_ivy_by_polling(site, page, new_page):
    alice, ivy = site.person("alice"), site.person("ivy")
    ref = site.case_in("investigation")["ref"]
    said = f"The order book at 14:02:10 shows no trade at my liquidation price ({uuid.uuid4()})."

    await log_in(page, alice)
    await page.goto(f"/cases/{ref}")
    ivys_page = await new_page()
    await log_in(ivys_page, ivy)
    await ivys_page.goto(f"/cases/{ref}")
    await expect(ivys_page.locator("#statements")).to_be_visible()
    alices_loads = await watch_navigations(page)
    ivys_loads = await watch_navigations(ivys_page)

    await page.fill("#statement-text", said)
    await page.click("#statement-form button[type=submit]")

    await expect(page.locator("#statements")).to_contain_text(said)
    await expect(page.locator("#statement-text")).to_have_value("")
    assert await page.evaluate("window.__marker") == 1, "the page was loaded again"
    assert alices_loads == []

    await expect(ivys_page.locator("#statements")).to_contain_text(said)
    assert await ivys_page.evaluate("window.__marker") == 1, "Ivy's page was loaded again"
    assert ivys_loads == []
