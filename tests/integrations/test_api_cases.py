"""Filing a case for a user, attaching platform records and reading a case's status,
through the API with a key a supervisor made; and what a key without the right scope,
a revoked key, or no key at all is told."""

from __future__ import annotations

import hashlib
import json
import re

import rfc8785

from ledger.tables import LedgerEntry
from portal.accounts.tables import AccountToken, User
from portal.cases.tables import Case, CaseParticipant, Evidence
from portal.notifications.tables import OutboundMail
from tests.integrations.conftest import make_key
from tests.people import PASSWORD

NEW_CASE = {
    "claimant_email": "carol@example.net",
    "claimant_name": "Carol Chen",
    "category": "liquidation",
    "contested_resolution": "Support said the liquidation was correct.",
    "what_happened": "My position was liquidated during a price spike of 2 seconds.",
    "happened_on": "2026-03-14",
    "transaction_ids": ["ORD-1001", "ORD-1002"],
    "amount": "1,250.50",
    "asset": "usdt",
    "remedy_wanted": "Refund the liquidation loss.",
}


async def entries(ref: str) -> list[dict]:
    rows = (
        await LedgerEntry.select(LedgerEntry.entry)
        .where(LedgerEntry.case_ref == ref)
        .order_by(LedgerEntry.case_seq)
    )
    return [json.loads(bytes(r["entry"])) for r in rows]


async def file(client, **changes):
    return await client.post("/api/v1/cases", json={**NEW_CASE, **changes})


async def test_a_case_filed_for_a_new_user_invites_them_and_the_ledger_names_the_key(
    api, integration, browser, people
):
    client = await api(integration.token)
    response = await file(client)
    assert response.status_code == 201, response.text
    filed = response.json()
    ref = filed["ref"]
    assert filed["claimant_account_created"] is True
    assert filed["status"]["state"] == "submitted"
    assert filed["status"]["deadline_at"] and filed["status"]["outcome"] is None

    carol = await User.select().where(User.email == "carol@example.net").first()
    assert (carol["role"], carol["name"], carol["password_hash"]) == ("party", "Carol Chen", "")
    case = await Case.select().where(Case.ref == ref).first()
    # The form's own checks ran: the amount and asset are as the web form keeps them.
    assert (case["amount"], case["asset"]) == ("1250.5", "USDT")
    assert await CaseParticipant.exists().where(
        (CaseParticipant.case == case["id"])
        & (CaseParticipant.user == carol["id"])
        & (CaseParticipant.role == "claimant")
    )

    filed_entry = (await entries(ref))[0]
    account = (
        await User.select(User.id, User.role, User.active)
        .where(User.name == "Exchange back end")
        .first()
    )
    assert account == {"id": account["id"], "role": "integration", "active": False}
    assert filed_entry["type"] == "case.filed"
    assert filed_entry["actor"] == {"id": f"user:{account['id']}", "role": "integration"}
    assert filed_entry["body"]["claimant"] == f"user:{carol['id']}"
    assert filed_entry["body"]["api_key"] == integration.prefix

    # One email: the case, and a single-use link to choose a password.
    mails = await OutboundMail.select().where(OutboundMail.to_address == "carol@example.net")
    assert len(mails) == 1
    assert ref in mails[0]["subject"] and "Exchange back end" in mails[0]["subject"]
    link = re.search(r"http://portal.test(/invite/\S+)", mails[0]["body"]).group(1)
    assert await AccountToken.count().where(AccountToken.user == carol["id"]) == 1

    carol_browser = await browser()
    await carol_browser.get(link)
    chosen = await carol_browser.post(link, {"password": PASSWORD, "password_again": PASSWORD})
    assert chosen.status_code == 303, chosen.text
    room = await carol_browser.get(f"/cases/{ref}")
    assert room.status_code == 200
    assert "Exchange back end" in room.text and "filed the dispute" in room.text


async def test_a_case_filed_for_an_existing_user_is_theirs_with_a_respondent(api, integration,
                                                                              people):  # fmt: skip
    client = await api(integration.token)
    response = await file(client, claimant_email="ALICE@example.com",
                          respondent_email="bob@example.com")  # fmt: skip
    assert response.status_code == 201, response.text
    assert response.json()["claimant_account_created"] is False
    ref = response.json()["ref"]
    assert await User.count().where(User.email == "alice@example.com") == 1
    added = [e for e in await entries(ref) if e["type"] == "participant.added"]
    bob = next(e for e in added if e["body"]["user"] == f"user:{people['bob'].id}")
    assert bob["actor"]["role"] == "integration" and bob["body"]["api_key"] == integration.prefix
    # Alice is told as if she had filed it; no invitation.
    subjects = [m["subject"] for m in await OutboundMail.select().where(
        OutboundMail.to_address == "alice@example.com")]  # fmt: skip
    assert subjects == [f"Case {ref}: your dispute has been filed"]


async def test_the_web_forms_checks_say_what_to_fix_and_nothing_is_kept(api, integration,
                                                                         people):  # fmt: skip
    client = await api(integration.token)
    before = await User.count()
    response = await file(client, claimant_email="sue@example.com", happened_on="2999-01-01",
                          amount="-3", what_happened="   ")  # fmt: skip
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == 422 and problem["title"]
    fields = {e["field"]: e["message"] for e in problem["errors"]}
    assert fields == {
        "claimant_email": "This address belongs to platform staff or a neutral, not a "
        "customer; file with the customer's own address.",
        "happened_on": "The date cannot be in the future.",
        "amount": "Enter the amount as a positive number, like 1250.50.",
        "what_happened": "Describe what happened.",
    }
    assert await Case.count() == 0 and await User.count() == before


async def test_a_body_that_does_not_match_the_schema_names_the_field(api, integration):
    client = await api(integration.token)
    response = await file(client, category="crypto")
    assert response.status_code == 422
    problem = response.json()
    assert problem["errors"][0]["field"] == "category"
    assert "trade_execution" in problem["errors"][0]["message"]
    unknown = (await file(client, surprise=1)).json()
    assert unknown["errors"] == [
        {"field": "surprise", "message": "Object contains unknown field `surprise`"}
    ]
    broken = await client.post(
        "/api/v1/cases", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert broken.status_code in (400, 422) and broken.json()["detail"]
    assert await Case.count() == 0


async def test_records_attached_by_api_are_platform_records_in_the_room_and_the_ledger(
    api, integration, browser, people
):
    client = await api(integration.token)
    ref = (await file(client, claimant_email="alice@example.com")).json()["ref"]
    record = {"orders": [{"id": "ORD-1001", "price": "61234.5", "side": "sell"}], "清算": True}
    response = await client.post(
        f"/api/v1/cases/{ref}/records", json={"name": "Order history", "record": record}
    )
    assert response.status_code == 201, response.text
    stored = rfc8785.dumps(record)
    assert response.json()["files"] == [{
        "sha256": hashlib.sha256(stored).hexdigest(), "name": "Order history.json",
        "size": len(stored), "media_type": "application/json",
    }]  # fmt: skip

    csv = b"time,event\n2026-03-14T14:02:00Z,liquidation\n"
    uploaded = await client.post(
        f"/api/v1/cases/{ref}/records/files",
        files=[("files", ("liquidations.csv", csv, "text/csv"))],
        data={"channel": "staff"},
    )
    assert uploaded.status_code == 201, uploaded.text

    account = await User.select(User.id).where(User.role == "integration").first()
    rows = await Evidence.select(
        Evidence.name, Evidence.channel, Evidence.platform_record, Evidence.added_by
    ).order_by(Evidence.id)
    assert rows == [
        {"name": "Order history.json", "channel": "all", "platform_record": True,
         "added_by": account["id"]},
        {"name": "liquidations.csv", "channel": "staff", "platform_record": True,
         "added_by": account["id"]},
    ]  # fmt: skip
    added = [e for e in await entries(ref) if e["type"] == "evidence.added"]
    assert [e["body"]["platform_record"] for e in added] == [True, True]
    assert [e["body"]["api_key"] for e in added] == [integration.prefix] * 2
    assert added[0]["actor"] == {"id": f"user:{account['id']}", "role": "integration"}

    alice = await browser(people["alice"])
    room = (await alice.get(f"/cases/{ref}")).text
    around = room[room.index("Order history.json") - 300 : room.index("Order history.json") + 600]
    assert "Platform record" in around and "Exchange back end" in around
    assert "liquidations.csv" not in room  # the staff channel is not hers
    first = await Evidence.select(Evidence.id).order_by(Evidence.id).first()
    download = await alice.get(f"/cases/{ref}/evidence/{first['id']}/download")
    assert download.status_code == 200 and download.content == stored


async def test_status_gives_state_deadline_and_outcome(api, integration):
    client = await api(integration.token)
    ref = (await file(client, claimant_email="alice@example.com")).json()["ref"]
    response = await client.get(f"/api/v1/cases/{ref}")
    assert response.status_code == 200
    status = response.json()
    assert status["ref"] == ref and status["state"] == "submitted"
    assert status["next_step_by"] == "agent" and status["deadline_at"].endswith(("Z", "+00:00"))
    assert status["outcome"] is None
    missing = await client.get("/api/v1/cases/DR-2026-999999")
    assert missing.status_code == 404 and missing.json()["detail"]


async def test_a_key_is_refused_without_its_scope_when_revoked_and_when_absent(
    api, integration, sue
):
    reader = await make_key(sue, integration.id, scopes=["cases:read"])
    limited = await api(reader)
    refused = await file(limited)
    assert refused.status_code == 403
    assert "cases:file" in refused.json()["detail"] and await Case.count() == 0

    client = await api(integration.token)
    ref = (await file(client, claimant_email="alice@example.com")).json()["ref"]
    assert (await limited.get(f"/api/v1/cases/{ref}")).status_code == 200

    page = (await sue.get("/staff/integrations")).text
    key_id = re.search(r'id="key-(\d+)"', page).group(1)  # the newest key is listed first
    revoked = await sue.post(f"/staff/integrations/{integration.id}/keys/{key_id}/revoke")
    assert revoked.status_code == 303
    answer = await limited.get(f"/api/v1/cases/{ref}")
    assert answer.status_code == 401
    assert "revoked" in answer.json()["detail"]
    assert answer.headers["www-authenticate"].startswith("Bearer")
    # The other key of the integration still works.
    assert (await client.get(f"/api/v1/cases/{ref}")).status_code == 200

    for token in (None, "dpk_00000000_wrong", "not-a-key", integration.token[:-1] + "x"):
        anonymous = await api(token)
        answer = await anonymous.get(f"/api/v1/cases/{ref}")
        assert answer.status_code == 401, token
        assert answer.headers["content-type"].startswith("application/problem+json")


async def test_a_session_cookie_alone_does_not_open_the_api(sue, integration):
    # sue is logged in, past her second factor, and a supervisor: still no key, no API.
    response = await sue.get("/api/v1/webhooks")
    assert response.status_code == 401
    posted = await sue.post("/api/v1/cases", json=NEW_CASE)
    assert posted.status_code == 401 and await Case.count() == 0
