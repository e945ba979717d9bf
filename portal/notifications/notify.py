"""Telling people what they must act on: a notification in the portal and an email.

`notify` is called by the service that made the change, inside its transaction: the
notification and the queued email commit with the change or not at all. Each reader
gets the text in their own language; the email's subject is also the line shown in
the portal, so the two always say the same thing. Where the notice is one an entry's
type declares (`portal.procedure.entries`), its subject and first paragraph are the
registry's (`render_mail` asks it), and the template gives the greeting and the link.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from portal.accounts.tables import User
from portal.notifications.mail import render_mail
from portal.notifications.tables import Notification, OutboundMail
from portal.settings import Settings

_site: dict[str, str] = {}


def use_base_url(base_url: str) -> None:
    """Where emails' links point: `create_app` sets it from its settings."""
    _site["base_url"] = base_url.rstrip("/")


def absolute_link(link: str) -> str:
    """The address of a portal path as its readers reach it, for an email."""
    # Outside the app (a CLI command, a script) the environment says the same thing.
    base = _site.get("base_url") or (os.environ.get("PORTAL_BASE_URL") or Settings.base_url)
    return base.rstrip("/") + (link or "/notifications")


async def notify(
    user_ids: Iterable[int],
    kind: str,
    *,
    case_ref: str = "",
    link: str = "",
    template: str,
    **context: Any,
) -> int:
    """Tell each active user in `user_ids` about `kind`; return how many were told.

    `template` names `templates/email/<template>.txt`; it is rendered with `context`
    plus `ref` (the case reference), `link` (the absolute address of `link`, a path
    on the portal such as `/cases/D-2026-0001`) and `recipient_name`. Runs in the
    caller's transaction and opens none.
    """
    if link and (not link.startswith("/") or link.startswith("//")):
        raise ValueError(f"A notification's link must be a path on the portal; got {link!r}.")
    wanted = set(user_ids)
    if not wanted:
        return 0
    readers = await User.select(User.id, User.email, User.name, User.language).where(
        User.id.is_in(list(wanted)) & (User.active == True)  # noqa: E712 (SQL, not Python)
    )
    if not readers:
        return 0
    now = datetime.now(UTC)
    notes, mails = [], []
    for reader in sorted(readers, key=lambda row: row["id"]):
        subject, body = render_mail(
            template,
            reader["language"],
            ref=case_ref,
            link=absolute_link(link),
            recipient_name=reader["name"],
            **context,
        )
        notes.append(
            Notification(
                user=reader["id"],
                kind=kind,
                case_ref=case_ref,
                message=subject,
                link=link,
                created_at=now,
            )
        )
        mails.append(
            OutboundMail(
                to_address=reader["email"],
                subject=subject,
                body=body,
                created_at=now,
                next_attempt_at=now,
            )
        )
    await Notification.insert(*notes)
    await OutboundMail.insert(*mails)
    return len(notes)
