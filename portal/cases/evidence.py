"""Evidence: recording files given to a case, and what the ledger says of them."""

from __future__ import annotations

from datetime import UTC, datetime

from ledger.keys import Keyring
from portal.cases.events import actor, record
from portal.cases.tables import Evidence
from portal.cases.uploads import ReceivedFile
from portal.web.viewer import Viewer


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
