"""Filing a dispute from the browser: the form with a file goes up as one multipart
post, and the claimant lands in the new case's room with the file listed by its hash."""

from __future__ import annotations

import hashlib
import re
import uuid
from datetime import date, timedelta

from portal.demo import pdf
from tests.browser.demo_site import expect, log_in


async def test_alice_files_a_dispute_with_a_receipt_and_lands_in_its_room(site, page):
    receipt = pdf("Withdrawal WD-771990 fee 25 USDT")
    # A name in Chinese: the browser sends it as UTF-8 in the multipart header.
    name = f"提现凭证-{uuid.uuid4().hex[:8]}.pdf"
    await log_in(page, site.person("alice"))

    await page.goto("/cases/new")
    await page.select_option("#f-category", "fees_service")
    await page.fill("#f-contested_resolution", "Support says the fee table was right.")
    await page.fill("#f-what_happened", "I was charged 25 USDT to withdraw; the table said 1.")
    await page.fill("#f-happened_on", (date.today() - timedelta(days=3)).isoformat())
    await page.fill("#f-remedy_wanted", "Refund 24 USDT.")
    await page.set_input_files(
        "#f-evidence", files=[{"name": name, "mimeType": "application/pdf", "buffer": receipt}]
    )
    async with page.expect_navigation():
        await page.click("main button[type=submit]")

    await expect(page).to_have_url(re.compile(r"/cases/DR-\d{4}-\d{6}$"))
    ref = page.url.rsplit("/", 1)[1]
    await expect(page.locator("#case-title")).to_have_text(ref)
    listed = page.locator("#evidence-list li", has_text=name)
    await expect(listed).to_have_count(1)
    await expect(listed).to_contain_text("application/pdf")
    await expect(listed.locator(".hash")).to_have_text(
        f"SHA-256 {hashlib.sha256(receipt).hexdigest()}"
    )
