"""The web shell of arbitral proceedings: timetable, extensions, procedural orders, the
award and its corrections. Each handler asks the policy, calls one `arbitration` service,
and shows the room again (with what to fix next to the field, when a form was wrong)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.response import Redirect, Response, Template

from arbitration import award, corrections, extensions, orders, timetable, tribunal
from portal.accounts.controllers import _address
from portal.cases.access import case_access
from portal.cases.categories import category_label
from portal.cases.controllers import room_context
from portal.cases.sides import sides_of
from portal.errors import FormInvalid
from portal.i18n import language
from portal.pdf.render import render_pdf
from portal.procedure.arbitration import AWARD
from portal.procedure.labels import role_label
from portal.procedure.policy import Channel
from portal.web.pages import page
from portal.web.viewer import Viewer, cleared_for_cases, viewer_of

Req = Request[Any, Any, Any]


def _viewer(request: Req) -> Viewer:
    viewer = viewer_of(request)
    assert viewer is not None  # the guard ran
    return viewer


class TribunalController(Controller):
    """The proceedings' forms of a case room: /cases/{ref}/tribunal/..."""

    path = "/cases/{ref:str}/tribunal"
    guards = [cleared_for_cases]  # noqa: RUF012 (Litestar reads it from the class)

    async def _run(
        self, request: Req, ref: str, which: str, service: Any
    ) -> Response[Any] | Template:
        case, access = await case_access(_viewer(request), ref)
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        try:
            await service(access, form)
        except FormInvalid as exc:
            form.pop("password", None)  # never sent back into a page
            context = await room_context(
                ref, case, access, Channel("all"), arbitration_errors={which: exc.errors},
                arbitration_form=form, open_arbitration=which,
            )  # fmt: skip
            return page("cases/room.html", status_code=400, **context)
        return Redirect(f"/cases/{ref}#proceedings", status_code=303)

    @post("/timetable")
    async def set_timetable(self, request: Req, ref: str) -> Response[Any] | Template:
        keyring = request.app.state.keyring
        return await self._run(
            request, ref, "timetable", lambda a, f: timetable.set_timetable(keyring, ref, a, f)
        )

    @post("/orders")
    async def issue_order(self, request: Req, ref: str) -> Response[Any] | Template:
        keyring = request.app.state.keyring
        return await self._run(
            request, ref, "order", lambda a, f: orders.issue_free_order(keyring, ref, a, f)
        )

    @post("/extensions")
    async def ask_extension(self, request: Req, ref: str) -> Response[Any] | Template:
        keyring = request.app.state.keyring
        return await self._run(
            request, ref, "extension", lambda a, f: extensions.ask_extension(keyring, ref, a, f)
        )

    @post("/extensions/{extension_id:int}/answer")
    async def answer_extension(
        self, request: Req, ref: str, extension_id: int
    ) -> Response[Any] | Template:
        keyring = request.app.state.keyring
        return await self._run(
            request,
            ref,
            f"extension-{extension_id}",
            lambda a, f: extensions.answer_extension(keyring, ref, a, extension_id, f),
        )

    @post("/award")
    async def save_award(self, request: Req, ref: str) -> Response[Any] | Template:
        keyring = request.app.state.keyring
        return await self._run(
            request, ref, "award", lambda a, f: award.save_draft(keyring, ref, a, f)
        )

    @post("/award/vote")
    async def vote(self, request: Req, ref: str) -> Response[Any] | Template:
        keyring = request.app.state.keyring
        address = _address(request)
        return await self._run(
            request, ref, "vote", lambda a, f: award.vote(keyring, ref, a, f, address)
        )

    @post("/corrections")
    async def ask_correction(self, request: Req, ref: str) -> Response[Any] | Template:
        keyring = request.app.state.keyring
        return await self._run(
            request, ref, "correction", lambda a, f: corrections.ask_correction(keyring, ref, a, f)
        )

    @post("/corrections/{correction_id:int}/answer")
    async def answer_correction(
        self, request: Req, ref: str, correction_id: int
    ) -> Response[Any] | Template:
        keyring = request.app.state.keyring
        return await self._run(
            request,
            ref,
            f"correction-{correction_id}",
            lambda a, f: corrections.answer_correction(keyring, ref, a, correction_id, f),
        )

    @get("/award.pdf")
    async def award_pdf(self, request: Req, ref: str) -> Response[bytes]:
        """The issued award as a PDF, in the case's language; every download is recorded.
        Before the issue there is nothing to download, for anyone."""
        case, access = await case_access(_viewer(request), ref)
        issued = await award.current(access.case_id)
        if issued is None or not AWARD.state(issued["status"]).final:
            raise NotFoundException()
        pdf = await render_pdf(
            "pdf/award.html", await _pdf_context(case, issued), language=issued["language"]
        )
        await award.record_download(request.app.state.keyring, ref, access, issued)
        return Response(
            pdf,
            media_type="application/pdf",
            headers={
                "Content-Disposition": f'attachment; filename="{ref}-award.pdf"',
                "Cache-Control": "no-store",
            },
        )


async def _pdf_context(case: dict[str, Any], issued: dict[str, Any]) -> dict[str, Any]:
    with language(issued["language"]):
        return {
            "case": {
                "ref": case["ref"],
                "category_label": category_label(case["category"]),
                "language": issued["language"],
            },
            "award": issued,
            "parties": [
                {"name": s.name, "role_label": role_label(s.role)}
                for s in await sides_of(case["id"])
            ],
            "arbitrators": await tribunal.members(case["id"]),
            "addenda": [
                c
                for c in await corrections.corrections(issued["id"])
                if c["status"] == corrections.CORRECTED
            ],
            "text_hash": award.text_hash,
        }
