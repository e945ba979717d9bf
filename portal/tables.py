"""Every Piccolo table of every app, so engines can be bound to all of them at once."""

from piccolo.table import Table

from ledger.tables import LEDGER_TABLES

ALL_TABLES: list[type[Table]] = [*LEDGER_TABLES]
