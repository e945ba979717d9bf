"""`portal serve`: real worker processes over HTTP, integrating the log in the background."""

from __future__ import annotations

import asyncio
import base64
import socket
import subprocess
import sys
import time

import httpx
import pytest

from ledger.appender import append_entry
from ledger.audit import verify_log
from ledger.checkpoint import open_checkpoint
from ledger.entry import Actor
from ledger.merkle import verify_consistency, verify_inclusion
from ledger.note import parse_verifier_key
from ledger.tables import LedgerCheckpoint
from tests.support import ROOT, portal_env

ENTRIES = 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def wait_for(predicate, what: str, deadline: float = 60.0):
    """Poll until `predicate()` is truthy; a liveness wait, not a timing assertion."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        result = await predicate()
        if result:
            return result
        await asyncio.sleep(0.2)
    raise AssertionError(f"gave up waiting for {what}")


@pytest.fixture
async def server(db, keyring, tmp_path):
    port = free_port()
    env = portal_env(
        db.url, tmp_path, PORTAL_SIGNING_KEY_FILE=str(keyring.path), PORTAL_INTEGRATE_INTERVAL="0.2"
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "portal", "serve", "--port", str(port), "--workers", "2"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:

            async def healthy():
                if process.poll() is not None:
                    raise AssertionError(f"portal serve exited: {process.stdout.read().decode()}")
                try:
                    return (await client.get("/healthz")).status_code == 200
                except httpx.TransportError:
                    return False

            await wait_for(healthy, "the server to answer /healthz")
            yield client
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.mark.slow
async def test_the_served_log_integrates_in_the_background_and_proves_itself(db, keyring, server):
    client = server
    health = await client.get("/healthz")
    assert health.json() == {"status": "ok", "database": "ok"}
    assert (await client.get("/ledger/checkpoint")).status_code == 404  # nothing signed yet

    receipts = [
        await append_entry(
            keyring,
            case=f"DR-2026-{n % 4:06d}",
            event_type="statement.submitted",
            actor=Actor("alice", "claimant"),
            body={"n": n},
        )
        for n in range(ENTRIES)
    ]

    async def signed_everything():
        response = await client.get("/ledger/checkpoint")
        return (
            response.status_code == 200
            and response.text.split("\n")[1] == str(ENTRIES)
            and response
        )

    response = await wait_for(signed_everything, "a checkpoint covering every entry")
    assert response.headers["content-type"].startswith("text/plain")
    keys = (await client.get("/ledger/keys")).text.splitlines()
    assert keys == [str(keyring.current.verifier())]
    checkpoint, _ = open_checkpoint(
        response.text, [parse_verifier_key(k) for k in keys], keyring.origin
    )

    sizes = [r["tree_size"] for r in await LedgerCheckpoint.select().order_by(LedgerCheckpoint.id)]
    assert sizes == sorted(set(sizes)), "two integrators must never sign the same size twice"
    first = await LedgerCheckpoint.select().order_by(LedgerCheckpoint.id).first()
    old_root = bytes(first["root_hash"])
    proof = (await client.get(f"/ledger/proof/consistency?old={sizes[0]}&new={ENTRIES}")).json()
    assert proof["old"] == sizes[0] and proof["new"] == ENTRIES
    verify_consistency(
        sizes[0],
        ENTRIES,
        old_root,
        checkpoint.root_hash,
        [base64.b64decode(h) for h in proof["proof"]],
    )

    index = 7
    inclusion = (await client.get(f"/ledger/proof/inclusion?index={index}&size={ENTRIES}")).json()
    leaf = receipts[index].leaf_hash
    verify_inclusion(
        leaf,
        index,
        ENTRIES,
        [base64.b64decode(h) for h in inclusion["proof"]],
        checkpoint.root_hash,
    )
    report = await verify_log(keyring.origin, keyring.verifiers)
    assert report.ok, report.render()


BAD_REQUESTS = [
    ("old=5&new=2", "1 <= old <= new"),
    ("old=1&new=999", "latest signed size"),
    ("old=x&new=2", "old"),
    ("new=2", "old"),
]


@pytest.mark.slow
async def test_a_bad_proof_request_is_told_what_to_fix(db, keyring, server):
    await append_entry(
        keyring,
        case="DR-2026-000001",
        event_type="case.filed",
        actor=Actor("a", "claimant"),
        body={},
    )

    async def signed():
        return (await server.get("/ledger/checkpoint")).status_code == 200

    await wait_for(signed, "the first checkpoint")
    for query, says in BAD_REQUESTS:
        response = await server.get(f"/ledger/proof/consistency?{query}")
        assert response.status_code == 400, query
        assert says in response.text, (query, response.text)
