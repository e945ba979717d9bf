"""Slowing password guessing, per account and per address, in the database.

Failed logins are rows, so every worker counts the same attempts. Past the first few
failures each attempt waits a little longer; past the limit the account (or the
address) is locked for a while and the user is told until when.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from portal.accounts.tables import LoginAttempt

WINDOW = timedelta(minutes=15)
ACCOUNT_LIMIT = 5
ADDRESS_LIMIT = 20
FREE_ATTEMPTS = 2  # failures before each further attempt is slowed down
MAX_DELAY = 2.0


@dataclass(frozen=True)
class Lock:
    until: datetime
    by_address: bool


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def _failures(column: object, value: str, since: datetime) -> list[datetime]:
    rows = (
        await LoginAttempt.select(LoginAttempt.at)
        .where((column == value) & (LoginAttempt.at > since))  # type: ignore[operator]
        .order_by(LoginAttempt.at)
    )
    return [_utc(row["at"]) for row in rows]


async def check(account: str, address: str) -> tuple[Lock | None, int]:
    """A lock in force for this account or address (or None), and the recent failure count."""
    now = datetime.now(UTC)
    since = now - WINDOW
    by_account = await _failures(LoginAttempt.account, account.lower(), since)
    if len(by_account) >= ACCOUNT_LIMIT:
        return Lock(by_account[-ACCOUNT_LIMIT] + WINDOW, by_address=False), len(by_account)
    by_address = await _failures(LoginAttempt.address, address, since)
    if len(by_address) >= ADDRESS_LIMIT:
        return Lock(by_address[-ADDRESS_LIMIT] + WINDOW, by_address=True), len(by_address)
    return None, max(len(by_account), len(by_address))


async def slow_down(failures: int) -> None:
    """Each failure past the free ones costs the next attempt more time, up to a bound."""
    if failures > FREE_ATTEMPTS:
        await asyncio.sleep(min(MAX_DELAY, 0.25 * 2 ** (failures - FREE_ATTEMPTS - 1)))


async def record_failure(account: str, address: str) -> None:
    await LoginAttempt.insert(
        LoginAttempt(account=account.lower(), address=address, at=datetime.now(UTC))
    )


async def forget_failures(account: str) -> None:
    await LoginAttempt.delete().where(LoginAttempt.account == account.lower())
