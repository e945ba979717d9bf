"""Templates and error pages: Jinja2 with the translations installed, and one place that
turns every error into a page (or, for htmx, a fragment) that says what to do.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment
from litestar import MediaType, Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect, Template
from litestar.template.config import TemplateConfig

from portal.cases.categories import category_label, severity_label, state_label
from portal.cases.evidence import no_preview_reason
from portal.cases.submissions import AlreadyRecorded
from portal.errors import NotFound, PortalError
from portal.i18n import (
    LANGUAGES,
    _,
    current_language,
    template_gettext,
    template_ngettext,
)
from portal.procedure.labels import role_label
from portal.procedure.standing import standing
from portal.web.sent_once import already_recorded, one_time_token
from portal.web.text import paragraphs
from portal.web.viewer import SecondFactorNeeded

log = logging.getLogger(__name__)

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates"


def _configure(engine: JinjaTemplateEngine) -> None:
    env: Environment = engine.engine
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(  # type: ignore[attr-defined]
        template_gettext, template_ngettext, newstyle=True
    )
    env.globals.update(
        LANGUAGES=LANGUAGES,
        current_language=current_language,
        role_label=role_label,
        state_label=state_label,
        category_label=category_label,
        severity_label=severity_label,
        no_preview_reason=no_preview_reason,
        one_time_token=one_time_token,
        standing=standing,
    )
    env.filters["paragraphs"] = paragraphs
    env.filters["when"] = lambda moment: moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "—"
    env.trim_blocks = True
    env.lstrip_blocks = True


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    return TemplateConfig(
        directory=TEMPLATES_DIR, engine=JinjaTemplateEngine, engine_callback=_configure
    )


def page(name: str, status_code: int = 200, **context: Any) -> Template:
    return Template(template_name=name, context=context, status_code=status_code)


def _is_htmx(request: Request[Any, Any, Any]) -> bool:
    return request.headers.get("hx-request") == "true"


def _redirect(request: Request[Any, Any, Any], to: str) -> Response[Any]:
    if _is_htmx(request):
        return Response(content="", status_code=200, headers={"HX-Redirect": to})
    return Redirect(path=to, status_code=303)


def _error_page(
    request: Request[Any, Any, Any], status: int, title: str, message: str
) -> Response[Any]:
    wants_json = "application/json" in request.headers.get("accept", "") and not _is_htmx(request)
    if wants_json:
        return Response(
            {"title": title, "detail": message, "status": status},
            status_code=status,
            media_type="application/problem+json",
        )
    name = "fragments/error.html" if _is_htmx(request) else "error.html"
    response = Template(
        template_name=name,
        context={"title": title, "message": message, "status": status},
        status_code=status,
    )
    if _is_htmx(request):
        # Show the message where the page keeps its messages, whatever the form targeted.
        response.headers["HX-Retarget"] = "#messages"
        response.headers["HX-Reswap"] = "innerHTML"
    return response


def handle_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if isinstance(exc, NotAuthorizedException):
        return _redirect(request, "/login?next=" + quote(request.url.path, safe="/"))
    if isinstance(exc, SecondFactorNeeded):
        return _redirect(request, "/account/second-factor")
    if isinstance(exc, AlreadyRecorded):
        return already_recorded(request, exc)
    if isinstance(exc, PortalError) and not isinstance(exc, NotFound):
        return _error_page(request, exc.status_code, _("That cannot be done"), str(exc))
    if isinstance(exc, (NotFound, NotFoundException)):
        return _error_page(
            request, 404, _("Not found"), _("There is nothing here, or you may not see it.")
        )
    if isinstance(exc, PermissionDeniedException) and "CSRF" in str(exc.detail):
        return _error_page(
            request,
            403,
            _("Your form has expired"),
            _("Reload the page and send the form again. Nothing was changed."),
        )
    if isinstance(exc, ValidationException):
        return _error_page(
            request,
            400,
            _("Please check what you sent"),
            _("Some of the data sent was not valid: %(detail)s", detail=exc.detail),
        )
    if isinstance(exc, HTTPException):
        return _error_page(request, exc.status_code, str(exc.detail), str(exc.detail))
    log.exception("Unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return _error_page(
        request,
        500,
        _("Something went wrong"),
        _("The portal could not finish this request; nothing was saved. Please try again."),
    )


__all__ = ["MediaType", "handle_error", "page", "template_config"]
