"""Evidence: recording files given to a case, finding them again, and what the ledger
says of each upload, download and preview.

The files themselves are stored once by hash (see `portal.cases.uploads`); a row here
says who gave which file to which channel of which case. Reading a file is an event
too: it is written to the ledger before a byte of the file is sent.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from litestar.exceptions import NotFoundException

from ledger.keys import Keyring
from portal.cases.events import actor, record
from portal.cases.statements import acting_role
from portal.cases.tables import Case, Evidence
from portal.cases.uploads import PREVIEWABLE, ReceivedFile, stored_path
from portal.database import write_transaction
from portal.errors import FormInvalid, NotAllowed
from portal.i18n import _
from portal.notifications.notify import notify
from portal.policy import ALL, CAUCUS, CHANNELS, CaseAccess, Channel, readers
from portal.web.viewer import Viewer

log = logging.getLogger(__name__)

# Types a browser would display rather than save, whatever Content-Disposition says
# in some older clients: downloads send these as plain bytes.
RENDERED_AS_TEXT = frozenset(("text/plain", "text/csv", "application/json"))


def file_record(received: ReceivedFile) -> dict[str, object]:
    """A file as the ledger spec describes it: {sha256, name, size, media_type}."""
    return {
        "sha256": received.sha256,
        "name": received.name,
        "size": received.size,
        "media_type": received.media_type,
    }


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
) -> int:
    """One `evidence.added` entry for the files, and a row for each; returns the case_seq."""
    now = now or datetime.now(UTC)
    body: dict[str, object] = {"channel": channel, "files": [file_record(f) for f in files]}
    if party_id is not None:
        body["caucus_party"] = f"user:{party_id}"
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
        raise NotFoundException()
    if not access.can_add_evidence(name, party_id):
        raise NotAllowed(_("You cannot add files to this channel."))
    return Channel(name, party_id)


async def add_files(
    keyring: Keyring, ref: str, access: CaseAccess, channel: Channel, files: list[ReceivedFile]
) -> int:
    """Record files received for the case in one transaction; returns the entry's case_seq.

    The caller removes the newly stored files if this raises: nothing refers to them.
    """
    if not files:
        raise FormInvalid({"files": _("Choose at least one file to add.")})
    if not access.can_add_evidence(channel.name, channel.party_id):
        raise NotAllowed(_("You cannot add files to this channel."))
    now = datetime.now(UTC)
    role = acting_role(access, channel.name)
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


async def visible_file(access: CaseAccess, evidence_id: int, data_dir: Path) -> dict[str, Any]:
    """The case's file if the viewer may see it, with its `path` on disk; otherwise 404."""
    row = (
        await Evidence.select()
        .where((Evidence.id == evidence_id) & (Evidence.case == access.case_id))
        .first()
    )
    if row is None or not access.can_see_file(row["channel"], row["caucus_party"]):
        raise NotFoundException()
    row["path"] = stored_path(data_dir, row["sha256"])
    if not row["path"].is_file():
        log.error(
            "Evidence %s of case %s is missing from %s", evidence_id, access.case_id, row["path"]
        )
        raise NotFoundException()
    return row


def is_previewable(row: dict[str, Any]) -> bool:
    return row["media_type"] in PREVIEWABLE


def download_media_type(media_type: str) -> str:
    return "application/octet-stream" if media_type in RENDERED_AS_TEXT else media_type


async def record_reading(
    keyring: Keyring, ref: str, access: CaseAccess, row: dict[str, Any], mode: str
) -> int:
    """An `evidence.downloaded` entry (mode `download` or `preview`), committed before
    the file is sent, so that no one reads a file without the ledger saying so."""
    body: dict[str, object] = {"sha256": row["sha256"], "name": row["name"], "mode": mode}
    if row["channel"] != ALL:
        body["channel"] = row["channel"]
        if row["caucus_party"] is not None:
            body["caucus_party"] = f"user:{row['caucus_party']}"
    role = acting_role(access, row["channel"])
    async with write_transaction(Evidence._meta.db):
        receipt = await record(
            keyring, ref, "evidence.downloaded", actor(access.viewer.id, role), body
        )
    return receipt.case_seq
