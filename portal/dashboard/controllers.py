"""`/staff/dashboard`: the charts page, and each chart's numbers as CSV.

Who may see it is `portal.procedure.policy.may_see_dashboard`; to anyone else `/staff/dashboard`
does not exist (404), as with the other staff pages. Filters come in the query string
(a GET form), so the CSV links carry the very filters the page shows.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get
from litestar.connection import ASGIConnection
from litestar.exceptions import NotFoundException
from litestar.handlers.base import BaseRouteHandler
from litestar.response import Template

from portal.cases import deadlines
from portal.cases.categories import CATEGORIES
from portal.cases.deadlines import PRIORITIES
from portal.cases.queues import priority_label
from portal.dashboard import charts, export, figures
from portal.dashboard.filters import Filters, read_filters
from portal.errors import FormInvalid, PortalError
from portal.procedure.policy import may_see_dashboard
from portal.web.pages import page
from portal.web.viewer import cleared_for_cases, viewer_of

Req = Request[Any, Any, Any]
QUERY = ("from", "to", "category", "priority")


def dashboard_viewers(connection: ASGIConnection[Any, Any, Any, Any],
                      handler: BaseRouteHandler) -> None:  # fmt: skip
    cleared_for_cases(connection, handler)
    if not may_see_dashboard(viewer_of(connection)):
        raise NotFoundException()


def _asked(request: Req) -> dict[str, str]:
    return {key: request.query_params.get(key) or "" for key in QUERY}


def _filters(asked: dict[str, str]) -> Filters:
    return read_filters(
        deadlines.now().date(), asked["from"], asked["to"], asked["category"], asked["priority"]
    )


def _page(asked: dict[str, str], status_code: int = 200, **context: Any) -> Template:
    return page(
        "staff/dashboard.html",
        status_code=status_code,
        asked=asked,
        categories=CATEGORIES,
        priorities=[(key, priority_label(key)) for key in PRIORITIES],
        number=charts.number,
        **context,
    )


class DashboardController(Controller):
    path = "/staff/dashboard"
    guards = [dashboard_viewers]  # noqa: RUF012 (Litestar reads it from the class)

    @get("/")
    async def show(self, request: Req) -> Template:
        asked = _asked(request)
        try:
            filters = _filters(asked)
        except FormInvalid as exc:
            # The form comes back with what was typed and what to fix; no charts.
            return _page(asked, status_code=400, filters=None, shown=[], errors=exc.errors)
        query = filters.query()
        shown = [
            (figure, charts.draw(figure),
             f"/staff/dashboard/{figure.slug}.csv?{urlencode(query)}")
            for figure in await figures.dashboard(filters)
        ]  # fmt: skip
        return _page(query, filters=filters, shown=shown, errors={})

    @get("/{name:str}")
    async def csv(self, request: Req, name: str) -> Response[bytes]:
        slug = name.removesuffix(".csv")
        if slug == name or slug not in figures.FIGURES:
            raise NotFoundException()
        try:
            filters = _filters(_asked(request))
        except FormInvalid as exc:
            raise PortalError(" ".join(exc.errors.values())) from exc
        figure = await figures.figure(slug, filters)
        assert figure is not None
        return Response(
            export.to_csv(figure).encode("utf-8"),
            media_type="text/csv",  # Litestar adds "; charset=utf-8"
            headers={
                "Content-Disposition": f'attachment; filename="{export.filename(figure, filters)}"',
            },
        )
