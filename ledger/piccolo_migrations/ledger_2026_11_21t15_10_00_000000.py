"""Indexes Piccolo's column types cannot express: run after the tables exist."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-21T15:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Ledger indexes: one case_seq per case, and the integrator's queue"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="ledger", description=DESCRIPTION)

    async def create_indexes():
        engine = engine_finder()
        # A backstop under the head-row lock: no two entries may share a case_seq.
        await engine.run_ddl(
            "CREATE UNIQUE INDEX ledger_entry_case_seq ON ledger_entry (case_ref, case_seq)"
        )
        # The integrator's queue: entries not yet given a leaf index, oldest first.
        await engine.run_ddl(
            "CREATE INDEX ledger_entry_pending ON ledger_entry (id) WHERE leaf_index IS NULL"
        )

    manager.add_raw(create_indexes)
    return manager
