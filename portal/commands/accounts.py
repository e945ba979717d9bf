"""`portal user`: accounts for platform staff and invited users, made from the command
line (customers sign themselves up on the web).

A command imports what is slow to load inside itself, on purpose: `portal --help`
loads this module, and stays fast.
"""

from __future__ import annotations

from typing import Any

import click

from portal.commands.environment import settings_from_env, with_database
from portal.errors import FormInvalid
from portal.procedure import roles

CREATABLE_ROLES = (*roles.STAFF, *roles.INVITED)
"""Roles `portal user create` gives; customers sign themselves up."""


@click.group()
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

    role = role.strip().lower()
    if role not in CREATABLE_ROLES:
        raise click.ClickException(
            f"Unknown role {role!r}: choose one of {', '.join(CREATABLE_ROLES)}. "
            "Nothing was created."
        )
    settings = settings_from_env()

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
        result = with_database(settings, work)
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
