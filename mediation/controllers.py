"""The web shell of mediation: the roster pages, the mediator's invitation, and the case
room's mediation forms. Each handler asks the policy, calls one `mediation` service, and
shows the room again (with what to fix next to the field, when a form was wrong).
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.response import Redirect, Response, Template

from mediation import invitation, offers, period, proposal, roster, settlement
from portal.accounts.controllers import _address
from portal.cases.access import case_access
from portal.cases.categories import category_label
from portal.cases.controllers import room_context
from portal.cases.sides import mediator_of, sides_of
from portal.errors import FormInvalid, NotFound
from portal.i18n import _, language
from portal.neutrals.controllers import (
    Invitation,
    accept_invitation,
    decline_invitation,
    not_found,
    show_invitation,
    when,
)
from portal.neutrals.disclosure import NotInvited
from portal.pdf.render import render_pdf
from portal.procedure import roles
from portal.procedure.labels import role_label
from portal.procedure.policy import Channel
from portal.web.pages import page
from portal.web.viewer import Viewer, cleared_for_cases, login_required, supervisor_only, viewer_of

Req = Request[Any, Any, Any]


def _viewer(request: Req) -> Viewer:
    viewer = viewer_of(request)
    assert viewer is not None  # the guard ran
    return viewer


async def _form(request: Req) -> dict[str, str]:
    return {k: v for k, v in (await request.form()).items() if isinstance(v, str)}


def _back(ref: str) -> Redirect:
    return Redirect(f"/cases/{ref}#mediation", status_code=303)


class MediationController(Controller):
    """The mediation forms of a case room: /cases/{ref}/mediation/..."""

    path = "/cases/{ref:str}/mediation"
    guards = [cleared_for_cases]  # noqa: RUF012 (Litestar reads it from the class)
    exception_handlers = {NotFound: not_found}  # noqa: RUF012 (an offer not on this case)

    async def _again(
        self, ref: str, case: dict[str, Any], access: Any, which: str, exc: FormInvalid,
        form: dict[str, str],
    ) -> Template:  # fmt: skip
        context = await room_context(
            ref, case, access, Channel("all"), mediation_errors={which: exc.errors},
            mediation_form=form, open_mediation=which,
        )  # fmt: skip
        return page("cases/room.html", status_code=400, **context)

    async def _run(
        self, request: Req, ref: str, which: str, service: Any
    ) -> Response[Any] | Template:
        case, access = await case_access(_viewer(request), ref)
        form = await _form(request)
        try:
            await service(access, form)
        except FormInvalid as exc:
            form.pop("password", None)  # never sent back into a page
            return await self._again(ref, case, access, which, exc, form)
        return _back(ref)

    @post("/propose")
    async def propose(self, request: Req, ref: str) -> Response[Any] | Template:
        keyring = request.app.state.keyring
        return await self._run(
            request, ref, "propose", lambda a, f: proposal.propose(keyring, ref, a, f)
        )

    @post("/answer")
    async def answer(self, request: Req, ref: str) -> Response[Any] | Template:
        keyring = request.app.state.keyring
        return await self._run(
            request, ref, "answer", lambda a, f: proposal.answer(keyring, ref, a, f)
        )

    @post("/extend")
    async def extend(self, request: Req, ref: str) -> Response[Any] | Template:
        keyring = request.app.state.keyring
        return await self._run(
            request, ref, "extend", lambda a, f: period.extend(keyring, ref, a, f)
        )

    @post("/offers")
    async def make_offer(self, request: Req, ref: str) -> Response[Any] | Template:
        keyring = request.app.state.keyring
        return await self._run(
            request, ref, "offer", lambda a, f: offers.make_offer(keyring, ref, a, f)
        )

    @post("/offers/{offer_id:int}/counter")
    async def counter(self, request: Req, ref: str, offer_id: int) -> Response[Any] | Template:
        keyring = request.app.state.keyring
        return await self._run(
            request,
            ref,
            f"counter-{offer_id}",
            lambda a, f: offers.make_offer(keyring, ref, a, f, counter_of=offer_id),
        )

    @post("/offers/{offer_id:int}/answer")
    async def answer_offer(self, request: Req, ref: str, offer_id: int) -> Response[Any] | Template:
        keyring = request.app.state.keyring
        return await self._run(
            request,
            ref,
            f"answer-{offer_id}",
            lambda a, f: offers.answer(keyring, ref, a, offer_id, f),
        )

    @post("/sign")
    async def sign(self, request: Req, ref: str) -> Response[Any] | Template:
        keyring = request.app.state.keyring
        address = _address(request)
        return await self._run(
            request,
            ref,
            "sign",
            lambda a, f: settlement.sign(keyring, ref, a, f.get("password", ""), address),
        )

    @get("/settlement.pdf")
    async def settlement_pdf(self, request: Req, ref: str) -> Response[bytes]:
        """The agreement as a PDF, in the case's language; every download is recorded."""
        case, access = await case_access(_viewer(request), ref)
        agreement = await settlement.current(access.case_id)
        if agreement is None:
            raise NotFoundException()
        pdf = await render_pdf(
            "pdf/settlement.html",
            await _pdf_context(case, agreement),
            language=agreement["language"],
        )
        await settlement.record_download(request.app.state.keyring, ref, access, agreement)
        return Response(
            pdf,
            media_type="application/pdf",
            headers={
                "Content-Disposition": f'attachment; filename="{ref}-settlement.pdf"',
                "Cache-Control": "no-store",
            },
        )


async def _pdf_context(case: dict[str, Any], agreement: dict[str, Any]) -> dict[str, Any]:
    mediator = await mediator_of(case["id"])
    with language(agreement["language"]):
        return {
            "case": {
                "ref": case["ref"],
                "category_label": category_label(case["category"]),
                "language": agreement["language"],
            },
            "settlement": agreement,
            "parties": [
                {"name": s.name, "role_label": role_label(s.role)}
                for s in await sides_of(case["id"])
            ],
            "mediator": {"name": str(mediator["user.name"]) if mediator else ""},
            "signatures": [
                {
                    "name": s["signer.name"],
                    "role_label": role_label(s["role"]),
                    "signed_at": s["signed_at"],
                    "case_seq": s["case_seq"],
                }
                for s in agreement["signatures"]
            ],
            "pending": [
                {"name": p["name"], "role_label": role_label(p["role"])}
                for p in agreement["pending"]
            ],
        }


def _wording(case: dict[str, Any], appointment: dict[str, Any]) -> Invitation:
    return Invitation(
        title=_("Invitation to mediate %(ref)s", ref=case["ref"]),
        intro=_(
            "You have been proposed as the mediator of this dispute, and no party objected. "
            "Read the summary, disclose anything that could make a party doubt your "
            "independence, and accept or decline by %(date)s.",
            date=when(appointment["answer_due"]),
        ),
        may_object=_("I disclose the following; the parties may object to it."),
        path="/mediation/invitations",
        forms="invitation",
    )


class MediatorInvitationController(Controller):
    """The invited mediator's page: the case's summary, the disclosure, the answer."""

    path = "/mediation/invitations"
    guards = [cleared_for_cases]  # noqa: RUF012 (Litestar reads it from the class)
    exception_handlers = {NotInvited: not_found}  # noqa: RUF012 (not theirs, or answered)

    @get("/{appointment_id:int}")
    async def show(self, request: Req, appointment_id: int) -> Template:
        return await show_invitation(request, invitation, _wording, appointment_id)

    @post("/{appointment_id:int}/accept")
    async def accept(self, request: Req, appointment_id: int) -> Response[Any] | Template:
        return await accept_invitation(request, invitation, _wording, appointment_id)

    @post("/{appointment_id:int}/decline")
    async def decline(self, request: Req, appointment_id: int) -> Response[Any]:
        return await decline_invitation(request, invitation, appointment_id)


class RosterController(Controller):
    """Supervisors keep the roster of neutrals."""

    path = "/staff/roster"
    guards = [supervisor_only]  # noqa: RUF012 (Litestar reads it from the class)

    @get("/")
    async def index(self) -> Template:
        return page(
            "staff/roster.html",
            mediators=await roster.roster(roles.MEDIATOR),
            arbitrators=await roster.roster(roles.ARBITRATOR),
        )

    @get("/{user_id:int}")
    async def edit(self, user_id: int) -> Template:
        profile = await roster.profile_of(user_id)
        if profile is None:
            raise NotFoundException()
        return page("staff/roster_profile.html", profile=profile, form=profile, errors={})

    @post("/{user_id:int}")
    async def save(self, request: Req, user_id: int) -> Response[Any] | Template:
        profile = await roster.profile_of(user_id)
        if profile is None:
            raise NotFoundException()
        form = await _form(request)
        try:
            await roster.save_profile(user_id, form, by_supervisor=True)
        except FormInvalid as exc:
            return page("staff/roster_profile.html", status_code=400, profile=profile,
                        form=form, errors=exc.errors)  # fmt: skip
        return Redirect("/staff/roster", status_code=303)


class NeutralProfileController(Controller):
    """A mediator or arbitrator edits their own roster profile."""

    path = "/account/roster-profile"
    guards = [login_required]  # noqa: RUF012 (Litestar reads it from the class)

    @get("/")
    async def edit(self, request: Req) -> Template:
        profile = await roster.profile_of(_viewer(request).id)
        if profile is None:
            raise NotFoundException()
        return page("accounts/roster_profile.html", profile=profile, form=profile, errors={})

    @post("/")
    async def save(self, request: Req) -> Response[Any] | Template:
        viewer = _viewer(request)
        profile = await roster.profile_of(viewer.id)
        if profile is None:
            raise NotFoundException()
        form = await _form(request)
        try:
            await roster.save_profile(viewer.id, form, by_supervisor=False)
        except FormInvalid as exc:
            return page("accounts/roster_profile.html", status_code=400, profile=profile,
                        form=form, errors=exc.errors)  # fmt: skip
        return page("accounts/roster_profile.html", profile={**profile, **form}, form=form,
                    errors={}, saved=True)  # fmt: skip
