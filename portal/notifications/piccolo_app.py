"""Registers the notification tables and migrations with Piccolo."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from portal.notifications.tables import NOTIFICATION_TABLES

APP_CONFIG = AppConfig(
    app_name="notifications",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=NOTIFICATION_TABLES,
    migration_dependencies=["portal.accounts.piccolo_app"],
    commands=[],
)
