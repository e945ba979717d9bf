"""Issue 9, faults, under load on `portal serve --workers 2`: a worker killed with
SIGKILL, PostgreSQL restarted, the disk full during an upload. Whatever the portal had
accepted is kept whole, whatever fails says so plainly, and the portal carries on by
itself.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.load.cluster import private_cluster
from tests.load.conftest import unavailable
from tests.load.driver import Tally, client, log_in, populate, run_load, token_of
from tests.load.site import (
    Site,
    nothing_lost,
    query,
    serving,
    tree_size,
    verify_ledger,
    wait_integrated,
    worker_pids,
)
from tests.support import Unavailable, postgres_database

PEOPLE = 20
# Liveness bounds for the scenario's steps, never measurements.
STEP_DEADLINE = 120.0


async def _until(check: object, what: str) -> None:
    end = time.monotonic() + STEP_DEADLINE
    while not check():  # type: ignore[operator]
        if time.monotonic() > end:
            raise AssertionError(f"gave up waiting for {what}")
        await asyncio.sleep(0.1)


def _failures(tally: Tally) -> str:
    return "\n".join(f"{f.kind} {f.status}: {f.detail[:200]}" for f in tally.failures[:20])


# --- A worker killed -----------------------------------------------------------------


def test_a_worker_killed_mid_load_loses_nothing(site: Site) -> None:
    people = asyncio.run(populate(site.base_url, PEOPLE))
    workers_before = worker_pids(site)
    assert len(workers_before) == 2, workers_before
    victim = workers_before[0]
    killed: dict[str, float] = {}

    async def kill_a_worker(tally: Tally) -> None:
        # Mid-load: once a good number of statements went through both workers.
        await _until(lambda: len(tally.statements) >= 100, "a hundred statements")
        killed["size"] = tree_size(site.url)
        os.kill(victim, signal.SIGKILL)
        killed["at"] = time.monotonic()

    tally = asyncio.run(run_load(site.base_url, people, 40, during=kill_a_worker))
    print("\n" + tally.report(f"{PEOPLE} people on {site.kind}, worker {victim} killed"))
    workers_after = worker_pids(site)
    print(f"workers before {workers_before}, after {workers_after}")

    # What failed is what the dead worker was answering: the connection dropped, at
    # most one request for each person; every other request succeeded.
    assert all(f.status is None and f.at >= killed["at"] for f in tally.failures), _failures(tally)
    assert len(tally.failures) <= PEOPLE, _failures(tally)
    # The other worker (and uvicorn's replacement, if it made one) carried on.
    assert site.process.poll() is None
    assert victim not in workers_after and workers_before[1] in workers_after
    assert tally.count("statement", since=killed["at"]) >= PEOPLE
    assert tally.count("room", since=killed["at"]) >= PEOPLE
    # The integrator went on integrating what was appended after the kill.
    size = wait_integrated(site.url)
    assert size > killed["size"] and tree_size(site.url) == size
    assert nothing_lost(site, tally) == []
    print(verify_ledger(site))


# --- PostgreSQL restarted ------------------------------------------------------------

OUTAGE_SECONDS = 6.0  # how long the database stays down: the scenario, not a measure


def test_postgres_restarted_mid_load(tmp_path: Path) -> None:
    try:
        with (
            private_cluster() as cluster,
            postgres_database("portal_load", cluster.admin_url) as url,
            serving("postgres", url, tmp_path) as site,
        ):
            _restart_under_load(cluster, site)
    except Unavailable as exc:
        unavailable(f"no PostgreSQL of the test's own: {exc}")


def _restart_under_load(cluster: object, site: Site) -> None:
    people = asyncio.run(populate(site.base_url, PEOPLE // 2))
    workers = worker_pids(site)
    outage: dict[str, float] = {}

    async def restart(tally: Tally) -> None:
        await _until(lambda: len(tally.statements) >= 50, "fifty statements")
        outage["down"] = time.monotonic()  # from the moment the stopping begins
        await asyncio.to_thread(cluster.stop)  # type: ignore[attr-defined]
        await _until(
            lambda: sum(f.at > outage["down"] for f in tally.failures) >= 10,
            "requests to fail while the database is down",
        )
        await asyncio.sleep(max(0.0, outage["down"] + OUTAGE_SECONDS - time.monotonic()))
        await asyncio.to_thread(cluster.start)  # type: ignore[attr-defined]
        outage["up"] = time.monotonic()

    tally = asyncio.run(run_load(site.base_url, people, 45, during=restart))
    print("\n" + tally.report(f"{len(people)} people, PostgreSQL down for a while"))
    print(f"{len(tally.failures)} failures, kinds: {sorted({f.kind for f in tally.failures})}")

    # While it was down, requests failed, each with a page that says so: never a hang
    # (the driver's request timeout would show as an exception), never a bare 500.
    assert tally.failures, "nothing failed: the database was never down"
    for failure in tally.failures:
        assert failure.status == 503, _failures(tally)
        assert "cannot reach its database" in failure.detail, failure.detail
        assert failure.at >= outage["down"]
    # After, without restarting the portal: the same processes answer everyone.
    assert site.process.poll() is None and worker_pids(site) == workers
    assert tally.count("statement", since=outage["up"]) >= len(people)
    asyncio.run(_everyone_once_more(site, people))
    wait_integrated(site.url)
    assert nothing_lost(site, tally) == []
    print(verify_ledger(site))


async def _everyone_once_more(site: Site, people: list) -> None:
    """Each person, logged in afresh, opens the room and posts: all of it succeeds."""
    tally = await run_load(site.base_url, people, 0, upload_every=0, rounds=1)
    assert not tally.failures, _failures(tally)
    assert tally.count("statement") >= len(people)


# --- The disk full during an upload --------------------------------------------------


def _mount_small_disk(where: Path, size: str) -> None:
    where.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(where)],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        pytest.skip(f"cannot mount a small disk here: {result.stderr.strip() or 'not root'}")


def _unmount(where: Path) -> None:
    if subprocess.run(["umount", str(where)], capture_output=True).returncode != 0:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


def _fill(where: Path, leave: int) -> Path:
    """Fill the disk at `where` until `leave` bytes are free."""
    filler = where / "filler"
    free = os.statvfs(where)
    room = free.f_bavail * free.f_frsize - leave
    with filler.open("wb") as handle:
        handle.write(b"\0" * max(room, 0))
    return filler


def _files_in(where: Path) -> list[str]:
    return sorted(str(p.relative_to(where)) for p in where.rglob("*") if p.is_file())


def test_an_upload_onto_a_full_disk_fails_plainly_and_leaves_nothing(site: Site) -> None:
    (person, _other) = asyncio.run(populate(site.base_url, 2))
    evidence = site.data_dir / "evidence"
    _mount_small_disk(evidence, "1m")
    try:
        filler = _fill(evidence, leave=64 * 1024)
        before = _files_in(evidence)
        entries = query(site.url, "SELECT COUNT(*) FROM ledger_entry")[0][0]
        answers = asyncio.run(_upload_too_much(site, person))
        for htmx, response in answers.items():
            assert response.status_code == 507, (htmx, response.status_code, response.text)
            assert "no room left to store files" in response.text, response.text
            assert "nothing was kept" in response.text
        # Nothing behind: no part file, no stored file, no row, no entry.
        assert _files_in(evidence) == before == ["filler"]
        assert query(site.url, "SELECT COUNT(*) FROM case_evidence") == [(0,)]
        assert query(site.url, "SELECT COUNT(*) FROM ledger_entry")[0][0] == entries
        # With room again, the same upload is kept.
        filler.unlink()
        again = asyncio.run(_upload_too_much(site, person, htmx_too=False))
        assert again[False].status_code == 303, again[False].text
        assert query(site.url, "SELECT COUNT(*) FROM case_evidence") == [(1,)]
    finally:
        _unmount(evidence)
    wait_integrated(site.url)
    print(verify_ledger(site))


async def _upload_too_much(
    site: Site, person: object, htmx_too: bool = True
) -> dict[bool, httpx.Response]:
    """A 300 KiB file through the room's form, plain and (if asked) as htmx sends it."""
    answers = {}
    async with client(site.base_url) as http:
        await log_in(http, person)  # type: ignore[arg-type]
        room = f"/cases/{person.case_ref}"  # type: ignore[attr-defined]
        for htmx in (False, True) if htmx_too else (False,):
            token = token_of((await http.get(room)).text)
            content = os.urandom(300 * 1024)
            answers[htmx] = await http.post(
                f"{room}/evidence",
                files=[
                    ("_csrf_token", (None, token)),
                    ("channel", (None, "all")),
                    ("files", ("statement.pdf", b"%PDF-1.4\n" + content, "application/pdf")),
                ],
                headers={"HX-Request": "true"} if htmx else {},
            )
    return answers
