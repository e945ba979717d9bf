"""The Content-Security-Policy holds on every page people use: the portal's pages run
no inline script or style, so the browser reports nothing. And the watch that fails a
test on console errors does see a violation when there is one."""

from __future__ import annotations

from tests.browser.demo_site import expect, log_in

INLINE_SCRIPT = """() => {
  const script = document.createElement("script");
  script.textContent = "window.__inline = 1";
  document.head.append(script);
}"""


async def test_an_inline_script_is_refused_and_the_watch_reports_it(site, page, browser_problems):
    response = await page.goto("/login")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy, policy

    async with page.expect_console_message(lambda message: message.type == "error"):
        await page.evaluate(INLINE_SCRIPT)

    assert await page.evaluate("window.__inline") is None
    (reported,) = browser_problems.take()
    assert "Content Security Policy" in reported, reported


async def visit_everything(page, paths: list[str]) -> None:
    """Open each page, and each statement channel of each case room on the way."""
    seen: set[str] = set()
    queue = list(paths)
    while queue:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        await page.goto(path)
        await expect(page.locator("main")).to_be_visible()
        tabs = page.locator("nav.tabs a")
        queue += [await tabs.nth(n).get_attribute("href") for n in range(await tabs.count())]


async def test_the_pages_of_each_party_and_of_staff_raise_no_error(site, page, new_page):
    alice = site.person("alice")
    alices_cases = [c["ref"] for c in site.cases if alice.email in c["participants"]]
    await log_in(page, alice)
    await visit_everything(
        page,
        ["/cases", "/cases/new", "/notifications", "/account"]
        + [f"/cases/{ref}" for ref in alices_cases],
    )

    # Bob reads Chinese, and has a private caucus channel in the mediation.
    bobs_page = await new_page()
    await log_in(bobs_page, site.person("bob"))
    await visit_everything(bobs_page, ["/cases", f"/cases/{site.case_in('mediation')['ref']}"])

    # Ari, the arbitrator, has the tribunal's private channel.
    aris_page = await new_page()
    await log_in(aris_page, site.person("ari"))
    await visit_everything(aris_page, ["/cases", f"/cases/{site.case_in('arbitration')['ref']}"])


async def test_an_evidence_preview_opens_in_the_room_without_error(site, page):
    ref = site.case_in("investigation")["ref"]
    await log_in(page, site.person("alice"))
    await page.goto(f"/cases/{ref}")
    chart = page.locator("#evidence-list li", has_text="position-chart.png")
    await chart.get_by_role("link", name="Preview").click()
    frame = page.locator("#evidence-preview iframe")
    await expect(frame).to_be_visible()
    await expect(frame.content_frame.locator("img")).to_be_visible()
