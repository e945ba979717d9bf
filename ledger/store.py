"""How the ledger reads and writes its tables, on SQLite and on PostgreSQL.

The hot operations (append, integrate, fetch proof nodes) are each one round trip.
On PostgreSQL that means one statement where SQL allows it. On SQLite it means one
call into the connection's thread: aiosqlite pays about 200 µs for every hop between
the event loop and that thread, so an append written as four awaited statements
manages ~600 a second where one hop manages ~2,900 (measured on the 2-core machine).

The appender works inside the caller's transaction when there is one, so that an
entry and the change it records commit together or not at all. On PostgreSQL an append
outside any transaction is optimistic instead (see `PostgresStore.append`).

A reader that needs the log as one state (the audit) reads inside `snapshot()`: an
integration commits its leaf indexes, nodes and checkpoint together, so every read in
one snapshot sees a tree that ends exactly at the newest checkpoint in it.

The two dialects are `ledger.sqlite_store` and `ledger.postgres_store`; what they share
is `ledger.storage`.
"""

from __future__ import annotations

from piccolo.engine.base import Engine
from piccolo.engine.sqlite import SQLiteEngine

from ledger.errors import LedgerError
from ledger.postgres_store import PostgresStore
from ledger.sqlite_store import SQLiteStore
from ledger.tables import LedgerEntry


def store_for(engine: Engine | None = None) -> SQLiteStore | PostgresStore:  # type: ignore[type-arg]
    """The store for the engine the ledger's tables are bound to."""
    engine = engine or LedgerEntry._meta.db
    if isinstance(engine, SQLiteEngine):
        return SQLiteStore(engine)
    if engine.engine_type == "postgres":
        return PostgresStore(engine)
    raise LedgerError(f"The ledger does not support the {engine.engine_type} engine.")
