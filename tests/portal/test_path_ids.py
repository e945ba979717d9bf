"""Issue 16, finding 7: an integer in a path that no row can have is "Not found", never 500.

`/cases/<ref>/ledger/999999999999999999999` and `/cases/<ref>/evidence/2**63/download`
raised OverflowError on SQLite; on PostgreSQL anything past 32 bits was out of the
INTEGER columns' range. Every route with an integer parameter is read from the app
itself (a route added later is walked too), and sent, by each of the cast and by an API
key holding every scope, with the largest id a row can have (none has it) and with
numbers past either end of the range. Past the range the answer is the 404 an unknown
id gets, or the refusal the caller gets for any id (a login redirect, a guard's 403):
never anything else, and for every route somebody gets the 404.
"""

from __future__ import annotations

import re

import httpx

from portal.integrations.keys import SCOPES, create_key
from portal.web.path_ids import LARGEST
from tests.portal.test_routes_by_role import world  # noqa: F401 (the fixture)

INTEGER = re.compile(r"\{(\w+):int\}")
UNKNOWN = LARGEST  # in range, and no test makes two billion rows
OUT_OF_RANGE = (LARGEST + 1, 2**63, 10**21, -1, -(2**63) - 1)
CALLERS = ("alice", "ivy", "sue", "mona", "ari", "lee", "anon")


def integer_routes(app) -> list[tuple[str, str]]:
    """(method, path template) of every route with an integer path parameter."""
    found = []
    for route in app.routes:
        if not INTEGER.search(route.path):
            continue
        for method in sorted(set(getattr(route, "methods", ())) - {"HEAD", "OPTIONS"}):
            found.append((method, route.path))
    return found


def filled(template: str, ref: str, number: int) -> str:
    return INTEGER.sub(str(number), template.replace("{ref:str}", ref))


async def test_every_integer_path_parameter_out_of_range_is_not_found(
    app,
    people,
    browser,
    world,  # noqa: F811 (the imported fixture)
):
    routes = integer_routes(app)
    assert ("GET", "/cases/{ref:str}/ledger/{seq:int}") in routes
    assert ("GET", "/cases/{ref:str}/evidence/{evidence_id:int}/download") in routes
    browsers = {name: await browser(people[name]) for name in CALLERS if name != "anon"}
    browsers["anon"] = await browser()
    key = await create_key(world.integration, list(SCOPES), people["sue"].id)
    api = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=("198.51.100.20", 40000)),
        base_url="http://portal.test",
        headers={"Authorization": f"Bearer {key.token}"},
    )

    async def send(caller: str, method: str, path: str) -> int:
        if caller == "api":
            return (await api.request(method, path)).status_code
        if method == "GET":
            return (await browsers[caller].get(path)).status_code
        return (await browsers[caller].post(path, {})).status_code

    wrong = []
    unreached = []
    try:
        for method, template in routes:
            callers = ("api",) if template.startswith("/api/") else CALLERS
            reached = False
            for caller in callers:
                unknown = await send(caller, method, filled(template, world.ref, UNKNOWN))
                for number in OUT_OF_RANGE:
                    status = await send(caller, method, filled(template, world.ref, number))
                    if status not in (404, unknown):
                        wrong.append(f"{method} {template} = {number} as {caller}: {status}")
                    reached = reached or status == 404
            if not reached:
                unreached.append(f"{method} {template}")
    finally:
        await api.aclose()

    assert not wrong, "\n".join(wrong)
    assert not unreached, "nobody was answered 404: " + ", ".join(unreached)
