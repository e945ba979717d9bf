"""A webhook cannot be pointed into the portal's own network where that is refused
(production's default): not when it is registered, and not at delivery, when the name
may since lead elsewhere. Development allows it, which the other webhook tests use."""

from __future__ import annotations

import dataclasses

import pytest

from portal.integrations.addresses import is_public
from portal.integrations.delivery import deliver_due
from portal.integrations.tables import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from portal.settings import ConfigurationError, Settings
from tests.integrations.test_api_cases import NEW_CASE
from tests.integrations.test_webhooks import later, register
from tests.portal.test_journeys import step

PRIVATE = [
    ("http://127.0.0.1:9/hook", "127.0.0.1"),
    ("http://localhost:9/hook", None),  # resolves to 127.0.0.1 and/or ::1
    ("http://[::1]/hook", "::1"),
    ("http://[::ffff:10.0.0.7]/hook", "::ffff:10.0.0.7"),
    ("http://169.254.169.254/latest/meta-data", "169.254.169.254"),  # cloud metadata
    ("http://10.1.2.3/hook", "10.1.2.3"),
    ("http://192.168.0.10/hook", "192.168.0.10"),
    ("http://100.64.0.1/hook", "100.64.0.1"),  # carrier-grade NAT
    ("http://0.0.0.0/hook", "0.0.0.0"),
]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The suite's settings with private addresses refused, as in production."""
    return dataclasses.replace(settings, webhook_private_addresses=False)


@pytest.mark.parametrize(("url", "address"), PRIVATE)
async def test_a_private_address_is_refused_with_what_to_fix(api, integration, url, address):
    client = await api(integration.token)
    response = await client.post("/api/v1/webhooks", json={"url": url})
    assert response.status_code == 422, response.text
    problem = response.json()
    assert [e["field"] for e in problem["errors"]] == ["url"]
    message = problem["errors"][0]["message"]
    assert "private or local network address" in message
    if address:
        assert address in message
    assert await WebhookEndpoint.count() == 0


async def test_a_host_that_cannot_be_found_is_refused(api, integration):
    client = await api(integration.token)
    response = await client.post("/api/v1/webhooks", json={"url": "https://no-such-host.invalid/"})
    assert response.status_code == 422
    assert "no-such-host.invalid cannot be found" in response.json()["errors"][0]["message"]
    assert await WebhookEndpoint.count() == 0


async def test_a_public_address_is_accepted(api, integration):
    client = await api(integration.token)
    hook = await register(client, "https://93.184.215.14/hooks/portal")
    assert hook["url"] == "https://93.184.215.14/hooks/portal"


async def test_a_delivery_to_an_address_that_became_private_is_not_sent(
    api, integration, receiver, browser, people, settings
):
    # Registered at a public address; then the name leads to a private one (a name
    # server cannot be made to change its answer here, so the stored URL is changed).
    hook_receiver = await receiver()
    client = await api(integration.token)
    await register(client, "https://93.184.215.14/hooks/portal")
    await WebhookEndpoint.update({WebhookEndpoint.url: hook_receiver.url}).where(
        WebhookEndpoint.id > 0
    )
    ref = (await client.post("/api/v1/cases", json=NEW_CASE)).json()["ref"]
    await step(await browser(people["ada"]), ref, "start_review")

    assert await deliver_due(settings) == 0
    assert hook_receiver.requests == []  # nothing reached the private address
    attempt = await WebhookAttempt.select().first()
    assert attempt["status_code"] is None
    assert attempt["error"] == (
        "Not sent: 127.0.0.1 resolves to 127.0.0.1, a private or local address."
    )
    assert (await WebhookDelivery.select().first())["status"] == "pending"  # retried later

    allowed = dataclasses.replace(settings, webhook_private_addresses=True)
    assert await deliver_due(allowed, now=later()) == 1
    assert len(hook_receiver.requests) == 1


@pytest.mark.parametrize(
    ("address", "public"),
    [("93.184.215.14", True), ("2606:4700::1111", True), ("::ffff:127.0.0.1", False),
     ("fe80::1%eth0", False), ("224.0.0.1", False), ("fc00::1", False)],
)  # fmt: skip
def test_which_addresses_are_public(address, public):
    assert is_public(address) is public


def test_production_refuses_private_addresses_unless_told(tmp_path):
    base = {"PORTAL_ENV": "production", "PORTAL_DATA_DIR": str(tmp_path)}
    assert Settings.from_env(base).webhook_private_addresses is False
    assert Settings.from_env({"PORTAL_DATA_DIR": str(tmp_path)}).webhook_private_addresses
    told = {**base, "PORTAL_WEBHOOK_PRIVATE_ADDRESSES": "1"}
    assert Settings.from_env(told).webhook_private_addresses is True
    with pytest.raises(ConfigurationError, match="PORTAL_WEBHOOK_PRIVATE_ADDRESSES must be 1"):
        Settings.from_env({**base, "PORTAL_WEBHOOK_PRIVATE_ADDRESSES": "maybe"})
