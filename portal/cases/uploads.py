"""Receiving a multipart form as a stream: text fields in memory, files straight to disk.

Memory stays flat whatever the file's size: each file goes to `stored_files`, which
writes and hashes it in chunks and links it into place under its hash. What kind of
file it is comes from its bytes (`file_kinds`). Anything not accepted, and everything
when the request is cut off, is removed again.

The names of both modules are available from here too, as they were before the split.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from multipart import MultipartError, MultipartSegment, PushMultipartParser

from portal.cases import submissions
from portal.cases.file_kinds import KINDS, PREVIEWABLE, accepted_kinds, clean_name, sniff
from portal.cases.stored_files import (
    IncomingFile,
    ReceivedFile,
    Rejected,
    claim,
    evidence_dir,
    lock_content,
    release,
    stored_path,
)
from portal.errors import PortalError
from portal.i18n import _

__all__ = [
    "FIELD_LIMIT",
    "KINDS",
    "MAX_FIELDS",
    "MAX_FILES",
    "PREVIEWABLE",
    "ReceivedFile",
    "ReceivedForm",
    "Rejected",
    "accepted_kinds",
    "boundary_of",
    "claim",
    "clean_name",
    "evidence_dir",
    "lock_content",
    "receive_form",
    "release",
    "sniff",
    "stored_path",
]

FIELD_LIMIT = 64 * 1024
MAX_FILES = 20
MAX_FIELDS = 100


@dataclass
class ReceivedForm:
    fields: dict[str, str] = field(default_factory=dict)
    files: list[ReceivedFile] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)

    async def discard(self) -> None:
        """Remove the files this request stored, when what they belong to is not kept
        (unless another request's evidence now refers to the same bytes: `release`)."""
        for received in self.files:
            await release(received)
        self.files = []


def boundary_of(content_type: str) -> str:
    kind, _sep, params = content_type.partition(";")
    if kind.strip().lower() != "multipart/form-data":
        raise PortalError(_("Send the form as multipart/form-data."))
    for param in params.split(";"):
        key, _eq, value = param.strip().partition("=")
        if key.lower() == "boundary" and value:
            return value.strip('"')
    raise PortalError(_("The form could not be read: it has no multipart boundary."))


async def receive_form(
    request: Any,
    *,
    data_dir: Path,
    max_file_bytes: int,
    allowed: frozenset[str] | None = None,
    check_csrf: Callable[[str | None], bool] | None,
) -> ReceivedForm:
    """Read a multipart request to the end, storing its files; see the module docstring.

    `allowed` is the allow-list of media types; by default the app's configured
    `evidence_types`. `check_csrf` is given the X-CSRFToken header, or the `_csrf_token`
    field when the header is absent; the field must come before any file, so that
    nothing is written for a forged request. It is None only for the API, whose callers
    authenticate with a key in a header, never a cookie: there is nothing to forge.
    """
    if allowed is None:
        allowed = _configured_kinds(request)
    parser = PushMultipartParser(
        boundary_of(request.headers.get("content-type", "")),
        max_segment_count=MAX_FILES + MAX_FIELDS,
    )
    reader = _FormReader(data_dir, max_file_bytes, allowed, check_csrf)
    reader.csrf_ok = _header_token_passes(request, check_csrf)
    try:
        async for chunk in request.stream():
            for event in parser.parse(chunk):
                await reader.take(event)
        parser.close()
    except MultipartError as exc:
        await reader.give_up(discard=True)
        raise PortalError(
            _("The upload was cut off or malformed, so nothing was kept. Please send it again.")
        ) from exc
    except BaseException as exc:
        # A cancelled request leaves what it stored; an unreferenced file is waste,
        # never loss.
        await reader.give_up(discard=not isinstance(exc, asyncio.CancelledError))
        raise
    if not reader.csrf_ok:
        raise _csrf_refused()
    result = reader.result
    # The same files sent twice with one form's token are recorded once (by their hashes).
    submissions.offer(
        result.fields.items(),
        [(f.name, f.sha256) for f in result.files] + [(r.name, "") for r in result.rejected],
    )
    return result


def _configured_kinds(request: Any) -> frozenset[str]:
    """The app's `evidence_types`, or every kind we recognise when it has no settings."""
    settings = getattr(request.app.state, "settings", None)
    return settings.evidence_types if settings is not None else frozenset(KINDS)


def _header_token_passes(request: Any, check_csrf: Callable[[str | None], bool] | None) -> bool:
    """Whether the X-CSRFToken header already vouches for the form.

    A header that is present and wrong is refused at once; an absent one leaves the
    form's `_csrf_token` field to decide, which must then come before any file.
    """
    if check_csrf is None:
        return True
    header_token = request.headers.get("x-csrftoken")
    passes = header_token is not None and check_csrf(header_token)
    if header_token is not None and not passes:
        raise _csrf_refused()
    return passes


class _FormReader:
    """One form being read, part by part: the part under way and what is kept so far."""

    def __init__(
        self,
        data_dir: Path,
        max_file_bytes: int,
        allowed: frozenset[str],
        check_csrf: Callable[[str | None], bool] | None,
    ) -> None:
        self.data_dir = data_dir
        self.max_file_bytes = max_file_bytes
        self.allowed = allowed
        self.check_csrf = check_csrf
        self.csrf_ok = False
        self.result = ReceivedForm()
        self.writer: IncomingFile | None = None
        self.skipping = False  # a file input left empty: the browser still sends a part
        self.field_name: str | None = None
        self.field_value = bytearray()
        self.segment: MultipartSegment | None = None

    async def take(self, event: MultipartSegment | bytes | None) -> None:
        """One event of the parser: a part begins, some of its bytes, or its end."""
        if isinstance(event, MultipartSegment):
            self._begin(event)
        elif self.skipping:
            if event is None:
                self.skipping, self.segment = False, None
        elif event:
            await self._take_bytes(event)
        elif event is None and self.segment is not None:
            await self._end()

    def _begin(self, segment: MultipartSegment) -> None:
        self.segment = segment
        self.skipping = segment.filename == ""
        if self.skipping:
            return
        if segment.filename is None:
            self.field_name, self.field_value = segment.name or "", bytearray()
            return
        # Nothing is written for a form whose token has not been shown by now.
        if not self.csrf_ok:
            raise _csrf_refused()
        if len(self.result.files) + len(self.result.rejected) >= MAX_FILES:
            raise PortalError(_("Send at most %(n)s files at a time.", n=MAX_FILES))
        self.writer = IncomingFile(
            self.data_dir, clean_name(segment.filename), self.max_file_bytes, self.allowed
        )

    async def _take_bytes(self, data: bytes) -> None:
        if self.writer is not None:
            await self.writer.feed(data)
            return
        self.field_value += data
        if len(self.field_value) > FIELD_LIMIT:
            raise PortalError(_("A text field is too long."))

    async def _end(self) -> None:
        if self.writer is not None:
            done = await self.writer.finish()
            self.writer = None
            if isinstance(done, ReceivedFile):
                self.result.files.append(done)
            else:
                self.result.rejected.append(done)
        elif self.field_name is not None:
            self._keep_field(self.field_name, self.field_value.decode("utf-8", errors="replace"))
            self.field_name = None
        self.segment = None

    def _keep_field(self, name: str, value: str) -> None:
        """Keep a text field; a repeated name keeps every value, one per line."""
        if name == "_csrf_token" and not self.csrf_ok and self.check_csrf:
            self.csrf_ok = self.check_csrf(value)
            if not self.csrf_ok:
                raise _csrf_refused()
        elif name in self.result.fields:
            self.result.fields[name] += "\n" + value
        else:
            self.result.fields[name] = value

    async def give_up(self, *, discard: bool) -> None:
        """Drop the file under way and, unless asked not to, the files stored so far."""
        if self.writer is not None:
            self.writer.abandon()
        if discard:
            await self.result.discard()


def _csrf_refused() -> Exception:
    from litestar.exceptions import PermissionDeniedException

    return PermissionDeniedException("CSRF token verification failed")
