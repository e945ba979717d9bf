"""What every `portal` command starts from: the settings, the keyring, and the database
opened for one run. Errors a person can fix become click's "Error: ..." lines.

A command imports what is slow to load inside itself, on purpose: `portal --help`
loads this module, and stays fast.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

import click
import uvloop

from ledger.errors import LedgerError, NoteError
from portal.database import bind_tables, connected, create_engine
from portal.settings import ConfigurationError, Settings

if TYPE_CHECKING:
    from ledger.keys import Keyring
    from ledger.note import NoteVerifier

T = TypeVar("T")


def settings_from_env() -> Settings:
    """The settings the server reads, or the reason they cannot be read."""
    try:
        return Settings.from_env()
    except ConfigurationError as exc:
        raise click.ClickException(str(exc)) from exc


def with_database(settings: Settings, work: Callable[[], Awaitable[T]]) -> T:
    """Run `work` with every table bound to the configured database."""
    from portal.tables import ALL_TABLES

    async def run() -> T:
        engine = create_engine(settings.database_url)
        bind_tables(engine, ALL_TABLES)
        async with connected(engine, pool_size=4):
            return await work()

    return uvloop.run(run())


def with_keys_published(
    settings: Settings, keyring: Keyring, work: Callable[[], Awaitable[T]]
) -> T:
    """`with_database`, first recording in it the public half of every key in the keyring,
    so that what a new or rotated key signs can be checked against the published keys."""
    from ledger.keys import publish_keys

    async def run() -> T:
        await publish_keys(keyring)
        return await work()

    return with_database(settings, run)


def open_keyring(settings: Settings, *, create: bool | None = None) -> Keyring:
    """The ledger's signing keys; made on first use except in production."""
    from ledger.keys import Keyring

    try:
        return Keyring.open(
            settings.signing_key_file,
            settings.log_origin,
            create=not settings.is_production if create is None else create,
        )
    except LedgerError as exc:
        raise click.ClickException(str(exc)) from exc


def trusted_keys(keys: tuple[str, ...]) -> list[NoteVerifier]:
    """The verifier keys given with --key, each checked."""
    from ledger.note import parse_verifier_key

    try:
        return [parse_verifier_key(key) for key in keys]
    except NoteError as exc:
        raise click.ClickException(f"--key: {exc}") from exc
