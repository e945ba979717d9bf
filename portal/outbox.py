"""The outbox: things to send later (mail, webhook deliveries), sent in the background by
every worker, each row by one worker at a time, retried with backoff.

A row is queued in the same transaction as the change it tells of, so a rolled-back
change sends nothing. Every worker runs `Outbox.run`: every interval it claims a batch
of due rows in a short transaction that counts the attempt and pushes `next_attempt_at`
out by a lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL; an IMMEDIATE transaction on
SQLite, which lets one writer in at a time), so no other worker takes the same rows.
The batch is then sent with no transaction open, and the outcome recorded by the
outbox's owner: sent, or a retry after `backoff`, or given up (`NEVER` due again). A
worker that dies mid-batch leaves its claims to expire, and the row is tried again when
the lease ends.

The table of an outbox has an `id`, an `attempts` count and a `next_attempt_at`;
what else it holds, how it is sent and what an outcome changes is its owner's
(`portal.notifications.delivery`, `portal.integrations.delivery`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from piccolo.columns import Column
from piccolo.custom_types import Combinable
from piccolo.table import Table

from portal.database import is_sqlite, write_transaction

NEVER = datetime(9999, 12, 31, tzinfo=UTC)
"""The `next_attempt_at` of a row sent or given up: it leaves the index's due range, so
finding due rows stays cheap however much has been sent."""


def backoff(attempts: int, first: timedelta, longest: timedelta) -> timedelta:
    """The wait after the `attempts`-th failed attempt: `first`, twice that, four times
    ... up to `longest`."""
    delay: timedelta = first * 2 ** max(attempts - 1, 0)
    return min(delay, longest)


@dataclass(frozen=True)
class Outbox:
    """One table of things to send, and how its rows are claimed and delivered."""

    table: type[Table]
    due: Callable[[datetime], Combinable]
    """Which rows are due at a moment: not sent, not given up, their time come."""
    claimed_columns: Sequence[Column]
    """What a claim returns of each row: what sending it needs."""
    log: logging.Logger
    """The owner's log, where a failed round is reported."""
    what: str
    """What is sent, for the log: "mail", "webhooks"."""

    def refuse_inside_transaction(self, name: str, verb: str) -> None:
        """Sending waits on the world: never while a transaction holds locks."""
        if self.table._meta.db.current_transaction.get() is not None:
            raise RuntimeError(f"{name} {verb}: call it outside any transaction.")

    async def claim(self, limit: int, now: datetime, lease: timedelta) -> list[dict[str, Any]]:
        """Take up to `limit` due rows for this worker alone, for the length of `lease`,
        counting the attempt; each row as `claimed_columns`, in the order of their ids."""
        table = self.table
        engine = table._meta.db
        # A cheap read first: most seconds nothing is due, and then no write lock is taken.
        if not await table.exists().where(self.due(now)):
            return []
        key: Any = table._meta.primary_key
        attempts: Any = table._meta.get_column_by_name("attempts")
        next_attempt_at = table._meta.get_column_by_name("next_attempt_at")
        async with write_transaction(engine):
            query = table.select(key).where(self.due(now)).order_by(next_attempt_at).limit(limit)
            if not is_sqlite(engine):
                query = query.lock_rows("UPDATE", skip_locked=True)
            ids = [row["id"] for row in await query]
            if not ids:
                return []
            rows: list[dict[str, Any]] = await (
                table.update({attempts: attempts + 1, next_attempt_at: now + lease})
                .where(key.is_in(ids) & self.due(now))
                .returning(*self.claimed_columns)
            )
        return sorted(rows, key=lambda row: int(row["id"]))

    async def run(
        self, deliver: Callable[[], Awaitable[int]], interval: float, stop: asyncio.Event
    ) -> None:
        """`deliver` every `interval` seconds until `stop` is set; its errors are logged.

        The first look waits an interval too: starting workers have enough to do at once.
        """
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval)
            if stop.is_set():
                return
            try:
                await deliver()
            except Exception:
                self.log.exception(
                    "Delivering %s failed; trying again in %.1f s", self.what, interval
                )
