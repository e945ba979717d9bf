"""Webhooks: the URLs an integration registers, and the events written for them.

An event is written to the outbox (`WebhookDelivery`, one row per endpoint) in the same
transaction as the move of the case it announces: a move that rolls back announces
nothing, and a committed move is never left unannounced. Sending is the deliverer's
(`portal.integrations.delivery`), in the background, never on a request's path.

Events (declared by the entry types that announce them, `portal.procedure.entries`):
- `case.state_changed`: every move of a case;
- `case.outcome_recorded`: a move that decides the case, or records its remedy as done;
- `case.remedy_due`: the case enters a state where the platform owes the remedy
  (resolved, settled, awarded: what `record_remedy` leaves from).
"""

from __future__ import annotations

import json
import secrets
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import msgspec

from portal import sealed
from portal.database import write_transaction
from portal.errors import Conflict, FormInvalid, NotFound
from portal.i18n import _
from portal.integrations.addresses import AddressRefused, check_public
from portal.integrations.keys import ApiCaller
from portal.integrations.schemas import CreatedWebhook, Webhook
from portal.integrations.status import DECISIONS, REMEDY_DONE, case_status
from portal.integrations.tables import WebhookDelivery, WebhookEndpoint
from portal.procedure import case as states
from portal.procedure import entries

# The events are the registry's: the entry of a case's move declares what it announces.
MOVED = "case.transitioned"
STATE_CHANGED, OUTCOME_RECORDED, REMEDY_DUE = entries.webhook_events(MOVED)
EVENT_TYPES = entries.all_webhook_events()

REMEDY_DUE_STATES = states.declared(REMEDY_DONE).sources
OUTCOME_ACTIONS = frozenset((*DECISIONS, REMEDY_DONE))
ENDPOINTS_PER_INTEGRATION = 10


def seal(secret: str, secret_key: str) -> str:
    return sealed.seal("webhook", secret, secret_key)


def unseal(sealed_secret: str, secret_key: str) -> str | None:
    return sealed.unseal("webhook", sealed_secret, secret_key)


def check_url(url: str, production: bool) -> str:
    """The URL if the portal may post to it; FormInvalid saying what to fix otherwise."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FormInvalid({"url": _("Give the full address, starting with https://.")})
    if production and parts.scheme != "https":
        raise FormInvalid({"url": _("Use an https:// address: deliveries carry case data.")})
    if parts.username or parts.password:
        raise FormInvalid(
            {"url": _("Leave user names and passwords out of the address; check the signature.")}
        )
    if parts.fragment:
        raise FormInvalid({"url": _("Leave the #fragment out of the address.")})
    return url


async def refuse_private(url: str) -> None:
    """FormInvalid, saying what to fix, for an address the portal must not post to."""
    try:
        await check_public(url)
    except AddressRefused as refused:
        if refused.address is None:
            message = _("The host name %(host)s cannot be found.", host=refused.host)
        else:
            message = _(
                "%(host)s leads to %(address)s, a private or local network address; "
                "give a public one.",
                host=refused.host,
                address=refused.address,
            )
        raise FormInvalid({"url": message}) from None


async def register(
    caller: ApiCaller,
    url: str,
    events: list[str] | None,
    secret_key: str,
    production: bool,
    private_addresses: bool,
) -> CreatedWebhook:
    """A new endpoint for the caller's integration; its signing secret is returned once."""
    url = check_url(url, production)
    if not private_addresses:
        await refuse_private(url)
    chosen = sorted(set(events or EVENT_TYPES))
    if not chosen or set(chosen) - set(EVENT_TYPES):
        raise FormInvalid({"events": _("Choose among %(events)s.", events=", ".join(EVENT_TYPES))})
    secret = "whsec_" + secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    async with write_transaction(WebhookEndpoint._meta.db):
        live = await WebhookEndpoint.count().where(
            (WebhookEndpoint.integration == caller.integration_id)
            & WebhookEndpoint.removed_at.is_null()
        )
        if live >= ENDPOINTS_PER_INTEGRATION:
            raise Conflict(
                _(
                    "An integration may have %(n)s webhooks; remove one before adding another.",
                    n=ENDPOINTS_PER_INTEGRATION,
                )
            )
        rows = await WebhookEndpoint.insert(
            WebhookEndpoint(
                integration=caller.integration_id,
                url=url,
                secret_sealed=seal(secret, secret_key),
                events=" ".join(chosen),
                created_by_key=caller.key_id,
                created_at=now,
            )
        ).returning(WebhookEndpoint.id)
    return CreatedWebhook(id=rows[0]["id"], url=url, events=chosen, created_at=now, secret=secret)


async def listed(integration_id: int) -> list[Webhook]:
    rows = (
        await WebhookEndpoint.select(
            WebhookEndpoint.id,
            WebhookEndpoint.url,
            WebhookEndpoint.events,
            WebhookEndpoint.created_at,
        )
        .where(
            (WebhookEndpoint.integration == integration_id) & WebhookEndpoint.removed_at.is_null()
        )
        .order_by(WebhookEndpoint.id)
    )
    return [
        Webhook(
            id=row["id"],
            url=row["url"],
            events=row["events"].split(),
            created_at=_utc(row["created_at"]),
        )
        for row in rows
    ]


async def remove(integration_id: int, endpoint_id: int) -> None:
    """No more events go to the endpoint; what was still waiting to be sent is dropped."""
    now = datetime.now(UTC)
    async with write_transaction(WebhookEndpoint._meta.db):
        removed = (
            await WebhookEndpoint.update({WebhookEndpoint.removed_at: now})
            .where(
                (WebhookEndpoint.id == endpoint_id)
                & (WebhookEndpoint.integration == integration_id)
                & WebhookEndpoint.removed_at.is_null()
            )
            .returning(WebhookEndpoint.id)
        )
        if not removed:
            raise NotFound()
        await WebhookDelivery.update(
            {
                WebhookDelivery.status: "failed",
                WebhookDelivery.last_error: "The webhook was removed before this was sent.",
            }
        ).where((WebhookDelivery.endpoint == endpoint_id) & (WebhookDelivery.status == "pending"))


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def case_moved(ref: str, action: str, source: str, target: str) -> int:
    """Write the events of one move of a case for every endpoint that wants them; call in
    the move's transaction. Returns how many deliveries were queued."""
    endpoints = await WebhookEndpoint.select(WebhookEndpoint.id, WebhookEndpoint.events).where(
        WebhookEndpoint.removed_at.is_null()
    )
    if not endpoints:
        return 0
    status = msgspec.to_builtins(await case_status(ref))
    transition = {"action": action, "from": source, "to": target}
    events = [STATE_CHANGED]
    if action in OUTCOME_ACTIONS:
        events.append(OUTCOME_RECORDED)
    if target in REMEDY_DUE_STATES:
        events.append(REMEDY_DUE)
    now = datetime.now(UTC)
    rows: list[WebhookDelivery] = []
    for event_type in events:
        event_id = str(uuid.uuid4())
        body = _event_body(event_id, event_type, now, status, transition)
        rows.extend(
            WebhookDelivery(
                endpoint=endpoint["id"],
                event_id=event_id,
                event_type=event_type,
                case_ref=ref,
                body=body,
                created_at=now,
                next_attempt_at=now,
            )
            for endpoint in endpoints
            if event_type in endpoint["events"].split()
        )
    if rows:
        await WebhookDelivery.insert(*rows)
    return len(rows)


def _event_body(event_id: str, event_type: str, at: datetime, status: dict[str, Any],
                transition: dict[str, str]) -> str:  # fmt: skip
    return json.dumps(
        {
            "id": event_id,
            "type": event_type,
            "created_at": at.isoformat().replace("+00:00", "Z"),
            "data": {"case": status, "transition": transition},
        },
        ensure_ascii=False,
        separators=(",", ":"),
        sort_keys=True,
    )
