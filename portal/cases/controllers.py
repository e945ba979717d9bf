"""The case list, filing a dispute, and the case room with its htmx fragments.

Each handler asks the policy for the viewer's access first (404 for anyone not on
the case), calls one service, and picks a template.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.response import Redirect, Response, Template

from arbitration.overview import overview as arbitration_overview
from ledger.proofs import case_bundle
from ledger.tables import LedgerEntry
from mediation.overview import overview
from portal.cases import deadlines, filing, lifecycle, statements, surveys, timeline
from portal.cases.access import case_access
from portal.cases.categories import CATEGORIES, category_label
from portal.cases.events import user_id_of
from portal.cases.tables import Case, CaseParticipant
from portal.cases.uploads import receive_form
from portal.errors import FormInvalid, NotAllowed, PortalError
from portal.i18n import _
from portal.procedure.case import CASE, Refused
from portal.procedure.policy import CAUCUS, CHANNELS, CaseAccess, Channel
from portal.procedure.standing import standing
from portal.web.pages import page
from portal.web.viewer import Viewer, cleared_for_cases, csrf_checker, viewer_of

Req = Request[Any, Any, Any]
PAGE_SIZE = 50


def _viewer(request: Req) -> Viewer:
    viewer = viewer_of(request)
    assert viewer is not None  # the guard ran
    return viewer


def _channel(access: CaseAccess, channel: str | None, party: int | None) -> Channel:
    """The conversation asked for, if the viewer may read it; otherwise 404."""
    name = channel or "all"
    if name not in CHANNELS or not access.can_read(name, party if name == CAUCUS else None):
        raise NotFoundException()
    return Channel(name, party if name == CAUCUS else None)


async def room_context(ref: str, case: dict[str, Any], access: CaseAccess, current: Channel,
                       **extra: Any) -> dict[str, Any]:  # fmt: skip
    people = await timeline.people_on(access.case_id)
    at = deadlines.now()
    events = await timeline.timeline(ref, access)
    names = await timeline.names_for(events, people)
    return {
        "case": case,
        "access": access,
        "people": people,
        "events": events,
        "names": names,
        "describe": timeline.describe,
        "channel_label": timeline.channel_label,
        "category_label": category_label,
        "current": current,
        "statements": await timeline.statements(
            access.case_id, access, current.name, current.party_id
        ),
        "evidence": await timeline.evidence_list(access.case_id, access),
        "actions": CASE.available(case, access, at),
        "proposal": await timeline.current_proposal(access.case_id),
        "requests": await timeline.info_requests(access.case_id, access),
        "survey": await timeline.survey_of(access.case_id),
        "remaining": deadlines.remaining(case, at),
        "now": at,
        "action_errors": {},
        "action_form": {},
        "severities": lifecycle.SEVERITIES,
        "responsibilities": lifecycle.RESPONSIBILITIES,
        "remedies": lifecycle.REMEDIES,
        "categories": [(key, category_label(key)) for key in CATEGORIES],
        "mediation": await overview(case, access, at),
        "mediation_errors": {},
        "mediation_form": {},
        "open_mediation": "",
        "arbitration": await arbitration_overview(case, access, at),
        "arbitration_errors": {},
        "arbitration_form": {},
        "open_arbitration": "",
        **extra,
    }


class CaseController(Controller):
    path = "/cases"
    guards = [cleared_for_cases]  # noqa: RUF012 (Litestar reads it from the class)

    @get("/")
    async def index(self, request: Req, page_number: int = 1) -> Template:
        viewer = _viewer(request)
        query = Case.select(
            Case.ref,
            Case.state,
            Case.category,
            Case.updated_at,
            Case.deadline_at,
            Case.next_step_by,
        )
        if not standing(viewer).sees_every_case:
            mine = CaseParticipant.select(CaseParticipant.case).where(
                CaseParticipant.user == viewer.id
            )
            query = query.where(Case.id.is_in(mine))
        offset = (max(page_number, 1) - 1) * PAGE_SIZE
        cases = (
            await query.order_by(Case.updated_at, ascending=False)
            .limit(PAGE_SIZE + 1)
            .offset(offset)
        )
        return page(
            "cases/index.html",
            cases=cases[:PAGE_SIZE],
            more=len(cases) > PAGE_SIZE,
            page_number=max(page_number, 1),
            category_label=category_label,
        )

    @get("/new")
    async def new(self, request: Req) -> Template:
        return self._filing_form(form={}, errors={})

    def _filing_form(
        self,
        form: dict[str, str],
        errors: dict[str, str],
        status: int = 200,
        rejected: list[Any] | None = None,
    ) -> Template:
        return page(
            "cases/new.html",
            status_code=status,
            form=form,
            errors=errors,
            rejected=rejected or [],
            categories=[(key, category_label(key)) for key in CATEGORIES],
        )

    @post("/new", opt={"exclude_from_csrf": True}, request_max_body_size=None)
    async def file(self, request: Req) -> Response[Any] | Template:
        viewer = _viewer(request)
        if not standing(viewer).may_file_dispute:
            raise NotFoundException()
        settings = request.app.state.settings
        received = await receive_form(
            request,
            data_dir=settings.data_dir,
            max_file_bytes=settings.max_upload_mb * 1024 * 1024,
            check_csrf=csrf_checker(request),
        )
        try:
            checked = filing.check_filing(received.fields)
            if received.rejected:
                raise FormInvalid({"evidence": " ".join(r.reason for r in received.rejected)})
            filed = await filing.file_case(
                request.app.state.keyring, viewer, checked, received.files
            )
        except FormInvalid as exc:
            await received.discard()
            return self._filing_form(received.fields, exc.errors, status=400)
        except BaseException:
            await received.discard()
            raise
        return Redirect(f"/cases/{filed.ref}", status_code=303)

    @get("/{ref:str}")
    async def room(
        self, request: Req, ref: str, channel: str | None = None, party: int | None = None
    ) -> Template:
        case, access = await case_access(_viewer(request), ref)
        current = _channel(access, channel, party)
        return page("cases/room.html", **await room_context(ref, case, access, current))

    @get("/{ref:str}/statements")
    async def statements_fragment(
        self, request: Req, ref: str, channel: str | None = None, party: int | None = None
    ) -> Template:
        case, access = await case_access(_viewer(request), ref)
        current = _channel(access, channel, party)
        return page(
            "cases/_statements.html",
            case=case,
            access=access,
            current=current,
            channel_label=timeline.channel_label,
            statements=await timeline.statements(
                access.case_id, access, current.name, current.party_id
            ),
        )

    @post("/{ref:str}/statements")
    async def post_statement(self, request: Req, ref: str) -> Response[Any] | Template:
        case, access = await case_access(_viewer(request), ref)
        form = await request.form()
        party_raw = str(form.get("party") or "")
        current = _channel(
            access,
            str(form.get("channel") or "all"),
            int(party_raw) if party_raw.isdigit() else None,
        )
        errors: dict[str, str] = {}
        text = str(form.get("text") or "")
        try:
            await statements.post_statement(
                request.app.state.keyring, ref, access, current.name, current.party_id, text
            )
            text = ""
        except FormInvalid as exc:
            errors = exc.errors
        if request.headers.get("hx-request") != "true":
            # Without htmx the browser posted the plain form: show the whole room again.
            if not errors:
                query = f"?channel={current.name}" + (
                    f"&party={current.party_id}" if current.party_id else ""
                )
                return Redirect(f"/cases/{ref}{query}", status_code=303)
            context = await room_context(ref, case, access, current)
            return page("cases/room.html", status_code=400, errors=errors, draft=text, **context)
        return page(
            "cases/_statements.html",
            status_code=400 if errors else 200,
            case=case,
            access=access,
            current=current,
            channel_label=timeline.channel_label,
            errors=errors,
            draft=text,
            statements=await timeline.statements(
                access.case_id, access, current.name, current.party_id
            ),
        )

    @get("/{ref:str}/timeline")
    async def timeline_fragment(self, request: Req, ref: str) -> Template:
        case, access = await case_access(_viewer(request), ref)
        people = await timeline.people_on(access.case_id)
        events = await timeline.timeline(ref, access)
        return page(
            "cases/_timeline.html",
            case=case,
            events=events,
            names=await timeline.names_for(events, people),
            describe=timeline.describe,
        )

    @get("/{ref:str}/ledger/{seq:int}")
    async def receipt(self, request: Req, ref: str, seq: int) -> Template:
        case, access = await case_access(_viewer(request), ref)
        events = [
            e for e in await timeline.timeline(ref, access, after_seq=seq - 1) if e.case_seq == seq
        ]
        if not events:
            raise NotFoundException()
        row = (
            await LedgerEntry.select()
            .where((LedgerEntry.case_ref == ref) & (LedgerEntry.case_seq == seq))
            .first()
        )
        if row is None:
            raise NotFoundException()
        return page(
            "cases/receipt.html",
            case=case,
            event=events[0],
            row=row,
            entry_text=bytes(row["entry"]).decode(),
        )

    @get("/{ref:str}/proof.json")
    async def proof(self, request: Req, ref: str) -> Response[Any]:
        await case_access(_viewer(request), ref)
        settings = request.app.state.settings
        bundle = await case_bundle(ref, settings.log_origin)
        return Response(
            bundle,
            media_type="application/json",
            headers={"Content-Disposition": f'attachment; filename="{ref}-ledger-proof.json"'},
        )

    @post("/{ref:str}/respondent")
    async def invite_respondent(self, request: Req, ref: str) -> Response[Any] | Template:
        viewer = _viewer(request)
        case, access = await case_access(viewer, ref)
        if not access.can_invite_respondent:
            raise NotAllowed(_("You cannot add a respondent to this case."))
        form = await request.form()
        try:
            await filing.invite_respondent(
                request.app.state.keyring,
                ref,
                case["id"],
                str(form.get("email") or ""),
                viewer,
                access,
            )
        except FormInvalid as exc:
            raise PortalError(" ".join(exc.errors.values())) from exc
        return Redirect(f"/cases/{ref}", status_code=303)

    @post("/{ref:str}/actions/{action:str}")
    async def act(self, request: Req, ref: str, action: str) -> Response[Any] | Template:
        """One step of the case's life (see portal.procedure.case); the table decides."""
        case, access = await case_access(_viewer(request), ref)
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        try:
            await lifecycle.take_action(request.app.state.keyring, ref, access, action, form)
        except Refused as exc:
            raise NotAllowed(str(exc)) from exc
        except FormInvalid as exc:
            context = await room_context(
                ref,
                case,
                access,
                Channel("all"),
                action_errors={action: exc.errors},
                action_form=form,
                open_action=action,
            )
            return page("cases/room.html", status_code=400, **context)
        return Redirect(f"/cases/{ref}", status_code=303)

    @post("/{ref:str}/respondent-questions")
    async def ask_respondent(self, request: Req, ref: str) -> Response[Any] | Template:
        case, access = await case_access(_viewer(request), ref)
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        try:
            await lifecycle.ask_respondent(request.app.state.keyring, ref, access, form)
        except FormInvalid as exc:
            context = await room_context(
                ref,
                case,
                access,
                Channel("all"),
                action_errors={"ask_respondent": exc.errors},
                action_form=form,
                open_action="ask_respondent",
            )
            return page("cases/room.html", status_code=400, **context)
        return Redirect(f"/cases/{ref}", status_code=303)

    @post("/{ref:str}/requests/{request_id:int}/answer")
    async def answer_request(self, request: Req, ref: str, request_id: int) -> Response[Any]:
        _case, access = await case_access(_viewer(request), ref)
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        try:
            await lifecycle.answer_request(request.app.state.keyring, ref, access, request_id, form)
        except FormInvalid as exc:
            raise PortalError(" ".join(exc.errors.values())) from exc
        return Redirect(f"/cases/{ref}", status_code=303)

    @post("/{ref:str}/survey")
    async def survey(self, request: Req, ref: str) -> Response[Any]:
        case, access = await case_access(_viewer(request), ref)
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        try:
            await surveys.answer(request.app.state.keyring, ref, case, access, form)
        except FormInvalid as exc:
            raise PortalError(" ".join(exc.errors.values())) from exc
        return Redirect(f"/cases/{ref}", status_code=303)

    @post("/{ref:str}/participants")
    async def assign(self, request: Req, ref: str) -> Response[Any]:
        viewer = _viewer(request)
        case, access = await case_access(viewer, ref)
        if not access.can_manage_participants:
            raise NotFoundException()
        form = await request.form()
        try:
            await filing.assign(
                request.app.state.keyring,
                ref,
                case["id"],
                str(form.get("email") or ""),
                str(form.get("role") or ""),
                viewer,
                acts_for=str(form.get("acts_for") or ""),
            )
        except FormInvalid as exc:
            raise PortalError(" ".join(exc.errors.values())) from exc
        return Redirect(f"/cases/{ref}", status_code=303)


__all__ = ["CaseController", "user_id_of"]
