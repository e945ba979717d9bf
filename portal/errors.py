"""The portal's own errors: each carries a message a person can act on.

The web shell turns them into a page or an htmx fragment with that message (see
`portal.web.pages`); services raise them before writing anything, or inside the
transaction so that nothing they began is kept.
"""


class PortalError(Exception):
    """Something the user asked for cannot be done; the message says why and what to do."""

    status_code = 400


class NotAllowed(PortalError):
    """The viewer is on the case but may not do this."""

    status_code = 403


class Conflict(PortalError):
    """The request is valid but the case or account is not in a state that allows it."""

    status_code = 409


class FormInvalid(PortalError):
    """A form came back with mistakes: `errors` maps each field to what to fix."""

    status_code = 400

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors.items()))
        self.errors = errors
