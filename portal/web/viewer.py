"""Who is asking: the logged-in user behind a request, loaded once per request.

The session holds the user's ID, the `session_epoch` it was opened under, and whether
the second factor was passed. A deactivated account, or one whose epoch has moved on
(deactivation, a password change elsewhere), is logged out on its next request.
"""

from __future__ import annotations

from typing import Any, cast

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.exceptions import NotAuthorizedException, NotFoundException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware.csrf import CSRFMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from portal.accounts.tables import User
from portal.i18n import negotiate, set_language
from portal.procedure.people import Viewer
from portal.procedure.standing import standing

__all__ = ["Viewer", "cleared_for_cases", "csrf_checker", "login_required", "viewer_of"]


class SecondFactorNeeded(Exception):
    """The viewer must enrol (or pass) a second factor before seeing any case."""


def viewer_middleware(app: ASGIApp) -> ASGIApp:
    """Runs after the session middleware and before guards, so guards can ask who this is."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP:
            await load_viewer(Request(scope, receive))
        await app(scope, receive, send)

    return middleware


async def load_viewer(request: Request[Any, Any, Any]) -> None:
    """Put the viewer (or None) in the scope and choose the language."""
    # The session middleware runs first and loads a dict (empty for a visitor).
    session = cast("dict[str, Any]", request.scope.get("session") or {})
    viewer = None
    if session.get("uid") and not session.get("pending_second_factor"):
        row = (
            await User.select(
                User.id,
                User.email,
                User.name,
                User.role,
                User.language,
                User.active,
                User.session_epoch,
                User.totp_enabled,
            )
            .where(User.id == session["uid"])
            .first()
        )
        if row and row["active"] and row["session_epoch"] == session.get("epoch"):
            viewer = Viewer(
                id=row["id"],
                email=row["email"],
                name=row["name"],
                role=row["role"],
                language=row["language"],
                totp_enabled=row["totp_enabled"],
                second_factor_passed=bool(session.get("second_factor")),
            )
        else:
            request.clear_session()
    request.scope["user"] = viewer
    chosen = viewer.language if viewer else request.cookies.get("portal_lang")
    set_language(chosen or negotiate(request.headers.get("accept-language")))


def viewer_of(request: ASGIConnection[Any, Any, Any, Any]) -> Viewer | None:
    # `load_viewer` put it there, on every HTTP request.
    return cast("Viewer | None", request.scope.get("user"))


def login_required(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    if viewer_of(connection) is None:
        raise NotAuthorizedException("Log in to continue.")


def cleared_for_cases(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard for every case route: logged in, and past the second factor if the role needs it."""
    viewer = viewer_of(connection)
    if viewer is None:
        raise NotAuthorizedException("Log in to continue.")
    if not viewer.cleared_for_cases:
        raise SecondFactorNeeded()


def supervisor_only(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    cleared_for_cases(connection, handler)
    viewer = viewer_of(connection)
    if viewer is None or not standing(viewer).administers:
        raise NotFoundException()


def csrf_checker(request: Any) -> Any:
    """For routes that read their own body (streamed uploads): the CSRF middleware's test.

    Such routes are excluded from the middleware, which would otherwise read the whole
    body into memory to find the token; they check the same token themselves.
    """
    config = request.app.csrf_config
    cookie = request.cookies.get(config.cookie_name)
    middleware = CSRFMiddleware(app=None, config=config)  # type: ignore[arg-type]

    def check(token: str | None) -> bool:
        return bool(token and cookie and middleware._csrf_tokens_match(token, cookie))

    return check
