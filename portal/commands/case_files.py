"""`portal export` and `portal verify`: a case's sealed case file written, and any case
file checked offline (its exit code says what the check came to).

A command imports what is slow to load inside itself, on purpose: `portal --help`
loads this module, and stays fast.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from portal.casefile.report import summary
from portal.commands.environment import open_keyring, settings_from_env, with_database
from portal.i18n import DEFAULT_LANGUAGE, LANGUAGES, template_gettext
from portal.i18n import language as in_language
from portal.procedure.policy import STAFF_COPY, counsel_copy, party_copy
from portal.standard_output import write_document


@click.command("export")
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
    from portal.casefile.attest import CaseFileRefused
    from portal.casefile.export import export, user_by_email
    from portal.casefile.seal import SealMissing
    from portal.cases.events import SYSTEM
    from portal.pdf.render import RenderFailed

    if output is None and bundle_file is None:
        raise click.ClickException("Say where to write: -o FILE.pdf and/or --bundle FILE.zip.")
    kind, _colon, email = audience.partition(":")
    if audience != STAFF_COPY and kind not in ("party", "counsel"):
        raise click.ClickException(
            "--audience is staff, party:EMAIL or counsel:EMAIL: no copy carries every caucus "
            "and the tribunal's deliberations."
        )
    settings = settings_from_env()
    keyring = open_keyring(settings)

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
        made = with_database(settings, work)
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


@click.command("verify", epilog=VERIFY_EXIT_CODES)
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
    from portal.casefile.verify import verify_case_file

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
