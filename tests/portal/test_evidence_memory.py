"""Evidence through the real server: a 200 MB upload keeps the worker's memory flat, and
a connection dropped midway leaves nothing on disk or in the database."""

from __future__ import annotations

import asyncio
import hashlib
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from ledger.tables import LedgerEntry
from portal.cases.tables import Evidence
from tests.people import Browser, make_person
from tests.portal.conftest import SECRET
from tests.portal.test_filing import file_dispute
from tests.portal.test_serve import free_port, wait_for
from tests.support import ROOT, portal_env

MiB = 1024 * 1024
SIZE = 200 * MiB
BOUNDARY = "----portal-memory-test-boundary"


def rss_kib(pid: int, field: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"{field} not in /proc/{pid}/status")


class RssSampler:
    """Samples a process's resident set every 20 ms, from a thread of its own."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self.samples = pid, 0, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_kib(self.pid))
            self.samples += 1
            time.sleep(0.02)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@pytest.fixture
async def served(db, tmp_path):
    """`portal serve` with one worker (so its PID is the one that reads uploads), on SQLite."""
    port = free_port()
    env = portal_env(db.url, tmp_path, PORTAL_SECRET_KEY=SECRET, PORTAL_INTEGRATE_INTERVAL="0.2")
    process = subprocess.Popen(
        [sys.executable, "-m", "portal", "serve", "--port", str(port), "--workers", "1"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:

            async def healthy():
                if process.poll() is not None:
                    raise AssertionError(f"portal serve exited: {process.stdout.read().decode()}")
                try:
                    return (await client.get("/healthz")).status_code == 200
                except httpx.TransportError:
                    return False

            await wait_for(healthy, "the server to answer /healthz")
            alice = await make_person("alice", "party", SECRET)
            b = Browser(client)
            await b.get("/login")
            await b.log_in(alice)
            filed = await file_dispute(b)
            assert filed.status_code == 303, filed.text
            ref = filed.headers["location"].removeprefix("/cases/")
            yield process, b, ref, tmp_path / "data"
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def part_head(name: str, media_type: str) -> bytes:
    return (
        f"--{BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="channel"\r\n\r\nall\r\n'
        f"--{BOUNDARY}\r\n"
        f'Content-Disposition: form-data; name="files"; filename="{name}"\r\n'
        f"Content-Type: {media_type}\r\n\r\n"
    ).encode()


# The server's memory is measured once, on SQLite: the upload path does not depend on
# the database, and each run starts a real server.
@pytest.mark.slow
@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
async def test_a_200_mb_upload_keeps_the_servers_memory_flat(served):
    process, b, ref, data_dir = served
    digest = hashlib.sha256()
    block = os.urandom(MiB)

    async def body():
        # Made on the fly: neither the test nor the server ever holds the whole file.
        yield part_head("recording.pdf", "application/pdf")
        head = b"%PDF-1.7\n"
        digest.update(head)
        yield head
        remaining = SIZE - len(head)
        n = 0
        while remaining:
            chunk = block[: min(MiB, remaining)]
            chunk = n.to_bytes(8, "big") + chunk[8:] if len(chunk) >= 8 else chunk
            digest.update(chunk)
            yield chunk
            remaining -= len(chunk)
            n += 1
        yield f"\r\n--{BOUNDARY}--\r\n".encode()

    baseline = rss_kib(process.pid)
    with RssSampler(process.pid) as sampler:
        response = await b.client.post(
            f"/cases/{ref}/evidence",
            content=body(),
            headers={
                "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
                "X-CSRFToken": b.csrf_token(),
                "HX-Request": "true",
            },
        )
    assert response.status_code == 200, response.text
    assert "Added 1 file." in response.text, response.text
    growth_mib = (sampler.peak - baseline) / 1024
    assert sampler.samples > 10
    assert growth_mib < 60, (
        f"the server grew from {baseline // 1024} MiB by {growth_mib:.0f} MiB for a 200 MiB upload"
    )

    row = await Evidence.select().where(Evidence.name == "recording.pdf").first()
    assert (row["size"], row["sha256"], row["media_type"]) == (
        SIZE,
        digest.hexdigest(),
        "application/pdf",
    )
    stored = data_dir / "evidence" / row["sha256"][:2] / row["sha256"]
    on_disk = hashlib.sha256()
    with stored.open("rb") as handle:
        while chunk := handle.read(MiB):
            on_disk.update(chunk)
    assert on_disk.hexdigest() == digest.hexdigest()


@pytest.mark.slow
@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
async def test_a_connection_dropped_midway_leaves_nothing(served):
    process, b, ref, data_dir = served
    port = int(str(b.client.base_url).rsplit(":", 1)[1].rstrip("/"))
    before = await LedgerEntry.count()
    body_start = part_head("statement.pdf", "application/pdf") + b"%PDF-1.7\n" + bytes(3 * MiB)
    cookies = "; ".join(f"{k}={v}" for k, v in b.client.cookies.items())
    _reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        (
            f"POST /cases/{ref}/evidence HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{port}\r\n"
            f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
            f"Content-Length: {20 * MiB}\r\n"
            f"X-CSRFToken: {b.csrf_token()}\r\n"
            f"Cookie: {cookies}\r\n\r\n"
        ).encode()
        + body_start
    )
    await writer.drain()

    async def writing_started():
        return any(p.is_file() for p in (data_dir / "evidence" / "tmp").glob("*.part"))

    await wait_for(writing_started, "the server to start writing the file")
    writer.close()  # the client goes away in the middle of the file

    async def cleaned_up():
        return not any(p.is_file() for p in (data_dir / "evidence").rglob("*"))

    await wait_for(cleaned_up, "the partial file to be removed")
    assert await Evidence.count() == 0
    assert await LedgerEntry.count() == before
    assert process.poll() is None
