"""Schemathesis reads the OpenAPI schema the portal serves and throws generated requests,
valid and not, at every `/api/v1` operation of the real app over real HTTP, with a key
that holds every scope: none may be answered with a server error.

The app is served by uvicorn in the test's own event loop (its database pool lives
there); schemathesis is synchronous and runs in a thread, as a client would.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket

import hypothesis
import pytest
import schemathesis
import uvicorn
from schemathesis.checks import not_a_server_error

pytestmark = pytest.mark.slow

EXAMPLES = 25


@contextlib.asynccontextmanager
async def served(app):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    # The `app` fixture runs the lifespan already; uvicorn only serves requests.
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_level="warning"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


def run_schemathesis(base_url: str, token: str) -> list[str]:
    """Every operation of the API, `EXAMPLES` generated cases each; the failures found."""
    schema = schemathesis.openapi.from_url(f"{base_url}/schema/openapi.json").include(
        path_regex="^/api/v1/"
    )
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 7, [op.label for op in operations]
    for operation in operations:
        exercise(operation, base_url, token, failures)
    return failures


def exercise(operation, base_url: str, token: str, failures: list[str]) -> None:
    """`EXAMPLES` generated cases of one operation; each server error is noted."""

    @hypothesis.settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(hypothesis.HealthCheck),
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
    )
    @hypothesis.given(case=operation.as_strategy())
    def check(case) -> None:
        response = case.call(base_url=base_url, headers={"Authorization": f"Bearer {token}"})
        try:
            case.validate_response(response, checks=[not_a_server_error])
        except Exception as exc:  # collect all, to name every operation that fails
            failures.append(f"{operation.label}: {exc}")

    check()


async def test_schemathesis_finds_no_server_error(app, integration):
    async with served(app) as base_url:
        failures = await asyncio.to_thread(run_schemathesis, base_url, integration.token)
    assert not failures, "\n\n".join(failures[:5])
