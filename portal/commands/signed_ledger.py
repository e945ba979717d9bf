"""`portal ledger`: the signed ledger's keys, integration, audit, checkpoints and proofs.

`verify` audits the whole log and then every row an entry vouches for; `verify-bundle`
checks one proof bundle offline, with no database.

A command imports what is slow to load inside itself, on purpose: `portal --help`
loads this module, and stays fast.
"""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import click

from ledger.errors import ProofError
from portal.commands.environment import (
    open_keyring,
    settings_from_env,
    trusted_keys,
    with_database,
    with_keys_published,
)
from portal.standard_output import write_document


@click.group()
def ledger() -> None:
    """The signed ledger: integrate, verify, keys, checkpoints, proofs."""


@ledger.command("init-key")
def init_key() -> None:
    """Create the ledger's signing key file (refuses to overwrite one)."""
    settings = settings_from_env()
    if settings.signing_key_file.exists():
        raise click.ClickException(f"{settings.signing_key_file} exists already; nothing done.")
    keyring = open_keyring(settings, create=True)
    click.echo(str(keyring.current.verifier()))


@ledger.command()
def integrate() -> None:
    """Integrate every pending entry now and sign a checkpoint for each batch."""
    from ledger.integrator import integrate as integrate_log

    settings = settings_from_env()
    keyring = open_keyring(settings)
    done = with_keys_published(settings, keyring, lambda: integrate_log(keyring, wait=True))
    click.echo(
        f"Integrated {done.entries} entries in {done.batches} batches; tree size {done.size}."
    )


@ledger.command()
@click.option("--key", "keys", multiple=True, help="Trust only this verifier key (repeatable).")
@click.option(
    "--evidence",
    is_flag=True,
    help="Also read every stored evidence file and check it against its SHA-256.",
)
@click.option(
    "--log-only",
    is_flag=True,
    help="The ledger's own audit alone: no row or file is compared with its entry.",
)
def verify(keys: tuple[str, ...], evidence: bool, log_only: bool) -> None:
    """Verify the whole log in the database, then every row an entry vouches for
    (and, with --evidence, every stored file); exit 1 and name every failure."""
    from ledger.audit import verify_log
    from ledger.keys import trusted_verifiers
    from ledger.store import store_for
    from portal.casefile.attest import verify_rows

    settings = settings_from_env()
    # Never the keys published in the database: whoever can change the log can publish one.
    trusted = trusted_keys(keys) or trusted_verifiers(open_keyring(settings, create=False))

    async def work() -> Any:
        # The rows are read in the audit's snapshot: read after it, a statement and its
        # entry committed in between would be a row that no audited entry vouches for.
        async with store_for().snapshot():
            audit = await verify_log(settings.log_origin, trusted)
            if log_only:
                return audit, None
            rows = await verify_rows(settings.data_dir if evidence else None)
        return audit, rows

    report, rows = with_database(settings, work)
    document = report.render()
    if rows is not None and (rows.cases or not rows.ok):
        document += "\n" + rows.render()
    write_document(document, newline=True)
    sys.exit(0 if report.ok and (rows is None or rows.ok) else 1)


@ledger.command("verify-bundle")
@click.argument("bundle_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--key", "keys", multiple=True, help="Trust only this verifier key (repeatable).")
def verify_bundle_command(bundle_file: Path, keys: tuple[str, ...]) -> None:
    """Verify one proof bundle offline, with no database."""
    from ledger.bundle import verify_bundle

    try:
        bundle = json.loads(bundle_file.read_bytes())
    except (ValueError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"{bundle_file} is not JSON: {exc}") from exc
    report = verify_bundle(bundle, trusted_keys=list(keys) or None)
    write_document(report.render(), newline=True)
    sys.exit(0 if report.ok else 1)


@ledger.command()
def keys() -> None:
    """Every verifier key of this log, one per line, newest first."""
    from ledger.keys import published_verifiers

    settings = settings_from_env()
    verifiers = with_keys_published(settings, open_keyring(settings), published_verifiers)
    write_document("".join(f"{verifier}\n" for verifier in verifiers))


@ledger.command()
def checkpoint() -> None:
    """The latest signed checkpoint."""
    from ledger.proofs import latest_checkpoint

    latest = with_database(settings_from_env(), latest_checkpoint)
    if latest is None:
        raise click.ClickException("The log has no signed checkpoint yet.")
    write_document(latest.note)


@ledger.command()
@click.argument("case_ref")
def proof(case_ref: str) -> None:
    """The case's proof bundle (ledger-proof.json) on standard output."""
    from ledger.proofs import case_bundle

    settings = settings_from_env()
    try:
        bundle = with_database(settings, lambda: case_bundle(case_ref, settings.log_origin))
    except ProofError as exc:
        raise click.ClickException(str(exc)) from exc
    write_document(json.dumps(bundle, indent=1, ensure_ascii=False), newline=True)


@ledger.command("rotate-key")
@click.option(
    "--overlap-days",
    type=int,
    default=None,
    help="Days the old key keeps co-signing checkpoints (default PORTAL_KEY_OVERLAP_DAYS).",
)
def rotate_key_command(overlap_days: int | None) -> None:
    """Make a new signing key; the old one co-signs checkpoints for a while."""
    from ledger.keys import rotate_key

    settings = settings_from_env()
    keyring = open_keyring(settings, create=False)
    days = settings.key_overlap_days if overlap_days is None else overlap_days
    old = keyring.kid
    new = with_database(settings, lambda: rotate_key(keyring, timedelta(days=days)))
    click.echo(f"Rotated: new key {new.kid} signs from now on; {old} co-signs for {days} days.")
    click.echo(str(new.verifier()))
