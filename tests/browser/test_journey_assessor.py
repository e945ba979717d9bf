"""The assessor's journey: Sam finds a case handed over to assessment in his queue,
reads the investigation, notes his view for the staff (with htmx, no page load) and
makes the proposal; Alice's open room shows it arrive by polling, without reloading.
The steps before his are taken in their own browsers by the demo's agent and
investigator on a case Alice files for this test."""

from __future__ import annotations

import uuid

from tests.browser.demo_site import (
    expect,
    file_a_case,
    logged_in,
    post_statement,
    take_step,
    watch_navigations,
)


async def test_sam_proposes_a_refund_and_alice_sees_it_arrive(site, new_page, screenshot):
    tag = uuid.uuid4().hex[:8]
    alice = await logged_in(new_page, site, "alice")
    ref = await file_a_case(alice, f"I paid a trading fee twice on order ORD-{tag}.")
    ada = await logged_in(new_page, site, "ada")
    await take_step(ada, ref, "start_review")
    await take_step(ada, ref, "accept", category="fees_service", severity="medium", in_scope="yes")
    ivy = await logged_in(new_page, site, "ivy")
    summary = f"The fee engine charged ORD-{tag} twice after a retry."
    await take_step(ivy, ref, "hand_over", summary=summary)
    await alice.goto(f"/cases/{ref}")
    alices_loads = await watch_navigations(alice)

    sam = await logged_in(new_page, site, "sam")
    await sam.goto("/staff/queue")
    await expect(sam.locator("main")).to_contain_text(ref)
    async with sam.expect_navigation():
        await sam.locator("main a", has_text=ref).first.click()
    await expect(sam.locator("#case-state")).to_have_text("In assessment")
    await expect(sam.locator("#timeline")).to_contain_text("moved the case to In assessment")
    await sam.click("nav.tabs a:has-text('Staff')")
    await post_statement(sam, f"Double charge confirmed by the fee engine log ({tag}).")
    await screenshot(sam, "before-proposing")

    await take_step(
        sam,
        ref,
        "propose",
        findings=f"The fee was charged twice ({tag}).",
        responsibility="platform",
        remedy="refund",
        amount="3.5",
        asset="USDT",
        remedy_details="Refund the second fee.",
    )
    await expect(sam.locator("#case-state")).to_have_text("Proposal made")
    await expect(sam.locator("#proposal")).to_contain_text("Refund: 3.5 USDT")

    await expect(alice.locator("#timeline")).to_contain_text("moved the case to Proposal made")
    assert await alice.evaluate("window.__marker") == 1, "Alice's page was loaded again"
    assert alices_loads == []
    await alice.goto(f"/cases/{ref}")
    await expect(alice.locator("#proposal")).to_contain_text(f"The fee was charged twice ({tag}).")
