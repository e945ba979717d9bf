"""Each key has one counter per minute, whatever workers race to create it; a webhook
event reaches each endpoint once; due deliveries are found without a scan."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-21T23:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Integration uniqueness and the delivery queue index"

STATEMENTS = (
    "CREATE UNIQUE INDEX api_rate_window_once ON api_rate_window (api_key, window_start)",
    "CREATE UNIQUE INDEX webhook_delivery_once ON webhook_delivery (endpoint, event_id)",
    "CREATE INDEX webhook_delivery_due ON webhook_delivery (status, next_attempt_at)",
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="integrations", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        for statement in STATEMENTS:
            await engine.run_ddl(statement)

    async def run_backwards():
        engine = engine_finder()
        for name in ("api_rate_window_once", "webhook_delivery_once", "webhook_delivery_due"):
            await engine.run_ddl(f"DROP INDEX IF EXISTS {name}")

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
