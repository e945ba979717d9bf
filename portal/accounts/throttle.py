"""Slowing password guessing, per address and per account-and-address, in the database.

Failed logins are rows, so every worker counts the same attempts. Past the first few
failures each attempt waits a little longer; past the limit the address, or the pair
of this account and this address, is locked for a while and the guesser is told until
when. An account is never locked for everyone: a stranger guessing from elsewhere
would otherwise lock its owner out. What holds against guessing spread over many
addresses is the rest of the design (docs/SECURITY.md): argon2id makes each guess
cost, every failure on the account slows the next attempt on it (never refuses it),
the owner is told by email once guessing passes `NOTICE_AFTER`, and staff need their
second factor as well.

Second-factor codes are counted under the account's own key (`code_key`): only someone
who knows the password can get as far as a code, so those failures do lock the account.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from piccolo.custom_types import Combinable

from portal.accounts.tables import LoginAttempt

WINDOW = timedelta(minutes=15)
PAIR_LIMIT = 5  # failures for one account from one address
CODE_LIMIT = 5  # wrong second-factor codes for one account, from anywhere
ADDRESS_LIMIT = 20  # failures from one address, whatever the accounts
FREE_ATTEMPTS = 2  # failures before each further attempt is slowed down
MAX_DELAY = 2.0
NOTICE_AFTER = 10  # failures on one account (all addresses) before its owner is told
NOTICE_INTERVAL = timedelta(hours=24)  # at most one such email a day


@dataclass(frozen=True)
class Lock:
    until: datetime
    by_address: bool


def code_key(user_id: int) -> str:
    """The throttle's key for an account's second-factor codes (never an email address)."""
    return f"code:{user_id}"


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def _lock_after(condition: Any, limit: int, since: datetime) -> datetime | None:
    """When the `limit`-th newest failure matching `condition` stops counting, if there
    are `limit` of them in the window; only `limit` rows are read, however many there are."""
    rows = (
        await LoginAttempt.select(LoginAttempt.at)
        .where(condition & (LoginAttempt.at > since))
        .order_by(LoginAttempt.at, ascending=False)
        .limit(limit)
    )
    if len(rows) < limit:
        return None
    return _utc(rows[-1]["at"]) + WINDOW


async def recent_failures(account: str, since: datetime | None = None) -> int:
    """Failures on `account` from every address in the window."""
    since = since or datetime.now(UTC) - WINDOW
    # Piccolo's Count query does not name its result type; it is the row count.
    return cast(
        int,
        await LoginAttempt.count().where(
            (LoginAttempt.account == account.lower()) & (LoginAttempt.at > since)
        ),
    )


async def check(
    account: str, address: str, *, whole_account: bool = False
) -> tuple[Lock | None, int]:
    """A lock in force for this address or this account-and-address (or, with
    `whole_account`, for the account itself), and the failures that slow the attempt."""
    account = account.lower()
    since = datetime.now(UTC) - WINDOW
    until = await _lock_after(LoginAttempt.address == address, ADDRESS_LIMIT, since)
    if until:
        return Lock(until, by_address=True), ADDRESS_LIMIT
    if whole_account:
        until = await _lock_after(LoginAttempt.account == account, CODE_LIMIT, since)
    else:
        pair = (LoginAttempt.account == account) & (LoginAttempt.address == address)
        until = await _lock_after(pair, PAIR_LIMIT, since)
    if until:
        return Lock(until, by_address=False), PAIR_LIMIT
    by_address = await LoginAttempt.count().where(
        (LoginAttempt.address == address) & (LoginAttempt.at > since)
    )
    # Every failure on the account slows the next attempt, from wherever it comes:
    # guessing spread over many addresses is slowed without locking the owner out.
    return None, max(by_address, await recent_failures(account, since))


def delay_for(failures: int) -> float:
    """The wait before an attempt after `failures` recent failures: none for the free
    ones, then doubling, up to `MAX_DELAY`."""
    if failures <= FREE_ATTEMPTS:
        return 0.0
    return min(MAX_DELAY, 0.25 * 2.0 ** (failures - FREE_ATTEMPTS - 1))


async def slow_down(failures: int) -> None:
    """Each failure past the free ones costs the next attempt more time, up to a bound."""
    if failures > FREE_ATTEMPTS:
        await asyncio.sleep(delay_for(failures))


async def record_failure(account: str, address: str) -> None:
    await LoginAttempt.insert(
        LoginAttempt(account=account.lower(), address=address, at=datetime.now(UTC))
    )


async def forget_failures(account: str, address: str | None = None) -> None:
    """After a success: this address's failures for the account (all of them when
    `address` is None, as after a password reset by email)."""
    condition: Combinable = LoginAttempt.account == account.lower()
    if address is not None:
        condition &= LoginAttempt.address == address
    await LoginAttempt.delete().where(condition)
