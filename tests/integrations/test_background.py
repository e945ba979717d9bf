"""The deliverer that `portal serve` runs in every worker's background, as it runs
there: nobody calls `deliver_due`; an event reaches the receiver by itself, and a
rate-limited key is told when to come back."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime

import pytest

from portal.integrations.tables import ApiRateWindow, WebhookDelivery
from tests.integrations.conftest import settings as integration_settings
from tests.integrations.test_api_cases import NEW_CASE
from tests.portal.test_journeys import step

_ = integration_settings  # the fixture below builds on its values


@pytest.fixture
def settings(db, tmp_path):
    base = integration_settings.__wrapped__(db, tmp_path)
    return dataclasses.replace(base, webhook_interval=0.05, api_rate_per_minute=5)


async def test_the_background_deliverer_sends_what_a_move_queued(
    api, integration, receiver, browser, people
):
    hook_receiver = await receiver()
    client = await api(integration.token)
    hook = await client.post("/api/v1/webhooks", json={"url": hook_receiver.url})
    ref = (await client.post("/api/v1/cases", json=NEW_CASE)).json()["ref"]
    await step(await browser(people["ada"]), ref, "start_review")
    received = await hook_receiver.first_request()
    assert received.answered == 200
    assert received.headers["x-portal-signature"].startswith("t=")
    assert hook.status_code == 201
    # The deliverer records the answer just after the receiver gave it.
    for _look in range(600):
        if (await WebhookDelivery.select(WebhookDelivery.status).first())["status"] == "delivered":
            break
        await asyncio.sleep(0.05)
    assert (await WebhookDelivery.select(WebhookDelivery.status).first())["status"] == "delivered"


async def test_a_key_over_its_rate_is_told_when_to_come_back(api, integration):
    client = await api(integration.token)
    # The window is a minute of the clock: start well inside one, so all seven count in it.
    second = datetime.now(UTC).second
    if second > 50:
        await asyncio.sleep(61 - second)
    answers = [await client.get("/api/v1/webhooks") for _ in range(7)]
    assert [a.status_code for a in answers] == [200] * 5 + [429] * 2
    over = answers[-1]
    assert 1 <= int(over.headers["retry-after"]) <= 60
    assert over.headers["content-type"].startswith("application/problem+json")
    assert "5 requests a minute" in over.json()["detail"]
    # One counter row per key and minute, shared by every worker.
    assert await ApiRateWindow.count() == 1
