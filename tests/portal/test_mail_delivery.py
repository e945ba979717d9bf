"""Delivering queued mail: to a real SMTP server, with retries, to the outbox, and once only."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

import pytest
from aiosmtpd.controller import Controller
from litestar.testing import AsyncTestClient

from portal.accounts.service import create_user
from portal.app import create_app
from portal.database import write_transaction
from portal.notifications.delivery import (
    MAX_ATTEMPTS,
    NEVER,
    deliver_pending,
    retry_delay,
)
from portal.notifications.notify import notify, use_base_url
from portal.notifications.tables import Notification, OutboundMail

SUBJECT = "Case D-2026-0001: 陈静 posted a statement"
BODY = "Hello Zoë,\n\n陈静 posted a statement in case D-2026-0001 — please read it.\n"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Inbox:
    """What a real SMTP server received."""

    def __init__(self) -> None:
        self.envelopes: list = []

    async def handle_DATA(self, server, session, envelope) -> str:  # aiosmtpd's hook
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    @property
    def messages(self) -> list[EmailMessage]:
        parser = BytesParser(policy=policy.default)
        return [parser.parsebytes(envelope.content) for envelope in self.envelopes]


class SMTPServer:
    def __init__(self, port: int) -> None:
        self.port = port
        self.inbox = Inbox()
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def __enter__(self) -> SMTPServer:
        self.controller.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.controller.stop()


@pytest.fixture
def smtp_server() -> Iterator[SMTPServer]:
    with SMTPServer(free_port()) as server:
        yield server


async def queue(count: int = 1, to: str = "zoe@example.com", attempts: int = 0) -> list[int]:
    now = datetime.now(UTC)
    rows = await OutboundMail.insert(
        *(
            OutboundMail(
                to_address=to,
                subject=f"{SUBJECT} ({n})" if count > 1 else SUBJECT,
                body=BODY,
                created_at=now,
                next_attempt_at=now,
                attempts=attempts,
            )
            for n in range(count)
        )
    )
    return [row["id"] for row in rows]


async def row(mail_id: int) -> dict:
    found = await OutboundMail.select().where(OutboundMail.id == mail_id).first()
    assert found is not None
    return found


def utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def test_a_real_smtp_server_receives_the_mail_in_utf8(db, settings, smtp_server):
    [mail_id] = await queue()

    sent = await deliver_pending(replace(settings, smtp_url=smtp_server.url))

    assert sent == 1
    [envelope] = smtp_server.inbox.envelopes
    assert envelope.mail_from == "portal@localhost"
    assert envelope.rcpt_tos == ["zoe@example.com"]
    [message] = smtp_server.inbox.messages
    assert message["To"] == "zoe@example.com"
    assert message["From"] == "Dispute portal <portal@localhost>"
    assert message["Subject"] == SUBJECT
    assert message.get_content_charset() == "utf-8"
    assert message["Content-Transfer-Encoding"] in ("base64", "quoted-printable")
    assert message.get_content().replace("\r\n", "\n") == BODY  # CRLF: SMTP's line ending
    assert message["Message-ID"].startswith(f"<mail-{mail_id}.")
    assert message["Date"]
    stored = await row(mail_id)
    assert stored["sent_at"] is not None and stored["last_error"] == ""
    assert stored["attempts"] == 1
    # Sent mail is never sent again.
    assert await deliver_pending(replace(settings, smtp_url=smtp_server.url)) == 0
    assert len(smtp_server.inbox.envelopes) == 1


async def test_a_failing_server_is_retried_later_until_it_answers(db, settings):
    port = free_port()  # nothing listens here yet
    down = replace(settings, smtp_url=f"smtp://127.0.0.1:{port}")
    [mail_id] = await queue()

    assert await deliver_pending(down) == 0
    first = await row(mail_id)
    assert first["sent_at"] is None and first["attempts"] == 1
    assert "Could not reach the mail server" in first["last_error"]
    wait = utc(first["next_attempt_at"]) - datetime.now(UTC)
    assert timedelta(seconds=50) < wait <= timedelta(minutes=1)

    # Not due yet: nothing is tried.
    assert await deliver_pending(down) == 0
    assert (await row(mail_id))["attempts"] == 1

    # A minute later it fails again and waits twice as long.
    later = datetime.now(UTC) + timedelta(seconds=61)
    assert await deliver_pending(down, now=later) == 0
    second = await row(mail_id)
    assert second["attempts"] == 2
    wait = utc(second["next_attempt_at"]) - datetime.now(UTC)
    assert timedelta(seconds=110) < wait <= timedelta(minutes=2)

    with SMTPServer(port) as server:
        assert await deliver_pending(down, now=later + timedelta(minutes=2, seconds=1)) == 1
        [message] = server.inbox.messages
    assert message["Subject"] == SUBJECT
    done = await row(mail_id)
    assert done["sent_at"] is not None and done["attempts"] == 3 and done["last_error"] == ""


def test_retries_wait_twice_as_long_each_time_up_to_an_hour():
    minutes = [retry_delay(attempts) / timedelta(minutes=1) for attempts in range(1, 11)]
    assert minutes == [1, 2, 4, 8, 16, 32, 60, 60, 60, 60]


async def test_mail_is_given_up_after_ten_attempts(db, settings, caplog):
    down = replace(settings, smtp_url=f"smtp://127.0.0.1:{free_port()}")
    [mail_id] = await queue(attempts=MAX_ATTEMPTS - 1)

    with caplog.at_level(logging.ERROR, logger="portal.notifications.delivery"):
        assert await deliver_pending(down) == 0

    stored = await row(mail_id)
    assert stored["attempts"] == MAX_ATTEMPTS and stored["sent_at"] is None
    assert utc(stored["next_attempt_at"]) == NEVER
    assert "Giving up on mail" in caplog.text
    assert await deliver_pending(down, now=datetime(9000, 1, 1, tzinfo=UTC)) == 0
    assert (await row(mail_id))["attempts"] == MAX_ATTEMPTS


async def test_development_without_smtp_writes_each_mail_to_the_outbox(db, settings):
    assert settings.smtp_url == ""
    [mail_id] = await queue()

    assert await deliver_pending(settings) == 1

    outbox = settings.data_dir / "outbox"
    [written] = list(outbox.iterdir())  # no temporary file left behind
    assert written.name.startswith(f"{mail_id}-") and written.suffix == ".eml"
    message = BytesParser(policy=policy.default).parsebytes(written.read_bytes())
    assert message["To"] == "zoe@example.com"
    assert message["Subject"] == SUBJECT
    assert message.get_content() == BODY
    assert (await row(mail_id))["sent_at"] is not None


async def test_production_without_smtp_keeps_the_mail_queued(db, settings, caplog):
    production = replace(settings, env="production")
    [mail_id] = await queue()

    with caplog.at_level(logging.WARNING, logger="portal.notifications.delivery"):
        assert await deliver_pending(production) == 0

    assert "PORTAL_SMTP_URL is not set" in caplog.text
    stored = await row(mail_id)
    assert stored["attempts"] == 0 and stored["sent_at"] is None
    assert not (settings.data_dir / "outbox").exists()


async def test_two_workers_never_send_the_same_mail(db, settings, smtp_server):
    ids = await queue(count=40)
    smtp = replace(settings, smtp_url=smtp_server.url)

    rounds = 0
    while await OutboundMail.count().where(OutboundMail.sent_at.is_null()):
        sent = await asyncio.gather(*(deliver_pending(smtp, limit=3) for _ in range(4)))
        assert sum(sent) > 0
        rounds += 1
        assert rounds < 20

    message_ids = [message["Message-ID"] for message in smtp_server.inbox.messages]
    assert len(message_ids) == len(set(message_ids)) == len(ids)
    assert all(stored["attempts"] == 1 for stored in await OutboundMail.select())


async def test_deliver_pending_refuses_to_run_inside_a_transaction(db, settings):
    await queue()
    with pytest.raises(RuntimeError, match="outside any transaction"):
        async with write_transaction(OutboundMail._meta.db):
            await deliver_pending(settings)


async def test_the_running_portal_mails_what_was_queued(db, settings, smtp_server):
    use_base_url(settings.base_url)  # as create_app does, before anything is queued
    zoe = await create_user(email="zoe@example.com", name="Zoë", role="party", password=None)
    async with write_transaction(Notification._meta.db):
        await notify(
            [zoe],
            "case_filed",
            case_ref="D-2026-0001",
            link="/cases/D-2026-0001",
            template="case_filed",
        )

    app = create_app(replace(settings, smtp_url=smtp_server.url))
    async with AsyncTestClient(app, base_url="http://portal.test"):
        for _ in range(100):  # the mailer looks every second
            if smtp_server.inbox.envelopes:
                break
            await asyncio.sleep(0.05)

    [message] = smtp_server.inbox.messages
    assert message["To"] == "zoe@example.com"
    assert message["Subject"] == "Case D-2026-0001: your dispute has been filed"
    body = message.get_content().replace("\r\n", "\n")
    assert body.startswith("Hello Zoë,\n")
    assert "http://portal.test/cases/D-2026-0001\n" in body
