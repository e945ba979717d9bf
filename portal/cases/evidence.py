"""Evidence: recording files given to a case, finding them again, and what the ledger
says of each upload, download and preview.

The files themselves are stored once by hash (see `portal.cases.uploads`); a row here
says who gave which file to which channel of which case. Reading a file is an event
too: it is written to the ledger before a byte of the file is sent.

Platform records (order history, liquidation logs, account activity) are evidence the
platform's staff add from the platform's own systems, as files or as pasted text; the
row and the ledger entry say so (`"platform_record": true`), and only staff may say it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import logging
import os
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ledger.keys import Keyring
from portal.cases import image_size
from portal.cases.access import readers
from portal.cases.events import SYSTEM, actor, record
from portal.cases.tables import Case, Evidence
from portal.cases.uploads import (
    PREVIEWABLE,
    ReceivedFile,
    claim,
    clean_name,
    evidence_dir,
    release,
    stored_path,
)
from portal.database import write_transaction
from portal.errors import FormInvalid, NotAllowed, NotFound, PortalError
from portal.i18n import _
from portal.notifications.notify import notify
from portal.procedure.people import Viewer
from portal.procedure.policy import ALL, CAUCUS, CHANNELS, CaseAccess, Channel

log = logging.getLogger(__name__)

# Types a browser would display rather than save, whatever Content-Disposition says
# in some older clients: downloads send these as plain bytes.
RENDERED_AS_TEXT = frozenset(("text/plain", "text/csv", "application/json"))

PASTED_TEXT_LIMIT = 1024 * 1024  # bytes of UTF-8; anything longer is uploaded as a file


def file_record(received: ReceivedFile, channel: str = ALL) -> dict[str, object]:
    """A file as the ledger spec describes it: {sha256, name, size, media_type}.

    A file's name is text its giver wrote; in a private channel it stays with the
    channel's readers, as statements do, and the entry carries only its hash.
    """
    return {
        "sha256": received.sha256,
        "name": ledger_name(received.name, channel),
        "size": received.size,
        "media_type": received.media_type,
    }


def ledger_name(name: str, channel: str) -> str:
    if channel == ALL:
        return name
    return "sha256:" + hashlib.sha256(name.encode("utf-8")).hexdigest()


async def record_files(
    keyring: Keyring,
    ref: str,
    case_id: int,
    files: list[ReceivedFile],
    by: Viewer,
    role: str,
    channel: str,
    party_id: int | None,
    now: datetime | None = None,
    platform_record: bool = False,
    note: dict[str, object] | None = None,
) -> int:
    """One `evidence.added` entry for the files, and a row for each; returns the case_seq.
    Call in the caller's write transaction: each file is claimed (`uploads.claim`).
    `note` goes into the entry's body too: the API key that supplied the files."""
    for received in files:
        await claim(received)
    now = now or datetime.now(UTC)
    body: dict[str, object] = {
        "channel": channel,
        "files": [file_record(f, channel) for f in files],
    }
    if party_id is not None:
        body["caucus_party"] = f"user:{party_id}"
    if platform_record:
        body["platform_record"] = True
    body.update(note or {})
    receipt = await record(keyring, ref, "evidence.added", actor(by.id, role), body)
    await Evidence.insert(
        *[
            Evidence(
                case=case_id,
                channel=channel,
                caucus_party=party_id,
                added_by=by.id,
                name=f.name,
                media_type=f.media_type,
                size=f.size,
                sha256=f.sha256,
                case_seq=receipt.case_seq,
                created_at=now,
                platform_record=platform_record,
            )
            for f in files
        ]
    )
    return receipt.case_seq


def chosen_channel(access: CaseAccess, key: str | None) -> Channel:
    """The channel picked in the upload form (`all`, `staff`, `caucus:<party>`, ...).

    A channel the viewer may not read is answered as if it did not exist (404); one
    they read but may not add to gets a reason.
    """
    name, _sep, party = (key or ALL).partition(":")
    party_id = int(party) if name == CAUCUS and party.isdigit() else None
    if name not in CHANNELS or not access.can_read(name, party_id):
        raise NotFound()
    if not access.can_add_evidence(name, party_id):
        raise NotAllowed(_("You cannot add files to this channel."))
    return Channel(name, party_id)


async def add_files(
    keyring: Keyring,
    ref: str,
    access: CaseAccess,
    channel: Channel,
    files: list[ReceivedFile],
    platform_record: bool = False,
) -> int:
    """Record files received for the case in one transaction; returns the entry's case_seq.

    The caller removes the newly stored files if this raises: nothing refers to them.
    """
    if platform_record and not access.may_add_platform_records:
        raise NotAllowed(_("Only the platform's staff can add platform records."))
    if not files:
        raise FormInvalid({"files": _("Choose at least one file to add.")})
    if not access.can_add_evidence(channel.name, channel.party_id):
        raise NotAllowed(_("You cannot add files to this channel."))
    now = datetime.now(UTC)
    role = access.acting_role(channel.name)
    async with write_transaction(Evidence._meta.db):
        seq = await record_files(
            keyring,
            ref,
            access.case_id,
            files,
            access.viewer,
            role,
            channel.name,
            channel.party_id,
            now,
            platform_record,
        )
        await Case.update({Case.updated_at: now}).where(Case.id == access.case_id)
        others = [
            u
            for u in await readers(access.case_id, channel.name, channel.party_id)
            if u != access.viewer.id
        ]
        link = f"/cases/{ref}" + (
            f"?channel={channel.name}" + (f"&party={channel.party_id}" if channel.party_id else "")
            if channel.name != "all"
            else ""
        )
        await notify(
            others,
            "evidence_added",
            case_ref=ref,
            link=link,
            template="evidence_added",
            author_name=access.viewer.name,
            count=len(files),
        )
    return seq


def _store_bytes(
    data_dir: Path, name: str, data: bytes, media_type: str = "text/plain"
) -> ReceivedFile:
    """Store bytes as the uploads are stored: a temporary file, fsynced, linked under its
    SHA-256, never overwriting a stored file. Pasted records are text; records the
    platform's integration sends as JSON are stored as `application/json`."""
    digest = hashlib.sha256(data).hexdigest()
    tmp_dir = evidence_dir(data_dir) / "tmp"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    tmp = tmp_dir / f"{secrets.token_hex(16)}.part"
    final = stored_path(data_dir, digest)
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        final.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(tmp, final)
            newly = True
            directory = os.open(final.parent, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)
        except FileExistsError:
            newly = False
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return ReceivedFile(name, media_type, len(data), digest, final, newly)


def pasted_record(form: dict[str, str]) -> tuple[str, bytes]:
    """The file name and bytes of a pasted platform record; FormInvalid says what to fix.

    Browsers send a textarea's line breaks as CRLF whatever was pasted (HTML's form
    submission rules); they are stored as LF, so the same text always has the same hash.
    """
    errors: dict[str, str] = {}
    title = form.get("name", "").strip()
    text = form.get("text", "").replace("\r\n", "\n")
    if not title:
        errors["name"] = _("Name the record, for example: Order history, March 2026.")
    if not text.strip():
        errors["text"] = _("Paste the record's text.")
    data = text.encode("utf-8")
    if len(data) > PASTED_TEXT_LIMIT:
        errors["text"] = _(
            "Paste at most %(mb)s MiB of text; upload anything longer as a file.",
            mb=PASTED_TEXT_LIMIT // (1024 * 1024),
        )
    if errors:
        raise FormInvalid(errors)
    name = clean_name(title)
    if not name.lower().endswith(".txt"):
        name = clean_name(name[:251] + ".txt")
    return name, data


async def add_pasted_record(
    keyring: Keyring,
    ref: str,
    access: CaseAccess,
    channel: Channel,
    form: dict[str, str],
    data_dir: Path,
    allowed: frozenset[str],
) -> int:
    """Store pasted text as a `.txt` file and add it as a platform record; returns the
    entry's case_seq. The file is removed again if it is not recorded."""
    if not access.may_add_platform_records:
        raise NotAllowed(_("Only the platform's staff can add platform records."))
    if "text/plain" not in allowed:
        raise FormInvalid({"text": _("This portal does not accept text files as evidence.")})
    name, data = pasted_record(form)
    stored = await asyncio.to_thread(_store_bytes, data_dir, name, data)
    try:
        return await add_files(keyring, ref, access, channel, [stored], platform_record=True)
    except BaseException:
        await release(stored)
        raise


async def visible_file(access: CaseAccess, evidence_id: int, data_dir: Path) -> dict[str, Any]:
    """The case's file if the viewer may see it, with its `path` on disk; otherwise 404."""
    row = (
        await Evidence.select()
        .where((Evidence.id == evidence_id) & (Evidence.case == access.case_id))
        .first()
    )
    if row is None or not access.can_see_file(row["channel"], row["caucus_party"]):
        raise NotFound()
    row["path"] = stored_path(data_dir, row["sha256"])
    if not row["path"].is_file():
        log.error(
            "Evidence %s of case %s is missing from %s", evidence_id, access.case_id, row["path"]
        )
        raise NotFound()
    return row


class FileCorrupted(PortalError):
    """A stored file no longer hashes to the SHA-256 recorded when it was added."""

    status_code = 500


def stored_sha256(path: Path) -> str | None:
    """The SHA-256 of a stored file, read in chunks (memory stays flat whatever its
    size); None when it is missing. Blocking: call it in a thread."""
    try:
        with open(path, "rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except FileNotFoundError:
        return None


async def require_intact(
    keyring: Keyring, ref: str, access: CaseAccess, row: dict[str, Any], mode: str
) -> None:
    """Before a file is sent: its bytes must still be the ones the ledger recorded.

    A stored file that was changed or replaced is never passed off as the original.
    The fault is logged for the operators and recorded in the case's ledger
    (`evidence.integrity_failed`), and the reader is told in plain words.
    """
    found = await asyncio.to_thread(stored_sha256, row["path"])
    if found == row["sha256"]:
        return
    log.error(
        "Evidence %s of case %s failed its integrity check: %s has SHA-256 %s, not %s; "
        "not sent (%s)",
        row["id"], ref, row["path"], found, row["sha256"], mode,
    )  # fmt: skip
    body: dict[str, object] = {
        "sha256": row["sha256"],
        "name": ledger_name(row["name"], row["channel"]),
        "mode": mode,
        "by": f"user:{access.viewer.id}",
    }
    if row["channel"] != ALL:
        body["channel"] = row["channel"]
        if row["caucus_party"] is not None:
            body["caucus_party"] = f"user:{row['caucus_party']}"
    async with write_transaction(Evidence._meta.db):
        await record(keyring, ref, "evidence.integrity_failed", SYSTEM, body)
    raise FileCorrupted(
        _(
            "%(name)s failed its integrity check: the stored copy is no longer the file "
            "that was added to the case, so it was not sent. The platform's operators "
            "have been told.",
            name=row["name"],
        )
    )


def is_previewable(row: dict[str, Any]) -> bool:
    """Images and PDFs preview inline, unless the image declares too many pixels for a
    browser to decode safely (`row` from `visible_file`, which gives its `path`)."""
    if row["media_type"] not in PREVIEWABLE:
        return False
    return oversized_image(row["path"], row["sha256"], row["media_type"]) is None


@functools.lru_cache(maxsize=4096)
def _declared_size(path: Path, sha256: str, media_type: str) -> tuple[int, int] | None:
    """Cached by the content's hash: a stored file never changes under its name."""
    return image_size.declared_size(path, media_type)


def oversized_image(path: Path, sha256: str, media_type: str) -> tuple[int, int] | None:
    """(width, height) when an image is too large to preview inline, else None.

    Reads a few bytes of the header (cached per file). A header whose size cannot be
    found within the scan's bounds counts as too large: better a download than a hung
    browser. (0, 0) stands for that unknown size.
    """
    if not media_type.startswith("image/"):
        return None
    try:
        size = _declared_size(path, sha256, media_type)
    except image_size.UnknownSize:
        return (0, 0)
    except OSError:
        return None  # a missing file is `visible_file`'s to report
    if size is not None and image_size.too_large(*size):
        return size
    return None


def no_preview_reason(row: dict[str, Any], data_dir: Path) -> str | None:
    """What the room says instead of a preview link for an oversized image, else None."""
    if row["media_type"] not in PREVIEWABLE:
        return None
    size = oversized_image(stored_path(data_dir, row["sha256"]), row["sha256"], row["media_type"])
    if size is None:
        return None
    if size == (0, 0):
        return _("No preview: this image's size could not be read safely. Download it to view it.")
    return _(
        "No preview: this image is %(width)s × %(height)s pixels, too large to show safely "
        "in the browser. Download it to view it.",
        width=f"{size[0]:,}",
        height=f"{size[1]:,}",
    )


def download_media_type(media_type: str) -> str:
    return "application/octet-stream" if media_type in RENDERED_AS_TEXT else media_type


async def record_reading(
    keyring: Keyring, ref: str, access: CaseAccess, row: dict[str, Any], mode: str
) -> int:
    """An `evidence.downloaded` entry (mode `download` or `preview`), committed before
    the file is sent, so that no one reads a file without the ledger saying so."""
    body: dict[str, object] = {
        "sha256": row["sha256"],
        "name": ledger_name(row["name"], row["channel"]),
        "mode": mode,
    }
    if row["channel"] != ALL:
        body["channel"] = row["channel"]
        if row["caucus_party"] is not None:
            body["caucus_party"] = f"user:{row['caucus_party']}"
    role = access.acting_role(row["channel"])
    async with write_transaction(Evidence._meta.db):
        receipt = await record(
            keyring, ref, "evidence.downloaded", actor(access.viewer.id, role), body
        )
    return receipt.case_seq
