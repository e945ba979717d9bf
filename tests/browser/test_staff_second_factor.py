"""Staff reach cases only past a second factor: the demo's assessor with the code from
his authenticator, and a new investigator who enrols from the set-password link that
`portal user create` prints, then logs in again with the factor she just set up."""

from __future__ import annotations

import asyncio
import re
import time
import uuid

import pyotp

from tests.browser.demo_site import Account, expect, log_in
from tests.support import run_portal


def a_wrong_code(secret: str) -> str:
    """Six digits that are none of the codes the portal could accept around now."""
    totp = pyotp.TOTP(secret)
    near = {totp.at(time.time() + 30 * steps) for steps in range(-3, 4)}
    return next(code for code in ("000000", "123456", "999999", "314159") if code not in near)


async def test_sam_sees_no_case_until_he_enters_a_right_code(site, page, browser_problems):
    sam = site.person("sam")
    ref = site.case_in("proposed")["ref"]
    await page.goto("/login")
    await page.fill("input[name=email]", sam.email)
    await page.fill("input[name=password]", sam.password)
    async with page.expect_navigation():
        await page.click("main button[type=submit]")
    await expect(page).to_have_url(re.compile(r"/login/code$"))

    # His password alone is no login: the room sends him back to log in.
    await page.goto(f"/cases/{ref}")
    await expect(page).to_have_url(re.compile(r"/login\?next=/cases/"))
    await expect(page.locator("main")).not_to_contain_text(ref)

    await page.goto("/login/code")
    await page.fill("input[name=code]", a_wrong_code(sam.totp_secret))
    async with page.expect_navigation():
        await page.click("main button[type=submit]")
    await expect(page.locator("#e-code")).to_contain_text("not right")
    # The form comes back with 400, which Chromium logs; that one error is expected.
    (refused,) = browser_problems.take()
    assert "/login/code" in refused and "status of 400" in refused, refused

    await page.fill("input[name=code]", await sam.fresh_code())
    async with page.expect_navigation():
        await page.click("main button[type=submit]")
    await expect(page).to_have_url(re.compile(r"/cases$"))
    await expect(page.locator("main")).to_contain_text(ref)


async def test_a_new_investigator_enrols_from_her_link_and_logs_in_with_her_code(site, page):
    email = f"iris-{uuid.uuid4().hex[:8]}@staff.example"
    password = "lantern quartz meadow 42"
    created = await asyncio.to_thread(
        run_portal,
        "user",
        "create",
        "--email",
        email,
        "--name",
        "Iris Novak",
        "--role",
        "investigator",
        env=site.env,
    )
    (link,) = re.findall(r"^https?://\S+$", created.stdout, re.MULTILINE)
    assert link.startswith(site.base_url), created.stdout

    await page.goto(link)
    await page.fill("input[name=password]", password)
    await page.fill("input[name=password_again]", password)
    async with page.expect_navigation():
        await page.click("main button[type=submit]")

    await expect(page).to_have_url(re.compile(r"/account/second-factor$"))
    await expect(page.locator(".qr svg")).to_be_visible()
    secret = (await page.locator("#totp-secret").inner_text()).strip()
    iris = Account(email, password, "investigator", secret)
    await page.fill("input[name=code]", await iris.fresh_code())
    async with page.expect_navigation():
        await page.click("main button[type=submit]")
    await expect(page).to_have_url(re.compile(r"/cases$"))

    # The factor is hers now: once she logs out, her password alone no longer lets her in.
    async with page.expect_navigation():
        await page.click("header button:has-text('Log out')")
    await log_in(page, iris)
    await expect(page.locator("header")).to_contain_text("Iris Novak")
