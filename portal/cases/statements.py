"""Statements: what people say in a case's channels.

Text is plain: stored as typed, escaped when shown, with paragraphs and links made
by the template filter `paragraphs`. A private channel's text stays in the
database for its readers; the ledger entry carries only its SHA-256.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from ledger.keys import Keyring
from portal.cases.access import readers
from portal.cases.events import actor, record
from portal.cases.tables import Case, Statement
from portal.database import write_transaction
from portal.errors import FormInvalid, NotAllowed
from portal.i18n import _
from portal.notifications.notify import notify
from portal.procedure.policy import ALL, PRIVATE_CHANNELS, CaseAccess

MAX_LENGTH = 20_000


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def check_text(raw: str) -> str:
    text = raw.replace("\r\n", "\n").strip()
    if not text:
        raise FormInvalid({"text": _("Write something before sending.")})
    if len(text) > MAX_LENGTH:
        raise FormInvalid({"text": _("Keep a statement under %(n)s characters.", n=MAX_LENGTH)})
    return text


async def post_statement(
    keyring: Keyring,
    ref: str,
    access: CaseAccess,
    channel: str,
    party_id: int | None,
    raw_text: str,
) -> int:
    """Store the statement and its ledger entry together; returns the entry's case_seq."""
    if not access.can_post(channel, party_id):
        raise NotAllowed(_("You cannot post in this channel."))
    text = check_text(raw_text)
    digest = content_hash(text)
    body: dict[str, object] = {"channel": channel, "content_sha256": digest}
    if channel == ALL:
        body["text"] = text
    if party_id is not None:
        body["caucus_party"] = f"user:{party_id}"
    assert channel == ALL or channel in PRIVATE_CHANNELS
    role = access.acting_role(channel)
    now = datetime.now(UTC)
    async with write_transaction(Statement._meta.db):
        receipt = await record(
            keyring, ref, "statement.submitted", actor(access.viewer.id, role), body
        )
        await Statement.insert(
            Statement(
                case=access.case_id,
                channel=channel,
                caucus_party=party_id,
                author=access.viewer.id,
                text=text,
                content_sha256=digest,
                case_seq=receipt.case_seq,
                created_at=now,
            )
        )
        await Case.update({Case.updated_at: now}).where(Case.id == access.case_id)
        others = [
            u for u in await readers(access.case_id, channel, party_id) if u != access.viewer.id
        ]
        await notify(
            others,
            "statement_posted",
            case_ref=ref,
            link=_room_link(ref, channel, party_id),
            template="statement_posted",
            author_name=access.viewer.name,
        )
    return receipt.case_seq


def _room_link(ref: str, channel: str, party_id: int | None) -> str:
    if channel == ALL:
        return f"/cases/{ref}"
    return f"/cases/{ref}?channel={channel}" + (f"&party={party_id}" if party_id else "")
