"""Registers the mediation tables and migrations with Piccolo."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from mediation.tables import MEDIATION_TABLES

APP_CONFIG = AppConfig(
    app_name="mediation",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=MEDIATION_TABLES,
    migration_dependencies=["portal.cases.piccolo_app"],
    commands=[],
)
