"""After-a-move hooks: what follows a case's move without the executor importing it.

The executor (`portal.cases.lifecycle`) sits below mediation and webhooks, so an impasse
ends the mediation, and every move queues its webhooks, only through the subscribers that
`portal.listeners` imports. Take a subscriber away and its effect is gone: that is how we
know the move reached it through the hooks, and nowhere else.
"""

from __future__ import annotations

import pytest

from mediation.case_hooks import impasse_ends_mediation
from portal.integrations.case_hooks import queue_webhooks
from portal.integrations.tables import WebhookDelivery
from portal.procedure import hooks
from portal.procedure.hooks import Move
from tests.integrations.conftest import api, integration, receiver, settings, sue  # noqa: F401
from tests.mediation.test_journeys import appointed, appointment_of, in_mediation
from tests.portal.test_case_room import open_case
from tests.portal.test_journeys import case_of, chain, step


def without(monkeypatch, hook) -> None:
    """As if `hook` had never subscribed."""
    monkeypatch.setattr(hooks, "_hooks", [h for h in hooks._hooks if h[2] is not hook])


def test_the_mediations_end_runs_before_the_webhooks():
    subscribed = [hook for _procedure, _action, hook in hooks._hooks]
    assert subscribed.index(impasse_ends_mediation) < subscribed.index(queue_webhooks)
    assert ("case", "declare_impasse", impasse_ends_mediation) in hooks._hooks
    assert ("case", hooks.ANY, queue_webhooks) in hooks._hooks


async def test_a_move_runs_the_hooks_with_what_happened(monkeypatch, people, browser):
    seen: list[Move] = []

    async def watch(move: Move) -> None:
        seen.append(move)

    monkeypatch.setattr(hooks, "_hooks", [*hooks._hooks, ("case", hooks.ANY, watch)])
    _alice, ref = await open_case(people, browser)
    await step(await browser(people["ada"]), ref, "start_review")
    case = await case_of(ref)
    last = (await chain(ref))[-1]
    assert len(seen) == 1
    move = seen[0]
    assert (move.procedure, move.action, move.source, move.target, move.case_id) == (
        "case", "start_review", "submitted", "triage", case["id"])  # fmt: skip
    assert move.sequence == last["case_seq"] and move.detail == last["body"]


async def test_an_impasse_ends_the_mediation_through_its_hook(people, browser):
    _alice, _ada, ref = await in_mediation(people, browser)
    _sue, mona = await appointed(people, browser, ref)
    assert (await appointment_of(ref))["status"] == "active"
    await step(mona, ref, "declare_impasse", reasons="No movement.")
    assert (await appointment_of(ref))["status"] == "ended"


async def test_without_its_hook_an_impasse_leaves_the_mediation_alone(monkeypatch, people, browser):
    _alice, _ada, ref = await in_mediation(people, browser)
    _sue, mona = await appointed(people, browser, ref)
    without(monkeypatch, impasse_ends_mediation)
    await step(mona, ref, "declare_impasse", reasons="No movement.")
    assert (await case_of(ref))["state"] == "impasse"
    assert (await appointment_of(ref))["status"] == "active"


@pytest.mark.parametrize("subscribed", [True, False])
async def test_a_move_queues_its_webhook_through_the_hooks(
    monkeypatch,
    api,  # noqa: F811 (the imported fixture)
    integration,  # noqa: F811 (the imported fixture)
    receiver,  # noqa: F811 (the imported fixture)
    people,
    browser,
    subscribed,
):
    client = await api(integration.token)
    listening = await receiver()
    response = await client.post("/api/v1/webhooks", json={
        "url": listening.url, "events": ["case.state_changed"]})  # fmt: skip
    assert response.status_code == 201, response.text
    if not subscribed:
        without(monkeypatch, queue_webhooks)
    _alice, ref = await open_case(people, browser)
    await step(await browser(people["ada"]), ref, "start_review")
    assert await WebhookDelivery.count() == (1 if subscribed else 0)
