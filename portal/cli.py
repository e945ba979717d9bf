"""The `portal` command: migrate, serve, and the ledger's own commands.

Every command reads the same settings as the server. Commands that need the
database open it for their own run and close it after; `verify-bundle` needs none.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import click
import uvloop

from portal.accounts import roles
from portal.i18n import DEFAULT_LANGUAGE, LANGUAGES
from portal.settings import ConfigurationError, Settings
from portal.standard_output import write_document

T = TypeVar("T")
log = logging.getLogger("portal")


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except ConfigurationError as exc:
        raise click.ClickException(str(exc)) from exc


def _with_database(settings: Settings, work: Callable[[], Awaitable[T]]) -> T:
    """Run `work` with every table bound to the configured database."""
    from portal.database import bind_tables, connected, create_engine
    from portal.tables import ALL_TABLES

    async def run() -> T:
        engine = create_engine(settings.database_url)
        bind_tables(engine, ALL_TABLES)
        async with connected(engine, pool_size=4):
            return await work()

    return uvloop.run(run())


def _keyring(settings: Settings, *, create: bool | None = None) -> Any:
    from ledger.errors import LedgerError
    from ledger.keys import Keyring

    try:
        return Keyring.open(
            settings.signing_key_file,
            settings.log_origin,
            create=not settings.is_production if create is None else create,
        )
    except LedgerError as exc:
        raise click.ClickException(str(exc)) from exc


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log what the portal does.")
def main(verbose: bool) -> None:
    """The dispute portal."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    os.environ.setdefault("PICCOLO_CONF", "portal.piccolo_conf")
    # Before any command moves a case (the sweep, the demo): the after-a-move hooks.
    import portal.listeners  # noqa: F401


@main.command()
def migrate() -> None:
    """Apply every database migration that has not been applied yet."""
    settings = _settings()
    if settings.is_sqlite:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        Path(settings.database_url.removeprefix("sqlite:///")).parent.mkdir(
            parents=True, exist_ok=True
        )
    from piccolo.apps.migrations.commands.forwards import run_forwards
    from piccolo.engine import engine_finder

    from portal.database import connected

    async def run() -> Any:
        # Close the pool after: its idle SQLite connections would keep the process alive.
        async with connected(engine_finder()):  # type: ignore[arg-type]
            return await run_forwards(app_name="all", migration_id="all", fake=False)

    result = asyncio.run(run())
    if not result.success:
        raise click.ClickException(f"Migrations failed: {result.message}")
    click.echo("Database is up to date.")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int, help="Worker processes.")
def serve(host: str, port: int, workers: int) -> None:
    """Serve the portal over HTTP."""
    import uvicorn

    settings = _settings()
    try:
        settings = settings.prepare()
    except ConfigurationError as exc:
        raise click.ClickException(str(exc)) from exc
    # Make the key here, once, before workers start: two workers must not each make one.
    _keyring(settings)
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


@main.command("sweep")
def sweep_command() -> None:
    """Send the deadline reminders that are due (`portal serve` does it every minute).

    Safe beside running servers and other sweeps: each reminder is sent once.
    """
    from ledger.keys import publish_keys
    from portal.cases.sweep import sweep

    settings = _settings()
    keyring = _keyring(settings)

    async def work() -> Any:
        await publish_keys(keyring)
        return await sweep(keyring)

    result = _with_database(settings, work)
    click.echo(
        f"Sent {result.sent} deadline reminders ({result.due_soon} due soon, "
        f"{result.overdue} overdue) in {result.notifications} notifications."
    )
    if result.failed:
        raise click.ClickException(
            f"{result.failed} reminders could not be sent (see the log above); "
            "the next sweep tries them again."
        )


@main.group()
def ledger() -> None:
    """The signed ledger: integrate, verify, keys, checkpoints, proofs."""


@ledger.command("init-key")
def init_key() -> None:
    """Create the ledger's signing key file (refuses to overwrite one)."""
    settings = _settings()
    if settings.signing_key_file.exists():
        raise click.ClickException(f"{settings.signing_key_file} exists already; nothing done.")
    keyring = _keyring(settings, create=True)
    click.echo(str(keyring.current.verifier()))


@ledger.command()
def integrate() -> None:
    """Integrate every pending entry now and sign a checkpoint for each batch."""
    from ledger.integrator import integrate as integrate_log
    from ledger.keys import publish_keys

    settings = _settings()
    keyring = _keyring(settings)

    async def work() -> Any:
        await publish_keys(keyring)
        return await integrate_log(keyring, wait=True)

    done = _with_database(settings, work)
    click.echo(
        f"Integrated {done.entries} entries in {done.batches} batches; tree size {done.size}."
    )


def _trusted(keys: tuple[str, ...]) -> list[Any]:
    from ledger.errors import NoteError
    from ledger.note import parse_verifier_key

    try:
        return [parse_verifier_key(key) for key in keys]
    except NoteError as exc:
        raise click.ClickException(f"--key: {exc}") from exc


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

    settings = _settings()
    # Never the keys published in the database: whoever can change the log can publish one.
    trusted = _trusted(keys) or trusted_verifiers(_keyring(settings, create=False))

    async def work() -> Any:
        # The rows are read in the audit's snapshot: read after it, a statement and its
        # entry committed in between would be a row that no audited entry vouches for.
        async with store_for().snapshot():
            audit = await verify_log(settings.log_origin, trusted)
            if log_only:
                return audit, None
            rows = await verify_rows(settings.data_dir if evidence else None)
        return audit, rows

    report, rows = _with_database(settings, work)
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
    from ledger.keys import publish_keys, published_verifiers

    settings = _settings()
    keyring = _keyring(settings)

    async def work() -> Any:
        await publish_keys(keyring)
        return await published_verifiers()

    write_document("".join(f"{verifier}\n" for verifier in _with_database(settings, work)))


@ledger.command()
def checkpoint() -> None:
    """The latest signed checkpoint."""
    from ledger.proofs import latest_checkpoint

    latest = _with_database(_settings(), latest_checkpoint)
    if latest is None:
        raise click.ClickException("The log has no signed checkpoint yet.")
    write_document(latest.note)


@ledger.command()
@click.argument("case_ref")
def proof(case_ref: str) -> None:
    """The case's proof bundle (ledger-proof.json) on standard output."""
    from ledger.errors import ProofError
    from ledger.proofs import case_bundle

    settings = _settings()
    try:
        bundle = _with_database(settings, lambda: case_bundle(case_ref, settings.log_origin))
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

    settings = _settings()
    keyring = _keyring(settings, create=False)
    days = settings.key_overlap_days if overlap_days is None else overlap_days
    old = keyring.kid
    new = _with_database(settings, lambda: rotate_key(keyring, timedelta(days=days)))
    click.echo(f"Rotated: new key {new.kid} signs from now on; {old} co-signs for {days} days.")
    click.echo(str(new.verifier()))


@main.command("export")
@click.argument("case_ref")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    help="Write the sealed case file (PDF) here; - for standard output.",
)
@click.option(
    "--bundle",
    "bundle_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write a zip: the PDF and every evidence file the audience may see.",
)
@click.option(
    "--audience",
    default="staff",
    show_default=True,
    help="staff (the staff copy: no caucus, no tribunal), party:EMAIL (that party's copy) or "
    "counsel:EMAIL (that party's legal team's copy: the party's copy without its caucus).",
)
def export_command(
    case_ref: str, output: Path | None, bundle_file: Path | None, audience: str
) -> None:
    """Export a case as a signed case file; the export is recorded in the case's ledger."""
    from ledger.keys import publish_keys
    from portal.casefile.export import CaseFileRefused, export, user_by_email
    from portal.casefile.seal import SealMissing
    from portal.cases.events import SYSTEM
    from portal.pdf.render import RenderFailed
    from portal.policy import STAFF_COPY, counsel_copy, party_copy

    if output is None and bundle_file is None:
        raise click.ClickException("Say where to write: -o FILE.pdf and/or --bundle FILE.zip.")
    kind, _colon, email = audience.partition(":")
    if audience != STAFF_COPY and kind not in ("party", "counsel"):
        raise click.ClickException(
            "--audience is staff, party:EMAIL or counsel:EMAIL: no copy carries every caucus "
            "and the tribunal's deliberations."
        )
    settings = _settings()
    keyring = _keyring(settings)

    async def work() -> Any:
        await publish_keys(keyring)
        chosen = audience
        if audience != STAFF_COPY:
            user_id = await user_by_email(email)
            if user_id is None:
                raise CaseFileRefused(f"No account has the email {email}.")
            chosen = party_copy(user_id) if kind == "party" else counsel_copy(user_id)
        return await export(settings, keyring, case_ref, chosen, SYSTEM)

    try:
        made = _with_database(settings, work)
    except (CaseFileRefused, SealMissing, RenderFailed) as exc:
        raise click.ClickException(f"{exc} Nothing was written.") from exc
    # With the PDF on standard output, what is said about it goes to standard error.
    to_stdout = output == Path("-")
    if output is not None:
        if to_stdout:
            write_document(made.pdf)
        else:
            output.write_bytes(made.pdf)
        click.echo(
            f"Wrote {'the PDF to standard output' if to_stdout else output}: case file of "
            f"{case_ref} for {made.audience}, ending with ledger entry #{made.case_seq}.",
            err=to_stdout,
        )
    if bundle_file is not None:
        from portal.casefile.archive import write_zip

        missing = write_zip(bundle_file, made)
        click.echo(
            f"Wrote {bundle_file}: the PDF and {len(made.evidence) - len(missing)} "
            "evidence files named by SHA-256.",
            err=to_stdout,
        )
        for name in missing:
            click.echo(f"Missing from the data directory, not in the zip: {name}", err=True)


VERIFY_EXIT_CODES = """Exit codes:

\b
  0  verified: pinned, and every check holds
  1  not verified: a check failed (altered, changed after sealing, or not issued
     by the portal pinned)
  2  the command could not run (a bad option, an unreadable --trust file)
  3  incomplete: every check holds, but evidence files the case file lists are
     missing from the zip
  4  origin not checked: every check holds, but no trust file (or no --key and
     --seal) was given, so who issued the file is unknown
"""


@main.command("verify", epilog=VERIFY_EXIT_CODES)
@click.argument("case_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--trust",
    "trust_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The portal's trust file (its /ledger/trust.json): its verifier keys and seal.",
)
@click.option("--key", "keys", multiple=True, help="Trust only this verifier key (repeatable).")
@click.option(
    "--seal",
    "seal_cert",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Trust only this seal certificate (PEM, e.g. the portal's /ledger/seal.pem).",
)
@click.option(
    "--language",
    type=click.Choice(sorted(LANGUAGES)),
    default=DEFAULT_LANGUAGE,
    show_default=True,
    help="The language of the report.",
)
def verify_case_file_command(
    case_file: Path,
    trust_file: Path | None,
    keys: tuple[str, ...],
    seal_cert: Path | None,
    language: str,
) -> None:
    """Verify a case file (PDF or zip) offline, with no database.

    Without --trust (or --key and --seal) only the file's integrity is checked: its first
    line says so, and it exits 4 even when every check holds.
    """
    from portal.casefile.trust import (
        Trust,
        TrustFileInvalid,
        certificates_from_pem,
        checked_keys,
        read_trust_file,
    )
    from portal.casefile.verify import summary, verify_case_file
    from portal.i18n import language as in_language
    from portal.i18n import template_gettext

    try:
        trust = Trust(
            checked_keys(keys, "--key"),
            certificates_from_pem(seal_cert.read_bytes(), str(seal_cert)) if seal_cert else (),
        )
        if trust_file is not None:
            trust = trust.joined(read_trust_file(trust_file.read_bytes(), str(trust_file)))
    except TrustFileInvalid as exc:
        raise click.BadParameter(str(exc)) from exc
    report = verify_case_file(case_file, trust)
    with in_language(language):
        write_document(summary(report, template_gettext), newline=True)
    sys.exit(int(report.verdict))


CREATABLE_ROLES = (*roles.STAFF, *roles.INVITED)
"""Roles `portal user create` gives; customers sign themselves up."""


@main.group()
def user() -> None:
    """Accounts: create staff and invited users from the command line."""


@user.command("create")
@click.option("--email", required=True, help="Their email address; they log in with it.")
@click.option("--name", required=True, help="Their name as the portal shows it.")
@click.option(
    "--role",
    required=True,
    help="One of: " + ", ".join(CREATABLE_ROLES) + ".",
)
@click.option(
    "--password",
    default=None,
    help="Their password. Without it, prints a single-use link to choose one (valid 7 days).",
)
@click.option("--language", default="en", show_default=True, help="en or zh_Hans.")
def create_user_command(
    email: str, name: str, role: str, password: str | None, language: str
) -> None:
    """Create an account for platform staff (the first supervisor, say) or an invited user.

    Customers sign themselves up on the web; this command does not create them.
    """
    from portal.accounts import admin
    from portal.accounts.service import create_user
    from portal.errors import FormInvalid

    role = role.strip().lower()
    if role not in CREATABLE_ROLES:
        raise click.ClickException(
            f"Unknown role {role!r}: choose one of {', '.join(CREATABLE_ROLES)}. "
            "Nothing was created."
        )
    settings = _settings()

    async def work() -> Any:
        if password is not None:
            return await create_user(
                email=email, name=name, role=role, password=password, language=language
            )
        return await admin.invite(
            email=email,
            name=name,
            role=role,
            language=language,
            invited_by=None,
            base_url=settings.base_url,
            allowed_roles=CREATABLE_ROLES,
            send_email=False,
        )

    try:
        result = _with_database(settings, work)
    except FormInvalid as exc:
        problems = "; ".join(
            f"--{field.replace('_', '-')}: {message}" for field, message in exc.errors.items()
        )
        raise click.ClickException(f"{problems} Nothing was created.") from exc
    if password is not None:
        click.echo(f"Created {role} account {result} for {email}.")
        return
    click.echo(f"Created {role} account {result.user_id} for {result.email}.")
    click.echo(
        "Send them this link to choose a password; it works once, until "
        f"{result.expires_at:%Y-%m-%d %H:%M UTC}:"
    )
    click.echo(result.link)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the accounts and cases as JSON.")
@click.option("--if-empty", is_flag=True, help="Do nothing (and succeed) if accounts exist.")
def demo(as_json: bool, if_empty: bool) -> None:
    """Fill an empty database with one account per role and cases in several states."""
    from portal.demo import DemoRefused, create_demo

    settings = _settings()
    if settings.is_production:
        raise click.ClickException("The demo refuses to run in production (PORTAL_ENV).")
    settings = settings.prepare()
    keyring = _keyring(settings)

    async def work() -> Any:
        from ledger.keys import publish_keys
        from portal.accounts.tables import User

        if if_empty and await User.count() > 0:
            return None
        await publish_keys(keyring)
        return await create_demo(settings, keyring)

    try:
        made = _with_database(settings, work)
    except DemoRefused as exc:
        raise click.ClickException(str(exc)) from exc
    if made is None:
        return
    record = settings.data_dir / "demo-accounts.json"
    from portal.settings import _write_private

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
