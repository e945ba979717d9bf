"""Running the portal: `portal migrate`, `serve`, `sweep` and `demo` (what `make run`
runs, in that order, with the sweep inside the server).

A command imports what is slow to load inside itself, on purpose: `portal --help`
loads this module, and stays fast.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import click
from piccolo.engine import engine_finder

from portal.accounts.tables import User
from portal.commands.environment import (
    open_keyring,
    settings_from_env,
    with_database,
    with_keys_published,
)
from portal.database import connected
from portal.settings import ConfigurationError, _write_private


@click.command()
def migrate() -> None:
    """Apply every database migration that has not been applied yet."""
    settings = settings_from_env()
    if settings.is_sqlite:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        Path(settings.database_url.removeprefix("sqlite:///")).parent.mkdir(
            parents=True, exist_ok=True
        )
    from piccolo.apps.migrations.commands.forwards import run_forwards

    async def run() -> Any:
        # Close the pool after: its idle SQLite connections would keep the process alive.
        async with connected(engine_finder()):  # type: ignore[arg-type]
            return await run_forwards(app_name="all", migration_id="all", fake=False)

    result = asyncio.run(run())
    if not result.success:
        raise click.ClickException(f"Migrations failed: {result.message}")
    click.echo("Database is up to date.")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int, help="Worker processes.")
def serve(host: str, port: int, workers: int) -> None:
    """Serve the portal over HTTP."""
    import uvicorn

    settings = settings_from_env()
    try:
        settings = settings.prepare()
    except ConfigurationError as exc:
        raise click.ClickException(str(exc)) from exc
    # Make the key here, once, before workers start: two workers must not each make one.
    open_keyring(settings)
    click.echo(f"Serving on http://{host}:{port} with {workers} worker(s)")
    uvicorn.run(
        "portal.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        proxy_headers=True,
    )


@click.command("sweep")
def sweep_command() -> None:
    """Send the deadline reminders that are due (`portal serve` does it every minute).

    Safe beside running servers and other sweeps: each reminder is sent once.
    """
    from portal.cases.sweep import sweep

    settings = settings_from_env()
    keyring = open_keyring(settings)
    result = with_keys_published(settings, keyring, lambda: sweep(keyring))
    click.echo(
        f"Sent {result.sent} deadline reminders ({result.due_soon} due soon, "
        f"{result.overdue} overdue) in {result.notifications} notifications."
    )
    if result.failed:
        raise click.ClickException(
            f"{result.failed} reminders could not be sent (see the log above); "
            "the next sweep tries them again."
        )


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the accounts and cases as JSON.")
@click.option("--if-empty", is_flag=True, help="Do nothing (and succeed) if accounts exist.")
def demo(as_json: bool, if_empty: bool) -> None:
    """Fill an empty database with one account per role and cases in several states."""
    from portal.demo import DemoRefused, create_demo

    settings = settings_from_env()
    if settings.is_production:
        raise click.ClickException("The demo refuses to run in production (PORTAL_ENV).")
    settings = settings.prepare()
    keyring = open_keyring(settings)

    async def work() -> Any:
        from ledger.keys import publish_keys

        if if_empty and await User.count() > 0:
            return None
        await publish_keys(keyring)
        return await create_demo(settings, keyring)

    try:
        made = with_database(settings, work)
    except DemoRefused as exc:
        raise click.ClickException(str(exc)) from exc
    if made is None:
        return
    record = settings.data_dir / "demo-accounts.json"
    _write_private(record, json.dumps(made, indent=1, ensure_ascii=False))
    if as_json:
        click.echo(json.dumps(made, ensure_ascii=False))
        return
    click.echo(f"Demo accounts (also in {record}):")
    for account in made["accounts"]:
        line = f"  {account['role']:<13} {account['email']:<22} password {account['password']}"
        if account["totp_secret"]:
            line += f"  TOTP secret {account['totp_secret']}"
        click.echo(line)
    click.echo("Cases:")
    for case in made["cases"]:
        click.echo(f"  {case['ref']}  {case['state']:<14} {', '.join(case['participants'])}")
