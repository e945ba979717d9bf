"""A writer for the kill tests: records changes to cases, each with its ledger entry, until killed.

    python tests/ledger/scripts/append_forever.py CASE [CASE ...]

Reads PORTAL_DATABASE_URL, PORTAL_SIGNING_KEY_FILE and PORTAL_LOG_ORIGIN. Each change is
one write transaction holding both the entry and a row of `kill_test_change` (a side table
of its own, standing for the portal's record of the change), and is printed as
"<case> <case_seq>" once committed. It stops by itself if the test that started it dies.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
from pathlib import Path

from piccolo.querystring import QueryString

from ledger.appender import append_entry
from ledger.entry import Actor
from ledger.keys import Keyring
from portal.database import bind_tables, connected, create_engine, write_transaction
from portal.tables import ALL_TABLES

ALICE = Actor("alice", "claimant")
CREATE_CHANGES = "CREATE TABLE IF NOT EXISTS kill_test_change (case_ref TEXT, seq INTEGER)"
INSERT_CHANGE = "INSERT INTO kill_test_change (case_ref, seq) VALUES ({}, {})"


async def record_changes(cases: list[str]) -> None:
    engine = create_engine(os.environ["PORTAL_DATABASE_URL"])
    bind_tables(engine, ALL_TABLES)
    keyring = Keyring.open(
        Path(os.environ["PORTAL_SIGNING_KEY_FILE"]), os.environ["PORTAL_LOG_ORIGIN"], create=False
    )
    parent = os.getppid()
    async with connected(engine, pool_size=2):
        await engine.run_ddl(CREATE_CHANGES)
        while os.getppid() == parent:
            case = random.choice(cases)
            async with write_transaction(engine):
                receipt = await append_entry(
                    keyring,
                    case=case,
                    event_type="claim.amended",
                    actor=ALICE,
                    body={"amount": f"{random.randint(1, 10**6)}.00"},
                )
                await engine.run_querystring(QueryString(INSERT_CHANGE, case, receipt.case_seq))
            print(case, receipt.case_seq, flush=True)


if __name__ == "__main__":
    asyncio.run(record_changes(sys.argv[1:]))
