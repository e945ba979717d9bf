"""Whose lawyer a legal user on a case is: `case_participant.acts_for`, a party's user, or
null for the platform's legal team. Every existing legal participant acts for the platform,
as the portal had it until now, so nothing needs filling in.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.columns.column_types import ForeignKey, Serial
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table

ID = "2026-12-07T19:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "The side a legal participant acts for"


class User(Table, tablename="portal_user", schema=None):
    """The user table as this migration knows it: what the new column references."""

    id = Serial(primary_key=True)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="cases", description=DESCRIPTION)
    manager.add_column(
        table_class_name="CaseParticipant",
        tablename="case_participant",
        column_name="acts_for",
        db_column_name="acts_for",
        column_class_name="ForeignKey",
        column_class=ForeignKey,
        params={
            "references": User,
            "on_delete": OnDelete.cascade,
            "on_update": OnUpdate.cascade,
            "target_column": None,
            "null": True,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )
    return manager
