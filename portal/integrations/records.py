"""Platform records the integration attaches to a case: JSON, or files.

They are evidence like any other (`portal.cases.evidence.record_files`), marked as
platform records, added by the integration's account, and the `evidence.added` entry
names the API key that supplied them. A JSON record is stored as a `.json` file of its
canonical bytes (RFC 8785): the same record always has the same SHA-256.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import rfc8785

from ledger.keys import Keyring
from portal.cases.access import readers
from portal.cases.evidence import _store_bytes, file_record, record_files
from portal.cases.tables import Case
from portal.cases.uploads import ReceivedFile, clean_name, release
from portal.database import write_transaction
from portal.errors import Conflict, FormInvalid, NotFound
from portal.i18n import _
from portal.integrations.keys import INTEGRATION, ApiCaller
from portal.integrations.schemas import AttachedRecords, JsonRecord, StoredFile
from portal.notifications.notify import notify
from portal.procedure.policy import ALL, CLOSED_STATES, STAFF

CHANNELS = (ALL, STAFF)


async def open_case(ref: str) -> dict[str, Any]:
    """The case records go to: 404 if there is none, 409 once it is closed."""
    case = await Case.select(Case.id, Case.ref, Case.state).where(Case.ref == ref).first()
    if case is None:
        raise NotFound()
    if case["state"] in CLOSED_STATES:
        raise _closed(case["ref"])
    return case


def _closed(ref: str) -> Conflict:
    return Conflict(_("Case %(ref)s is closed: nothing more can be added to it.", ref=ref))


def json_bytes(record: Any) -> bytes:
    try:
        return rfc8785.dumps(record)
    except (rfc8785.CanonicalizationError, ValueError) as exc:
        raise FormInvalid(
            {
                "record": _(
                    "The record cannot be kept as canonical JSON (%(reason)s); send numbers "
                    "beyond 2^53 or with many digits as strings.",
                    reason=str(exc),
                )
            }
        ) from exc


def json_name(name: str) -> str:
    name = clean_name(name)
    return name if name.lower().endswith(".json") else clean_name(name[:250] + ".json")


async def attach_json(
    keyring: Keyring,
    caller: ApiCaller,
    ref: str,
    body: JsonRecord,
    data_dir: Path,
    allowed: frozenset[str],
) -> AttachedRecords:
    case = await open_case(ref)
    if "application/json" not in allowed:
        raise FormInvalid({"record": _("This portal does not accept JSON files as evidence.")})
    data = json_bytes(body.record)
    stored = await asyncio.to_thread(
        _store_bytes, data_dir, json_name(body.name), data, "application/json"
    )
    try:
        return await attach(keyring, caller, case, [stored], body.channel)
    except BaseException:
        await release(stored)
        raise


async def attach(
    keyring: Keyring, caller: ApiCaller, case: dict[str, Any], files: list[ReceivedFile],
    channel: str,
) -> AttachedRecords:  # fmt: skip
    """Record stored files as the integration's platform records, in one transaction, and
    tell whoever on the case reads the channel. The caller releases the files on error."""
    if channel not in CHANNELS:
        raise FormInvalid({"channel": _("Choose the channel all or staff.")})
    if not files:
        raise FormInvalid({"files": _("Send at least one file.")})
    now = datetime.now(UTC)
    async with write_transaction(Case._meta.db):
        seq = await record_files(
            keyring,
            case["ref"],
            case["id"],
            files,
            caller.as_viewer(),
            INTEGRATION,
            channel,
            None,
            now,
            platform_record=True,
            note={"api_key": caller.key_prefix},
        )
        moved = (
            await Case.update({Case.updated_at: now})
            .where((Case.id == case["id"]) & Case.state.not_in(list(CLOSED_STATES)))
            .returning(Case.id)
        )
        if not moved:
            raise _closed(case["ref"])
        await notify(
            await readers(case["id"], channel, None),
            "evidence_added",
            case_ref=case["ref"],
            link=f"/cases/{case['ref']}" + ("" if channel == ALL else f"?channel={channel}"),
            template="evidence_added",
            author_name=caller.integration_name,
            count=len(files),
        )
    return AttachedRecords(
        case_seq=seq,
        files=[StoredFile(**file_record(f)) for f in files],  # type: ignore[arg-type]
    )
