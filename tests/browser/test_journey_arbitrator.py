"""The arbitrator's journey: Alice takes a proposal to arbitration; a supervisor starts
it under the sole-arbitrator rules, speaking for the platform; both sides rank the list;
Ari accepts his seat from the invitation the portal mails him, writes to the tribunal's
channel (with htmx, no page load), drafts the award and signs it, which issues it: the
case's outcome, which Alice reads in her room."""

from __future__ import annotations

import re
import uuid

from tests.browser.demo_site import (
    expect,
    file_a_case,
    logged_in,
    post_statement,
    take_step,
    text_of,
)


async def test_ari_is_appointed_and_issues_an_award(site, new_page, screenshot):
    tag = uuid.uuid4().hex[:8]
    alice = await logged_in(new_page, site, "alice")
    ref = await file_a_case(
        alice, f"My account was restricted for 30 days without reason ({tag}).", category="kyc_aml"
    )
    ada = await logged_in(new_page, site, "ada")
    await take_step(ada, ref, "start_review")
    await take_step(ada, ref, "accept", category="kyc_aml", severity="high", in_scope="yes")
    ivy = await logged_in(new_page, site, "ivy")
    await take_step(ivy, ref, "hand_over", summary="The review notes show no finding.")
    sam = await logged_in(new_page, site, "sam")
    await take_step(sam, ref, "propose", findings="The restriction followed the policy.",
                    responsibility="user", remedy="no_action")  # fmt: skip
    await take_step(alice, ref, "request_arbitration", reasons="I ask for a binding decision.")
    await expect(alice.locator("#case-state")).to_have_text("In arbitration")

    # Sue starts it, for one arbitrator, and speaks for the platform.
    sue = await logged_in(new_page, site, "sue")
    await sue.goto(f"/cases/{ref}")
    await sue.locator("#constitution summary", has_text="Start the arbitration").click()
    await sue.select_option("#start-arbitration select[name=ruleset]", "sole")
    async with sue.expect_navigation():
        await sue.click("#start-arbitration button[type=submit]")

    # Both sides rank the list: every candidate, in the order listed.
    for side in (alice, sue):
        await side.goto(f"/cases/{ref}")
        ranking = side.locator("#constitution form[id^=rank-list-]")
        choices = ranking.locator("select")
        for n in range(await choices.count()):
            await choices.nth(n).select_option(str(n + 1))
        async with side.expect_navigation():
            await ranking.locator("button[type=submit]").click()
        await expect(side.locator(".field-error")).to_have_count(0)

    # Ari accepts the seat from his invitation.
    ari_account = site.person("ari")
    invited = await site.mail.mail_to(ari_account.email, ref, "/arbitration/invitations/")
    (link,) = set(re.findall(r"https?://\S+/arbitration/invitations/\d+", text_of(invited)))
    ari = await logged_in(new_page, site, "ari")
    await ari.goto(link)
    await ari.check("#accept-seat input[value=none]")
    await ari.fill("#accept-seat input[name=password]", ari_account.password)
    async with ari.expect_navigation():
        await ari.click("#accept-seat button[type=submit]")
    await expect(ari).to_have_url(re.compile(rf"/cases/{ref}$"))
    await expect(ari.locator("#constitution")).to_contain_text("The tribunal was constituted")

    await ari.click("nav.tabs a:has-text('Tribunal')")
    await post_statement(ari, f"Reviewed the KYC notes; drafting the award ({tag}).")

    # The draft, then his signature, which issues it.
    await ari.goto(f"/cases/{ref}")
    await ari.locator("summary", has_text="Draft the award").click()
    draft = ari.locator("#draft-award")
    await draft.locator("[name=reasons]").fill(
        f"The restriction had no basis in the policy ({tag})."
    )
    await draft.locator("[name=item-0-kind]").select_option("unfreeze")
    await draft.locator("[name=item-0-by]").select_option("platform")
    await draft.locator("[name=item-0-account]").fill(f"UID-{tag}")
    await draft.locator("[name=costs]").fill("Each side bears its own costs.")
    async with ari.expect_navigation():
        await draft.locator("button[type=submit]").click()
    await expect(ari.locator(".field-error")).to_have_count(0)
    await screenshot(ari, "draft")
    await ari.fill("#vote-award input[name=password]", ari_account.password)
    async with ari.expect_navigation():
        await ari.click("#vote-award button[value=sign]")
    await expect(ari.locator("#case-state")).to_have_text("Award issued")

    await alice.goto(f"/cases/{ref}")
    await expect(alice.locator("#case-state")).to_have_text("Award issued")
    await expect(alice.locator("main")).to_contain_text("this award is the binding outcome")
    await expect(alice.locator(".agreement")).to_contain_text(f"UID-{tag}")
