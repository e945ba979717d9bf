"""The crawl: every demo account follows every link and GET form of the portal; then
every URL of a case, and every form of a case, is tried by everyone else.

The demo is made by the real `create_demo` (what `portal demo` runs) in an empty
database, with two private files added over HTTP (a staff note, a caucus file) so
that the channels inside a case are tested too. Each person logs in over HTTP (staff
with their second factor). Whether someone is on a case, and which channels they may
read there, is read from the case's participants in the database (`OnCase`), never
listed here, and never asked of the policy the crawl is testing.

Decisions:
- The crawl sends no POST form: they withdraw cases, sign settlements, log out. It
  records every POST form (and `hx-post`) whose action names a case; the replay sends
  each, with the sender's own valid CSRF token and the form's default fields, as every
  person not on that case, who must be refused, and nothing may reach the ledger.
- Besides the links found, the crawl starts from every GET route that needs no
  parameter, and the replay adds every GET route that needs only a case reference,
  for every case: a route added later is covered without editing this file.
- After the crawl and the replay, each person exports a signed case file of every case
  they are on (the room's export button, over HTTP); its text (pdftotext) is judged
  against what that person was served in the case's room.
- The crawl runs once per database kind (module-scoped); each test below checks one
  property of what it recorded.
"""

from __future__ import annotations

import base64
import html
import json
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pyotp
import pytest
import pytest_asyncio
from markupsafe import escape

from ledger.tables import LedgerEntry
from portal.accounts.tables import User
from portal.app import create_app
from portal.cases.tables import Case, CaseParticipant, Evidence, Statement
from portal.cases.uploads import stored_path
from portal.database import bind_tables, connected, create_engine
from portal.demo import create_demo
from portal.integrations.status import case_status
from portal.notifications.tables import Notification, OutboundMail
from portal.procedure import roles
from portal.settings import Settings
from portal.tables import ALL_TABLES
from tests.conftest import TABLES_TO_EMPTY
from tests.people import Browser
from tests.portal.conftest import SECRET, ledger_verifies
from tests.security.crawler import ORIGIN, Crawl, Form, RouteTable, Visit, crawl, fetch, fill
from tests.support import ORIGIN as LOG_ORIGIN

pytestmark = pytest.mark.slow

ANONYMOUS = "anonymous"
NEWCOMER = "carol"  # signs up during the test: a customer with no case at all
STAFF_NOTE = "Internal: the liquidation engine's replay shows feed lag STAFF-7Q2."
CAUCUS_NOTE = "Bob's bottom line for the mediator only: 650 USDT CAUCUS-4K9."


@dataclass(frozen=True)
class Secret:
    """A text of a case that only those who may read its channel may be shown."""

    ref: str
    channel: str
    party: int | None
    text: str

    def forms(self) -> set[str]:
        """The text as a page, a JSON document or a file might carry it."""
        return {
            self.text,
            str(escape(self.text)),
            json.dumps(self.text)[1:-1],
            json.dumps(self.text, ensure_ascii=False)[1:-1],
        }


@dataclass
class Record:
    routes: RouteTable
    refs: list[str]
    crawls: dict[str, Crawl]
    replayed: list[Visit]
    posted: list[tuple[Form, Visit]]
    access: dict[str, dict[str, OnCase | None]]
    secrets: list[Secret]
    written_by_people_during_posts: list[dict[str, Any]]
    people: list[str] = field(default_factory=list)
    exports: dict[tuple[str, str], Visit] = field(default_factory=dict)
    """Each person's export of each case they are on, by (person, case)."""
    told: list[tuple[str, str]] = field(default_factory=list)
    """(person, text) of every email and notice the demo and the crawl sent them."""
    statuses: dict[str, str] = field(default_factory=dict)
    """Each case's status as the API and every webhook delivery carry it (JSON)."""

    def visits(self) -> list[Visit]:
        return (
            [v for c in self.crawls.values() for v in c.visits]
            + self.replayed
            + [v for _f, v in self.posted]
        )

    def on_case(self, who: str, ref: str) -> bool:
        return self.access[who].get(ref) is not None

    def may_read(self, who: str, secret: Secret) -> bool:
        access = self.access[who].get(secret.ref)
        return access is not None and access.may_read(secret.channel, secret.party)


# --- Setting the demo up -----------------------------------------------------------


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str:
    return request.getfixturevalue(f"{request.param}_url")


async def empty(url: str) -> None:
    engine = create_engine(url)
    bind_tables(engine, ALL_TABLES)
    async with connected(engine, pool_size=2):
        if url.startswith("sqlite"):
            for table in TABLES_TO_EMPTY:
                await engine.run_ddl(f"DELETE FROM {table}")
        else:
            await engine.run_ddl(f"TRUNCATE {', '.join(TABLES_TO_EMPTY)} RESTART IDENTITY CASCADE")


def client_of(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=("203.0.113.9", 50000)), base_url=ORIGIN
    )


async def log_in(app: Any, account: dict[str, Any]) -> Browser:
    b = Browser(client_of(app))
    await b.get("/login")
    response = await b.post("/login", {"email": account["email"], "password": account["password"]})
    assert response.status_code == 303, response.text
    if account["totp_secret"]:
        code = pyotp.TOTP(account["totp_secret"]).now()
        response = await b.post("/login/code", {"code": code})
        assert response.status_code == 303, response.text
    return b


async def sign_up(app: Any) -> Browser:
    b = Browser(client_of(app))
    await b.get("/signup")
    response = await b.post("/signup", {
        "name": "Carol", "email": "carol@example.net",
        "password": "a long enough password", "password_again": "a long enough password",
    })  # fmt: skip
    assert response.status_code == 200 and "Check your email" in response.text, response.text
    response = await b.post(
        "/login", {"email": "carol@example.net", "password": "a long enough password"}
    )
    assert response.status_code == 303, response.text
    return b


async def add_private_files(browsers: dict[str, Browser], demo: dict[str, Any]) -> None:
    """A staff-only file on the case under investigation, and a file in bob's caucus of
    the mediation: the crawl must find both, and nobody outside their channel may."""
    under_investigation = next(c["ref"] for c in demo["cases"] if c["state"] == "investigation")
    in_mediation = next(c["ref"] for c in demo["cases"] if c["state"] == "mediation")
    bob = await User.select(User.id).where(User.email == "bob@demo.example").first()
    for who, ref, channel, name, text in (
        ("ivy", under_investigation, "staff", "engine-replay.txt", STAFF_NOTE),
        ("bob", in_mediation, f"caucus:{bob['id']}", "bottom-line.txt", CAUCUS_NOTE),
    ):
        response = await browsers[who].post(
            f"/cases/{ref}/evidence",
            files=[("channel", (None, channel)), ("evidence", (name, text.encode(), "text/plain"))],
            htmx=True,
        )
        assert response.status_code == 200, response.text
        assert await Evidence.count().where(Evidence.name == name) == 1, response.text


@dataclass(frozen=True)
class OnCase:
    """Who someone is on one case, from the case's participants in the database: the
    oracle the crawl is judged by, kept apart from the policy it judges.

    BRIEF "The case room": everyone on the case reads `all`; platform staff read
    `staff`, and so does the platform's legal team put on the case ("a legal user gets the
    copy of the side they act for"; the staff copy has the staff notes); a legal user put
    on the case for a party reads what that party reads but its caucus, which is its two
    members'; a mediator and each party read that party's caucus; the arbitrators read
    `tribunal`. A supervisor is on every case (supervisors assign the work).
    """

    user_id: int
    roles: frozenset[str]
    acts_for: int | None = None  # a legal user's party on the case; None: the platform

    def may_read(self, channel: str, party: int | None) -> bool:
        if channel == "all":
            return True
        if channel == "staff":  # the platform's staff, and its legal team on the case
            return bool(self.roles & set(roles.STAFF)) or (
                roles.LEGAL in self.roles and self.acts_for is None
            )
        if channel == "caucus":
            return roles.MEDIATOR in self.roles or (
                party == self.user_id and bool(self.roles & set(roles.PARTY_SIDES))
            )
        if channel == "tribunal":
            return roles.ARBITRATOR in self.roles
        raise AssertionError(f"a channel the oracle does not know: {channel}")


async def on_cases(email: str | None, refs: list[str]) -> dict[str, OnCase | None]:
    """What this person is on each case (None: not on it)."""
    if email is None:
        return dict.fromkeys(refs)
    user = await User.select(User.id, User.role).where(User.email == email).first()
    found: dict[str, OnCase | None] = {}
    for ref in refs:
        rows = await CaseParticipant.select(CaseParticipant.role, CaseParticipant.acts_for).where(
            (CaseParticipant.case.ref == ref) & (CaseParticipant.user == user["id"])
        )
        held = {p["role"] for p in rows}
        client = next((p["acts_for"] for p in rows if p["role"] == roles.LEGAL), None)
        if user["role"] == roles.SUPERVISOR:
            held.add(roles.SUPERVISOR)
        found[ref] = OnCase(user["id"], frozenset(held), client) if held else None
    return found


async def case_secrets(data_dir: Path) -> list[Secret]:
    """Each case's account (what happened, what it contests, what it wants), every
    statement, and every text file's name and content, with the channel that decides
    who may read it."""
    refs = {c["id"]: c["ref"] for c in await Case.select(Case.id, Case.ref)}
    found = []
    for case in await Case.select(
        Case.ref, Case.what_happened, Case.contested_resolution, Case.remedy_wanted
    ):
        for text in (case["what_happened"], case["contested_resolution"], case["remedy_wanted"]):
            for paragraph in text.split("\n"):
                if len(paragraph.strip()) >= 20:
                    found.append(Secret(case["ref"], "all", None, paragraph.strip()))
    for s in await Statement.select(
        Statement.case, Statement.channel, Statement.caucus_party, Statement.text
    ):
        found.append(Secret(refs[s["case"]], s["channel"], s["caucus_party"], s["text"]))
    for e in await Evidence.select().where(Evidence.media_type.is_in(["text/plain", "text/csv"])):
        where = (refs[e["case"]], e["channel"], e["caucus_party"])
        found.append(Secret(*where, e["name"]))
        content = stored_path(data_dir, e["sha256"]).read_text()
        found += [Secret(*where, line) for line in content.splitlines() if len(line) >= 20]
    return found


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def crawled(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Record:
    tmp: Path = tmp_path_factory.mktemp("crawl")
    await empty(database_url)
    settings = Settings(
        env="development",
        data_dir=tmp / "data",
        database_url=database_url,
        log_origin=LOG_ORIGIN,
        signing_key_file=tmp / "ledger.key",
        seal_cert_file=tmp / "casefile-seal.pem",
        seal_key_file=tmp / "casefile-seal.key",
        secret_key=SECRET,
        base_url=ORIGIN,
    )
    app = create_app(settings)
    routes = RouteTable.of(app)
    async with app.lifespan():
        demo = await create_demo(app.state.settings, app.state.keyring)
        refs = [c["ref"] for c in demo["cases"]]
        browsers = {a["email"].split("@")[0]: await log_in(app, a) for a in demo["accounts"]}
        browsers[NEWCOMER] = await sign_up(app)
        browsers[ANONYMOUS] = Browser(client_of(app))
        emails = {a["email"].split("@")[0]: a["email"] for a in demo["accounts"]}
        emails |= {NEWCOMER: "carol@example.net", ANONYMOUS: None}
        await add_private_files(browsers, demo)

        seeds = ["/", *routes.plain_get_routes()]
        crawls = {who: await crawl(b.client, who, seeds) for who, b in browsers.items()}
        access = {who: await on_cases(emails[who], refs) for who in browsers}

        # Every URL with a parameter anyone was served (a case's, an invitation's, a
        # profile's), and every route of a case for every case.
        case_urls = {
            v.path for c in crawls.values() for v in c.visits
            if 200 <= v.status < 300 and routes.has_parameters(v.path)
        } | {fill(t, ref) for t in routes.case_get_routes() for ref in refs}  # fmt: skip
        replayed = []
        for who, b in browsers.items():
            already = {v.path for v in crawls[who].visits}
            for path in sorted(case_urls - already):
                replayed.append(await fetch(b.client, who, path, "(replay)"))
        # Error pages the links never lead to: a GET of every POST-only route, a file
        # or an ID that does not exist, a form without its CSRF token.
        for who in ("alice", ANONYMOUS):
            client = browsers[who].client
            for path in [fill(t, refs[0]) for t in routes.routes_without_get()] + [
                "/static/nothing.css", f"/cases/{refs[0]}/evidence/x/download", "/no/such/page"
            ]:  # fmt: skip
                replayed.append(await fetch(client, who, path, "(error probe)"))
            response = await client.post("/login", data={"email": "a@b.c", "password": "x"})
            replayed.append(Visit(who, "POST", "/login", response.status_code,
                                  response.headers.multi_items(), response.content,
                                  "(error probe: no CSRF token)"))  # fmt: skip

        # Everyone exports the case file of every case they are on, as the room's button does.
        exports = {}
        for who, b in browsers.items():
            for ref in refs:
                if access[who][ref] is not None:
                    path = f"/cases/{ref}/casefile.pdf"
                    response = await b.post(path)
                    exports[who, ref] = Visit(who, "POST", path, response.status_code,
                                              response.headers.multi_items(), response.content,
                                              "(export)")  # fmt: skip

        forms = {
            form.action: form for c in crawls.values() for form in c.forms.values()
            if routes.case_of(form.action) in refs
        }  # fmt: skip
        last = (
            await LedgerEntry.select(LedgerEntry.id)
            .order_by(LedgerEntry.id, ascending=False)
            .first()
        )
        posted = []
        for form in forms.values():
            ref = routes.case_of(form.action)
            for who, b in browsers.items():
                if access[who][ref] is None:
                    posted.append((form, await send(b, who, form)))
        # The deadline sweeper may record reminders meanwhile; no person may record anything.
        written_by_people = [
            entry for row in await LedgerEntry.select(LedgerEntry.entry).where(
                LedgerEntry.id > (last["id"] if last else 0)
            )
            if (entry := json.loads(bytes(row["entry"])))["actor"]["id"] != "system"
        ]  # fmt: skip
        secrets = await case_secrets(settings.data_dir)
        who_is = {email: who for who, email in emails.items() if email}
        told = [
            (who_is[m["to_address"]], m["subject"] + "\n" + m["body"])
            for m in await OutboundMail.select(OutboundMail.to_address, OutboundMail.subject,
                                               OutboundMail.body)
            if m["to_address"] in who_is
        ] + [
            (who_is[n["user.email"]], n["message"])
            for n in await Notification.select(Notification.user.email, Notification.message)
            if n["user.email"] in who_is
        ]  # fmt: skip
        statuses = {ref: json.dumps(msgspec.to_builtins(await case_status(ref)),
                                    ensure_ascii=False) for ref in refs}  # fmt: skip
        for b in browsers.values():
            await b.client.aclose()
    await ledger_verifies(app)
    return Record(
        routes, refs, crawls, replayed, posted, access, secrets, written_by_people,
        list(browsers), exports, told, statuses,
    )  # fmt: skip


async def send(b: Browser, who: str, form: Form) -> Visit:
    """A form as its page would send it, with this person's own CSRF token."""
    fields = [(k, v) for k, v in form.fields if k != "_csrf_token"]
    if form.multipart:
        files: Any = [(k, (None, v)) for k, v in fields]
        files.append(("evidence", ("note.txt", b"an outsider's file", "text/plain")))
        response = await b.post(form.action, files=files)
    else:
        response = await b.post(form.action, dict(fields))
    return Visit(who, "POST", form.action, response.status_code,
                 response.headers.multi_items(), response.content, form.found_on)  # fmt: skip


# --- What the crawl must show -----------------------------------------------------------


def describe(visit: Visit) -> str:
    return f"{visit.who} {visit.method} {visit.path} -> {visit.status} (from {visit.found_on})"


def refused(visit: Visit) -> bool:
    """Refused, or sent to log in (htmx is told so with an HX-Redirect): nothing served."""
    if visit.status >= 400:
        return True
    to = visit.header("location") if visit.status >= 300 else visit.header("hx-redirect")
    return (to or "").startswith("/login")


def test_the_crawl_reaches_every_case_and_channel_of_the_demo(crawled: Record):
    """The test would prove nothing if the crawl saw little: each person reaches the room
    of each case they are on, the private files, and every GET route of a case."""
    for who in crawled.people:
        served = {v.path for v in crawled.crawls[who].visits if v.status == 200}
        for ref in crawled.refs:
            if crawled.on_case(who, ref):
                assert f"/cases/{ref}" in served, (who, ref)
    ivy = crawled.crawls["ivy"].visits
    assert any(STAFF_NOTE.encode() in v.body for v in ivy), "ivy never downloaded the staff note"
    bob = crawled.crawls["bob"].visits
    assert any(CAUCUS_NOTE.encode() in v.body for v in bob), "bob never downloaded his file"
    reached = {crawled.routes.match(v.path)[0] for v in crawled.visits() if v.status == 200
               and crawled.routes.match(v.path)}  # fmt: skip
    assert {"/cases/{ref:str}/evidence/{evidence_id:int}/download",
            "/cases/{ref:str}/evidence/{evidence_id:int}/preview",
            "/cases/{ref:str}/ledger/{seq:int}"} <= reached  # fmt: skip
    assert len(crawled.posted) > 0 and all(v.method == "POST" for _f, v in crawled.posted)


def test_no_response_is_a_server_error(crawled: Record):
    failed = [describe(v) for v in crawled.visits() if v.status >= 500]
    assert not failed, "\n".join(failed)


def test_no_url_of_a_case_serves_anything_to_someone_not_on_it(crawled: Record):
    """Off the case, a URL of it answers 404 (the same as a case that does not exist);
    logged out, a redirect to the login page."""
    wrong = []
    for visit in crawled.visits():
        ref = crawled.routes.case_of(visit.path)
        if ref not in crawled.refs or crawled.on_case(visit.who, ref):
            continue
        if not refused(visit):
            wrong.append(describe(visit))
    assert not wrong, "Served to someone not on the case:\n" + "\n".join(wrong)


def test_no_text_of_a_case_reaches_anyone_who_may_not_read_it(crawled: Record):
    """What happened, every statement and every private file's text and name: nowhere in
    any response to someone the policy does not let read its channel of that case."""
    leaks = []
    for visit in crawled.visits():
        body = visit.text
        for secret in crawled.secrets:
            if crawled.may_read(visit.who, secret):
                continue
            if any(form in body for form in secret.forms()):
                leaks.append(f"{describe(visit)} shows {secret.channel} text of {secret.ref}: "
                             f"{secret.text[:60]!r}")  # fmt: skip
    assert not leaks, "\n".join(leaks)


def test_no_form_of_a_case_is_accepted_from_someone_not_on_it(crawled: Record):
    wrong = [
        f"{describe(visit)} (a form of {form.found_on})"
        for form, visit in crawled.posted
        if not refused(visit)
    ]
    assert not wrong, "\n".join(wrong)
    assert crawled.written_by_people_during_posts == [], "an outsider's form was recorded"


def test_every_form_that_records_in_a_case_carries_a_one_time_token(crawled: Record):
    """Every POST form of a case that anyone was shown carries the token that makes a copy
    of it record nothing (issue 16, finding 11); only the export does not: a copy of it
    is a new export, and a retry must get the file."""
    forms = {f.action: f for c in crawled.crawls.values() for f in c.forms.values()}
    missing = sorted(
        action
        for action, form in forms.items()
        if crawled.routes.case_of(action)
        and not action.endswith("/casefile.pdf")
        and "_sent_once" not in dict(form.fields)
    )
    assert not missing, [(a, forms[a].found_on, forms[a].fields) for a in missing]
    assert any(crawled.routes.case_of(action) for action in forms)


def test_every_response_carries_the_security_headers(crawled: Record):
    """Pages, fragments, static files, JSON, downloads, redirects and error pages alike."""
    wrong = []
    for visit in crawled.visits():
        policy = visit.header("content-security-policy") or ""
        directives = {d.strip().split(" ")[0]: d.strip() for d in policy.split(";") if d.strip()}
        script = directives.get("script-src") or directives.get("default-src") or ""
        problems = []
        if not policy:
            problems.append("no Content-Security-Policy")
        elif "'unsafe-inline'" in script or "'unsafe-eval'" in script or not script:
            problems.append(f"script-src allows inline script: {policy}")
        if visit.header("x-content-type-options") != "nosniff":
            problems.append("no X-Content-Type-Options: nosniff")
        if not visit.header("referrer-policy"):
            problems.append("no Referrer-Policy")
        if not visit.header("x-frame-options") and "frame-ancestors" not in directives:
            problems.append("no frame protection")
        if problems:
            wrong.append(f"{describe(visit)}: {'; '.join(problems)}")
    assert not wrong, "\n".join(wrong)
    kinds = {(v.header("content-type") or "").split(";")[0] for v in crawled.visits()}
    assert {"text/html", "text/css", "application/json", "application/octet-stream"} <= kinds
    assert {v.status for v in crawled.visits()} >= {200, 303, 400, 403, 404, 405}


def test_every_cookie_is_httponly_and_samesite(crawled: Record):
    """(Secure, too, in production: tests/security/test_cookies.py.)"""
    cookies = [(v, c) for v in crawled.visits() for c in v.set_cookies()]
    names = {c.split("=")[0] for _v, c in cookies}
    assert {"portal_csrf", "portal_session"} <= names
    wrong = [
        f"{describe(v)}: {c}"
        for v, c in cookies
        if "httponly" not in c.lower() or "samesite=" not in c.lower()
    ]
    assert not wrong, "\n".join(wrong)


def squeezed(text: str) -> str:
    """Text without its whitespace: a PDF's lines break where the page does."""
    return re.sub(r"\s+", "", text)


def page_text(visit: Visit) -> str:
    """What a page says, as its reader reads it: no tags, entities decoded."""
    return squeezed(html.unescape(re.sub(r"<[^>]*>", " ", visit.text)))


def pdf_text(content: bytes) -> str:
    return subprocess.run(
        ["pdftotext", "-", "-"], input=content, capture_output=True, check=True
    ).stdout.decode()


def attached_text(content: bytes, tmp: Path) -> str:
    """Every string of the attached ledger-proof.json, its entries decoded: the rest of
    what a copy carries."""
    pdf, attached = tmp / "export.pdf", tmp / "ledger-proof.json"
    pdf.write_bytes(content)
    subprocess.run(["pdfdetach", "-save", "1", "-o", str(attached), str(pdf)], check=True)
    bundle = json.loads(attached.read_bytes())
    entries = [json.loads(base64.b64decode(item["entry"])) for item in bundle["entries"]]
    return " ".join(strings([bundle, entries]))


def strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return [found for item in value for found in strings(item)]
    return []


def test_every_text_of_an_export_is_one_its_exporter_reads_in_the_room(
    crawled: Record, tmp_path: Path
):
    """BRIEF "Signed case files": a copy carries what its side reads, and no caucus or
    tribunal text to anyone outside it. Judged as an outsider would: every text of the
    case found in someone's export must be one the oracle lets them read, and one the
    case's pages served to them over HTTP."""
    found, wrong = 0, []
    for (who, ref), visit in crawled.exports.items():
        room_pages = [
            v for v in crawled.crawls[who].visits
            if v.status == 200 and v.is_html and crawled.routes.case_of(v.path) == ref
        ]  # fmt: skip
        offered = any("/casefile.pdf" in v.text for v in room_pages)
        if not offered:  # a neutral: no button, and no file
            if visit.status != 403:
                wrong.append(f"{describe(visit)}: no export button, yet not refused")
            continue
        if visit.status != 200 or visit.header("content-type") != "application/pdf":
            wrong.append(f"{describe(visit)}: the room offers the export; it failed")
            continue
        exported = squeezed(pdf_text(visit.body) + attached_text(visit.body, tmp_path))
        room = "".join(page_text(v) for v in room_pages)
        for secret in crawled.secrets:
            text = squeezed(secret.text)
            if secret.ref != ref or text not in exported:
                continue
            found += 1
            if not crawled.may_read(who, secret):
                wrong.append(f"{describe(visit)} carries {secret.channel} text: "
                             f"{secret.text[:60]!r}")  # fmt: skip
            elif text not in room:
                wrong.append(f"{describe(visit)} carries text its room never showed: "
                             f"{secret.text[:60]!r}")  # fmt: skip
    assert not wrong, "\n".join(wrong)
    # Not vacuous: the exports were read, and carried the texts of the cases.
    exporters = {who for (who, _ref), v in crawled.exports.items() if v.status == 200}
    assert {"alice", "bob", "ada", "ivy", "sam", "sue", "lee"} <= exporters, exporters
    assert found >= 50, found


def test_no_email_notice_or_webhook_carries_a_private_text(crawled: Record):
    """Emails and notices go to those the policy lets read the channel, and say that
    something was written, not what; a webhook (and the API's status) carries the case's
    state and outcome, never a staff note, a caucus or the tribunal's words."""
    private = [s for s in crawled.secrets if s.channel != "all"]
    leaks = [
        f"{who} was told {s.channel} text of {s.ref}: {s.text[:60]!r}"
        for who, text in crawled.told
        for s in private
        if not crawled.may_read(who, s) and any(form in text for form in s.forms())
    ]
    leaks += [
        f"the status of {ref} carries {s.channel} text: {s.text[:60]!r}"
        for ref, status in crawled.statuses.items()
        for s in private
        if any(form in status for form in s.forms())
    ]
    assert not leaks, "\n".join(leaks)
    assert len(crawled.told) > 20 and private, "the demo told nobody anything"
