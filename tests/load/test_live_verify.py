"""Issue 16, finding 9: `portal ledger verify` on a live portal raises no false alarm.

Run while `portal serve` was integrating, it once reported "FAIL [tree] node (0, 78): a
stored node lies beyond the tree": it read the entries, then the nodes and checkpoints,
and a batch integrated in between. Here people write to their cases through two workers
whose integrators sign a checkpoint every few milliseconds, and the operator's command
runs again and again beside them; every run must pass, and must have seen the log grow.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.load.conftest import unavailable
from tests.load.driver import Tally, populate, run_load
from tests.load.site import Site, database, serving, tree_size
from tests.support import Unavailable, run_portal

PEOPLE = 8
VERIFICATIONS = 8
# Bounds that end the load if the verifications never finish, never measurements.
LOAD_SECONDS_AT_MOST = 600.0
VERIFY_TIMEOUT = 240.0
SUMMARY = re.compile(r"tree of (\d+) leaves, (\d+) checkpoints")


@pytest.fixture(params=["sqlite", "postgres"])
def busy_site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Site]:
    """The portal on two workers whose integrators look for new entries every 20 ms."""
    try:
        with (
            database(request.param, tmp_path) as url,
            serving(request.param, url, tmp_path, PORTAL_INTEGRATE_INTERVAL="0.02") as site,
        ):
            yield site
            print(f"server log: {site.log_path}")
    except Unavailable as exc:
        unavailable(str(exc))


def test_ledger_verify_beside_writers_and_integrators_finds_nothing(busy_site: Site) -> None:
    site = busy_site
    people = asyncio.run(populate(site.base_url, PEOPLE))
    stop = asyncio.Event()
    reports: list[tuple[int, str]] = []

    async def verify_again_and_again(tally: Tally) -> None:
        try:
            while len(reports) < VERIFICATIONS:
                if len(tally.statements) < 20 * (len(reports) + 1):
                    await asyncio.sleep(0.1)  # let the log grow between two runs
                    continue
                result = await asyncio.to_thread(
                    run_portal,
                    "ledger",
                    "verify",
                    env=site.env,
                    check=False,
                    timeout=VERIFY_TIMEOUT,
                )
                reports.append((result.returncode, result.stdout + result.stderr))
        finally:
            stop.set()

    tally = asyncio.run(
        run_load(
            site.base_url,
            people,
            LOAD_SECONDS_AT_MOST,
            upload_every=3,
            during=verify_again_and_again,
            stop=stop,
        )
    )
    print("\n" + tally.report(f"{PEOPLE} people on {site.kind}, {len(reports)} verifications"))

    failed = [report for code, report in reports if code != 0]
    assert len(reports) == VERIFICATIONS
    assert not failed, f"{len(failed)} of {len(reports)} runs failed:\n" + "\n".join(failed)
    sizes = [int(SUMMARY.search(report).group(1)) for _, report in reports]  # type: ignore[union-attr]
    print(f"tree sizes seen: {sizes}; final {tree_size(site.url)}")
    # Each run read a log that had grown since the one before: integrated while it ran.
    assert sizes == sorted(sizes) and sizes[0] < sizes[-1], sizes
    assert tally.count("statement") >= 20 * VERIFICATIONS
