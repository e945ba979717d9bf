"""Registers the case tables and migrations with Piccolo."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from portal.cases.tables import CASE_TABLES

APP_CONFIG = AppConfig(
    app_name="cases",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=CASE_TABLES,
    migration_dependencies=["portal.accounts.piccolo_app"],
    commands=[],
)
