"""Integrations and their API keys: made and revoked by supervisors, checked on every call.

A key reads `dpk_<prefix>_<secret>`. The prefix is public: it finds the key's row, and
it is what lists, logs and ledger entries show. Of the secret only its SHA-256 is kept;
a 256-bit random secret needs no slow hash, because nobody can guess it from the
digest. The comparison takes constant time all the same.

What a key may do is its scopes; this module is the integration's half of the policy:
`ApiCaller.require` is asked by every API route before it does anything.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ledger.entry import Actor
from portal.accounts.tables import User
from portal.database import write_transaction
from portal.errors import Conflict, FormInvalid, NotAllowed, PortalError
from portal.i18n import _
from portal.integrations.tables import ApiKey, Integration
from portal.procedure.people import Viewer

INTEGRATION = "integration"
"""The role of an integration's account, and of its entries in the ledger."""

KEY_KIND = "dpk"
PREFIX_HEX = 8
NAME_LIMIT = 200

FILE_CASES = "cases:file"
ATTACH_RECORDS = "records:attach"
READ_STATUS = "cases:read"
MANAGE_WEBHOOKS = "webhooks:manage"

SCOPES: dict[str, Callable[[], str]] = {
    FILE_CASES: lambda: _("File cases for the platform's users"),
    ATTACH_RECORDS: lambda: _("Attach platform records to cases"),
    READ_STATUS: lambda: _("Read a case's state, deadline and outcome"),
    MANAGE_WEBHOOKS: lambda: _("Register webhooks to be told of changes"),
}


class KeyRefused(PortalError):
    """No usable key came with the request: 401, and what to send instead."""

    status_code = 401


class NoSuchIntegration(PortalError):
    status_code = 404

    def __init__(self) -> None:
        super().__init__(_("There is no such integration or key."))


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def secret_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class ApiCaller:
    """Who is calling the API: one key of one integration, with the key's scopes."""

    key_id: int
    key_prefix: str  # `dpk_<prefix>`: how the ledger and the logs name the key
    integration_id: int
    integration_name: str
    account_id: int
    scopes: frozenset[str]

    @property
    def actor(self) -> Actor:
        """How the ledger names the integration: its account, in the role `integration`."""
        return Actor(id=f"user:{self.account_id}", role=INTEGRATION)

    def as_viewer(self, language: str = "en") -> Viewer:
        """The integration as the services that take a Viewer see it: an account with no
        second factor and no session, which never passes `cleared_for_cases`."""
        return Viewer(
            id=self.account_id,
            email="",
            name=self.integration_name,
            role=INTEGRATION,
            language=language,
            totp_enabled=False,
            second_factor_passed=False,
        )

    def require(self, scope: str) -> None:
        """NotAllowed unless this key holds `scope`."""
        if scope not in self.scopes:
            raise NotAllowed(
                _(
                    "This API key does not have the “%(scope)s” scope (%(what)s). "
                    "Ask a supervisor for a key that has it.",
                    scope=scope,
                    what=SCOPES[scope](),
                )
            )


async def authenticate(authorization: str | None) -> ApiCaller:
    """The caller named by an `Authorization: Bearer dpk_...` header; KeyRefused otherwise.

    Only the header counts: a session cookie never authenticates the API, so a page
    cannot be made to call it with a logged-in person's rights.
    """
    scheme, _sep, token = (authorization or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise KeyRefused(_("Send your API key in the header “Authorization: Bearer dpk_…”."))
    kind, _sep, rest = token.strip().partition("_")
    prefix, _sep, secret = rest.partition("_")
    if kind != KEY_KIND or len(prefix) != PREFIX_HEX or not secret:
        raise KeyRefused(
            _(
                "This is not an API key of this portal: a key reads dpk_, eight characters, "
                "an underscore and the secret. Copy the whole key as it was shown once."
            )
        )
    row = (
        await ApiKey.select(
            ApiKey.id,
            ApiKey.prefix,
            ApiKey.secret_sha256,
            ApiKey.scopes,
            ApiKey.revoked_at,
            ApiKey.integration.id.as_alias("integration_id"),
            ApiKey.integration.name.as_alias("integration_name"),
            ApiKey.integration.account.as_alias("account_id"),
        )
        .where(ApiKey.prefix == prefix)
        .first()
    )
    # Compare even when there is no such key, so that timing tells nothing either way.
    expected = row["secret_sha256"] if row else "0" * 64
    matches = hmac.compare_digest(expected, secret_digest(secret))
    if row is None or not matches:
        raise KeyRefused(
            _(
                "This API key is not valid. Check that you copied all of it, or ask a "
                "supervisor for a new one."
            )
        )
    if row["revoked_at"] is not None:
        raise KeyRefused(
            _(
                "This API key was revoked on %(date)s. Ask a supervisor for a new one.",
                date=_utc(row["revoked_at"]).strftime("%Y-%m-%d %H:%M UTC"),
            )
        )
    return ApiCaller(
        key_id=row["id"],
        key_prefix=f"{KEY_KIND}_{row['prefix']}",
        integration_id=row["integration_id"],
        integration_name=row["integration_name"],
        account_id=row["account_id"],
        scopes=frozenset(row["scopes"].split()),
    )


def check_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise FormInvalid({"name": _("Name the integration, for example: Exchange back end.")})
    if len(name) > NAME_LIMIT:
        raise FormInvalid({"name": _("Keep the name under %(n)s characters.", n=NAME_LIMIT)})
    return name


async def create_integration(name: str, by: int) -> int:
    """A new integration, with the account it acts as; returns its ID.

    The account has no password and is not active: nobody can log in as it, or reset
    its password; it exists so that what the integration does has a name and an owner.
    """
    name = check_name(name)
    now = datetime.now(UTC)
    async with write_transaction(Integration._meta.db):
        account = await User.insert(
            User(
                # `.invalid` is reserved (RFC 2606): no mail can ever reach this address.
                email=f"integration-{secrets.token_hex(8)}@integrations.invalid",
                name=name,
                role=INTEGRATION,
                active=False,
                created_at=now,
            )
        ).returning(User.id)
        rows = await Integration.insert(
            Integration(name=name, account=account[0]["id"], created_by=by, created_at=now)
        ).returning(Integration.id)
    return int(rows[0]["id"])


@dataclass(frozen=True)
class NewKey:
    key_id: int
    token: str  # shown once, to the supervisor who made it, and kept nowhere
    prefix: str


def check_scopes(chosen: list[str]) -> frozenset[str]:
    scopes = frozenset(chosen)
    if not scopes:
        raise FormInvalid({"scopes": _("Choose at least one thing the key may do.")})
    if scopes - SCOPES.keys():
        raise FormInvalid({"scopes": _("Choose among the scopes offered.")})
    return scopes


async def create_key(integration_id: int, scopes: list[str], by: int) -> NewKey:
    """A new key for the integration with these scopes; its token is returned once."""
    chosen = check_scopes(scopes)
    if not await Integration.exists().where(Integration.id == integration_id):
        raise NoSuchIntegration()
    secret = secrets.token_urlsafe(32)
    async with write_transaction(ApiKey._meta.db):
        while True:  # a prefix is 32 bits: a clash is rare, and then we draw again
            prefix = secrets.token_hex(PREFIX_HEX // 2)
            if not await ApiKey.exists().where(ApiKey.prefix == prefix):
                break
        rows = await ApiKey.insert(
            ApiKey(
                integration=integration_id,
                prefix=prefix,
                secret_sha256=secret_digest(secret),
                scopes=" ".join(sorted(chosen)),
                created_by=by,
                created_at=datetime.now(UTC),
            )
        ).returning(ApiKey.id)
    return NewKey(int(rows[0]["id"]), f"{KEY_KIND}_{prefix}_{secret}", f"{KEY_KIND}_{prefix}")


async def revoke_key(integration_id: int, key_id: int, by: int) -> None:
    """The key stops working at once, on every worker: the next request is refused."""
    updated = (
        await ApiKey.update({ApiKey.revoked_at: datetime.now(UTC), ApiKey.revoked_by: by})
        .where(
            (ApiKey.id == key_id)
            & (ApiKey.integration == integration_id)
            & ApiKey.revoked_at.is_null()
        )
        .returning(ApiKey.id)
    )
    if not updated:
        exists = await ApiKey.exists().where(
            (ApiKey.id == key_id) & (ApiKey.integration == integration_id)
        )
        if not exists:
            raise NoSuchIntegration()
        raise Conflict(_("This key was revoked already."))


async def integrations_overview() -> list[dict[str, Any]]:
    """Every integration with its keys (newest first) and who made and revoked them."""
    integrations = await Integration.select(
        Integration.id,
        Integration.name,
        Integration.created_at,
        Integration.created_by.name.as_alias("created_by_name"),
    ).order_by(Integration.id)
    keys = await ApiKey.select(
        ApiKey.id,
        ApiKey.integration,
        ApiKey.prefix,
        ApiKey.scopes,
        ApiKey.created_at,
        ApiKey.last_used_at,
        ApiKey.revoked_at,
        ApiKey.created_by.name.as_alias("created_by_name"),
        ApiKey.revoked_by.name.as_alias("revoked_by_name"),
    ).order_by(ApiKey.id, ascending=False)
    for integration in integrations:
        integration["keys"] = [
            {**key, "scopes": key["scopes"].split(), "prefix": f"{KEY_KIND}_{key['prefix']}"}
            for key in keys
            if key["integration"] == integration["id"]
        ]
    return integrations
