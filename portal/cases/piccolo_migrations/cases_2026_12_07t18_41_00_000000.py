"""One row per form sent: the same sender, token and content cannot be recorded twice,
however many copies of the form arrive at once (on either database)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-07T18:41:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Forms sent once: unique index"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="cases", description=DESCRIPTION)

    async def run():
        await engine_finder().run_ddl(
            "CREATE UNIQUE INDEX sent_form_once ON sent_form (sender, token, fingerprint)"
        )

    async def run_backwards():
        await engine_finder().run_ddl("DROP INDEX IF EXISTS sent_form_once")

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
