"""Registers the arbitration tables and migrations with Piccolo."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from arbitration.tables import ARBITRATION_TABLES

APP_CONFIG = AppConfig(
    app_name="arbitration",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=ARBITRATION_TABLES,
    migration_dependencies=["mediation.piccolo_app"],
    commands=[],
)
