"""Every route, for every role and for someone not on the case: the policy's full table.

A new route without a row here fails `test_every_route_has_a_row`; a row whose answer
changes fails `test_each_role_gets_what_the_table_says`. Case routes must answer 404
to anyone not on the case, exactly as for a reference that does not exist.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from portal.accounts.tables import User
from portal.cases.tables import Case, CaseParticipant, Evidence
from portal.integrations.keys import create_integration
from portal.notifications.tables import Notification
from tests.people import Browser
from tests.portal.test_filing import GOOD, file_dispute

ON_CASE = ("alice", "bob", "ada", "ivy", "lee", "mona", "ari", "sue")
OFF_CASE = ("eve", "sam")
EVERYONE = (*ON_CASE, *OFF_CASE, "anon")


@dataclass
class World:
    ref: str
    evidence_id: int
    alice_notification: int
    spare_user: int
    mediator: int
    integration: int


Send = Callable[[Browser, World], Awaitable[object]]


def get(path: str) -> Send:
    return lambda b, w: b.get(path.format(w=w))


def post(path: str, data: dict[str, str] | None = None, htmx: bool = False) -> Send:
    return lambda b, w: b.post(path.format(w=w), dict(data or {}), htmx=htmx)


def upload(path: str) -> Send:
    files = [
        ("_csrf_token", (None, "")),
        ("channel", (None, "all")),
        ("evidence", ("note.txt", b"a note", "text/plain")),
    ]
    return lambda b, w: b.post(path.format(w=w), files=files, htmx=True)


def case_route(ok: int, anon: int = 303, **exceptions: int) -> dict[str, int]:
    """On the case: `ok` (or an exception per person); off the case: 404; logged out: 303
    (200 with an HX-Redirect to the login page for htmx requests)."""
    table = {name: exceptions.get(name, ok) for name in ON_CASE}
    table.update({name: 404 for name in OFF_CASE}, anon=anon)
    return table


def account_route(ok: int, anon: int = 303, **exceptions: int) -> dict[str, int]:
    table = {name: exceptions.get(name, ok) for name in (*ON_CASE, *OFF_CASE)}
    table["anon"] = anon
    return table


def delete(path: str) -> Send:
    return lambda b, w: b.client.delete(path.format(w=w))


def everyone(status: int, **exceptions: int) -> dict[str, int]:
    return {name: exceptions.get(name, status) for name in EVERYONE}


SUPERVISOR_ONLY = account_route(404, sue=200)
REF = "/cases/{w.ref}"

ROUTES: dict[tuple[str, str], tuple[Send, dict[str, int]]] = {
    ("GET", "/"): (get("/"), everyone(303)),
    ("GET", "/healthz"): (get("/healthz"), everyone(200)),
    ("GET", "/static/{file_path:path}"): (get("/static/css/portal.css"), everyone(200)),
    ("GET", "/schema"): (get("/schema"), everyone(200)),
    ("GET", "/schema/openapi.json"): (get("/schema/openapi.json"), everyone(200)),
    ("GET", "/schema/{path:str}"): (get("/schema/nothing"), everyone(404)),
    ("GET", "/ledger/checkpoint"): (get("/ledger/checkpoint"), everyone(200)),
    ("GET", "/ledger/keys"): (get("/ledger/keys"), everyone(200)),
    ("GET", "/ledger/seal.pem"): (get("/ledger/seal.pem"), everyone(200)),
    ("GET", "/ledger/trust.json"): (get("/ledger/trust.json"), everyone(200)),
    ("GET", "/ledger/proof/consistency"): (
        get("/ledger/proof/consistency?old=1&new=2"),
        everyone(200),
    ),
    ("GET", "/ledger/proof/inclusion"): (
        get("/ledger/proof/inclusion?index=0&size=2"),
        everyone(200),
    ),
    # Accounts
    ("GET", "/signup"): (get("/signup"), everyone(200)),
    ("POST", "/signup"): (post("/signup", {"email": "x"}), everyone(400)),
    ("GET", "/login"): (get("/login"), everyone(200)),
    ("POST", "/login"): (
        post("/login", {"email": "nobody@example.com", "password": "no"}),
        everyone(400),
    ),
    ("GET", "/login/code"): (get("/login/code"), everyone(303)),
    ("POST", "/login/code"): (post("/login/code", {"code": "123456"}), everyone(303)),
    ("POST", "/logout"): (post("/logout"), everyone(303)),
    ("POST", "/language"): (post("/language", {"language": "en", "next": "/cases"}), everyone(303)),
    ("GET", "/account"): (get("/account"), account_route(200)),
    ("POST", "/account/name"): (post("/account/name", {"name": ""}), account_route(400)),
    ("POST", "/account/language"): (
        post("/account/language", {"language": "xx"}),
        account_route(400),
    ),
    ("POST", "/account/password"): (
        post("/account/password", {"current": "wrong", "password": "x", "password_again": "x"}),
        account_route(400),
    ),
    ("GET", "/account/second-factor"): (get("/account/second-factor"), account_route(200)),
    ("POST", "/account/second-factor"): (
        post("/account/second-factor", {"code": "1"}),
        account_route(400),
    ),
    ("GET", "/password/forgot"): (get("/password/forgot"), everyone(200)),
    ("POST", "/password/forgot"): (
        post("/password/forgot", {"email": "nobody@example.com"}),
        everyone(200),
    ),
    ("GET", "/password/reset/{token:str}"): (get("/password/reset/nope"), everyone(404)),
    ("POST", "/password/reset/{token:str}"): (
        post("/password/reset/nope", {"password": "x"}),
        everyone(404),
    ),
    ("GET", "/invite/{token:str}"): (get("/invite/nope"), everyone(404)),
    ("POST", "/invite/{token:str}"): (post("/invite/nope", {"password": "x"}), everyone(404)),
    # Supervisors
    ("GET", "/admin/users"): (get("/admin/users"), SUPERVISOR_ONLY),
    ("GET", "/admin/users/new"): (get("/admin/users/new"), SUPERVISOR_ONLY),
    ("POST", "/admin/users/new"): (
        post("/admin/users/new", {"email": "bad"}),
        account_route(404, sue=400),
    ),
    ("GET", "/admin/users/invite"): (get("/admin/users/invite"), SUPERVISOR_ONLY),
    ("POST", "/admin/users/invite"): (
        post("/admin/users/invite", {"email": "bad"}),
        account_route(404, sue=400),
    ),
    ("POST", "/admin/users/{user_id:int}/deactivate"): (
        post("/admin/users/{w.spare_user}/deactivate"),
        account_route(404, sue=303),
    ),
    ("POST", "/admin/users/{user_id:int}/reactivate"): (
        post("/admin/users/{w.spare_user}/reactivate"),
        account_route(404, sue=303),
    ),
    ("POST", "/admin/users/{user_id:int}/invite-again"): (
        post("/admin/users/{w.spare_user}/invite-again"),
        account_route(404, sue=200),
    ),
    ("GET", "/staff/roster"): (get("/staff/roster"), SUPERVISOR_ONLY),
    ("GET", "/staff/roster/{user_id:int}"): (get("/staff/roster/{w.mediator}"), SUPERVISOR_ONLY),
    ("POST", "/staff/roster/{user_id:int}"): (
        post("/staff/roster/{w.mediator}", {"languages": ""}),
        account_route(404, sue=400),
    ),
    # Neutrals keep their own roster profile; nobody else has one.
    ("GET", "/account/roster-profile"): (
        get("/account/roster-profile"),
        account_route(404, mona=200, ari=200),
    ),
    ("POST", "/account/roster-profile"): (
        post("/account/roster-profile", {"languages": ""}),
        account_route(404, mona=400, ari=400),
    ),
    # An invitation to mediate is seen by the mediator invited, while it is open: none here.
    ("GET", "/mediation/invitations/{appointment_id:int}"): (
        get("/mediation/invitations/1"),
        account_route(404),
    ),
    ("POST", "/mediation/invitations/{appointment_id:int}/accept"): (
        post("/mediation/invitations/1/accept", {"disclosure": "none"}),
        account_route(404),
    ),
    ("POST", "/mediation/invitations/{appointment_id:int}/decline"): (
        post("/mediation/invitations/1/decline"),
        account_route(404),
    ),
    # Integrations: supervisors make and revoke keys and read the webhook log.
    ("GET", "/staff/integrations"): (get("/staff/integrations"), SUPERVISOR_ONLY),
    ("POST", "/staff/integrations"): (
        post("/staff/integrations", {"name": ""}),
        account_route(404, sue=400),
    ),
    ("POST", "/staff/integrations/{integration_id:int}/keys"): (
        post("/staff/integrations/{w.integration}/keys"),
        account_route(404, sue=400),
    ),
    ("POST", "/staff/integrations/{integration_id:int}/keys/{key_id:int}/revoke"): (
        post("/staff/integrations/{w.integration}/keys/999/revoke"),
        account_route(404),
    ),
    ("GET", "/staff/integrations/{integration_id:int}/deliveries"): (
        get("/staff/integrations/{w.integration}/deliveries"),
        SUPERVISOR_ONLY,
    ),
    ("POST", "/staff/integrations/{integration_id:int}/deliveries/{delivery_id:int}/replay"): (
        post("/staff/integrations/{w.integration}/deliveries/999/replay"),
        account_route(404),
    ),
    # The API answers to a key, never to a session: every browser here is refused.
    ("POST", "/api/v1/cases"): (post("/api/v1/cases"), everyone(401)),
    ("GET", "/api/v1/cases/{ref:str}"): (get("/api/v1/cases/{w.ref}"), everyone(401)),
    ("POST", "/api/v1/cases/{ref:str}/records"): (
        post("/api/v1/cases/{w.ref}/records"),
        everyone(401),
    ),
    ("POST", "/api/v1/cases/{ref:str}/records/files"): (
        upload("/api/v1/cases/{w.ref}/records/files"),
        everyone(401),
    ),
    ("GET", "/api/v1/webhooks"): (get("/api/v1/webhooks"), everyone(401)),
    ("POST", "/api/v1/webhooks"): (post("/api/v1/webhooks"), everyone(401)),
    ("DELETE", "/api/v1/webhooks/{webhook_id:int}"): (delete("/api/v1/webhooks/1"), everyone(401)),
    ("GET", "/staff/deadlines"): (get("/staff/deadlines"), SUPERVISOR_ONLY),
    ("POST", "/staff/deadlines"): (
        post("/staff/deadlines", {"submitted.standard": "0"}),
        account_route(404, sue=400),
    ),
    # Work queues: staff only; supervisors assign from theirs.
    ("GET", "/staff/queue"): (
        get("/staff/queue"),
        account_route(404, ada=200, ivy=200, sam=200, sue=200),
    ),
    ("POST", "/staff/queue/assign"): (
        lambda b, w: b.post("/staff/queue/assign", {"ref": w.ref, "user": ""}),
        account_route(404, sue=400),
    ),
    # The dashboard: platform staff only; aggregate figures, and each chart's as CSV.
    ("GET", "/staff/dashboard"): (
        get("/staff/dashboard"),
        account_route(404, ada=200, ivy=200, sam=200, sue=200),
    ),
    ("GET", "/staff/dashboard/{name:str}"): (
        get("/staff/dashboard/outcomes.csv"),
        account_route(404, ada=200, ivy=200, sam=200, sue=200),
    ),
    # Notifications
    ("GET", "/notifications"): (get("/notifications"), account_route(200)),
    ("GET", "/notifications/badge"): (get("/notifications/badge"), account_route(200)),
    ("POST", "/notifications/read-all"): (post("/notifications/read-all"), account_route(303)),
    ("POST", "/notifications/{notification_id:int}/read"): (
        post("/notifications/{w.alice_notification}/read"),
        account_route(404, alice=303),
    ),
    # Cases
    ("GET", "/cases"): (get("/cases"), account_route(200)),
    ("GET", "/cases/new"): (get("/cases/new"), account_route(200)),
    ("POST", "/cases/new"): (
        upload("/cases/new"),
        account_route(404, anon=200, alice=400, bob=400, eve=400),
    ),
    ("GET", "/cases/{ref:str}"): (get(REF), case_route(200)),
    ("GET", "/cases/{ref:str}/timeline"): (get(REF + "/timeline"), case_route(200)),
    ("GET", "/cases/{ref:str}/statements"): (get(REF + "/statements"), case_route(200)),
    ("POST", "/cases/{ref:str}/statements"): (
        post(REF + "/statements", {"channel": "all", "text": "Hello"}, htmx=True),
        case_route(200, anon=200, lee=403),
    ),
    ("GET", "/cases/{ref:str}/ledger/{seq:int}"): (get(REF + "/ledger/0"), case_route(200)),
    ("GET", "/cases/{ref:str}/proof.json"): (get(REF + "/proof.json"), case_route(200)),
    ("POST", "/cases/{ref:str}/respondent"): (
        post(REF + "/respondent", {"email": "carol@example.net"}),
        case_route(403, alice=409, ada=409, sue=409),
    ),
    ("POST", "/cases/{ref:str}/participants"): (
        post(REF + "/participants", {"email": "eve@example.com", "role": "legal"}),
        case_route(404, sue=400),
    ),
    # The world's case is `submitted`: only the agent (or a supervisor) may start the review;
    # once ada has, the case is in triage and sue (asked later) is refused too.
    ("POST", "/cases/{ref:str}/actions/{action:str}"): (
        post(REF + "/actions/start_review"),
        case_route(403, ada=303),
    ),
    ("POST", "/cases/{ref:str}/respondent-questions"): (
        post(REF + "/respondent-questions", {"questions": ""}),
        case_route(403, ivy=400, sue=400),
    ),
    ("POST", "/cases/{ref:str}/requests/{request_id:int}/answer"): (
        post(REF + "/requests/999/answer", {"answer": "x"}),
        case_route(404),
    ),
    ("POST", "/cases/{ref:str}/survey"): (post(REF + "/survey", {"score": "5"}), case_route(400)),
    # Mediation: the world's case is not in mediation, so every step is refused to everyone
    # on it (tests/mediation walks who may do what while it is).
    ("POST", "/cases/{ref:str}/mediation/propose"): (
        post(REF + "/mediation/propose"),
        case_route(403),
    ),
    ("POST", "/cases/{ref:str}/mediation/answer"): (
        post(REF + "/mediation/answer", {"answer": "agree"}),
        case_route(403),
    ),
    ("POST", "/cases/{ref:str}/mediation/extend"): (
        post(REF + "/mediation/extend", {"days": "3"}),
        case_route(403),
    ),
    ("POST", "/cases/{ref:str}/mediation/offers"): (
        post(REF + "/mediation/offers"),
        case_route(403),
    ),
    ("POST", "/cases/{ref:str}/mediation/offers/{offer_id:int}/counter"): (
        post(REF + "/mediation/offers/1/counter"),
        case_route(403),
    ),
    ("POST", "/cases/{ref:str}/mediation/offers/{offer_id:int}/answer"): (
        post(REF + "/mediation/offers/1/answer", {"answer": "accept"}),
        case_route(403),
    ),
    ("POST", "/cases/{ref:str}/mediation/sign"): (
        post(REF + "/mediation/sign", {"password": "x"}),
        case_route(403),
    ),
    ("GET", "/cases/{ref:str}/mediation/settlement.pdf"): (
        get(REF + "/mediation/settlement.pdf"),
        case_route(404),
    ),
    # Arbitration: the world's case is not in arbitration either; nobody is invited.
    ("POST", "/cases/{ref:str}/arbitration/start"): (
        post(REF + "/arbitration/start", {"ruleset": "sole"}),
        case_route(403),
    ),
    ("POST", "/cases/{ref:str}/arbitration/lists"): (
        post(REF + "/arbitration/lists"),
        case_route(403),
    ),
    ("POST", "/cases/{ref:str}/arbitration/lists/{list_id:int}/answer"): (
        post(REF + "/arbitration/lists/1/answer"),
        case_route(403),
    ),
    ("POST", "/cases/{ref:str}/arbitration/nominate"): (
        post(REF + "/arbitration/nominate", {"arbitrator": "1"}),
        case_route(403),
    ),
    ("POST", "/cases/{ref:str}/arbitration/seats/{seat_id:int}/challenge"): (
        post(REF + "/arbitration/seats/1/challenge", {"reasons": "x"}),
        case_route(403),
    ),
    ("POST", "/cases/{ref:str}/arbitration/challenges/{challenge_id:int}/decide"): (
        post(REF + "/arbitration/challenges/1/decide", {"decision": "dismiss", "reasons": "x"}),
        case_route(403),
    ),
    ("GET", "/arbitration/invitations/{seat_id:int}"): (
        get("/arbitration/invitations/1"),
        account_route(404),
    ),
    ("POST", "/arbitration/invitations/{seat_id:int}/accept"): (
        post("/arbitration/invitations/1/accept", {"disclosure": "none"}),
        account_route(404),
    ),
    ("POST", "/arbitration/invitations/{seat_id:int}/decline"): (
        post("/arbitration/invitations/1/decline"),
        account_route(404),
    ),
    ("POST", "/cases/{ref:str}/tribunal/timetable"): (
        post(REF + "/tribunal/timetable", {"claim_on": "2030-01-01"}),
        case_route(403),
    ),
    ("POST", "/cases/{ref:str}/tribunal/orders"): (
        post(REF + "/tribunal/orders", {"text": "x"}),
        case_route(403),
    ),
    ("POST", "/cases/{ref:str}/tribunal/extensions"): (
        post(REF + "/tribunal/extensions", {"step": "1"}),
        case_route(403),
    ),
    ("POST", "/cases/{ref:str}/tribunal/extensions/{extension_id:int}/answer"): (
        post(REF + "/tribunal/extensions/1/answer", {"decision": "grant"}),
        case_route(403),
    ),
    ("POST", "/cases/{ref:str}/tribunal/award"): (
        post(REF + "/tribunal/award", {"reasons": "x"}),
        case_route(403),
    ),
    ("POST", "/cases/{ref:str}/tribunal/award/vote"): (
        post(REF + "/tribunal/award/vote", {"vote": "sign", "password": "x"}),
        case_route(403),
    ),
    ("GET", "/cases/{ref:str}/tribunal/award.pdf"): (
        get(REF + "/tribunal/award.pdf"),
        case_route(404),
    ),
    ("POST", "/cases/{ref:str}/tribunal/corrections"): (
        post(REF + "/tribunal/corrections", {"request": "x"}),
        case_route(403),
    ),
    ("POST", "/cases/{ref:str}/tribunal/corrections/{correction_id:int}/answer"): (
        post(REF + "/tribunal/corrections/1/answer", {"decision": "refuse"}),
        case_route(403),
    ),
    # A signed case file: staff and legal export the staff copy, a party its own copy; the
    # neutrals are refused. /verify is public, and a file that is not a case file fails.
    ("POST", "/cases/{ref:str}/casefile.pdf"): (
        post(REF + "/casefile.pdf"),
        case_route(200, mona=403, ari=403),
    ),
    ("GET", "/verify"): (get("/verify"), everyone(200)),
    ("POST", "/verify"): (upload("/verify"), everyone(422)),
    ("GET", "/cases/{ref:str}/evidence"): (get(REF + "/evidence"), case_route(200)),
    ("POST", "/cases/{ref:str}/evidence"): (
        upload(REF + "/evidence"),
        case_route(200, anon=200, lee=403),
    ),
    # Platform records come from the platform's staff: parties and outsiders are refused.
    ("POST", "/cases/{ref:str}/evidence/text"): (
        post(REF + "/evidence/text", {"channel": "all", "name": "Orders", "text": "x"}, htmx=True),
        case_route(403, anon=200, ada=200, ivy=200, sue=200),
    ),
    ("GET", "/cases/{ref:str}/evidence/{evidence_id:int}/download"): (
        get(REF + "/evidence/{w.evidence_id}/download"),
        case_route(200),
    ),
    ("GET", "/cases/{ref:str}/evidence/{evidence_id:int}/preview"): (
        get(REF + "/evidence/{w.evidence_id}/preview"),
        case_route(200),
    ),
}


def app_routes(app) -> set[tuple[str, str]]:
    found = set()
    for route in app.routes:
        for method in getattr(route, "methods", ()) or ():
            if method not in ("HEAD", "OPTIONS"):
                found.add((method, route.path))
    return found


async def test_every_route_has_a_row(app):
    assert app_routes(app) == set(ROUTES), (
        "routes without a row: "
        + repr(sorted(app_routes(app) - set(ROUTES)))
        + "; rows without a route: "
        + repr(sorted(set(ROUTES) - app_routes(app)))
    )


async def join(case_id: int, user_id: int, role: str) -> None:
    await CaseParticipant.insert(
        CaseParticipant(case=case_id, user=user_id, role=role, added_at=datetime.now(UTC))
    )


@pytest.fixture
async def world(people, browser) -> World:
    alice = await browser(people["alice"])
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
    response = await file_dispute(
        alice,
        {**GOOD, "respondent_email": "bob@example.com"},
        files=[("chart.png", png, "image/png")],
    )
    ref = response.headers["location"].removeprefix("/cases/")
    case = await Case.select(Case.id).where(Case.ref == ref).first()
    for name, role in (
        ("ivy", "investigator"),
        ("lee", "legal"),
        ("mona", "mediator"),
        ("ari", "arbitrator"),
    ):
        await join(case["id"], people[name].id, role)
    evidence = await Evidence.select(Evidence.id).first()
    notification = (
        await Notification.select(Notification.id)
        .where(Notification.user == people["alice"].id)
        .first()
    )
    spare = await User.insert(
        User(email="spare@example.com", name="Spare", role="agent", created_at=datetime.now(UTC))
    ).returning(User.id)
    integration = await create_integration("Exchange back end", people["sue"].id)
    return World(
        ref, evidence["id"], notification["id"], spare[0]["id"], people["mona"].id, integration
    )


async def test_each_role_gets_what_the_table_says(world, people, browser):
    browsers = {name: await browser(people[name]) for name in (*ON_CASE, *OFF_CASE)}
    browsers["anon"] = await browser()
    wrong = []
    # Logging out last, so every other row runs with live sessions.
    order = sorted(ROUTES, key=lambda key: key == ("POST", "/logout"))
    for key in order:
        send, expected = ROUTES[key]
        for name in EVERYONE:
            response = await send(browsers[name], world)
            if response.status_code != expected[name]:
                wrong.append((key, name, expected[name], response.status_code))
            elif name == "anon" and key[1].startswith("/cases") and response.status_code == 200:
                # htmx is sent to the login page, and shown nothing of the case.
                assert response.headers["HX-Redirect"].startswith("/login"), key
                assert world.ref not in response.text
    assert not wrong, "\n".join(f"{k} as {n}: expected {e}, got {g}" for k, n, e, g in wrong)
