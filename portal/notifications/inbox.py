"""A user's notifications in the portal: the unread count, the list, marking as read.

Every function takes the reader's user ID and touches only that user's rows, so one
person can never see or mark another's notifications.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from portal.notifications.tables import Notification

PAGE_SIZE = 50

_SHOWN = (
    Notification.id,
    Notification.kind,
    Notification.case_ref,
    Notification.message,
    Notification.link,
    Notification.created_at,
    Notification.read_at,
)


@dataclass(frozen=True)
class InboxPage:
    items: list[dict[str, Any]]
    number: int
    has_next: bool


async def unread_count(user_id: int) -> int:
    """One COUNT: the badge asks for it on every page and every 30 seconds."""
    count: int = await Notification.count().where(
        (Notification.user == user_id) & Notification.read_at.is_null()
    )
    return count


async def inbox_page(user_id: int, number: int) -> InboxPage:
    """Page `number` (from 1) of the user's notifications, newest first."""
    rows = (
        await Notification.select(*_SHOWN)
        .where(Notification.user == user_id)
        .order_by(Notification.created_at, Notification.id, ascending=False)
        .limit(PAGE_SIZE + 1)
        .offset((number - 1) * PAGE_SIZE)
    )
    return InboxPage(rows[:PAGE_SIZE], number, has_next=len(rows) > PAGE_SIZE)


async def mark_read(user_id: int, notification_id: int) -> dict[str, Any] | None:
    """Mark one of the user's notifications read and return it; None if it is not theirs."""
    row = (
        await Notification.select(*_SHOWN)
        .where((Notification.id == notification_id) & (Notification.user == user_id))
        .first()
    )
    if row is None:
        return None
    if row["read_at"] is None:
        row["read_at"] = datetime.now(UTC)
        await Notification.update({Notification.read_at: row["read_at"]}).where(
            (Notification.id == notification_id) & Notification.read_at.is_null()
        )
    return row


async def mark_all_read(user_id: int) -> int:
    """Mark every unread notification of the user read; return how many there were."""
    marked = (
        await Notification.update({Notification.read_at: datetime.now(UTC)})
        .where((Notification.user == user_id) & Notification.read_at.is_null())
        .returning(Notification.id)
    )
    return len(marked)
