"""What the staff dashboard counts and the case row did not keep: each case's outcome and
when it was reached, and the stage each deadline reminder was for (an `overdue` reminder
is the record of a missed deadline). Filled in for existing rows by the next migration.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Timestamptz, Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-11-23T10:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Case outcome, reminder stage"


def _params(**changes: object) -> dict[str, object]:
    params: dict[str, object] = {
        "null": False,
        "primary_key": False,
        "unique": False,
        "index": False,
        "index_method": IndexMethod.btree,
        "choices": None,
        "db_column_name": None,
        "secret": False,
    }
    params.update(changes)
    return params


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="cases", description=DESCRIPTION)
    manager.add_column(
        table_class_name="Case",
        tablename="dispute_case",
        column_name="outcome",
        db_column_name="outcome",
        column_class_name="Varchar",
        column_class=Varchar,
        params=_params(length=16, default=""),
        schema=None,
    )
    manager.add_column(
        table_class_name="Case",
        tablename="dispute_case",
        column_name="outcome_at",
        db_column_name="outcome_at",
        column_class_name="Timestamptz",
        column_class=Timestamptz,
        params=_params(default=None, null=True),
        schema=None,
    )
    manager.add_column(
        table_class_name="DeadlineReminder",
        tablename="deadline_reminder",
        column_name="stage",
        db_column_name="stage",
        column_class_name="Varchar",
        column_class=Varchar,
        params=_params(length=32, default=""),
        schema=None,
    )
    return manager
