"""A statement whose answer was lost (the connection dropped after the portal recorded
it) and which the person then sends again is in the case once, and the page says that
it was already recorded (issue 16, finding 11)."""

from __future__ import annotations

import uuid

from tests.browser.demo_site import expect, log_in


async def test_a_statement_sent_again_after_its_answer_was_lost_is_recorded_once(
    site, page, browser_problems
):
    alice = site.person("alice")
    ref = site.case_in("investigation")["ref"]
    said = f"I sent this once, and then again ({uuid.uuid4()})."
    await log_in(page, alice)
    await page.goto(f"/cases/{ref}")

    recorded: list[int] = []

    async def lose_the_answer(route):
        if route.request.method != "POST" or recorded:
            await route.fallback()
            return
        answer = await route.fetch()  # the portal records the statement and answers...
        recorded.append(answer.status)
        await route.abort("connectionreset")  # ...and the answer never arrives

    await page.route(f"**/cases/{ref}/statements", lose_the_answer)
    await page.fill("#statement-text", said)
    async with page.expect_event("requestfailed", lambda request: request.method == "POST"):
        await page.click("#statement-form button[type=submit]")
    assert recorded == [200]
    # Nothing came back: the text is still in the form, with the same token.
    await expect(page.locator("#statement-text")).to_have_value(said)
    await page.unroute(f"**/cases/{ref}/statements")

    await page.click("#statement-form button[type=submit]")
    await expect(page.locator("#messages")).to_contain_text(
        "This was already recorded, so it was not recorded again."
    )
    await expect(page.locator("#messages a", has_text="See what was recorded")).to_be_visible()
    await expect(page.locator("#statements")).to_contain_text(said)
    await expect(page.locator("#statements li", has_text=said)).to_have_count(1)
    # The dropped connection is the browser's to report, as it did: expected here.
    browser_problems.take()
