"""Issue 9, load: fifty people at once for a minute on `portal serve --workers 2`, each
opening the case room, posting statements and now and then adding a file, on both
databases. Nothing fails, everything accepted is in the database and the ledger, and
the ledger verifies. The figures are printed, never asserted (see tests/bench/load.py).
"""

from __future__ import annotations

import asyncio
import os

from tests.load.driver import populate, run_load
from tests.load.site import Site, nothing_lost, verify_ledger, wait_integrated

USERS = int(os.environ.get("PORTAL_LOAD_USERS", "50"))
SECONDS = float(os.environ.get("PORTAL_LOAD_SECONDS", "60"))


def test_fifty_people_for_a_minute_lose_nothing(site: Site) -> None:
    people = asyncio.run(populate(site.base_url, USERS))
    tally = asyncio.run(run_load(site.base_url, people, SECONDS))
    print("\n" + tally.report(f"{USERS} people on {site.kind}"))

    assert not tally.failures, "\n".join(
        f"{f.kind} {f.status}: {f.detail[:300]}" for f in tally.failures[:20]
    )
    assert tally.count("room") and tally.count("statement") and tally.count("evidence")
    size = wait_integrated(site.url)
    assert size >= len(tally.statements) + len(tally.files)
    assert nothing_lost(site, tally) == []
    print(verify_ledger(site))
