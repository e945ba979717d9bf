"""The notifications page, the badge in the header, and marking notifications read."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, MediaType, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import Parameter
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Template

from portal.notifications import inbox
from portal.web.pages import page
from portal.web.viewer import cleared_for_cases, login_required, viewer_of

PageNumber = Annotated[int, Parameter(query="page", ge=1, le=100_000)]


def _reader(request: HTMXRequest) -> int:
    viewer = viewer_of(request)
    assert viewer is not None  # the guards let no one else in
    return viewer.id


class NotificationController(Controller):
    path = "/notifications"
    request_class = HTMXRequest
    guards = (login_required,)

    @get("/badge", media_type=MediaType.HTML, cache=False)
    async def badge(self, request: HTMXRequest) -> Template:
        # Only a number: it is on every page, including the one where staff set up the
        # second factor, so it must not send them anywhere.
        return page("notifications/_badge.html", count=await inbox.unread_count(_reader(request)))

    # The list names cases and people, so it is shown on the terms of the cases themselves.
    @get("/", guards=[cleared_for_cases])
    async def index(self, request: HTMXRequest, page_number: PageNumber = 1) -> Template:
        listing = await inbox.inbox_page(_reader(request), page_number)
        return page("notifications/index.html", listing=listing)

    @post("/{notification_id:int}/read", guards=[cleared_for_cases])
    async def read(self, request: HTMXRequest, notification_id: int) -> Response[Any] | Template:
        reader = _reader(request)
        item = await inbox.mark_read(reader, notification_id)
        if item is None:
            raise NotFoundException()
        if not request.htmx:
            return Redirect("/notifications", status_code=303)
        return page("notifications/read.html", item=item, count=await inbox.unread_count(reader))

    @post("/read-all", guards=[cleared_for_cases])
    async def read_all(
        self, request: HTMXRequest, page_number: PageNumber = 1
    ) -> Response[Any] | Template:
        reader = _reader(request)
        await inbox.mark_all_read(reader)
        if not request.htmx:
            return Redirect("/notifications", status_code=303)
        listing = await inbox.inbox_page(reader, page_number)
        return page("notifications/read_all.html", listing=listing, count=0)
