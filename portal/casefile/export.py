"""Exporting a case file: record the export, wait for a signed checkpoint, render, seal.

The export is itself an entry (`casefile.exported`, {audience, by}) and the file's chain
ends with it, so a verifier can tell a file whose last entries were cut off: its chain does
not end with the export entry.

Reuse: every export appends its entry, which changes the case's state, so two exports never
share a file by accident. A file is stored under (case, audience, case_seq of its export
entry); when someone exports again and the case's last entry is already their own export
for the same audience (nothing happened on the case since, e.g. a double click or a
retried download), that stored file is returned and no new entry is written. Exports of
one case and audience in one process run one at a time, so concurrent requests of the same
person reuse the first one's file instead of each appending an entry.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ledger.checkpoint import parse_checkpoint
from ledger.entry import Actor
from ledger.integrator import integrate
from ledger.keys import Keyring, published_verifiers
from ledger.merkle import leaf_hash
from ledger.note import parse_note
from ledger.proofs import case_bundle
from ledger.tables import LedgerEntry
from portal.accounts.tables import User
from portal.casefile import contents
from portal.casefile.attest import CaseFileRefused, require_attested
from portal.casefile.seal import Seal, open_seal, seal_pdf
from portal.cases.categories import category_label, state_label
from portal.cases.events import record, user_id_of
from portal.cases.tables import Case, CaseParticipant
from portal.cases.timeline import evidence_list, names_for, people_on
from portal.cases.uploads import stored_path
from portal.i18n import _, language
from portal.procedure import roles
from portal.procedure.people import Viewer
from portal.procedure.policy import COUNSEL_COPY_PREFIX, STAFF_COPY, CaseAccess, sides
from portal.settings import Settings

EXPORTED = "casefile.exported"
BUNDLE_NAME = "ledger-proof.json"


@dataclass(frozen=True)
class CaseFile:
    ref: str
    audience: str
    case_seq: int
    path: Path
    evidence: list[dict[str, Any]]
    """The evidence the audience may see: name, sha256, and where the file is stored."""
    reused: bool = False

    @property
    def pdf(self) -> bytes:
        return self.path.read_bytes()


def seal_of(settings: Settings) -> Seal:
    return open_seal(
        settings.seal_cert_file,
        settings.seal_key_file,
        create=not settings.is_production,
        origin=settings.log_origin,
    )


async def audience_access(case: dict[str, Any], audience: str) -> CaseAccess:
    """What the audience may read, decided by the same policy as the case room.

    There is no copy with everything: a caucus is read by its two members only and the
    tribunal's channel by the arbitrators only, so no audience reads them all. The staff
    copy reads as platform staff do, with no role on the case besides; a party's legal
    team's copy reads as a legal user acting for that party does.
    """
    participants = await CaseParticipant.select(CaseParticipant.user, CaseParticipant.role).where(
        CaseParticipant.case == case["id"]
    )
    party_ids = sides(participants)
    if audience == STAFF_COPY:
        return CaseAccess(
            viewer=Viewer(0, "", "", roles.AGENT, "en", True, True),
            case_id=case["id"],
            state=case["state"],
            roles=frozenset(roles.STAFF),
            party_ids=party_ids,
            other_roles=frozenset(p["role"] for p in participants),
        )
    counsel = audience.startswith(COUNSEL_COPY_PREFIX)
    if not audience.startswith("party:") and not counsel:
        raise CaseFileRefused(
            _(
                "A case file is exported as the staff copy, a party's copy or a party's "
                "legal team's copy; there is no copy for %(audience)s.",
                audience=audience,
            )
        )
    user_id = user_id_of(audience.split(":", 1)[1])
    if user_id is None or user_id not in party_ids:
        raise CaseFileRefused(
            _("%(audience)s is not a party to case %(ref)s.", audience=audience, ref=case["ref"])
        )
    if counsel:
        return CaseAccess(
            viewer=Viewer(0, "", "", roles.LEGAL, "en", True, True),
            case_id=case["id"],
            state=case["state"],
            roles=frozenset((roles.LEGAL,)),
            party_ids=party_ids,
            other_roles=frozenset(p["role"] for p in participants),
            acts_for=user_id,
        )
    held = frozenset(p["role"] for p in participants if p["user"] == user_id)
    return CaseAccess(
        viewer=Viewer(user_id, "", "", roles.PARTY, "en", True, True),
        case_id=case["id"],
        state=case["state"],
        roles=held,
        party_ids=party_ids,
        other_roles=frozenset(p["role"] for p in participants if p["user"] != user_id),
    )


_locks: weakref.WeakValueDictionary[tuple[str, str], asyncio.Lock] = weakref.WeakValueDictionary()


def stored_file(settings: Settings, ref: str, audience: str, case_seq: int) -> Path:
    slug = audience.replace(":", "-")
    return settings.data_dir / "casefiles" / ref / f"{slug}-{case_seq}.pdf"


async def export(
    settings: Settings, keyring: Keyring, ref: str, audience: str, by: Actor
) -> CaseFile:
    """The sealed case file of `ref` for `audience` (`staff` or `party:user:<id>`)."""
    case = await Case.select().where(Case.ref == ref).first()
    if case is None:
        raise CaseFileRefused(_("There is no case %(ref)s.", ref=ref))
    access = await audience_access(case, audience)

    await require_attested(settings.data_dir, case, access)
    seal = seal_of(settings)
    lock = _locks.setdefault((ref, audience), asyncio.Lock())
    async with lock:
        last = await (
            LedgerEntry.select(LedgerEntry.case_seq, LedgerEntry.entry)
            .where(LedgerEntry.case_ref == ref)
            .order_by(LedgerEntry.case_seq, ascending=False)
            .first()
        )
        if last is not None:
            entry = json.loads(bytes(last["entry"]))
            path = stored_file(settings, ref, audience, last["case_seq"])
            if (
                entry["type"] == EXPORTED
                and entry["body"] == {"audience": audience, "by": by.id}
                and path.is_file()
            ):
                evidence = await _evidence(settings, access)
                return CaseFile(ref, audience, last["case_seq"], path, evidence, reused=True)
        receipt = await record(keyring, ref, EXPORTED, by, {"audience": audience, "by": by.id})
        # Everything committed before this call is in a signed checkpoint when it returns.
        await integrate(keyring, wait=True)
        bundle = await case_bundle(ref, settings.log_origin, through_seq=receipt.case_seq)
        evidence = await _evidence(settings, access)
        visible = {item["sha256"] for item in evidence}
        bundle["evidence"] = [item for item in bundle["evidence"] if item["sha256"] in visible]
        context = await _context(case, audience, access, bundle, evidence, seal)
        from portal.pdf.render import render_pdf

        bundle_bytes = json.dumps(bundle, indent=1, ensure_ascii=False).encode("utf-8")
        pdf = await render_pdf(
            "pdf/casefile.html",
            context,
            language=case["language"],
            attachments={BUNDLE_NAME: bundle_bytes},
        )
        with language(case["language"]):
            reason = _("Case file of %(ref)s, as the ledger records it", ref=ref)
        sealed = await asyncio.to_thread(seal_pdf, pdf, seal, reason=reason)
        path = stored_file(settings, ref, audience, receipt.case_seq)
        await asyncio.to_thread(_store, path, sealed)
        return CaseFile(ref, audience, receipt.case_seq, path, evidence)


def _store(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


async def _evidence(settings: Settings, access: CaseAccess) -> list[dict[str, Any]]:
    rows = await evidence_list(access.case_id, access)
    seen: dict[str, dict[str, Any]] = {}
    for row in rows:
        seen.setdefault(
            row["sha256"],
            {**row, "stored": stored_path(settings.data_dir, row["sha256"])},
        )
    return list(seen.values())


async def _context(
    case: dict[str, Any],
    audience: str,
    access: CaseAccess,
    bundle: dict[str, Any],
    evidence: list[dict[str, Any]],
    seal: Seal,
) -> dict[str, Any]:
    people = await people_on(case["id"])
    decoded = []
    for item in bundle["entries"]:
        data = base64.b64decode(item["entry"])
        decoded.append((json.loads(data), item["index"], leaf_hash(data).hex()))
    events = [contents.event_of(entry, index) for entry, index, _leaf in decoded]
    text, _signatures = parse_note(bundle["checkpoint"])
    checkpoint = parse_checkpoint(text)
    with language(case["language"]):
        names = await names_for(events, people)  # "the portal", in the case's language
        timeline = contents.timeline(access, events, [leaf for *_, leaf in decoded], names)
        party_names = {p["id"]: p["name"] for p in people}
        conversations = await contents.conversations(case["id"], access, party_names)
        outcome = await contents.outcome(case["id"])
        keys = [str(v) for v in await published_verifiers()]
        return {
            "case": {
                "ref": case["ref"],
                "category_label": category_label(case["category"]),
                "state_label": state_label(case["state"]),
                "language": case["language"],
                "what_happened": case["what_happened"],
                "remedy_wanted": case["remedy_wanted"],
            },
            "audience_label": contents.audience_label(audience, access, party_names),
            **contents.people_by_standing(people, party_names),
            "outcome": outcome,
            "checkpoint": {
                "size": checkpoint.size,
                "root": base64.b64encode(checkpoint.root_hash).decode("ascii"),
                "note": bundle["checkpoint"],
            },
            "entries": len(decoded),
            "timeline": timeline,
            "conversations": conversations,
            "evidence": evidence,
            "verifier_keys": keys or bundle["verifier_keys"],
            "seal_fingerprint": seal.fingerprint,
            "bundle_name": BUNDLE_NAME,
        }


async def user_by_email(email: str) -> int | None:
    row = await User.select(User.id).where(User.email == email.strip().lower()).first()
    return None if row is None else row["id"]
