"""Evidence in the case room: uploading files, the list polled by htmx, downloads and
previews.

Uploads are read as a stream (see `portal.cases.uploads`), so these routes lift the
request size limit and check the CSRF token themselves; pasted platform records are an
ordinary form, which the CSRF middleware checks. Every route asks the policy first:
anyone not on the case, and anyone asking for a file of a channel they may not read,
gets the same 404.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.response import File, Redirect, Response, Template

from portal.cases import evidence, timeline
from portal.cases.access import case_access
from portal.cases.controllers import room_context
from portal.cases.uploads import ReceivedForm, receive_form
from portal.errors import FormInvalid, NotAllowed
from portal.i18n import _, ngettext
from portal.procedure.policy import CaseAccess, Channel
from portal.web.pages import page
from portal.web.viewer import Viewer, cleared_for_cases, csrf_checker, viewer_of

Req = Request[Any, Any, Any]

# A file is shown with no script, no forms, and no way to reach the portal's pages:
# the `sandbox` directive gives its document an opaque origin. The preview policy is
# the one that still lets Chromium's PDF viewer draw the file (checked with Chromium
# 156); `plugin-types` is gone from CSP and only earns a console warning.
DOWNLOAD_POLICY = "sandbox; default-src 'none'"
PREVIEW_POLICY = (
    "sandbox; default-src 'none'; img-src 'self'; object-src 'self'; "
    "style-src 'unsafe-inline'; frame-ancestors 'self'"
)


def _viewer(request: Req) -> Viewer:
    viewer = viewer_of(request)
    assert viewer is not None  # the guard ran
    return viewer


def content_disposition(kind: str, name: str) -> str:
    """RFC 6266: an ASCII `filename` for old clients, the exact name in RFC 5987 `filename*`."""
    fallback = "".join(ch if " " <= ch <= "~" and ch not in '"\\%' else "_" for ch in name)
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def _outcome(received: ReceivedForm, error: str | None) -> dict[str, Any]:
    """What the form says after an upload: how many were added, and why others were not."""
    notice = None
    if received.files:
        notice = ngettext("Added %(num)s file.", "Added %(num)s files.", len(received.files))
    elif received.rejected:
        notice = _("Nothing was added.")
    return {
        "evidence_notice": notice,
        "evidence_rejected": received.rejected,
        "evidence_error": error,
    }


class EvidenceController(Controller):
    path = "/cases"
    guards = [cleared_for_cases]  # noqa: RUF012 (Litestar reads it from the class)

    async def _fragment(
        self,
        ref: str,
        case: dict[str, Any],
        access: CaseAccess,
        *,
        list_only: bool = False,
        preview: dict[str, Any] | None = None,
        **context: Any,
    ) -> Template:
        return page(
            "cases/_evidence.html",
            case=case,
            access=access,
            evidence=await timeline.evidence_list(access.case_id, access),
            people=[] if list_only else await timeline.people_on(access.case_id),
            channel_label=timeline.channel_label,
            list_only=list_only,
            preview=preview,
            **context,
        )

    @get("/{ref:str}/evidence")
    async def list_fragment(self, request: Req, ref: str, preview: int | None = None) -> Template:
        """The list, polled by the room; with `preview`, the frame that shows that file."""
        case, access = await case_access(_viewer(request), ref)
        shown = None
        if preview is not None:
            data_dir = request.app.state.settings.data_dir
            shown = await evidence.visible_file(access, preview, data_dir)
            if not evidence.is_previewable(shown):
                raise NotFoundException()
        return await self._fragment(ref, case, access, list_only=True, preview=shown)

    @post("/{ref:str}/evidence", opt={"exclude_from_csrf": True}, request_max_body_size=None)
    async def upload(self, request: Req, ref: str) -> Response[Any] | Template:
        case, access = await case_access(_viewer(request), ref)
        if not access.postable_channels():
            # Refused before a byte of the body is read, so nothing is written.
            raise NotAllowed(_("You cannot add files to this case."))
        settings = request.app.state.settings
        received = await receive_form(
            request,
            data_dir=settings.data_dir,
            max_file_bytes=settings.max_upload_mb * 1024 * 1024,
            allowed=settings.evidence_types,
            check_csrf=csrf_checker(request),
        )
        chosen = received.fields.get("channel", "all")
        platform_record = received.fields.get("platform_record") == "yes"
        error = None
        try:
            channel = evidence.chosen_channel(access, chosen)
            if received.files:
                await evidence.add_files(
                    request.app.state.keyring,
                    ref,
                    access,
                    channel,
                    received.files,
                    platform_record=platform_record,
                )
            elif not received.rejected:
                raise FormInvalid({"files": _("Choose at least one file to add.")})
        except FormInvalid as exc:
            await received.discard()
            error = " ".join(exc.errors.values())
        except BaseException:
            await received.discard()  # nothing refers to the files this request stored
            raise
        outcome = _outcome(received, error)
        if request.headers.get("hx-request") == "true":
            # 200 even when files were refused: htmx swaps only 2xx, and the reasons
            # must reach the person who sent them.
            return await self._fragment(ref, case, access, selected_channel=chosen, **outcome)
        if not error and not received.rejected:
            return Redirect(f"/cases/{ref}", status_code=303)
        context = await room_context(ref, case, access, Channel("all"))
        return page(
            "cases/room.html", status_code=400, selected_channel=chosen, **context, **outcome
        )

    @post("/{ref:str}/evidence/text", request_max_body_size=4 * 1024 * 1024)
    async def paste(self, request: Req, ref: str) -> Response[Any] | Template:
        """A platform record pasted as text (order history, logs), kept as a `.txt` file."""
        case, access = await case_access(_viewer(request), ref)
        if not access.may_add_platform_records:
            raise NotAllowed(_("Only the platform's staff can add platform records."))
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        settings = request.app.state.settings
        chosen = form.get("channel", "all")
        errors: dict[str, str] = {}
        try:
            await evidence.add_pasted_record(
                request.app.state.keyring,
                ref,
                access,
                evidence.chosen_channel(access, chosen),
                form,
                settings.data_dir,
                settings.evidence_types,
            )
        except FormInvalid as exc:
            errors = exc.errors
        outcome: dict[str, Any] = {
            "paste_notice": None if errors else _("Added the platform record."),
            "paste_errors": errors,
            "paste_form": form if errors else {},
        }
        if request.headers.get("hx-request") == "true":
            # 200 with the reasons, as for uploads: htmx swaps only 2xx.
            return await self._fragment(ref, case, access, selected_channel=chosen, **outcome)
        if not errors:
            return Redirect(f"/cases/{ref}", status_code=303)
        context = await room_context(ref, case, access, Channel("all"))
        return page(
            "cases/room.html", status_code=400, selected_channel=chosen, **context, **outcome
        )

    @get("/{ref:str}/evidence/{evidence_id:int}/download")
    async def download(self, request: Req, ref: str, evidence_id: int) -> File:
        _case, access = await case_access(_viewer(request), ref)
        row = await evidence.visible_file(access, evidence_id, request.app.state.settings.data_dir)
        keyring = request.app.state.keyring
        await evidence.require_intact(keyring, ref, access, row, "download")
        await evidence.record_reading(keyring, ref, access, row, "download")
        return File(
            path=row["path"],
            filename=row["name"],
            media_type=evidence.download_media_type(row["media_type"]),
            content_disposition_type="attachment",
            headers={
                "content-disposition": content_disposition("attachment", row["name"]),
                "x-content-type-options": "nosniff",
                "content-security-policy": DOWNLOAD_POLICY,
            },
        )

    @get("/{ref:str}/evidence/{evidence_id:int}/preview")
    async def preview(self, request: Req, ref: str, evidence_id: int) -> File:
        _case, access = await case_access(_viewer(request), ref)
        row = await evidence.visible_file(access, evidence_id, request.app.state.settings.data_dir)
        if not evidence.is_previewable(row):
            raise NotFoundException()  # only images and PDFs have a preview
        keyring = request.app.state.keyring
        await evidence.require_intact(keyring, ref, access, row, "preview")
        await evidence.record_reading(keyring, ref, access, row, "preview")
        return File(
            path=row["path"],
            filename=row["name"],
            media_type=row["media_type"],
            content_disposition_type="inline",
            headers={
                "content-disposition": content_disposition("inline", row["name"]),
                "x-content-type-options": "nosniff",
                "content-security-policy": PREVIEW_POLICY,
                "x-frame-options": "SAMEORIGIN",
            },
        )
