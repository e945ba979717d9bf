"""The `portal ledger` commands, run as a person runs them: in a shell, on a real database."""

from __future__ import annotations

import base64
import json

import pytest

from ledger.appender import append_entry
from ledger.entry import Actor
from ledger.keys import Keyring
from tests.support import portal_env, run_portal

CASE = "DR-2026-000042"


async def fill(keyring, count=9):
    for n in range(count):
        await append_entry(
            keyring,
            case=CASE if n % 2 else "DR-2026-000043",
            event_type="statement.submitted",
            actor=Actor("alice", "claimant"),
            body={"n": n},
        )


@pytest.fixture
def env(db, keyring, tmp_path):
    return portal_env(db.url, tmp_path, PORTAL_SIGNING_KEY_FILE=str(keyring.path))


@pytest.mark.slow
async def test_integrate_then_checkpoint_keys_proof_and_verify(db, keyring, env, tmp_path):
    await fill(keyring)

    integrated = run_portal("ledger", "integrate", env=env)
    assert "Integrated 9 entries in 1 batches; tree size 9." in integrated.stdout

    checkpoint = run_portal("ledger", "checkpoint", env=env).stdout
    assert checkpoint.startswith(f"{keyring.origin}\n9\n")
    assert f"\n\n— {keyring.origin} " in checkpoint
    keys = run_portal("ledger", "keys", env=env).stdout.splitlines()
    assert keys == [str(keyring.current.verifier())]

    bundle_text = run_portal("ledger", "proof", CASE, env=env).stdout
    bundle = json.loads(bundle_text)
    assert bundle["case"] == CASE and [e["index"] for e in bundle["entries"]] == [1, 3, 5, 7]
    bundle_file = tmp_path / "ledger-proof.json"
    bundle_file.write_text(bundle_text)

    verified = run_portal("ledger", "verify-bundle", str(bundle_file), "--key", keys[0], env=env)
    assert "FAIL" not in verified.stdout and "PASS" in verified.stdout

    audit = run_portal("ledger", "verify", env=env)
    assert audit.stdout.strip().endswith("every check holds.")
    assert "9 entries in 2 cases" in audit.stdout


@pytest.mark.slow
async def test_verify_bundle_rejects_a_tampered_bundle_and_an_untrusted_key(
    db, keyring, env, tmp_path
):
    await fill(keyring)
    run_portal("ledger", "integrate", env=env)
    bundle = json.loads(run_portal("ledger", "proof", CASE, env=env).stdout)

    tampered = json.loads(json.dumps(bundle))
    entry = bytearray(base64.b64decode(tampered["entries"][2]["entry"]))
    entry[entry.index(b'"n":5') + 4] = ord("6")
    tampered["entries"][2]["entry"] = base64.b64encode(bytes(entry)).decode()
    path = tmp_path / "tampered.json"
    path.write_text(json.dumps(tampered))
    result = run_portal("ledger", "verify-bundle", str(path), env=env, check=False)
    assert result.returncode == 1
    assert "FAIL" in result.stdout and "case_seq 2" in result.stdout

    stranger = Keyring.open(tmp_path / "stranger.key", keyring.origin, create=True)
    good = tmp_path / "good.json"
    good.write_text(json.dumps(bundle))
    result = run_portal(
        "ledger",
        "verify-bundle",
        str(good),
        "--key",
        str(stranger.current.verifier()),
        env=env,
        check=False,
    )
    assert result.returncode == 1
    assert "not signed by any trusted key" in result.stdout


@pytest.mark.slow
async def test_a_rotated_log_still_verifies_from_the_key_files_alone(db, keyring, env):
    old = str(keyring.current.verifier())
    await fill(keyring, 3)
    run_portal("ledger", "integrate", env=env)  # publishes the first key too

    rotated = run_portal("ledger", "rotate-key", "--overlap-days", "7", env=env).stdout
    rotated_keyring = Keyring(keyring.path, keyring.origin)
    await fill(rotated_keyring, 3)
    run_portal("ledger", "integrate", env=env)
    keys = run_portal("ledger", "keys", env=env).stdout.splitlines()

    assert "co-signs for 7 days" in rotated
    assert keys[1] == old and keys[0] == rotated.splitlines()[-1]
    audit = run_portal("ledger", "verify", env=env)
    assert audit.stdout.strip().endswith("every check holds.")
    pinned = run_portal("ledger", "verify", "--key", keys[0], env=env, check=False)
    assert (
        pinned.returncode == 1 and f"signed by an unknown key {old.split('+')[1]}" in pinned.stdout
    )


def test_init_key_never_overwrites_a_key(tmp_path, sqlite_url):
    env = portal_env(sqlite_url, tmp_path)
    created = run_portal("ledger", "init-key", env=env)
    assert created.stdout.startswith("test.portal.example/ledger+")
    before = (tmp_path / "ledger.key").read_bytes()

    again = run_portal("ledger", "init-key", env=env, check=False)

    assert again.returncode != 0 and "exists already" in again.stderr
    assert (tmp_path / "ledger.key").read_bytes() == before


async def test_proof_for_a_case_with_no_signed_entry_says_so(db, env):
    result = run_portal("ledger", "proof", "DR-2026-999999", env=env, check=False)
    assert result.returncode == 1
    assert "no signed checkpoint" in result.stderr
