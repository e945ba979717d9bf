"""Webhooks end to end, with a real HTTP receiver started by each test: events arrive
signed, a failing receiver is retried until it takes them, every attempt is in the log
that staff read and replay from, and a hanging receiver holds up nothing but itself."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import hmac
import html
import json
from datetime import UTC, datetime, timedelta

import pytest

from portal.integrations.delivery import MAX_ATTEMPTS, deliver_due
from portal.integrations.tables import WebhookAttempt, WebhookDelivery
from tests.integrations.test_api_cases import NEW_CASE
from tests.portal.test_journeys import step, to_proposed


def later(minutes: int = 1) -> datetime:
    """A moment after any backoff of the tests' settings: what is waiting is due by then."""
    return datetime.now(UTC) + timedelta(minutes=minutes)


def verify(secret: str, received) -> dict:
    """What a receiver does: check the signature over the timestamp and the raw body."""
    fields = dict(part.split("=", 1) for part in received.headers["x-portal-signature"].split(","))
    expected = hmac.new(
        secret.encode(), f"{fields['t']}.".encode() + received.body, hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(expected, fields["v1"])
    return json.loads(received.body)


async def register(client, url: str, **extra) -> dict:
    response = await client.post("/api/v1/webhooks", json={"url": url, **extra})
    assert response.status_code == 201, response.text
    return response.json()


async def test_a_failing_receiver_is_retried_until_it_takes_the_signed_event(
    api, integration, receiver, browser, people, settings, sue
):
    hook_receiver = await receiver(failures=2)
    client = await api(integration.token)
    hook = await register(client, hook_receiver.url, events=["case.state_changed"])
    assert hook["secret"].startswith("whsec_")
    listed = (await client.get("/api/v1/webhooks")).json()
    assert listed == [{k: hook[k] for k in ("id", "url", "events", "created_at")}]
    assert "secret" not in listed[0]

    ref = (await client.post("/api/v1/cases", json=NEW_CASE)).json()["ref"]
    assert await WebhookDelivery.count() == 0  # filing is not a move
    ada = await browser(people["ada"])
    await step(ada, ref, "start_review")
    assert await WebhookDelivery.count() == 1  # written with the move, not yet sent

    assert await deliver_due(settings) == 0
    delivery = await WebhookDelivery.select().first()
    assert (delivery["status"], delivery["attempts"]) == ("pending", 1)
    assert delivery["last_error"] == "The receiver answered 503."
    assert await deliver_due(settings, now=later()) == 0
    assert await deliver_due(settings, now=later(2)) == 1
    assert await deliver_due(settings, now=later(60)) == 0  # nothing left to send

    assert [r.answered for r in hook_receiver.requests] == [503, 503, 200]
    event_ids = {r.headers["x-portal-event-id"] for r in hook_receiver.requests}
    assert event_ids == {delivery["event_id"]}
    bodies = {r.body for r in hook_receiver.requests}
    assert len(bodies) == 1  # every attempt carries the same bytes
    event = verify(hook["secret"], hook_receiver.requests[-1])
    assert event["id"] == delivery["event_id"] and event["type"] == "case.state_changed"
    assert event["data"]["transition"] == {"action": "start_review", "from": "submitted",
                                           "to": "triage"}  # fmt: skip
    assert event["data"]["case"]["ref"] == ref and event["data"]["case"]["state"] == "triage"
    assert hook_receiver.requests[-1].headers["x-portal-event"] == "case.state_changed"
    forged = dataclasses.replace(hook_receiver.requests[-1], body=b'{"type":"forged"}')
    with pytest.raises(AssertionError):
        verify(hook["secret"], forged)  # a changed body does not verify

    attempts = await WebhookAttempt.select().order_by(WebhookAttempt.id)
    assert [(a["number"], a["status_code"]) for a in attempts] == [(1, 503), (2, 503), (3, 200)]
    delivered = await WebhookDelivery.select().first()
    assert delivered["status"] == "delivered" and delivered["delivered_at"] is not None

    # Staff read the log, and send the delivery once more.
    log_page = await sue.get(f"/staff/integrations/{integration.id}/deliveries")
    assert log_page.status_code == 200
    text = html.unescape(log_page.text)
    assert text.count("HTTP 503") == 2 and "HTTP 200" in text and delivery["event_id"] in text
    replay = await sue.post(
        f"/staff/integrations/{integration.id}/deliveries/{delivery['id']}/replay"
    )
    assert replay.status_code == 303
    assert await deliver_due(settings) == 1
    assert hook_receiver.requests[-1].headers["x-portal-event-id"] == delivery["event_id"]
    verify(hook["secret"], hook_receiver.requests[-1])
    last = await WebhookAttempt.select().order_by(WebhookAttempt.id, ascending=False).first()
    assert (last["number"], last["status_code"], last["replay"]) == (4, 200, True)
    assert (
        "sent again by staff"
        in (await sue.get(f"/staff/integrations/{integration.id}/deliveries")).text
    )


async def test_an_accepted_proposal_tells_of_the_outcome_and_the_remedy_due(
    api, integration, receiver, people, browser, settings
):
    hook_receiver = await receiver()
    client = await api(integration.token)
    hook = await register(
        client, hook_receiver.url, events=["case.outcome_recorded", "case.remedy_due"]
    )
    alice, ada, _ivy, _sam, ref = await to_proposed(people, browser)
    assert await WebhookDelivery.count() == 0  # four moves, none of the events asked for

    await step(alice, ref, "accept_proposal")
    await step(ada, ref, "record_remedy", reference="TX-4471")
    assert await deliver_due(settings) == 3
    events = [verify(hook["secret"], r) for r in hook_receiver.requests]
    by_type = sorted((e["type"], e["data"]["transition"]["action"]) for e in events)
    assert by_type == [
        ("case.outcome_recorded", "accept_proposal"),
        ("case.outcome_recorded", "record_remedy"),
        ("case.remedy_due", "accept_proposal"),
    ]
    due = next(e for e in events if e["type"] == "case.remedy_due")["data"]["case"]
    assert due["state"] == "resolved"
    assert due["outcome"]["decision"] == "proposal_accepted"
    assert due["outcome"]["remedy"] == {"remedy": "refund", "amount": "100", "asset": "USDT",
                                        "details": ""}  # fmt: skip
    assert due["outcome"]["remedy_carried_out"] is False

    status = (await client.get(f"/api/v1/cases/{ref}")).json()
    assert status["state"] == "closed" and status["deadline_at"] is None
    assert status["outcome"]["decision"] == "proposal_accepted"
    assert status["outcome"]["remedy_carried_out"] is True
    assert status["outcome"]["remedy_reference"] == "TX-4471"


async def test_a_hanging_receiver_holds_up_neither_requests_nor_other_receivers(
    api, integration, receiver, browser, people, settings
):
    stuck, healthy = await receiver(hang=True), await receiver()
    client = await api(integration.token)
    stuck_hook = await register(client, stuck.url)
    healthy_hook = await register(client, healthy.url)
    ref = (await client.post("/api/v1/cases", json=NEW_CASE)).json()["ref"]
    ada = await browser(people["ada"])
    await step(ada, ref, "start_review")

    # The stuck receiver holds its request until released; with a long timeout, the
    # deliverer is still waiting on it while the portal answers other requests.
    patient = dataclasses.replace(settings, webhook_timeout_seconds=60)
    sending = asyncio.create_task(deliver_due(patient))
    await stuck.first_request()
    assert (await client.get(f"/api/v1/cases/{ref}")).json()["state"] == "triage"
    await step(ada, ref, "accept", severity="low", category="liquidation", in_scope="yes")
    assert not sending.done()
    stuck.release()
    assert await sending == 1  # the healthy receiver's
    assert [r.answered for r in healthy.requests] == [200]
    verify(healthy_hook["secret"], healthy.requests[0])
    held = (
        await WebhookDelivery.select()
        .where(WebhookDelivery.endpoint == stuck_hook["id"])
        .order_by(WebhookDelivery.id)
        .first()
    )
    assert (held["status"], held["attempts"]) == ("pending", 1)  # to be tried again
    assert held["last_error"]  # the connection was dropped without an answer

    # With the tests' half-second timeout, the deliverer gives up on it by itself.
    stuck.hold()
    sent = await deliver_due(settings, now=later())
    assert sent == 1  # the healthy receiver's event of the second move
    timed_out = await WebhookAttempt.select().where(WebhookAttempt.error.like("No answer within%"))
    assert timed_out and all(a["status_code"] is None for a in timed_out)


async def test_a_dead_receiver_is_given_up_after_the_last_attempt(
    api, integration, receiver, browser, people, settings
):
    gone = await receiver()
    url = gone.url
    await gone.close()  # nothing listens on its port any more
    client = await api(integration.token)
    await register(client, url, events=["case.state_changed"])
    ref = (await client.post("/api/v1/cases", json=NEW_CASE)).json()["ref"]
    await step(await browser(people["ada"]), ref, "start_review")
    for minutes in range(1, MAX_ATTEMPTS + 3):
        await deliver_due(settings, now=later(minutes * 70))
    delivery = await WebhookDelivery.select().first()
    assert (delivery["status"], delivery["attempts"]) == ("failed", MAX_ATTEMPTS)
    assert "ConnectError" in delivery["last_error"]
    assert await WebhookAttempt.count() == MAX_ATTEMPTS


async def test_two_workers_never_send_the_same_delivery(
    api, integration, receiver, browser, people, settings
):
    hook_receiver = await receiver()
    client = await api(integration.token)
    await register(client, hook_receiver.url, events=["case.state_changed"])
    ada = await browser(people["ada"])
    refs = [(await client.post("/api/v1/cases", json=NEW_CASE)).json()["ref"] for _ in range(3)]
    for ref in refs:
        await step(ada, ref, "start_review")
    sent = await asyncio.gather(*(deliver_due(settings) for _ in range(4)))
    assert sum(sent) == 3
    ids = [r.headers["x-portal-delivery"] for r in hook_receiver.requests]
    assert len(ids) == len(set(ids)) == 3


async def test_webhooks_are_checked_listed_and_removed(api, integration, receiver, sue,
                                                      browser, people, settings):  # fmt: skip
    hook_receiver = await receiver()
    client = await api(integration.token)
    for url, field in (("ftp://example.com/x", "url"), ("https://u:p@example.com/", "url")):
        answer = await client.post("/api/v1/webhooks", json={"url": url})
        assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == field
    bad_event = await client.post(
        "/api/v1/webhooks", json={"url": hook_receiver.url, "events": ["case.filed"]}
    )
    assert bad_event.status_code == 422 and "case.state_changed" in bad_event.text
    hook = await register(client, hook_receiver.url)
    assert hook["events"] == ["case.outcome_recorded", "case.remedy_due", "case.state_changed"]

    ref = (await client.post("/api/v1/cases", json=NEW_CASE)).json()["ref"]
    await step(await browser(people["ada"]), ref, "start_review")
    removed = await client.delete(f"/api/v1/webhooks/{hook['id']}")
    assert removed.status_code == 204
    assert (await client.get("/api/v1/webhooks")).json() == []
    assert (await client.delete(f"/api/v1/webhooks/{hook['id']}")).status_code == 404
    # What was waiting for it is not sent, and cannot be replayed.
    assert await deliver_due(settings) == 0 and hook_receiver.requests == []
    delivery = await WebhookDelivery.select().first()
    assert delivery["status"] == "failed"
    replay = await sue.post(
        f"/staff/integrations/{integration.id}/deliveries/{delivery['id']}/replay"
    )
    assert replay.status_code == 409

    # Another integration's key sees none of this integration's webhooks.
    from tests.integrations.conftest import make_integration, make_key

    other = await api(await make_key(sue, await make_integration(sue, "Other")))
    assert (await other.get("/api/v1/webhooks")).json() == []
    hook2 = await register(client, hook_receiver.url)
    assert (await other.delete(f"/api/v1/webhooks/{hook2['id']}")).status_code == 404
