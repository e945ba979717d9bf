"""A form that records something, sent twice, is recorded once.

A connection can drop after the commit and before the answer (a worker killed, a
network lost): the browser, or the person, sends the same form again. So each form
that records something carries a one-time token, made fresh each time the form is
drawn, and the first ledger entry a request writes claims it, in that entry's
transaction: one row in `sent_form`, whose unique index on (sender, token, fingerprint)
lets exactly one of two copies through, even when both arrive at once. The copy that
comes second changes nothing and answers with `AlreadyRecorded`, which names the entry
the first one made.

The fingerprint is a hash of the token and what the form said. The same token with
other content is not a copy but a new submission (a page brought back with the Back
button, then changed and sent), and it is recorded. A form without a token is recorded
as forms always were: the token protects its sender from their own repeats, so leaving
it out gives nobody anything, and a page drawn before the token existed (a tab left
open over an upgrade) still works.

The web layer says, per request, who is sending (`sending`) and what the form held
(`offer`), and answers a copy of a form recorded earlier before any service runs
(`sent_before`); `portal.cases.events.record` claims the token. No service has to do
anything.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import secrets
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from portal.cases.tables import SentForm
from portal.errors import PortalError
from portal.i18n import _

FIELD = "_sent_once"
"""The hidden input that carries the token."""

KEPT_FOR = timedelta(days=30)
"""How long a used token is remembered; after that, a copy would be recorded again."""

TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")
# What must never be hashed into a stored fingerprint, even salted: the CSRF token,
# the one-time token itself, and passwords (a signature is confirmed with one).
_UNHASHED = re.compile(r"^_csrf_token$|^_sent_once$|password", re.IGNORECASE)


def new_token() -> str:
    return secrets.token_urlsafe(16)


class AlreadyRecorded(Exception):
    """This very form was already sent and recorded; nothing was recorded again."""

    def __init__(self, case_ref: str, case_seq: int) -> None:
        super().__init__(f"already recorded as entry {case_seq} of {case_ref}")
        self.case_ref = case_ref
        self.case_seq = case_seq


class TokenDamaged(PortalError):
    """The form's token is not one the portal makes: refused before anything is written."""


@dataclass
class Sending:
    """One request's form: who sends it, its token, what it said, and whether it is claimed."""

    sender: int
    token: str | None = None
    fingerprint: str = ""
    claimed: bool = False


_current: ContextVar[Sending | None] = ContextVar("sent_once", default=None)


@contextlib.contextmanager
def sending(sender: int) -> Iterator[None]:
    """For the length of one request by `sender`: what `offer` and `record` share."""
    reset = _current.set(Sending(sender))
    try:
        yield
    finally:
        _current.reset(reset)


def offer(fields: Iterable[tuple[str, str]], files: Iterable[tuple[str, str]] = ()) -> None:
    """What the form sent: its fields, and each file's name and SHA-256."""
    current = _current.get()
    if current is None:
        return
    fields = list(fields)
    token = next((value for name, value in fields if name == FIELD), None)
    if token is None:
        return
    kept = sorted((name, value) for name, value in fields if not _UNHASHED.search(name))
    content = json.dumps(
        {"token": token, "fields": kept, "files": sorted(files)},
        ensure_ascii=False,
        separators=(",", ":"),
    )
    current.token = token
    current.fingerprint = hashlib.sha256(content.encode("utf-8")).hexdigest()


def unclaimed() -> Sending | None:
    """The form this request is sending, if it carries a token not claimed yet."""
    current = _current.get()
    if current is None or current.token is None or current.claimed:
        return None
    return current


async def claim(form: Sending, case_ref: str, case_seq: int) -> None:
    """Record that `form` made entry `case_seq` of `case_ref`, in the caller's transaction;
    or raise `AlreadyRecorded`, which rolls that transaction back, when it was sent before.

    `ON CONFLICT DO NOTHING` waits for a copy being written at the same moment, and then
    writes nothing; the copy's row is read back to name what it recorded.
    """
    if form.token is None or not TOKEN.fullmatch(form.token):
        raise TokenDamaged(
            _("This form was damaged on its way, so nothing was recorded. "
              "Reload the page and send it again.")
        )  # fmt: skip
    inserted = await SentForm.raw(
        "INSERT INTO sent_form (sender, token, fingerprint, case_ref, case_seq, sent_at) "
        "VALUES ({}, {}, {}, {}, {}, {}) "
        "ON CONFLICT (sender, token, fingerprint) DO NOTHING RETURNING id",
        form.sender,
        form.token,
        form.fingerprint,
        case_ref,
        case_seq,
        datetime.now(UTC),
    )
    if not inserted:
        first = await sent_before(form)
        assert first is not None  # the unique index refused the row because it is there
        raise first
    form.claimed = True


async def sent_before(form: Sending) -> AlreadyRecorded | None:
    """What this form recorded when it was sent before, if it was.

    Asked before a request does anything (`portal.web.sent_once`), so that a copy sent
    after the first was recorded is told so, rather than refused by a service because
    the first copy already did what it asked; `claim` still decides a copy sent at the
    same moment as the first.
    """
    first = (
        await SentForm.select(SentForm.case_ref, SentForm.case_seq)
        .where(
            (SentForm.sender == form.sender)
            & (SentForm.token == form.token)
            & (SentForm.fingerprint == form.fingerprint)
        )
        .first()
    )
    return None if first is None else AlreadyRecorded(first["case_ref"], first["case_seq"])


async def forget_before(moment: datetime) -> int:
    """Forget tokens used before `moment` (the sweep keeps `KEPT_FOR`)."""
    gone = await SentForm.delete().where(SentForm.sent_at < moment).returning(SentForm.id)
    return len(gone)
