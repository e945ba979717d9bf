"""The web shell of a tribunal's constitution: lists, nominations, the arbitrator's
invitation, challenges. Each handler asks the policy, calls one `arbitration` service,
and shows the room again (with what to fix next to the field, when a form was wrong)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Response, Template

from arbitration import challenges, constitution, disclosure, rankings
from portal.cases.access import case_access
from portal.cases.controllers import room_context
from portal.errors import FormInvalid
from portal.i18n import _
from portal.neutrals.controllers import (
    Invitation,
    accept_invitation,
    decline_invitation,
    not_found,
    show_invitation,
    when,
)
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

    @get("/{seat_id:int}")
    async def show(self, request: Req, seat_id: int) -> Template:
        return await show_invitation(request, disclosure, _wording, seat_id)

    @post("/{seat_id:int}/accept")
    async def accept(self, request: Req, seat_id: int) -> Response[Any] | Template:
        return await accept_invitation(request, disclosure, _wording, seat_id)

    @post("/{seat_id:int}/decline")
    async def decline(self, request: Req, seat_id: int) -> Response[Any]:
        return await decline_invitation(request, disclosure, seat_id)
