"""The case room does a bounded number of queries, however long the case's history."""

from __future__ import annotations

import asyncio

import pytest

from portal.cases.access import case_access
from portal.cases.statements import post_statement
from portal.cases.tables import Case
from portal.web.viewer import Viewer
from tests.portal.test_filing import file_dispute


class QueryCounter:
    """Counts the queries of this task only: the app's background integrator and mailer
    use the same engine from their own tasks."""

    def __init__(self, engine, monkeypatch) -> None:
        self.count = 0
        task = asyncio.current_task()
        original = type(engine).run_querystring

        async def counted(engine_self, *args, **kwargs):
            if asyncio.current_task() is task:
                self.count += 1
            return await original(engine_self, *args, **kwargs)

        monkeypatch.setattr(type(engine), "run_querystring", counted)


async def events_on(app, people, browser, statements: int) -> tuple[object, str]:
    alice = people["alice"]
    b = await browser(alice)
    ref = (await file_dispute(b)).headers["location"].removeprefix("/cases/")
    viewer = Viewer(alice.id, alice.email, "Alice", "party", "en", False, True)
    _case, access = await case_access(viewer, ref)
    for number in range(statements):
        await post_statement(app.state.keyring, ref, access, "all", None, f"Statement {number}")
    return b, ref


@pytest.mark.slow
async def test_room_queries_do_not_grow_with_the_timeline(app, people, browser, monkeypatch):
    counts = {}
    for size in (10, 500):
        b, ref = await events_on(app, people, browser, size)
        engine = Case._meta.db
        counter = QueryCounter(engine, monkeypatch)
        page = await b.get(f"/cases/{ref}")
        monkeypatch.undo()
        assert page.status_code == 200
        assert f"Statement {size - 1}" in page.text  # the whole history is there
        counts[size] = counter.count
    assert counts[10] == counts[500], counts
    assert counts[500] <= 12, counts
