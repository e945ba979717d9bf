"""Registers the accounts tables and migrations with Piccolo."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from portal.accounts.tables import ACCOUNT_TABLES

APP_CONFIG = AppConfig(
    app_name="accounts",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=ACCOUNT_TABLES,
    migration_dependencies=["ledger.piccolo_app"],
    commands=[],
)
