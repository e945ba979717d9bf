"""Errors on `/api/` as RFC 9457 problem details: JSON that says what went wrong and,
field by field, what to fix. The web pages' handler (`portal.web.pages`) stays for the
rest of the portal; `portal.app` sends each error to one or the other by its path.
"""

from __future__ import annotations

import logging
import re
import typing
from typing import Annotated, Any

import msgspec
import msgspec.inspect
from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    MethodNotAllowedException,
    NotFoundException,
    ValidationException,
)

from portal.errors import FormInvalid, PortalError
from portal.i18n import _
from portal.integrations.keys import KeyRefused
from portal.integrations.rate_limit import TooManyRequests

log = logging.getLogger(__name__)

MEDIA_TYPE = "application/problem+json"
API_PREFIX = "/api/"
_AT_PATH = re.compile(r" - at `\$\.?([^`]*)`$")
_UNKNOWN = re.compile(r"unknown field `([^`]*)`")


def is_api(request: Request[Any, Any, Any]) -> bool:
    return request.url.path.startswith(API_PREFIX)


def _choices(request: Request[Any, Any, Any], field: str) -> tuple[Any, ...] | None:
    """The values a body field of the route allows, when the schema lists them."""
    try:
        hint = typing.get_type_hints(request.route_handler.fn, include_extras=True).get("data")
    except Exception:  # no handler, or no body: nothing to list
        return None
    while typing.get_origin(hint) is Annotated:
        hint = typing.get_args(hint)[0]
    if not (isinstance(hint, type) and issubclass(hint, msgspec.Struct)):
        return None
    name, _sep, index = field.partition("[")
    info = msgspec.inspect.type_info(hint)
    for candidate in getattr(info, "fields", ()):
        if candidate.name == name:
            return _literal_values(candidate.type, in_list=bool(index))
    return None


def _literal_values(kind: Any, in_list: bool) -> tuple[Any, ...] | None:
    while isinstance(kind, msgspec.inspect.Metadata):
        kind = kind.type
    if isinstance(kind, msgspec.inspect.LiteralType):
        return kind.values
    if isinstance(kind, msgspec.inspect.UnionType):  # `X | None`
        for member in kind.types:
            if values := _literal_values(member, in_list):
                return values
    if in_list and isinstance(kind, msgspec.inspect.ListType):
        return _literal_values(kind.item_type, in_list=False)
    return None


def _field_errors(request: Request[Any, Any, Any], extra: Any) -> list[dict[str, str]]:
    """Litestar's validation messages as {field, message}: msgspec names the place in the
    body as `$.field[0]`, which becomes the field `field[0]`; a value outside a list of
    choices is told the choices."""
    found = []
    for item in extra if isinstance(extra, list) else []:
        if not isinstance(item, dict):
            continue
        message = str(item.get("message", ""))
        field = str(item.get("key", ""))
        at = _AT_PATH.search(message)
        if at:
            message = message[: at.start()]
            field = at.group(1) or field
        if field == "data":
            unknown = _UNKNOWN.search(message)
            field = unknown.group(1) if unknown else ""  # else: the body as a whole
        if message.startswith("Invalid enum value") and (values := _choices(request, field)):
            message = _("%(problem)s; choose one of: %(values)s",
                        problem=message, values=", ".join(map(str, values)))  # fmt: skip
        found.append({"field": field, "message": message})
    return found


def problem(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    status, title, detail = 500, _("Something went wrong"), ""
    errors: list[dict[str, str]] = []
    headers: dict[str, str] = {}
    if isinstance(exc, FormInvalid):
        status, title = 422, _("Check what you sent")
        detail = _("Some fields need fixing; each is named in errors, with what to fix.")
        errors = [{"field": name, "message": message} for name, message in exc.errors.items()]
    elif isinstance(exc, ValidationException):
        status, title = 422, _("Check what you sent")
        errors = _field_errors(request, exc.extra)
        detail = _(
            "The request does not match the API's schema (see /schema/openapi.json): %(what)s",
            what="; ".join(
                f"{e['field']}: {e['message']}" if e["field"] else e["message"] for e in errors
            )
            or exc.detail,
        )
    elif isinstance(exc, PortalError):
        status = exc.status_code
        title = {
            401: _("API key needed"),
            403: _("Not allowed"),
            404: _("Not found"),
            409: _("That cannot be done now"),
            429: _("Too many requests"),
        }.get(status, _("That cannot be done"))
        detail = str(exc)
        if isinstance(exc, KeyRefused):
            headers["WWW-Authenticate"] = 'Bearer realm="portal-api"'
        if isinstance(exc, TooManyRequests):
            headers["Retry-After"] = str(exc.retry_after)
    elif isinstance(exc, NotFoundException):
        status, title = 404, _("Not found")
        detail = _("There is nothing at this address: check the path and the case reference.")
    elif isinstance(exc, MethodNotAllowedException):
        status, title = 405, _("Method not allowed")
        detail = _("This address does not take %(method)s; see /schema/openapi.json.",
                   method=request.method)  # fmt: skip
        if exc.headers:
            headers.update(exc.headers)
    elif isinstance(exc, HTTPException) and exc.status_code == 413:
        status, title = 413, _("Too large")
        detail = _(
            "The request body is larger than this address accepts. Send records over 1 MiB "
            "as files to /api/v1/cases/{ref}/records/files."
        )
    elif isinstance(exc, HTTPException) and exc.status_code < 500:
        status, title, detail = exc.status_code, str(exc.detail), str(exc.detail)
    else:
        log.exception("Unhandled API error on %s %s", request.method, request.url.path,
                      exc_info=exc)  # fmt: skip
        detail = _("The portal could not finish this request; nothing was saved. Try again.")
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status,
                            "detail": detail}  # fmt: skip
    if errors:
        body["errors"] = errors
    return Response(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)
