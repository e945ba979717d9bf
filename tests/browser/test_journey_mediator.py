"""The mediator's journey, from her invitation to a signed settlement.

A supervisor invites a new mediator from the user list; the portal mails her a link
(read here from the mail a real SMTP server received). She chooses a password, enrols
her authenticator, and is proposed for a case Alice took to mediation; both sides
agree, and she accepts from the invitation the portal mails her. In the room she holds
a caucus with Alice (with htmx, no page load), puts an offer forward, both sides accept
it, and the agreement is signed by Alice, by Sue for the platform, and by her: the case
is settled."""

from __future__ import annotations

import re
import uuid

from tests.browser.demo_site import (
    Account,
    expect,
    file_a_case,
    logged_in,
    post_statement,
    take_step,
    text_of,
)


def link_in(text: str, path: str) -> str:
    (link,) = set(re.findall(rf"https?://\S+{path}\S*", text))
    return link


async def bring_to_mediation(site, new_page, tag: str) -> str:
    """A case of Alice's, taken by the staff to a proposal she asks to mediate."""
    alice = await logged_in(new_page, site, "alice")
    ref = await file_a_case(alice, f"A P2P seller never released 500 USDT (C2C-{tag}).")
    ada = await logged_in(new_page, site, "ada")
    await take_step(ada, ref, "start_review")
    await take_step(ada, ref, "accept", category="fees_service", severity="medium", in_scope="yes")
    ivy = await logged_in(new_page, site, "ivy")
    await take_step(ivy, ref, "hand_over", summary="The release was never confirmed on chain.")
    sam = await logged_in(new_page, site, "sam")
    await take_step(sam, ref, "propose", findings="Both sides share the fault.",
                    responsibility="shared", remedy="no_action")  # fmt: skip
    await take_step(alice, ref, "request_mediation", reasons="I would like to talk it through.")
    await expect(alice.locator("#case-state")).to_have_text("In mediation")
    return ref


async def test_a_new_mediator_enrols_caucuses_and_the_settlement_is_signed(
    site, new_page, screenshot
):
    tag = uuid.uuid4().hex[:8]
    name, email = f"Nadia Rahman {tag}", f"nadia-{tag}@neutral.example"
    password = f"harbour lantern {tag}"
    alice_account, sue_account = site.person("alice"), site.person("sue")

    # Sue invites her from the user list.
    sue = await logged_in(new_page, site, "sue")
    await sue.goto("/admin/users/invite")
    await sue.fill("#f-name", name)
    await sue.fill("#f-email", email)
    await sue.select_option("#f-role", "mediator")
    async with sue.expect_navigation():
        await sue.click("main button[type=submit]")
    await expect(sue.locator("main .flash[role=status]")).to_contain_text(email)

    # Her invitation, as the mail server received it.
    welcome = await site.mail.mail_to(email, "/invite/")
    nadia = await new_page()
    await nadia.goto(link_in(text_of(welcome), "/invite/"))
    await nadia.fill("input[name=password]", password)
    await nadia.fill("input[name=password_again]", password)
    async with nadia.expect_navigation():
        await nadia.click("main button[type=submit]")
    await expect(nadia).to_have_url(re.compile(r"/account/second-factor$"))
    await screenshot(nadia, "second-factor")
    secret = (await nadia.locator("#totp-secret").inner_text()).strip()
    nadias = Account(email, password, "mediator", secret)
    await nadia.fill("input[name=code]", await nadias.fresh_code())
    async with nadia.expect_navigation():
        await nadia.click("main button[type=submit]")
    await expect(nadia).to_have_url(re.compile(r"/cases$"))

    # Sue proposes her for a case in mediation; Alice agrees, and Sue for the platform.
    ref = await bring_to_mediation(site, new_page, tag)
    await sue.goto(f"/cases/{ref}")
    await sue.locator("#mediation summary", has_text="Propose a mediator").click()
    mediator = sue.locator("#propose-mediator select[name=mediator] option", has_text=name)
    await sue.select_option(
        "#propose-mediator select[name=mediator]", await mediator.get_attribute("value")
    )
    async with sue.expect_navigation():
        await sue.click("#propose-mediator button[type=submit]")
    await expect(sue.locator("#mediator-appointment")).to_contain_text(name)
    alice = await logged_in(new_page, site, "alice")
    for side in (alice, sue):
        await side.goto(f"/cases/{ref}")
        await side.check("#appointment-answer input[value=agree]")
        async with side.expect_navigation():
            await side.click("#appointment-answer button[type=submit]")
    await expect(sue.locator("#mediator-appointment")).to_contain_text("has been invited")

    # She accepts from the invitation she is mailed.
    invited = await site.mail.mail_to(email, "/mediation/invitations/")
    await nadia.goto(link_in(text_of(invited), "/mediation/invitations/"))
    await expect(nadia.locator("main")).to_contain_text(ref)
    await nadia.check("#accept-invitation input[value=none]")
    await nadia.fill("#accept-invitation input[name=password]", password)
    async with nadia.expect_navigation():
        await nadia.click("#accept-invitation button[type=submit]")
    await expect(nadia).to_have_url(re.compile(rf"/cases/{ref}$"))
    await expect(nadia.locator("#mediator-appointment")).to_contain_text(f"{name} is the mediator")

    # A caucus with Alice: only the two of them read it.
    await nadia.click("nav.tabs a:has-text('Caucus · Alice Chen')")
    private = f"Alice, would 20 USDT from the platform close this for you? ({tag})"
    await post_statement(nadia, private)
    await screenshot(nadia, "caucus")
    await alice.goto(f"/cases/{ref}")
    await alice.click("nav.tabs a:has-text('Caucus')")
    await expect(alice.locator("#statements")).to_contain_text(private)

    # Her offer, which both sides accept: the agreement is drawn up.
    await nadia.goto(f"/cases/{ref}")
    await nadia.locator("#mediation summary", has_text="Make an offer").click()
    await nadia.select_option("#new-item-0-kind", "pay")
    await nadia.select_option("#new-item-0-by", "platform")
    await nadia.select_option("#new-item-0-to", "claimant")
    await nadia.fill("#new-item-0-amount", "20")
    await nadia.fill("#new-item-0-asset", "USDT")
    async with nadia.expect_navigation():
        await nadia.click("#mediation form[action$='/mediation/offers'] button[type=submit]")
    await expect(nadia.locator("#mediation article.offer")).to_have_count(1)
    for side in (alice, sue):
        await side.goto(f"/cases/{ref}")
        async with side.expect_navigation():
            await side.click("#mediation article.offer button[value=accept]")
    await expect(sue.locator("#settlement")).to_be_visible()

    # Each signs with their password; the last signature settles the case.
    for page, secret_word in ((alice, alice_account.password), (sue, sue_account.password),
                              (nadia, password)):  # fmt: skip
        await page.goto(f"/cases/{ref}")
        await page.fill("#sign-settlement input[name=password]", secret_word)
        async with page.expect_navigation():
            await page.click("#sign-settlement button[type=submit]")
        await expect(page.locator(".field-error")).to_have_count(0)
    await expect(nadia.locator("#mediation")).to_contain_text("Signed by everyone")
    await expect(nadia.locator("#case-state")).to_have_text("Settled")
    await expect(nadia.locator("#mediation .agreement")).to_contain_text("20")
