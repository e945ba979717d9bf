"""The queue index ends with the case's ID, so each page of a queue is one ordered walk.

Queues page by keyset (priority, deadline, ID). SQLite appends the rowid to every index
already; PostgreSQL needs the ID in the index to give rows in that order without a sort,
including the cases without a deadline, which go by ID alone.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-22T09:14:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Queue index ends with the case ID"

async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="cases", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        await engine.run_ddl("DROP INDEX IF EXISTS dispute_case_queue")
        await engine.run_ddl(
            "CREATE INDEX dispute_case_queue ON dispute_case (state, priority, deadline_at, id)"
        )

    async def run_backwards():
        engine = engine_finder()
        await engine.run_ddl("DROP INDEX IF EXISTS dispute_case_queue")
        await engine.run_ddl(
            "CREATE INDEX dispute_case_queue ON dispute_case (state, priority, deadline_at)"
        )

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
