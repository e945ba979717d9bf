"""Simulated people using the portal over HTTP at once: the load of the load tests and of
`tests/bench/load.py`, one driver for both so that the figures and the checks see the
same traffic.

The people are made the way real ones are: each signs up at /signup; half of them then
file a dispute at /cases/new naming one of the other half as the respondent, so every
case is shared by the two sides, who write into the same case chain at once. Then each
person logs in once, with the CSRF token from the form, and until the time is up opens
the case room, posts a statement from it (as the room's htmx form does), and now and
then adds a small evidence file through the room's upload form.

Every request's latency is kept by kind; every answer that is not a success (2xx or
the redirect that ends a form), and every exception, is kept with the moment it came,
so that a fault test can tell what failed while the database was down from what
failed after. Each accepted statement and file is remembered, to look for afterwards
in the database and the ledger.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx

# A liveness bound for one request, never a measurement: a request that takes longer
# counts as an error ("hangs").
REQUEST_TIMEOUT = 60.0
HEAD = re.compile(r"<head>.*?</head>|<nav.*?</nav>", re.S)
MARKUP = re.compile(r"<[^>]+>")
TOKEN = re.compile(r'name="_csrf_token"\s+value="([^"]+)"')


@dataclass
class Person:
    name: str
    email: str
    password: str
    case_ref: str = ""


@dataclass(frozen=True)
class Failure:
    kind: str
    at: float  # time.monotonic() when the answer (or the exception) came
    status: int | None  # None for an exception
    detail: str


@dataclass(frozen=True)
class Accepted:
    case_ref: str
    text: str  # a statement's text, or an evidence file's SHA-256
    at: float


@dataclass
class Tally:
    """What the simulated people did and what came back."""

    latencies: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    statements: list[Accepted] = field(default_factory=list)
    files: list[Accepted] = field(default_factory=list)
    started: float = 0.0
    ended: float = 0.0

    def took(self, kind: str, started: float) -> None:
        """One successful request of `kind`: when it ended and how long it took."""
        now = time.monotonic()
        self.latencies.setdefault(kind, []).append((now, now - started))

    def fail(self, kind: str, status: int | None, detail: str) -> None:
        """Keep what a person would read of the answer: its text without the page's head."""
        text = " ".join(MARKUP.sub(" ", HEAD.sub("", detail)).split())
        self.failures.append(Failure(kind, time.monotonic(), status, text[:500]))

    def count(self, kind: str, since: float = 0.0) -> int:
        return sum(1 for at, _took in self.latencies.get(kind, []) if at >= since)

    def figures(self, kind: str) -> tuple[float, float, float, int]:
        """Requests per second over the run, p50 and p99 latency in ms, and the count."""
        taken = sorted(took for _at, took in self.latencies.get(kind, []))
        seconds = max(self.ended - self.started, 1e-9)
        if not taken:
            return 0.0, 0.0, 0.0, 0
        return (
            len(taken) / seconds,
            percentile(taken, 50) * 1000,
            percentile(taken, 99) * 1000,
            len(taken),
        )

    def report(self, title: str) -> str:
        lines = [f"{title}: {self.ended - self.started:.1f} s"]
        for kind in sorted(self.latencies):
            rate, p50, p99, n = self.figures(kind)
            lines.append(
                f"  {kind:<10} {rate:8.1f} req/s  p50 {p50:8.1f} ms  p99 {p99:8.1f} ms  ({n})"
            )
        lines.append(f"  failures: {len(self.failures)}")
        return "\n".join(lines)


def percentile(ordered: list[float], p: float) -> float:
    """Nearest-rank percentile of an ordered list."""
    rank = max(1, round(p / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def client(base_url: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=base_url, timeout=REQUEST_TIMEOUT, follow_redirects=False)


def token_of(html: str) -> str:
    found = TOKEN.search(html)
    if not found:
        raise AssertionError("the page has no CSRF token")
    return found.group(1)


async def _form_token(http: httpx.AsyncClient, path: str) -> str:
    response = await http.get(path)
    if response.status_code != 200:
        raise AssertionError(f"GET {path}: {response.status_code}\n{response.text[:2000]}")
    return token_of(response.text)


async def sign_up(http: httpx.AsyncClient, person: Person) -> None:
    token = await _form_token(http, "/signup")
    response = await http.post(
        "/signup",
        data={
            "_csrf_token": token,
            "name": person.name,
            "email": person.email,
            "password": person.password,
            "password_again": person.password,
        },
    )
    # The answer is "check your email" either way (it must not tell a taken address);
    # then the new account logs in.
    if response.status_code != 200:
        raise AssertionError(f"sign-up of {person.email}: {response.status_code}\n{response.text}")
    await log_in(http, person)


async def log_in(http: httpx.AsyncClient, person: Person) -> None:
    token = await _form_token(http, "/login")
    response = await http.post(
        "/login",
        data={"_csrf_token": token, "email": person.email, "password": person.password},
    )
    if response.status_code != 303:
        raise AssertionError(f"login of {person.email}: {response.status_code}\n{response.text}")


async def file_case(http: httpx.AsyncClient, claimant: Person, respondent: Person) -> str:
    """File a dispute through the web form, naming the respondent; returns the case ref."""
    token = await _form_token(http, "/cases/new")
    fields = {
        "_csrf_token": token,
        "category": "trade_execution",
        "contested_resolution": "The platform refused the refund; the order never filled.",
        "what_happened": f"{claimant.name} paid {respondent.name}, who did not deliver.",
        "happened_on": datetime.now(UTC).date().isoformat(),
        "remedy_wanted": "Refund the payment.",
        "respondent_email": respondent.email,
    }
    # Multipart, as the browser sends this form; the token comes first (see uploads.py).
    response = await http.post(
        "/cases/new",
        files=[(name, (None, value)) for name, value in fields.items()],
    )
    location = response.headers.get("location", "")
    if response.status_code != 303 or not location.startswith("/cases/"):
        raise AssertionError(f"filing by {claimant.email}: {response.status_code}\n{response.text}")
    return location.removeprefix("/cases/")


async def populate(base_url: str, users: int, parallel: int = 8) -> list[Person]:
    """`users` people (an even number) on `users // 2` cases, made over HTTP."""
    if users < 2 or users % 2:
        raise ValueError("the load needs an even number of people, two to a case")
    run = secrets.token_hex(3)
    people = [
        Person(f"Load {run} {n}", f"load-{run}-{n}@example.com", secrets.token_urlsafe(18))
        for n in range(users)
    ]
    claimants, respondents = people[::2], people[1::2]
    gate = asyncio.Semaphore(parallel)

    async def respondent_signs_up(person: Person) -> None:
        async with gate, client(base_url) as http:
            await sign_up(http, person)

    async def claimant_files(claimant: Person, respondent: Person) -> None:
        async with gate, client(base_url) as http:
            await sign_up(http, claimant)
            claimant.case_ref = respondent.case_ref = await file_case(http, claimant, respondent)

    # Respondents first: a case names an account that exists, so they are on it at once.
    await asyncio.gather(*(respondent_signs_up(p) for p in respondents))
    pairs = zip(claimants, respondents, strict=True)
    await asyncio.gather(*(claimant_files(c, r) for c, r in pairs))
    return people


def _evidence_bytes(person: Person, n: int) -> bytes:
    return f"Receipt {n} of {person.email}, {secrets.token_hex(16)}\n".encode()


async def _one_person(
    base_url: str,
    person: Person,
    tally: Tally,
    deadline: float,
    upload_every: int,
    stop: asyncio.Event,
    rounds: int,
) -> None:
    async with client(base_url) as http:
        try:
            await log_in(http, person)
        except (AssertionError, httpx.HTTPError) as exc:
            tally.fail("login", None, f"{person.email}: {exc!r}")
            return
        room = f"/cases/{person.case_ref}"
        token = ""
        n = 0
        while (time.monotonic() < deadline or n < rounds) and not stop.is_set():
            n += 1
            started = time.monotonic()
            try:
                response = await http.get(room)
                if response.status_code == 200:
                    tally.took("room", started)
                    token = token_of(response.text)
                else:
                    tally.fail("room", response.status_code, response.text)
                    token = ""  # as a person would, wait a moment and load it again
            except httpx.HTTPError as exc:
                tally.fail("room", None, repr(exc))
                token = ""
            if not token:
                await asyncio.sleep(0.5)  # nothing to post with: the room did not come
                continue
            await _post_statement(http, person, room, token, tally)
            if upload_every and n % upload_every == 0:
                await _upload(http, person, room, token, tally, n)


async def _post_statement(
    http: httpx.AsyncClient, person: Person, room: str, token: str, tally: Tally
) -> None:
    text = f"Statement load-{secrets.token_hex(8)} from {person.name}."
    started = time.monotonic()
    try:
        # As the room's htmx form posts it: the fragment with the statements comes back.
        response = await http.post(
            f"{room}/statements",
            data={"_csrf_token": token, "channel": "all", "party": "", "text": text},
            headers={"HX-Request": "true", "HX-Current-URL": str(http.base_url) + room[1:]},
        )
    except httpx.HTTPError as exc:
        tally.fail("statement", None, repr(exc))
        return
    if response.status_code == 200 and text in response.text:
        tally.took("statement", started)
        tally.statements.append(Accepted(person.case_ref, text, time.monotonic()))
    else:
        tally.fail("statement", response.status_code, response.text)


async def _upload(
    http: httpx.AsyncClient, person: Person, room: str, token: str, tally: Tally, n: int
) -> None:
    content = _evidence_bytes(person, n)
    started = time.monotonic()
    try:
        # The room's form without JavaScript: a plain multipart post, redirected on success.
        response = await http.post(
            f"{room}/evidence",
            files=[
                ("_csrf_token", (None, token)),
                ("channel", (None, "all")),
                ("files", (f"receipt-{n}.txt", content, "text/plain")),
            ],
        )
    except httpx.HTTPError as exc:
        tally.fail("evidence", None, repr(exc))
        return
    if response.status_code == 303:
        tally.took("evidence", started)
        digest = hashlib.sha256(content).hexdigest()
        tally.files.append(Accepted(person.case_ref, digest, time.monotonic()))
    else:
        tally.fail("evidence", response.status_code, response.text)


async def run_load(
    base_url: str,
    people: list[Person],
    seconds: float,
    *,
    upload_every: int = 4,
    rounds: int = 0,
    during: Callable[[Tally], object] | None = None,
    stop: asyncio.Event | None = None,
) -> Tally:
    """Every person at once for `seconds` (and at least `rounds` times round the room).
    `during(tally)`, if given, runs beside them (a coroutine function: the fault to
    inject) and the load waits for it to finish."""
    tally = Tally()
    stop = stop or asyncio.Event()
    tally.started = time.monotonic()
    deadline = tally.started + seconds
    tasks = [
        asyncio.create_task(_one_person(base_url, p, tally, deadline, upload_every, stop, rounds))
        for p in people
    ]
    if during is not None:
        tasks.append(asyncio.create_task(during(tally)))  # type: ignore[arg-type]
    try:
        await asyncio.gather(*tasks)
    finally:
        tally.ended = time.monotonic()
    return tally


async def run_bare(base_url: str, users: int, seconds: float, path: str = "/") -> Tally:
    """The baseline: `users` clients fetching one page of a bare app for `seconds`."""
    tally = Tally()
    tally.started = time.monotonic()
    deadline = tally.started + seconds

    async def one() -> None:
        async with client(base_url) as http:
            while time.monotonic() < deadline:
                started = time.monotonic()
                try:
                    response = await http.get(path)
                except httpx.HTTPError as exc:
                    tally.fail("bare", None, repr(exc))
                    continue
                if response.status_code == 200:
                    tally.took("bare", started)
                else:
                    tally.fail("bare", response.status_code, response.text)

    await asyncio.gather(*(one() for _ in range(users)))
    tally.ended = time.monotonic()
    return tally
