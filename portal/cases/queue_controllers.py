"""The staff work queue: `/staff/queue` for platform staff, and a supervisor's assignments
from it. To anyone else `/staff` does not exist (404).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, get, post
from litestar.connection import ASGIConnection
from litestar.exceptions import NotFoundException
from litestar.handlers.base import BaseRouteHandler
from litestar.response import Redirect, Template

from portal.cases import deadlines, queues
from portal.cases.access import case_access
from portal.cases.categories import CATEGORIES
from portal.errors import FormInvalid, PortalError
from portal.procedure.standing import standing
from portal.web.pages import page
from portal.web.viewer import Viewer, cleared_for_cases, supervisor_only, viewer_of

Req = Request[Any, Any, Any]
QUERY = ("tab", "state", "category", "priority", "after")


def staff_only(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    cleared_for_cases(connection, handler)
    viewer = viewer_of(connection)
    if viewer is None or not standing(viewer).works_the_queue:
        raise NotFoundException()


def _viewer(request: Req) -> Viewer:
    viewer = viewer_of(request)
    assert viewer is not None  # the guard ran
    return viewer


def _refused(exc: FormInvalid) -> PortalError:
    """A form's mistakes as one message: the queue's forms are a select and a button."""
    return PortalError(" ".join(exc.errors.values()))


class QueueController(Controller):
    path = "/staff/queue"
    guards = [staff_only]  # noqa: RUF012 (Litestar reads it from the class)

    @get("/")
    async def queue(self, request: Req) -> Template:
        viewer = _viewer(request)
        # Read by hand: Litestar reserves the parameter name `state`.
        params = {key: request.query_params.get(key) or "" for key in QUERY}
        try:
            query = queues.read_query(viewer, **params)
        except FormInvalid as exc:
            raise _refused(exc) from exc
        shown = await queues.queue_page(query, viewer, deadlines.now())
        return page(
            "staff/queue.html",
            shown=shown,
            tabs=queues.tabs_for(viewer),
            categories=CATEGORIES,
            priorities=[(key, queues.priority_label(key)) for key in queues.PRIORITY_FIRST],
            staff_roles=queues.ASSIGNABLE_STAFF,  # supervisors owe steps as a body
            queue_url=lambda params: "/staff/queue?" + urlencode(params),
            assigned=request.query_params.get("assigned", ""),
            assigned_to=next(
                (m for m in shown.staff if str(m.id) == request.query_params.get("to")), None
            ),
        )

    @post("/assign", guards=[supervisor_only])
    async def assign(self, request: Req) -> Redirect:
        viewer = _viewer(request)
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        # Back to the same queue, filters and page, checked like any queue link.
        try:
            query = queues.read_query(viewer, **{key: form.get(key, "") for key in QUERY})
        except FormInvalid as exc:
            raise _refused(exc) from exc
        ref = form.get("ref", "")
        case, access = await case_access(viewer, ref)
        if not access.can_manage_participants:
            raise NotFoundException()
        try:
            member = await queues.assign_from_queue(
                request.app.state.keyring, ref, case["id"], form.get("user", ""), viewer
            )
        except FormInvalid as exc:
            raise _refused(exc) from exc
        back = {**query.link(query.after), "assigned": ref, "to": str(member.id)}
        return Redirect("/staff/queue?" + urlencode(back), status_code=303)
