"""The portal's own errors: each carries a message a person can act on.

The web shell turns them into a page or an htmx fragment with that message (see
`portal.web.pages`); services raise them before writing anything, or inside the
transaction so that nothing they began is kept.
"""

import errno

from portal.i18n import _


class PortalError(Exception):
    """Something the user asked for cannot be done; the message says why and what to do."""

    status_code = 400


class NotAllowed(PortalError):
    """The viewer is on the case but may not do this."""

    status_code = 403


class NotFound(PortalError):
    """There is nothing here for this person: it does not exist, or they may not know it
    does (a case they are not on answers the same as a reference nobody filed)."""

    status_code = 404

    def __init__(self, message: str | None = None) -> None:
        super().__init__(
            message or _("There is nothing at this address: check the path and the case reference.")
        )


class Conflict(PortalError):
    """The request is valid but the case or account is not in a state that allows it."""

    status_code = 409


class FormInvalid(PortalError):
    """A form came back with mistakes: `errors` maps each field to what to fix."""

    status_code = 400

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors.items()))
        self.errors = errors


class DatabaseUnreachable(PortalError):
    """The database cannot be reached (restarting, say): the request did nothing."""

    status_code = 503


class StorageFull(PortalError):
    """The disk that keeps uploaded files is full: the upload was not kept."""

    status_code = 507


# Failures of the connection to PostgreSQL, as asyncpg and the socket raise them: the
# server refused or dropped the connection, is shutting down or starting up. A query's
# own errors (a constraint, a serialisation failure) are not among them.
_CONNECTION_ERRORS = (
    "ConnectionDoesNotExistError",  # the connection was lost mid-query
    "CannotConnectNowError",  # 57P03: starting up or shutting down
    "AdminShutdownError",  # 57P01: `pg_ctl stop -m fast` ended the session
    "CrashShutdownError",  # 57P02
    "PostgresConnectionError",  # class 08 (connection exception)
    "ClientCannotConnectError",
)


def database_unreachable(exc: BaseException) -> bool:
    """Whether `exc`, or what caused it, says the database server is not there."""
    seen: BaseException | None = exc
    for _depth in range(5):
        if seen is None:
            return False
        names = {cls.__name__ for cls in type(seen).__mro__}
        if names.intersection(_CONNECTION_ERRORS) or isinstance(seen, ConnectionError):
            return True
        # asyncpg's words for a connection that died under a query or a rollback, and
        # for a pooled connection the server ended while it was idle (its protocol is
        # left mid-operation). The second is also what two queries at once on one
        # connection would raise, which the portal never does.
        if "InterfaceError" in names and "connection is closed" in str(seen):
            return True
        if "InternalClientError" in names and "another operation" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def as_portal_error(exc: Exception) -> Exception:
    """An unreachable database or a full disk as the portal's own error, with a message a
    person can act on; any other exception as it is."""
    if isinstance(exc, PortalError):
        return exc
    if database_unreachable(exc):
        return DatabaseUnreachable(
            _(
                "The portal cannot reach its database just now, so nothing was saved. "
                "Please try again in a moment."
            )
        )
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return StorageFull(
            _(
                "The portal has no room left to store files just now, so nothing was kept. "
                "Please try again later."
            )
        )
    return exc
