"""The `portal` command: migrate, serve, and the ledger's own commands.

Every command reads the same settings as the server. Commands that need the
database open it for their own run and close it after; `verify` and `verify-bundle`
need none. Each group of commands is a module of `portal.commands`; this gathers them.
"""

from __future__ import annotations

import logging
import os

import click

from portal.commands import accounts, case_files, server, signed_ledger


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
    # Here, not at the top, so that `portal --help` does not load every area.
    import portal.listeners  # noqa: F401


for command in (
    server.migrate,
    server.serve,
    server.sweep_command,
    signed_ledger.ledger,
    case_files.export_command,
    case_files.verify_case_file_command,
    accounts.user,
    server.demo,
):
    main.add_command(command)
