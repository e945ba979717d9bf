"""How many requests each API key may make: a fixed one-minute window, counted in the
database so that every worker process (and every machine) counts against one limit.

One upsert per request counts it; the first request of a window also clears the key's
old windows and notes when the key was last used, so neither grows or writes per request.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from portal.database import write_transaction
from portal.errors import PortalError
from portal.i18n import _
from portal.integrations.tables import ApiKey, ApiRateWindow

WINDOW = timedelta(minutes=1)


class TooManyRequests(PortalError):
    """The key used up its window; `retry_after` is the seconds until the next one."""

    status_code = 429

    def __init__(self, limit: int, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(
            _(
                "This API key may make %(limit)s requests a minute. Wait %(seconds)s seconds "
                "and send the request again.",
                limit=limit,
                seconds=retry_after,
            )
        )


async def count_request(key_id: int, limit: int, now: datetime | None = None) -> int:
    """Count one request of the key; return how many it has left in this window, or raise
    TooManyRequests if it had none."""
    now = now or datetime.now(UTC)
    window = now.replace(second=0, microsecond=0)
    async with write_transaction(ApiRateWindow._meta.db):
        rows = await ApiRateWindow.raw(
            "INSERT INTO api_rate_window (api_key, window_start, requests) VALUES ({}, {}, 1) "
            "ON CONFLICT (api_key, window_start) "
            "DO UPDATE SET requests = api_rate_window.requests + 1 RETURNING requests",
            key_id,
            window,
        )
        made = int(rows[0]["requests"])
        if made == 1:
            await ApiRateWindow.delete().where(
                (ApiRateWindow.api_key == key_id) & (ApiRateWindow.window_start < window)
            )
            await ApiKey.update({ApiKey.last_used_at: now}).where(ApiKey.id == key_id)
    if made > limit:
        wait = (window + WINDOW - now).total_seconds()
        raise TooManyRequests(limit, max(1, math.ceil(wait)))
    return limit - made
