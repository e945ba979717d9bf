"""Registers the ledger's tables and migrations with Piccolo."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from ledger.tables import LEDGER_TABLES

APP_CONFIG = AppConfig(
    app_name="ledger",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=LEDGER_TABLES,
    migration_dependencies=[],
    commands=[],
)
