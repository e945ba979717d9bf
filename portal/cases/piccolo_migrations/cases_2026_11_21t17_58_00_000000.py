"""Indexes for queues and reminders (the default deadlines live in portal.cases.deadlines)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-21T17:58:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Queue and reminder indexes"

async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="cases", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        # Exactly one reminder of each kind per deadline, however many sweeps run.
        await engine.run_ddl(
            "CREATE UNIQUE INDEX deadline_reminder_once "
            'ON deadline_reminder ("case", deadline_at, kind)'
        )
        await engine.run_ddl(
            "CREATE UNIQUE INDEX deadline_policy_stage ON deadline_policy (stage, priority)"
        )
        # Queues: open cases by state, priority first, then by deadline.
        await engine.run_ddl(
            "CREATE INDEX dispute_case_queue ON dispute_case (state, priority, deadline_at)"
        )
        await engine.run_ddl(
            "CREATE INDEX dispute_case_due ON dispute_case (deadline_at, priority)"
        )
        await engine.run_ddl(
            'CREATE INDEX case_participant_user_role ON case_participant ("user", role, "case")'
        )
        await engine.run_ddl(
            'CREATE UNIQUE INDEX case_participant_once ON case_participant ("case", "user", role)'
        )

    manager.add_raw(run)
    return manager
