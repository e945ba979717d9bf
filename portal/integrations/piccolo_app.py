"""Registers the integration tables and migrations with Piccolo."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from portal.integrations.tables import INTEGRATION_TABLES

APP_CONFIG = AppConfig(
    app_name="integrations",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=INTEGRATION_TABLES,
    migration_dependencies=["portal.accounts.piccolo_app"],
    commands=[],
)
