"""The web shell of a tribunal's constitution: lists, nominations, the arbitrator's
invitation, challenges. Each handler asks the policy, calls one `arbitration` service,
and shows the room again (with what to fix next to the field, when a form was wrong)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Response, Template

from arbitration import challenges, constitution, disclosure, rankings
from portal.accounts.controllers import _address
from portal.cases.access import case_access
from portal.cases.controllers import room_context
from portal.errors import FormInvalid
from portal.i18n import _
from portal.neutrals.controllers import Invitation, invitation_page, not_found, when
from portal.neutrals.disclosure import NotInvited
from portal.procedure.policy import CaseAccess, Channel
from portal.web.pages import page
from portal.web.viewer import Viewer, cleared_for_cases, viewer_of

Req = Request[Any, Any, Any]
Service = Callable[[CaseAccess, dict[str, str]], Awaitable[None]]


def _viewer(request: Req) -> Viewer:
    viewer = viewer_of(request)
    assert viewer is not None  # the guard ran
    return viewer


async def _form(request: Req) -> dict[str, str]:
    return {k: v for k, v in (await request.form()).items() if isinstance(v, str)}


class ConstitutionController(Controller):
    """The constitution forms of a case room: /cases/{ref}/arbitration/..."""

    path = "/cases/{ref:str}/arbitration"
    guards = [cleared_for_cases]  # noqa: RUF012 (Litestar reads it from the class)

    async def _run(self, request: Req, ref: str, which: str,
                   service: Service) -> Response[Any] | Template:  # fmt: skip
        case, access = await case_access(_viewer(request), ref)
        form = await _form(request)
        try:
            await service(access, form)
        except FormInvalid as exc:
            form.pop("password", None)  # never sent back into a page
            context = await room_context(
                ref, case, access, Channel("all"), arbitration_errors={which: exc.errors},
                arbitration_form=form, open_arbitration=which,
            )  # fmt: skip
            return page("cases/room.html", status_code=400, **context)
        return Redirect(f"/cases/{ref}#arbitration", status_code=303)

    @post("/start")
    async def start(self, request: Req, ref: str) -> Response[Any] | Template:
        keyring = request.app.state.keyring
        return await self._run(
            request, ref, "start", lambda a, f: constitution.start(keyring, ref, a, f)
        )

    @post("/lists")
    async def send_list(self, request: Req, ref: str) -> Response[Any] | Template:
        keyring = request.app.state.keyring
        return await self._run(
            request, ref, "send-list", lambda a, f: rankings.send_list(keyring, ref, a)
        )

    @post("/lists/{list_id:int}/answer")
    async def answer_list(self, request: Req, ref: str, list_id: int) -> Response[Any] | Template:
        keyring = request.app.state.keyring
        return await self._run(
            request,
            ref,
            f"list-{list_id}",
            lambda a, f: rankings.answer_list(keyring, ref, a, list_id, f),
        )

    @post("/nominate")
    async def nominate(self, request: Req, ref: str) -> Response[Any] | Template:
        keyring = request.app.state.keyring
        return await self._run(
            request, ref, "nominate", lambda a, f: constitution.nominate(keyring, ref, a, f)
        )

    @post("/seats/{seat_id:int}/challenge")
    async def challenge(self, request: Req, ref: str, seat_id: int) -> Response[Any] | Template:
        keyring = request.app.state.keyring
        return await self._run(
            request,
            ref,
            f"challenge-{seat_id}",
            lambda a, f: challenges.challenge(keyring, ref, a, seat_id, f),
        )

    @post("/challenges/{challenge_id:int}/decide")
    async def decide(self, request: Req, ref: str, challenge_id: int) -> Response[Any] | Template:
        keyring = request.app.state.keyring
        return await self._run(
            request,
            ref,
            f"decide-{challenge_id}",
            lambda a, f: challenges.decide_challenge(keyring, ref, a, challenge_id, f),
        )


def _wording(case: dict[str, Any], seat: dict[str, Any]) -> Invitation:
    return Invitation(
        title=_("Invitation to arbitrate %(ref)s", ref=case["ref"]),
        intro=_(
            "You are invited to sit as %(seat)s in this dispute. Read the summary, disclose "
            "anything that could make a party doubt your independence or impartiality, and "
            "accept or decline by %(date)s.",
            seat=seat["seat_label"],
            date=when(seat["answer_due"]),
        ),
        may_object=_("I disclose the following; the parties may challenge me on it."),
        path="/arbitration/invitations",
        forms="seat",
    )


class ArbitratorInvitationController(Controller):
    """The invited arbitrator's page: the case's summary, the disclosure, the answer."""

    path = "/arbitration/invitations"
    guards = [cleared_for_cases]  # noqa: RUF012 (Litestar reads it from the class)
    exception_handlers = {NotInvited: not_found}  # noqa: RUF012 (not theirs, or answered)

    async def _page(self, request: Req, seat_id: int, errors: dict[str, str] | None = None,
                    form: dict[str, str] | None = None, status: int = 200) -> Template:  # fmt: skip
        invited = await disclosure.invitation(_viewer(request), seat_id)
        return await invitation_page(invited, _wording, errors, form, status)

    @get("/{seat_id:int}")
    async def show(self, request: Req, seat_id: int) -> Template:
        return await self._page(request, seat_id)

    @post("/{seat_id:int}/accept")
    async def accept(self, request: Req, seat_id: int) -> Response[Any] | Template:
        form = await _form(request)
        try:
            ref = await disclosure.accept(
                request.app.state.keyring, _viewer(request), seat_id, form, _address(request)
            )
        except FormInvalid as exc:
            form.pop("password", None)
            return await self._page(request, seat_id, exc.errors, form, status=400)
        return Redirect(f"/cases/{ref}", status_code=303)

    @post("/{seat_id:int}/decline")
    async def decline(self, request: Req, seat_id: int) -> Response[Any]:
        await disclosure.decline(
            request.app.state.keyring, _viewer(request), seat_id, await _form(request)
        )
        return Redirect("/cases", status_code=303)
