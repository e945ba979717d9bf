"""The agent's journey: Ada opens a newly filed dispute from her queue, starts the first
review, notes something for the staff (with htmx, no page load) and asks the claimant for
information; Alice sees the question arrive in her room's timeline without reloading,
answers it, and the case is back in review."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from tests.browser.demo_site import (
    expect,
    file_a_case,
    logged_in,
    post_statement,
    take_step,
    watch_navigations,
)


async def test_ada_triages_a_new_dispute_and_asks_alice_for_information(site, new_page, screenshot):
    tag = uuid.uuid4().hex[:8]
    alice = await logged_in(new_page, site, "alice")
    ref = await file_a_case(
        alice,
        f"My withdrawal WD-{tag} has been pending for ten days.",
        category="deposit_withdrawal",
    )
    alices_loads = await watch_navigations(alice)

    ada = await logged_in(new_page, site, "ada")
    await ada.goto("/staff/queue")
    await expect(ada.locator("main")).to_contain_text(ref)
    await screenshot(ada, "queue")
    async with ada.expect_navigation():
        await ada.locator("main a", has_text=ref).first.click()
    await take_step(ada, ref, "start_review")
    await expect(ada.locator("#case-state")).to_have_text("In first review")

    await ada.click("nav.tabs a:has-text('Staff')")
    await post_statement(ada, f"No address in the filing; asking the claimant ({tag}).")
    questions = f"Which address did you withdraw to? ({tag})"
    due = (date.today() + timedelta(days=5)).isoformat()
    await take_step(ada, ref, "request_info", questions=questions, due_date=due)
    await expect(ada.locator("#case-state")).to_have_text("Waiting for information")
    await expect(ada.locator("#requests")).to_contain_text(questions)
    await screenshot(ada, "asked")

    await expect(alice.locator("#timeline")).to_contain_text(
        "moved the case to Waiting for information"
    )
    assert await alice.evaluate("window.__marker") == 1, "Alice's page was loaded again"
    assert alices_loads == []
    await alice.goto(f"/cases/{ref}")
    await expect(alice.locator("#requests")).to_contain_text(questions)
    await take_step(alice, ref, "answer_info", answer=f"To bc1q-{tag}, my own wallet.")
    await expect(alice.locator("#case-state")).to_have_text("In first review")
    await expect(alice.locator("#requests")).to_contain_text(f"To bc1q-{tag}, my own wallet.")
