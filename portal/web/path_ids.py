"""Integers in a path are row ids or ledger sequence numbers, so they have a range.

Every `{name:int}` in a route names a `Serial` id or a `case_seq`, both SQL INTEGER:
32 bits on PostgreSQL, so no row anywhere has a number outside 0 .. 2**31 - 1. Litestar
parses any length of digits into a Python int, and a larger one reached the database:
SQLite's driver raised OverflowError and asyncpg "out of int32 range", both answered 500
(`/cases/<ref>/ledger/999999999999999999999`). A number out of that range is checked
here, once for every route, and answered exactly as a number in range that names no
row: 404, "Not found". It runs after the guards, as the handler would, so that whoever
may not use the route is refused as before whatever the number.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.exceptions import NotFoundException

SMALLEST = 0  # a case's first ledger entry is #0; ids start at 1
LARGEST = 2**31 - 1  # what an SQL INTEGER holds on PostgreSQL


async def path_ids_in_range(request: Request[Any, Any, Any]) -> None:
    """The app's `before_request` hook: 404 for an integer path parameter no row can have.

    Litestar runs only the innermost `before_request` of a handler's layers, so a router,
    controller or handler that sets its own must call this one first.
    """
    for value in request.path_params.values():
        if type(value) is int and not SMALLEST <= value <= LARGEST:
            raise NotFoundException()
