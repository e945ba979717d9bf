"""Sending webhook deliveries: signed, in the background, retried with backoff, logged.

Every worker runs `run_deliverer`, the outbox's deliverer (`portal.outbox`): a batch is
claimed under a lease, so no two workers send the same delivery at once. The batch is
then posted concurrently with no transaction open, each request cut off after
PORTAL_WEBHOOK_TIMEOUT_SECONDS: a slow or dead receiver costs the deliverer a timeout
and the portal nothing. Each attempt is logged (status code, error,
duration); a failure is retried after the backoff (PORTAL_WEBHOOK_BACKOFF_SECONDS, then
doubling, at most an hour apart), and after `MAX_ATTEMPTS` the delivery is marked failed.
Staff can replay any delivery from its log.

Signature (documented for receivers in the README):

    X-Portal-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>

with `X-Portal-Event-Id` the same on every attempt and replay of one event, so a
receiver can drop duplicates.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from piccolo.columns import Column
from piccolo.custom_types import Combinable

from portal import outbox
from portal.database import write_transaction
from portal.errors import Conflict, NotFound
from portal.i18n import _
from portal.integrations.addresses import AddressRefused, check_public
from portal.integrations.tables import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from portal.integrations.webhooks import unseal
from portal.outbox import NEVER, Outbox
from portal.settings import Settings

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
LONGEST_WAIT = timedelta(hours=1)
BATCH = 20
USER_AGENT = "dispute-portal-webhooks/1"
PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"


def lease(settings: Settings) -> timedelta:
    """How long a claim keeps other workers off a delivery: far longer than a batch takes."""
    return timedelta(seconds=max(120.0, 4 * settings.webhook_timeout_seconds))


def backoff(attempts: int, base_seconds: float) -> timedelta:
    """The wait after the `attempts`-th failure: base, 2 x base, 4 x base ... up to an hour."""
    return outbox.backoff(attempts, timedelta(seconds=base_seconds), LONGEST_WAIT)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


@dataclass(frozen=True)
class Claimed:
    id: int
    event_id: str
    event_type: str
    body: str
    attempts: int  # counting this one
    replay: bool
    url: str
    secret_sealed: str


def _due(now: datetime) -> Combinable:
    return (WebhookDelivery.status == PENDING) & (WebhookDelivery.next_attempt_at <= now)


WEBHOOKS = Outbox(
    table=WebhookDelivery,
    due=_due,
    claimed_columns=(
        WebhookDelivery.id,
        WebhookDelivery.event_id,
        WebhookDelivery.event_type,
        WebhookDelivery.body,
        WebhookDelivery.attempts,
        WebhookDelivery.replay_requested,
        WebhookDelivery.endpoint,
    ),
    log=log,
    what="webhooks",
)


async def claim_due(settings: Settings, limit: int, now: datetime) -> list[Claimed]:
    """Take up to `limit` due deliveries for this worker alone, for the length of a lease,
    each with where it goes and the sealed secret it is signed with."""
    claimed = await WEBHOOKS.claim(limit, now, lease(settings))
    if not claimed:
        return []
    endpoints = {
        row["id"]: row
        for row in await WebhookEndpoint.select(
            WebhookEndpoint.id, WebhookEndpoint.url, WebhookEndpoint.secret_sealed
        ).where(WebhookEndpoint.id.is_in(sorted({r["endpoint"] for r in claimed})))
    }
    return [
        Claimed(
            id=row["id"],
            event_id=row["event_id"],
            event_type=row["event_type"],
            body=row["body"],
            attempts=row["attempts"],
            replay=row["replay_requested"],
            url=endpoints[row["endpoint"]]["url"],
            secret_sealed=endpoints[row["endpoint"]]["secret_sealed"],
        )
        for row in claimed
    ]


@dataclass(frozen=True)
class Answer:
    status_code: int | None
    error: str
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def refused_because(refused: AddressRefused) -> str:
    """The delivery log's words (English, like the receivers' own errors kept there)."""
    if refused.address is None:
        return f"the host name {refused.host} cannot be found"
    return f"{refused.host} resolves to {refused.address}, a private or local address"


async def post(client: httpx.AsyncClient, settings: Settings, delivery: Claimed) -> Answer:
    """One signed POST, cut off after the timeout however the receiver dawdles."""
    started = time.monotonic()
    secret = unseal(delivery.secret_sealed, settings.secret_key)
    if secret is None:
        return Answer(None, "The webhook's secret cannot be read with this PORTAL_SECRET_KEY.", 0)
    if not settings.webhook_private_addresses:
        try:
            await check_public(delivery.url)
        except AddressRefused as refused:
            return Answer(None, f"Not sent: {refused_because(refused)}.", 0)
    body = delivery.body.encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Portal-Event": delivery.event_type,
        "X-Portal-Event-Id": delivery.event_id,
        "X-Portal-Delivery": str(delivery.id),
        "X-Portal-Signature": signature(secret, int(time.time()), body),
    }
    status: int | None = None
    try:
        async with asyncio.timeout(settings.webhook_timeout_seconds):
            # Streamed, and the answer's body never read: only its status counts.
            async with client.stream("POST", delivery.url, content=body, headers=headers) as r:
                status = r.status_code
        error = "" if 200 <= status < 300 else f"The receiver answered {status}."
    except TimeoutError:
        error = f"No answer within {settings.webhook_timeout_seconds:g} seconds."
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"[:1000]
    return Answer(status, error, int((time.monotonic() - started) * 1000))


async def _record(settings: Settings, delivery: Claimed, answer: Answer) -> None:
    now = datetime.now(UTC)
    async with write_transaction(WebhookDelivery._meta.db):
        number = await WebhookAttempt.count().where(WebhookAttempt.delivery == delivery.id) + 1
        await WebhookAttempt.insert(
            WebhookAttempt(
                delivery=delivery.id,
                number=number,
                at=now,
                status_code=answer.status_code,
                error=answer.error,
                duration_ms=answer.duration_ms,
                replay=delivery.replay,
            )
        )
        changes: dict[Column | str, Any]
        if answer.ok:
            changes = {
                WebhookDelivery.status: DELIVERED,
                WebhookDelivery.delivered_at: now,
                WebhookDelivery.next_attempt_at: NEVER,
                WebhookDelivery.last_error: "",
            }
        elif delivery.attempts >= MAX_ATTEMPTS:
            log.warning("Webhook delivery %s failed for good: %s", delivery.id, answer.error)
            changes = {
                WebhookDelivery.status: FAILED,
                WebhookDelivery.next_attempt_at: NEVER,
                WebhookDelivery.last_error: answer.error,
            }
        else:
            changes = {
                WebhookDelivery.next_attempt_at: now
                + backoff(delivery.attempts, settings.webhook_backoff_seconds),
                WebhookDelivery.last_error: answer.error,
            }
        changes[WebhookDelivery.replay_requested] = False
        # Only while the claim is ours: a replay asked for meanwhile starts afresh.
        await WebhookDelivery.update(changes).where(
            (WebhookDelivery.id == delivery.id)
            & (WebhookDelivery.attempts == delivery.attempts)
            & (WebhookDelivery.status == PENDING)
        )


async def deliver_due(
    settings: Settings, limit: int = BATCH, *, now: datetime | None = None
) -> int:
    """Send up to `limit` due deliveries; return how many the receivers accepted.

    Call with no transaction open. `now` stands for the present when choosing what is
    due (tests pass a later one rather than wait for the backoff).
    """
    WEBHOOKS.refuse_inside_transaction("deliver_due", "posts to receivers")
    claimed = await claim_due(settings, limit, now or datetime.now(UTC))
    if not claimed:
        return 0
    async with httpx.AsyncClient(
        timeout=settings.webhook_timeout_seconds, follow_redirects=False, trust_env=False
    ) as client:
        answers = await asyncio.gather(*(post(client, settings, d) for d in claimed))
    for delivery, answer in zip(claimed, answers, strict=True):
        await _record(settings, delivery, answer)
    return sum(1 for answer in answers if answer.ok)


async def run_deliverer(settings: Settings, interval: float, stop: asyncio.Event) -> None:
    """Deliver due webhooks every `interval` seconds until `stop` is set; errors are logged."""
    await WEBHOOKS.run(lambda: deliver_due(settings), interval, stop)


async def replay(integration_id: int, delivery_id: int) -> None:
    """Send the delivery again, as it was (same body and event ID), with fresh retries."""
    async with write_transaction(WebhookDelivery._meta.db):
        row = (
            await WebhookDelivery.select(
                WebhookDelivery.id,
                WebhookDelivery.endpoint.integration.as_alias("integration"),
                WebhookDelivery.endpoint.removed_at.as_alias("removed_at"),
            )
            .where(WebhookDelivery.id == delivery_id)
            .first()
        )
        if row is None or row["integration"] != integration_id:
            raise NotFound()
        if row["removed_at"] is not None:
            raise Conflict(_("This webhook was removed; its deliveries cannot be sent again."))
        await WebhookDelivery.update(
            {
                WebhookDelivery.status: PENDING,
                WebhookDelivery.attempts: 0,
                WebhookDelivery.next_attempt_at: datetime.now(UTC),
                WebhookDelivery.replay_requested: True,
            }
        ).where(WebhookDelivery.id == delivery_id)


async def delivery_log(integration_id: int, limit: int = 100) -> list[dict[str, object]]:
    """The integration's latest deliveries, newest first, each with its attempts."""
    deliveries = (
        await WebhookDelivery.select(
            WebhookDelivery.id,
            WebhookDelivery.event_id,
            WebhookDelivery.event_type,
            WebhookDelivery.case_ref,
            WebhookDelivery.created_at,
            WebhookDelivery.status,
            WebhookDelivery.attempts,
            WebhookDelivery.next_attempt_at,
            WebhookDelivery.last_error,
            WebhookDelivery.endpoint.url.as_alias("url"),
            WebhookDelivery.endpoint.removed_at.as_alias("removed_at"),
        )
        .where(WebhookDelivery.endpoint.integration == integration_id)
        .order_by(WebhookDelivery.id, ascending=False)
        .limit(limit)
    )
    attempts = (
        await WebhookAttempt.select()
        .where(WebhookAttempt.delivery.is_in([d["id"] for d in deliveries]))
        .order_by(WebhookAttempt.id)
        if deliveries
        else []
    )
    for delivery in deliveries:
        delivery["attempt_log"] = [a for a in attempts if a["delivery"] == delivery["id"]]
        if delivery["status"] != PENDING:
            delivery["next_attempt_at"] = None
    return deliveries
