"""Receiving a multipart form as a stream: text fields in memory, files straight to disk.

Memory stays flat whatever the file's size: each file is written to a temporary file
under the data directory while its SHA-256 is computed, in chunks handed to a worker
thread (hashing and writing never run on the event loop). A finished file is fsynced
and linked into place under its hash; a file already stored is never overwritten.
Anything not accepted, and everything when the request is cut off, is removed again.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import hashlib
import os
import re
import secrets
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from multipart import MultipartError, MultipartSegment, PushMultipartParser

from portal.cases import submissions
from portal.errors import PortalError
from portal.i18n import _

CHUNK = 1024 * 1024  # bytes gathered before one write-and-hash hop to a thread
FIELD_LIMIT = 64 * 1024
MAX_FILES = 20
MAX_FIELDS = 100

# The allow-list, by what the bytes are (not what the name or the browser claims).
KINDS = {
    "image/png": "image",
    "image/jpeg": "image",
    "image/gif": "image",
    "image/webp": "image",
    "application/pdf": "pdf",
    "text/plain": "text",
    "text/csv": "csv",
    "application/json": "json",
    "audio/mpeg": "audio",
    "audio/wav": "audio",
    "audio/ogg": "audio",
    "audio/mp4": "audio",
    "video/mp4": "video",
    "video/webm": "video",
    "application/zip": "zip",
}
UTF8_BOM = b"\xef\xbb\xbf"
PREVIEWABLE = frozenset(("image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf"))


def accepted_kinds(allowed: frozenset[str]) -> str:
    """The kinds of file the allow-list admits, as a person would name them."""
    labels = {
        "image": _("images"),
        "pdf": _("PDF"),
        "text": _("text"),
        "csv": _("CSV"),
        "json": _("JSON"),
        "audio": _("audio"),
        "video": _("video"),
        "zip": _("zip files"),
    }
    kinds = list(dict.fromkeys(KINDS[t] for t in KINDS if t in allowed))
    named = [str(labels[k]) for k in kinds]
    if len(named) <= 1:
        return "".join(named)
    # The list separator is a translation too: Chinese lists with 、 not a comma.
    separator = _(", ")
    return _("%(some)s or %(last)s", some=separator.join(named[:-1]), last=named[-1])


def sniff(head: bytes, name: str, text_ok: bool) -> str | None:
    """The media type the file's first bytes show, or None when it is not allowed."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return "audio/wav"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "application/zip"
    if head.startswith(b"ID3") or head[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
        return "audio/mpeg"
    if head.startswith(b"OggS"):
        return "audio/ogg"
    if head[4:8] == b"ftyp":
        return "audio/mp4" if head[8:11] == b"M4A" else "video/mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "video/webm"
    if text_ok:
        lowered = name.lower()
        if lowered.endswith(".csv"):
            return "text/csv"
        if lowered.endswith(".json") and head.lstrip()[:1] in (b"{", b"["):
            return "application/json"
        # HTML or SVG as "text" is refused, behind a byte-order mark too: browsers
        # skip it when they sniff markup.
        if head.removeprefix(UTF8_BOM).lstrip()[:1] != b"<":
            return "text/plain"
    return None


def clean_name(raw: str | None) -> str:
    """A file name to show: no path, no control characters, at most 255 characters."""
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in unicodedata.normalize("NFC", name) if ch.isprintable())
    name = re.sub(r"\s+", " ", name).strip(" .")
    return name[:255] or "file"


@dataclass
class ReceivedFile:
    name: str
    media_type: str
    size: int
    sha256: str
    path: Path
    newly_stored: bool  # False when the same bytes were already stored: never delete those


@dataclass
class Rejected:
    name: str
    reason: str


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


async def lock_content(sha256: str) -> None:
    """Serialise, in the caller's write transaction, everyone keeping or removing the
    stored file of these bytes. SQLite's write transactions are serial already."""
    from portal.cases.tables import Evidence

    if Evidence._meta.db.engine_type == "postgres":
        await Evidence.raw("SELECT pg_advisory_xact_lock(hashtext({}))", sha256)


async def claim(received: ReceivedFile) -> None:
    """In the transaction that records a file: make sure its bytes are still stored.

    Two requests may bring the same bytes at once: the first stores them, the second
    finds them stored. Should the first then fail and remove them, the second must not
    record a file that is gone; under the content lock, either this claim runs first
    (and `release` then sees the row and keeps the file) or it finds the file gone.
    """
    await lock_content(received.sha256)
    if not received.path.is_file():
        raise PortalError(
            _(
                "The file %(name)s was removed while it was being added; please send it again.",
                name=received.name,
            )
        )


async def release(received: ReceivedFile) -> None:
    """Remove a file this request stored and did not record, unless evidence refers to
    its bytes by now (another request's, which found them stored): see `claim`."""
    from portal.cases.tables import Evidence
    from portal.database import write_transaction

    if not received.newly_stored:
        return
    async with write_transaction(Evidence._meta.db):
        await lock_content(received.sha256)
        if not await Evidence.exists().where(Evidence.sha256 == received.sha256):
            with contextlib.suppress(FileNotFoundError):
                received.path.unlink()


def evidence_dir(data_dir: Path) -> Path:
    return data_dir / "evidence"


def stored_path(data_dir: Path, sha256: str) -> Path:
    return evidence_dir(data_dir) / sha256[:2] / sha256


class _FileWriter:
    """One file on its way in: a temporary file, its hash, and the checks on it."""

    def __init__(self, data_dir: Path, name: str, limit: int, allowed: frozenset[str]) -> None:
        self.name = name
        self.limit = limit
        self.allowed = allowed
        self.data_dir = data_dir
        tmp_dir = evidence_dir(data_dir) / "tmp"
        tmp_dir.mkdir(parents=True, exist_ok=True)
        self.tmp = tmp_dir / f"{secrets.token_hex(16)}.part"
        self.handle = open(self.tmp, "wb")  # noqa: SIM115 - closed in finish/abandon
        self.hash = hashlib.sha256()
        self.size = 0
        self.head = b""
        self.pending = bytearray()
        self.text = codecs.getincrementaldecoder("utf-8")()
        self.text_ok = True
        self.reason: str | None = None

    def _write(self, data: bytes) -> None:
        self.hash.update(data)
        self.handle.write(data)
        if self.text_ok:
            try:
                decoded = self.text.decode(data)
                if "\x00" in decoded:
                    self.text_ok = False
            except UnicodeDecodeError:
                self.text_ok = False

    async def feed(self, data: bytes) -> None:
        if self.reason:
            return  # rejected already: the rest of this part is read and dropped
        self.size += len(data)
        if self.size > self.limit:
            self.reason = _(
                "%(name)s is larger than the limit of %(mb)s MiB.",
                name=self.name,
                mb=self.limit // (1024 * 1024),
            )
            self.pending.clear()
            return
        if len(self.head) < 64:
            self.head += bytes(data[: 64 - len(self.head)])
        self.pending += data
        if len(self.pending) >= CHUNK:
            chunk, self.pending = bytes(self.pending), bytearray()
            await asyncio.to_thread(self._write, chunk)

    async def finish(self) -> ReceivedFile | Rejected:
        try:
            if not self.reason and self.size == 0:
                self.reason = _("%(name)s is empty.", name=self.name)
            if self.reason:
                return Rejected(self.name, self.reason)
            return await asyncio.to_thread(self._finish)
        finally:
            self.abandon()

    def _finish(self) -> ReceivedFile | Rejected:
        if self.pending:
            self._write(bytes(self.pending))
            self.pending.clear()
        if self.text_ok:
            try:
                self.text.decode(b"", final=True)
            except UnicodeDecodeError:
                self.text_ok = False
        media_type = sniff(self.head, self.name, self.text_ok)
        if media_type is None or media_type not in self.allowed:
            return Rejected(
                self.name,
                _(
                    "%(name)s is not a kind of file we accept. Send %(kinds)s.",
                    name=self.name,
                    kinds=accepted_kinds(self.allowed),
                ),
            )
        self.handle.flush()
        os.fsync(self.handle.fileno())
        self.handle.close()
        digest = self.hash.hexdigest()
        final = stored_path(self.data_dir, digest)
        final.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(self.tmp, final)  # fails if present: stored files are never overwritten
            newly = True
            directory = os.open(final.parent, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)
        except FileExistsError:
            newly = False
        return ReceivedFile(self.name, media_type, self.size, digest, final, newly)

    def abandon(self) -> None:
        with contextlib.suppress(Exception):
            self.handle.close()
        with contextlib.suppress(FileNotFoundError):
            self.tmp.unlink()


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
        settings = getattr(request.app.state, "settings", None)
        allowed = settings.evidence_types if settings is not None else frozenset(KINDS)
    parser = PushMultipartParser(
        boundary_of(request.headers.get("content-type", "")),
        max_segment_count=MAX_FILES + MAX_FIELDS,
    )
    result = ReceivedForm()
    header_token = request.headers.get("x-csrftoken")
    if check_csrf is None:
        csrf_ok = True
    else:
        csrf_ok = header_token is not None and check_csrf(header_token)
        if header_token is not None and not csrf_ok:
            raise _csrf_refused()
    writer: _FileWriter | None = None
    skipping = False  # a file input left empty: the browser still sends a part
    field_name: str | None = None
    field_value = bytearray()
    segment: MultipartSegment | None = None
    try:
        async for chunk in request.stream():
            for event in parser.parse(chunk):
                if isinstance(event, MultipartSegment):
                    segment = event
                    skipping = event.filename == ""
                    if skipping:
                        continue
                    if event.filename is not None:
                        if not csrf_ok:
                            raise _csrf_refused()
                        if len(result.files) + len(result.rejected) >= MAX_FILES:
                            raise PortalError(_("Send at most %(n)s files at a time.", n=MAX_FILES))
                        writer = _FileWriter(
                            data_dir, clean_name(event.filename), max_file_bytes, allowed
                        )
                    else:
                        field_name, field_value = event.name or "", bytearray()
                elif skipping:
                    if event is None:
                        skipping, segment = False, None
                elif event:
                    if writer is not None:
                        await writer.feed(event)
                    else:
                        field_value += event
                        if len(field_value) > FIELD_LIMIT:
                            raise PortalError(_("A text field is too long."))
                elif event is None and segment is not None:
                    if writer is not None:
                        done = await writer.finish()
                        writer = None
                        if isinstance(done, ReceivedFile):
                            result.files.append(done)
                        else:
                            result.rejected.append(done)
                    elif field_name is not None:
                        value = field_value.decode("utf-8", errors="replace")
                        if field_name == "_csrf_token" and not csrf_ok and check_csrf:
                            csrf_ok = check_csrf(value)
                            if not csrf_ok:
                                raise _csrf_refused()
                        elif field_name in result.fields:
                            result.fields[field_name] += "\n" + value
                        else:
                            result.fields[field_name] = value
                        field_name = None
                    segment = None
        parser.close()
    except MultipartError as exc:
        if writer is not None:
            writer.abandon()
        await result.discard()
        raise PortalError(
            _("The upload was cut off or malformed, so nothing was kept. Please send it again.")
        ) from exc
    except BaseException as exc:
        if writer is not None:
            writer.abandon()
        if not isinstance(exc, asyncio.CancelledError):
            # A cancelled request leaves what it stored; an unreferenced file is waste,
            # never loss.
            await result.discard()
        raise
    if not csrf_ok:
        raise _csrf_refused()
    # The same files sent twice with one form's token are recorded once (by their hashes).
    submissions.offer(
        result.fields.items(),
        [(f.name, f.sha256) for f in result.files] + [(r.name, "") for r in result.rejected],
    )
    return result


def _csrf_refused() -> Exception:
    from litestar.exceptions import PermissionDeniedException

    return PermissionDeniedException("CSRF token verification failed")
