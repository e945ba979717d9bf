"""The claimant's journey: Alice files a dispute with a receipt, says more in the room
(with htmx, no page load), watches the staff take it through review, investigation and
assessment, and accepts the proposal they make. The staff steps are taken in their own
browsers, by the demo's agent, investigator and assessor."""

from __future__ import annotations

import hashlib
import uuid

from portal.demo import pdf
from tests.browser.demo_site import (
    expect,
    file_a_case,
    logged_in,
    post_statement,
    take_step,
    watch_navigations,
)


async def test_alice_files_with_evidence_and_accepts_the_proposal(site, new_page, screenshot):
    tag = uuid.uuid4().hex[:8]
    receipt = pdf(f"Withdrawal WD-{tag} fee 25 USDT")
    alice = await logged_in(new_page, site, "alice")
    ref = await file_a_case(
        alice,
        f"I was charged 25 USDT to withdraw ({tag}); the fee table said 1.",
        files=[{"name": f"receipt-{tag}.pdf", "mimeType": "application/pdf", "buffer": receipt}],
        amount="24",
        asset="USDT",
    )
    listed = alice.locator("#evidence-list li", has_text=f"receipt-{tag}.pdf")
    await expect(listed.locator(".hash")).to_have_text(
        f"SHA-256 {hashlib.sha256(receipt).hexdigest()}"
    )
    await post_statement(alice, f"The fee table on the site still says 1 USDT ({tag}).")
    await screenshot(alice, "filed")

    # The staff take the case through review, investigation and assessment. Alice's room
    # stays open: its timeline, polled by htmx, shows each step as it happens.
    loads = await watch_navigations(alice)
    ada = await logged_in(new_page, site, "ada")
    await take_step(ada, ref, "start_review")
    await take_step(ada, ref, "accept", category="fees_service", severity="low", in_scope="yes")
    ivy = await logged_in(new_page, site, "ivy")
    await take_step(ivy, ref, "hand_over", summary="The fee table shown was a stale copy.")
    sam = await logged_in(new_page, site, "sam")
    await take_step(
        sam,
        ref,
        "propose",
        findings=f"The fee shown was out of date ({tag}).",
        responsibility="platform",
        remedy="refund",
        amount="24",
        asset="USDT",
        remedy_details="Refund within 3 working days.",
    )
    await expect(alice.locator("#timeline")).to_contain_text("moved the case to Proposal made")
    assert await alice.evaluate("window.__marker") == 1, "Alice's page was loaded again"
    assert loads == []

    await alice.goto(f"/cases/{ref}")
    await expect(alice.locator("#proposal")).to_contain_text(
        f"The fee shown was out of date ({tag})."
    )
    await expect(alice.locator("#proposal")).to_contain_text("Refund: 24 USDT")
    await screenshot(alice, "proposal")
    await take_step(alice, ref, "accept_proposal")
    await expect(alice.locator("#case-state")).to_have_text("Resolved")
    await expect(alice.locator("#timeline")).to_contain_text("moved the case to Resolved")
