"""Key rotation: the new key signs, both sign checkpoints for a while, old keys stay published."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

from ledger.appender import append_entry
from ledger.audit import verify_log
from ledger.checkpoint import open_checkpoint
from ledger.entry import Actor, decode_entry
from ledger.integrator import integrate
from ledger.keys import Keyring, publish_keys, published_verifiers, read_keyring_file, rotate_key
from ledger.note import parse_note
from ledger.proofs import latest_checkpoint
from ledger.tables import LedgerKey

ALICE = Actor("alice", "claimant")


async def append(keyring, n):
    return await append_entry(
        keyring, case="DR-2026-000001", event_type="statement.submitted", actor=ALICE, body={"n": n}
    )


def signing_kids(note: str) -> list[str]:
    _, signatures = parse_note(note)
    return [s.key_id.hex() for s in signatures]


async def test_a_rotated_log_keeps_verifying_and_cosigns_during_the_overlap(db, keyring):
    await publish_keys(keyring)
    await append(keyring, 0)
    await integrate(keyring)
    old = keyring.current

    new = await rotate_key(keyring, overlap=timedelta(days=30))
    after = await append(keyring, 1)
    await integrate(keyring)

    assert new.kid != old.kid and keyring.kid == new.kid
    assert decode_entry(after.entry).kid == new.kid
    note = (await latest_checkpoint()).note
    assert signing_kids(note) == [new.kid, old.kid]
    # A verifier that only knows the old key still accepts the new checkpoint.
    open_checkpoint(note, [old.verifier()], origin=keyring.origin)
    assert [v.kid for v in await published_verifiers()] == [new.kid, old.kid]
    report = await verify_log(keyring.origin, await published_verifiers())
    assert report.ok, report.render()


async def test_after_the_overlap_only_the_new_key_signs_and_the_old_private_key_is_dropped(
    db, keyring
):
    await publish_keys(keyring)
    first = keyring.current
    await rotate_key(keyring, overlap=timedelta(days=30))
    # Pretend the overlap has ended.
    await LedgerKey.update(
        {LedgerKey.dual_sign_until: datetime.now(UTC) - timedelta(seconds=1)}
    ).where(LedgerKey.kid == first.kid)
    await append(keyring, 0)
    await integrate(keyring)
    assert signing_kids((await latest_checkpoint()).note) == [keyring.kid]

    third = await rotate_key(keyring, overlap=timedelta(days=1))

    file_kids = {signer.kid for signer in keyring.signers}
    assert first.kid not in file_kids and third.kid in file_kids
    assert len(read_keyring_file(keyring.path)) == 2
    assert first.kid in {v.kid for v in await published_verifiers()}


async def test_another_process_picks_up_a_rotation_from_the_key_file(db, keyring, tmp_path):
    other_worker = Keyring(keyring.path, keyring.origin)
    await rotate_key(keyring, overlap=timedelta(days=1))
    # Make the change visible regardless of the file system's timestamp resolution.
    stat = keyring.path.stat()
    os.utime(keyring.path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    other_worker._checked_at = 0.0  # skip the once-a-second throttle for the test

    assert other_worker.current.kid == keyring.kid


def test_the_key_file_is_private_to_its_owner(keyring):
    assert keyring.path.stat().st_mode & 0o077 == 0
