"""Legal's journey: a supervisor puts Lee on a case; Lee opens its evidence (an htmx
preview, no page load), exports the signed case file, and has it checked at /verify by
uploading it, which reports every check as holding."""

from __future__ import annotations

import uuid

from portal.demo import png
from tests.browser.demo_site import expect, file_a_case, logged_in, watch_navigations


async def test_lee_exports_the_signed_case_file_and_verifies_it(
    site, new_page, screenshot, tmp_path
):
    tag = uuid.uuid4().hex[:8]
    alice = await logged_in(new_page, site, "alice")
    chart = f"chart-{tag}.png"
    ref = await file_a_case(
        alice,
        f"My stop order ORD-{tag} did not trigger.",
        files=[{"name": chart, "mimeType": "image/png", "buffer": png(80, 50, (31, 95, 191))}],
        category="liquidation",
    )

    sue = await logged_in(new_page, site, "sue")
    await sue.goto(f"/cases/{ref}")
    await sue.fill("#assign-email", site.person("lee").email)
    await sue.select_option("#assign-role", "legal")
    async with sue.expect_navigation():
        await sue.click("form[action$='/participants'] button[type=submit]")
    await expect(sue.locator("ul.people")).to_contain_text("Lee Chen")

    lee = await logged_in(new_page, site, "lee")
    await lee.goto(f"/cases/{ref}")
    loads = await watch_navigations(lee)
    item = lee.locator("#evidence-list li", has_text=chart)
    # Lee reads the portal in Chinese: the link is found by what it does, not its words.
    await item.locator("a[hx-get*='preview=']").click()
    frame = lee.locator("#evidence-preview iframe")
    await expect(frame).to_be_visible()
    await expect(frame.content_frame.locator("img")).to_be_visible()
    assert await lee.evaluate("window.__marker") == 1, "Lee's page was loaded again"
    assert loads == []
    await screenshot(lee, "preview")

    async with lee.expect_download() as downloading:
        await lee.click("form[action$='/casefile.pdf'] button[type=submit]")
    download = await downloading.value
    assert download.suggested_filename == f"{ref}-casefile.pdf"
    # Saved under the name the portal gave it, as a browser's download would be.
    case_file = tmp_path / download.suggested_filename
    await download.save_as(case_file)
    assert case_file.read_bytes().startswith(b"%PDF-")

    await lee.goto("/verify")
    await lee.set_input_files("#case_file", case_file)
    async with lee.expect_navigation():
        await lee.click("main form[action='/verify'] button[type=submit]")
    report = lee.locator(".verify-report")
    await expect(lee.locator("main .flash[role=status]")).to_be_visible()
    await expect(lee.locator("main [role=alert]")).to_have_count(0)
    await expect(report.locator("li.fail")).to_have_count(0)
    assert await report.locator("li.pass").count() > 0
    await expect(lee.locator("main h2")).to_contain_text(f"{ref}-casefile.pdf")
