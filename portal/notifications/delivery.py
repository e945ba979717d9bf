"""Sending the queued mail: each message claimed by one worker, sent outside any transaction.

Every worker process runs `run_mailer`, the outbox's deliverer (`portal.outbox`): a
batch is claimed for one worker under a lease, built and sent with no transaction open
and off the event loop, and the outcome is recorded: `sent_at`, or `last_error` and a
retry after 1, 2, 4 ... minutes (at most an hour apart), giving up after
`MAX_ATTEMPTS`. A worker that dies mid-batch leaves its claims to expire: the mail is
tried again when the lease ends.

With no PORTAL_SMTP_URL, development writes each message to `<data dir>/outbox/` as an
`.eml` file; production keeps the mail queued and says so in the log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import smtplib
import ssl
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path
from urllib.parse import unquote, urlsplit

from piccolo.columns.combination import And

from portal.database import write_transaction
from portal.notifications.tables import OutboundMail
from portal.outbox import NEVER, Outbox, backoff
from portal.settings import Settings

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 10
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=1)
LEASE = timedelta(minutes=10)
"""How long a claim keeps other workers off a message; far longer than a batch takes."""
SMTP_TIMEOUT = 30.0
SEVEN_BIT = policy.default.clone(cte_type="7bit")
"""Bodies in base64 or quoted-printable: any server takes them, 8BITMIME or not."""


def retry_delay(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt: 1 minute, 2, 4, ... up to an hour."""
    return backoff(attempts, FIRST_RETRY, LONGEST_RETRY)


@dataclass(frozen=True)
class Claimed:
    id: int
    to_address: str
    subject: str
    body: str
    created_at: datetime
    attempts: int  # counting this one


def _due(now: datetime) -> And:
    return (
        OutboundMail.sent_at.is_null()
        & (OutboundMail.next_attempt_at <= now)
        & (OutboundMail.attempts < MAX_ATTEMPTS)
    )


MAIL = Outbox(
    table=OutboundMail,
    due=_due,
    claimed_columns=(
        OutboundMail.id,
        OutboundMail.to_address,
        OutboundMail.subject,
        OutboundMail.body,
        OutboundMail.created_at,
        OutboundMail.attempts,
    ),
    log=log,
    what="mail",
)


async def claim_due(limit: int, now: datetime) -> list[Claimed]:
    """Take up to `limit` due messages for this worker alone, for the length of a lease."""
    return [Claimed(**row) for row in await MAIL.claim(limit, now, LEASE)]


def build_message(settings: Settings, mail: Claimed) -> EmailMessage:
    domain = parseaddr(settings.mail_from)[1].rpartition("@")[2] or "localhost"
    message = EmailMessage(policy=SEVEN_BIT)
    message["From"] = settings.mail_from
    message["To"] = mail.to_address
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(datetime.now(UTC))
    # The same ID on every attempt, so a message sent twice (a crash after the server
    # took it, before we recorded it) is recognisably one message.
    created = int(_utc(mail.created_at).timestamp())
    message["Message-ID"] = f"<mail-{mail.id}.{created}@{domain}>"
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies
    message.set_content(mail.body, charset="utf-8")
    return message


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:1000]


def _connect(settings: Settings) -> smtplib.SMTP:
    url = urlsplit(settings.smtp_url)
    host = url.hostname or "localhost"
    # Naming ourselves by the portal's host spares smtplib a reverse DNS lookup.
    local_name = urlsplit(settings.base_url).hostname or "localhost"
    context = ssl.create_default_context()
    client: smtplib.SMTP
    if url.scheme == "smtps":
        client = smtplib.SMTP_SSL(
            host,
            url.port or 465,
            local_hostname=local_name,
            timeout=SMTP_TIMEOUT,
            context=context,
        )
    else:
        client = smtplib.SMTP(host, url.port or 25, local_hostname=local_name, timeout=SMTP_TIMEOUT)
        client.ehlo()
        if client.has_extn("starttls"):
            client.starttls(context=context)
            client.ehlo()
    if url.username:
        client.login(unquote(url.username), unquote(url.password or ""))
    return client


def _send_over_smtp(
    settings: Settings, batch: Sequence[tuple[Claimed, EmailMessage]]
) -> dict[int, str | None]:
    """Send a batch over one connection: each message's error, or None once accepted."""
    outcome: dict[int, str | None] = {}
    # Stop handing messages over well before the claims expire and another worker may
    # take them: what is left is retried as if it had failed.
    deadline = time.monotonic() + LEASE.total_seconds() / 2
    try:
        client = _connect(settings)
    except (OSError, smtplib.SMTPException) as exc:
        error = f"Could not reach the mail server: {_describe(exc)}"
        return {mail.id: error for mail, _message in batch}
    try:
        for mail, message in batch:
            if time.monotonic() > deadline:
                outcome[mail.id] = "Not sent: the batch took too long; it will be tried again."
                continue
            try:
                client.send_message(message)
                outcome[mail.id] = None
            except (
                smtplib.SMTPRecipientsRefused,
                smtplib.SMTPDataError,
                smtplib.SMTPSenderRefused,
                smtplib.SMTPNotSupportedError,
            ) as exc:
                outcome[mail.id] = _describe(exc)  # this message only; the session goes on
            except (OSError, smtplib.SMTPException) as exc:
                # The connection is gone: the rest of the batch waits for the retry.
                error = _describe(exc)
                for rest, _message in batch:
                    outcome.setdefault(rest.id, error)
                break
    finally:
        with contextlib.suppress(OSError, smtplib.SMTPException):
            client.quit()
    return outcome


def _write_outbox(
    directory: Path, batch: Sequence[tuple[Claimed, EmailMessage]]
) -> dict[int, str | None]:
    """Development without SMTP: each message becomes `<id>-<timestamp>.eml`, written whole."""
    outcome: dict[int, str | None] = {}
    for mail, message in batch:
        try:
            directory.mkdir(parents=True, exist_ok=True)
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
            target = directory / f"{mail.id}-{stamp}.eml"
            partial = directory / f".{target.name}.tmp"  # readers never see half a message
            partial.write_bytes(bytes(message))
            os.replace(partial, target)
            outcome[mail.id] = None
        except OSError as exc:
            outcome[mail.id] = _describe(exc)
    return outcome


async def _record(claimed: Sequence[Claimed], outcome: dict[int, str | None]) -> None:
    now = datetime.now(UTC)
    sent = [mail.id for mail in claimed if mail.id in outcome and outcome[mail.id] is None]
    async with write_transaction(OutboundMail._meta.db):
        if sent:
            await OutboundMail.update(
                {
                    OutboundMail.sent_at: now,
                    OutboundMail.next_attempt_at: NEVER,
                    OutboundMail.last_error: "",
                }
            ).where(OutboundMail.id.is_in(sent))
        for mail in claimed:
            if mail.id in sent:
                continue
            error = outcome.get(mail.id) or "Not sent."
            if mail.attempts >= MAX_ATTEMPTS:
                log.error(
                    "Giving up on mail %s to %s after %s attempts: %s",
                    mail.id,
                    mail.to_address,
                    mail.attempts,
                    error,
                )
                retry_at = NEVER
            else:
                log.warning(
                    "Mail %s to %s not sent (attempt %s): %s",
                    mail.id,
                    mail.to_address,
                    mail.attempts,
                    error,
                )
                retry_at = now + retry_delay(mail.attempts)
            # Only while the claim is still ours: a worker that took over after the lease
            # has counted its own attempt.
            await OutboundMail.update(
                {OutboundMail.last_error: error, OutboundMail.next_attempt_at: retry_at}
            ).where((OutboundMail.id == mail.id) & (OutboundMail.attempts == mail.attempts))


async def deliver_pending(
    settings: Settings, limit: int = 50, *, now: datetime | None = None
) -> int:
    """Send up to `limit` due messages; return how many were sent (or written to the outbox).

    Call it with no transaction open: the claim and the outcome are transactions of their
    own, and nothing waits on the mail server while holding a lock. `now` stands for the
    present when deciding what is due (tests use it to let the retry delays pass).
    """
    MAIL.refuse_inside_transaction("deliver_pending", "sends mail")
    if not settings.smtp_url and settings.is_production:
        log.warning("PORTAL_SMTP_URL is not set: mail stays queued until it is.")
        return 0
    claimed = await claim_due(limit, now or datetime.now(UTC))
    if not claimed:
        return 0
    outcome = await asyncio.to_thread(_build_and_send, settings, claimed)
    await _record(claimed, outcome)
    return sum(1 for error in outcome.values() if error is None)


def _build_and_send(settings: Settings, claimed: Sequence[Claimed]) -> dict[int, str | None]:
    """Build each message and send the batch, off the event loop: each message's error,
    or None once it is accepted (or written to the development outbox)."""
    batch: list[tuple[Claimed, EmailMessage]] = []
    outcome: dict[int, str | None] = {}
    for mail in claimed:
        try:
            batch.append((mail, build_message(settings, mail)))
        except ValueError as exc:  # e.g. an address the email package refuses
            outcome[mail.id] = _describe(exc)
    if batch:
        if settings.smtp_url:
            outcome |= _send_over_smtp(settings, batch)
        else:
            outcome |= _write_outbox(settings.data_dir / "outbox", batch)
    return outcome


async def run_mailer(settings: Settings, interval: float, stop: asyncio.Event) -> None:
    """Deliver due mail every `interval` seconds until `stop` is set; errors are logged."""
    if not settings.smtp_url and settings.is_production:
        log.warning("PORTAL_SMTP_URL is not set: no email will be sent; it stays queued.")
        await stop.wait()
        return
    await MAIL.run(lambda: deliver_pending(settings), interval, stop)
