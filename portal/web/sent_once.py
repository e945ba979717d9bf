"""The web side of `portal.cases.submissions`: the token in each form that records
something, what a request's form held, and the answer to a copy of a form already sent.

A template adds `{{ one_time_token() }}` inside the form, beside its CSRF field; htmx
sends it with the other fields. `sent_once_middleware` tells the services who is sending
and what the form held: it reads an ordinary (urlencoded) form itself, which Litestar
keeps for the handler and the CSRF check, and a streamed upload is read by
`portal.cases.uploads.receive_form`, which offers its fields and files' hashes.
`answer_a_copy` answers a copy of an ordinary form before its handler runs; a copy of
an upload (known only once read) and a copy sent at the same moment as the first are
stopped by the claim in the ledger entry's transaction.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.enums import ScopeType
from litestar.response import Template
from litestar.types import ASGIApp, Receive, Scope, Send
from markupsafe import Markup, escape

from portal.cases import submissions
from portal.i18n import _
from portal.web.viewer import viewer_of

URLENCODED = "application/x-www-form-urlencoded"


def one_time_token() -> Markup:
    """The hidden input of a form's one-time token, fresh each time the form is drawn.

    `autocomplete="off"`: Firefox otherwise puts an old token back into a reloaded page.
    """
    return Markup('<input type="hidden" name="{}" value="{}" autocomplete="off">').format(
        submissions.FIELD, escape(submissions.new_token())
    )


def sent_once_middleware(app: ASGIApp) -> ASGIApp:
    """Runs after `viewer_middleware`: a signed-in person's POST may carry a token."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope["method"] != "POST":
            await app(scope, receive, send)
            return
        request: Request[Any, Any, Any] = Request(scope, receive)
        viewer = viewer_of(request)
        if viewer is None:
            await app(scope, receive, send)
            return
        with submissions.sending(viewer.id):
            # A route that streams its own body has no size limit: never read it here.
            limit = getattr(request.route_handler, "resolve_request_max_body_size", None)
            bounded = limit is not None and limit() is not None
            if bounded and request.content_type[0] == URLENCODED:
                form = await request.form()
                submissions.offer(
                    (name, value) for name, value in form.multi_items() if isinstance(value, str)
                )
            await app(scope, receive, send)

    return middleware


async def answer_a_copy(request: Request[Any, Any, Any]) -> Response[Any] | None:
    """Litestar's `before_request`: a copy of a form recorded earlier gets its answer now,
    after the CSRF check and before the handler (whose service would otherwise refuse
    it: the first copy already took the step it asks for)."""
    form = submissions.unclaimed()
    if form is None:
        return None
    first = await submissions.sent_before(form)
    return None if first is None else already_recorded(request, first)


def already_recorded(
    request: Request[Any, Any, Any], exc: submissions.AlreadyRecorded
) -> Response[Any]:
    """Not an error: the first copy did what was asked. Say so, and where it is."""
    context = {
        "title": _("Already recorded"),
        "message": _("This was already recorded, so it was not recorded again."),
        "receipt": f"/cases/{exc.case_ref}/ledger/{exc.case_seq}",
        "case_link": f"/cases/{exc.case_ref}",
    }
    if request.headers.get("hx-request") != "true":
        return Template(template_name="already_recorded.html", context=context)
    response = Template(template_name="fragments/already_recorded.html", context=context)
    # Into the page's messages, whatever the form targeted and selected; the form's
    # own area is left as it is, and its list shows the first copy at its next poll.
    response.headers["HX-Retarget"] = "#messages"
    response.headers["HX-Reswap"] = "innerHTML"
    response.headers["HX-Reselect"] = "#already-recorded"
    return response
