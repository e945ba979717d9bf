"""The web face of case files: the case room's export, and the public /verify page.

Export asks the policy whose copy the viewer gets (`CaseAccess.casefile_audience`) and
calls `export`; rendering runs in the PDF child process and sealing in a thread, so the
server answers other pages meanwhile. /verify is public: anyone holding a case file may
check it. The upload is streamed to a temporary file, checked, and deleted; nothing of it
is kept or logged. It is checked against this portal's own verifier keys (the keyring's
trusted list: a key in the database or in the file could be anyone's) and seal
certificates, so a file made by any other installation is "not issued by this portal".
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from litestar import Controller, Request, get, post
from litestar.response import Response, Template
from multipart import MultipartError, MultipartSegment, PushMultipartParser

from ledger.findings import Report
from ledger.keys import trusted_verifiers
from ledger.phrase import Phrase
from portal.casefile.export import export
from portal.casefile.report import CaseFileReport, Verdict, check_name, headline, missing_files
from portal.casefile.trust import Trust
from portal.casefile.verify import verify_case_file
from portal.cases.access import case_access
from portal.cases.events import actor
from portal.cases.uploads import boundary_of
from portal.errors import NotAllowed, PortalError
from portal.i18n import _, template_gettext
from portal.ledger_routes import seal_certificates
from portal.procedure import acting as A
from portal.web.pages import page
from portal.web.viewer import Viewer, cleared_for_cases, viewer_of

Req = Request[Any, Any, Any]

MAX_CASE_FILE = 512 * 1024 * 1024
"""Bytes of the largest case file /verify reads (a zip with its evidence)."""


def _viewer(request: Req) -> Viewer:
    viewer = viewer_of(request)
    assert viewer is not None  # the guard ran
    return viewer


class CaseFileController(Controller):
    """POST /cases/{ref}/casefile.pdf: the viewer's copy of the signed case file."""

    path = "/cases"
    guards = [cleared_for_cases]  # noqa: RUF012 (Litestar reads it from the class)

    @post("/{ref:str}/casefile.pdf", status_code=200)
    async def casefile(self, request: Req, ref: str) -> Response[bytes]:
        viewer = _viewer(request)
        _case, access = await case_access(viewer, ref)
        audience = access.casefile_audience
        if audience is None:
            raise NotAllowed(_("Only staff, legal and the parties export a case file."))
        role = access.acting_role(A.EXPORTING)
        made = await export(
            request.app.state.settings,
            request.app.state.keyring,
            ref,
            audience,
            actor(viewer.id, role),
        )
        return Response(
            await asyncio.to_thread(lambda: made.pdf),
            media_type="application/pdf",
            headers={
                "Content-Disposition": f'attachment; filename="{ref}-casefile.pdf"',
                "Cache-Control": "no-store",
            },
        )


class VerifyController(Controller):
    """/verify: drop a case file, read the verifier's report. No login."""

    path = "/verify"

    @get("/")
    async def form(self, request: Req) -> Template:
        return page("verify.html", report=None, lines=[], file_name="", **await _pins(request))

    @post(
        "/",
        opt={"exclude_from_csrf": True},
        request_max_body_size=MAX_CASE_FILE,
        status_code=200,
    )
    async def check(self, request: Req) -> Template:
        # Nothing is changed by checking a file, so no CSRF token is needed; the body is
        # streamed, so the CSRF middleware (which reads it whole) stays out of the way.
        pins = await _pins(request)
        with tempfile.TemporaryDirectory(prefix="portal-verify-") as tmp:
            path, name = await _receive(request, Path(tmp))
            if path is None:
                return page(
                    "verify.html",
                    status_code=400,
                    report=None,
                    lines=[],
                    file_name="",
                    error=_("Choose a case file (PDF or zip) to check."),
                    **pins,
                )
            # Checked from the disk, as a stream: the file is never held in memory whole.
            report = await asyncio.to_thread(verify_case_file, path, pins["trust"], name)
        verified = report.verdict == Verdict.VERIFIED
        return page(
            "verify.html",
            status_code=200 if verified else 422,
            report=report,
            outcome=_outcome(report),
            lines=_lines(report),
            file_name=name,
            **pins,
        )


async def _pins(request: Req) -> dict[str, Any]:
    """This portal's own keys and seal, and the fingerprints the page prints."""
    certificates = await seal_certificates(request)
    keys = await asyncio.to_thread(trusted_verifiers, request.app.state.keyring)
    trust = Trust(
        tuple(str(key) for key in keys),
        tuple(_der(cert) for cert in certificates),
        Phrase("this portal"),
    )
    return {"trust": trust, "seal_fingerprints": trust.seal_fingerprints()}


def _der(cert: Any) -> bytes:
    return bytes(cert.public_bytes(serialization.Encoding.DER))


def _outcome(report: CaseFileReport) -> dict[str, Any]:
    """The verdict for the page: which kind, and its sentence in the reader's language."""
    verdict = report.verdict
    if verdict == Verdict.NOT_VERIFIED and report.failed("origin"):
        kind = "foreign"
    elif verdict == Verdict.NOT_VERIFIED and report.failed("after-seal"):
        kind = "changed"
    else:
        kind = verdict.name.lower()
    return {
        "kind": kind,
        "sentence": headline(report).render(template_gettext),
        "missing": missing_files(report),
        "unchecked_evidence": report.unchecked_evidence,
    }


def _lines(report: Report) -> list[tuple[bool, str, str]]:
    """Each finding as (passed, check, sentence), in the reader's language."""
    return [
        (finding.ok, check_name(finding.check, template_gettext), finding.render(template_gettext))
        for finding in report.findings
    ]


async def _receive(request: Req, tmp: Path) -> tuple[Path | None, str]:
    """The first file of the multipart body, written to `tmp`; fields are ignored."""
    parser = PushMultipartParser(boundary_of(request.headers.get("content-type", "")))
    target: Path | None = None
    name = ""
    handle = None
    done = False
    try:
        async for chunk in request.stream():
            for event in parser.parse(chunk):
                if done:
                    continue
                if isinstance(event, MultipartSegment):
                    if event.filename:
                        name = Path(event.filename).name[:200]
                        target = tmp / "upload"
                        handle = target.open("wb")  # closed below, also on errors
                elif event and handle is not None:
                    handle.write(event)
                elif event is None and handle is not None:
                    handle.close()
                    handle, done = None, True
        parser.close()
    except MultipartError as exc:
        raise PortalError(_("The upload was cut off or malformed. Please send it again.")) from exc
    finally:
        if handle is not None:
            handle.close()
    return (target if done else None), name
