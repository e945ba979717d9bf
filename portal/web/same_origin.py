"""Unsafe requests from another site are refused, whatever cookies and tokens they carry.

The CSRF token already stops a forged form; this is the second, independent check the
browser gives for free: every POST, PUT, PATCH and DELETE a browser sends carries an
`Origin` header (older ones, and some privacy settings, send only a `Referer`). One
that names another site is refused before anything runs. A request with neither header
is not a browser's cross-site request (an API client, `curl`): the CSRF token, or the
API key, decides as before.

"This site" is the portal's public address (PORTAL_BASE_URL) or the host the request
itself was sent to, so a portal reached under a second name (a test rig, a load
balancer's own address) still accepts its own forms.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

from portal.errors import NotAllowed
from portal.i18n import _

UNSAFE_METHODS = frozenset(("POST", "PUT", "PATCH", "DELETE"))


def origin_of(url: str) -> str | None:
    """`scheme://host[:port]` of a URL, lower-cased; None when it has no host."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:  # a port that is not a number, brackets that do not close
        return None
    if not parts.scheme or not parts.hostname:
        return None
    host = parts.hostname
    if ":" in host:
        host = f"[{host}]"  # IPv6, as it is written in a URL
    default = {"http": 80, "https": 443}.get(parts.scheme.lower())
    suffix = f":{port}" if port is not None and port != default else ""
    return f"{parts.scheme.lower()}://{host}{suffix}"


def _host_of(origin: str) -> str:
    return origin.split("://", 1)[1]


def is_same_site(claimed: str, base_url: str, host_header: str, scheme: str) -> bool:
    """Whether `claimed` (an Origin or a Referer) is this portal, as configured or as
    addressed by this very request."""
    origin = origin_of(claimed)
    if origin is None:
        return False  # "null" (a sandboxed frame, a privacy redirect) is nobody's site
    if origin == origin_of(base_url):
        return True
    addressed = origin_of(f"{scheme}://{host_header}") if host_header else None
    # Behind a proxy that terminates TLS the request may arrive as http while the
    # browser says https: the host it was sent to is what must match.
    return addressed is not None and _host_of(origin) == _host_of(addressed)


def same_origin_only(*, exempt_prefix: str) -> Callable[[ASGIApp], ASGIApp]:
    """Middleware refusing an unsafe request whose Origin (or, without one, Referer) is
    another site. Paths under `exempt_prefix` (the API) authenticate by a key in a
    header, which another site's page cannot attach: there is nothing to forge."""

    def wrap(app: ASGIApp) -> ASGIApp:
        return _refusing_other_sites(app, exempt_prefix)

    return wrap


def _refusing_other_sites(app: ASGIApp, exempt_prefix: str) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == ScopeType.HTTP
            and scope.get("method", "GET") in UNSAFE_METHODS
            and not scope.get("path", "").startswith(exempt_prefix)
        ):
            headers = {
                name.decode("latin-1").lower(): value.decode("latin-1")
                for name, value in scope.get("headers", [])
            }
            claimed = headers.get("origin") or headers.get("referer")
            if claimed is not None:
                settings = scope["app"].state.settings
                if not is_same_site(
                    claimed, settings.base_url, headers.get("host", ""), scope.get("scheme", "http")
                ):
                    raise NotAllowed(
                        _(
                            "This form was sent from another website, so it was refused and "
                            "nothing was changed. Open the portal at %(address)s and send it "
                            "from there.",
                            address=settings.base_url,
                        )
                    )
        await app(scope, receive, send)

    return middleware
