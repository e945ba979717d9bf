"""`portal demo`: one account per role, cases in several states, and a ledger that verifies."""

from __future__ import annotations

import json

import pyotp

from tests.people import Browser
from tests.portal.conftest import SECRET
from tests.support import portal_env, run_portal

ROLES = {
    "claimant",
    "respondent",
    "agent",
    "investigator",
    "assessor",
    "supervisor",
    "mediator",
    "arbitrator",
    "legal",
}


async def test_demo_accounts_log_in_and_see_exactly_their_cases(
    app, settings, db, browser, tmp_path
):
    env = portal_env(
        db.url,
        tmp_path,
        PORTAL_SECRET_KEY=SECRET,
        PORTAL_SIGNING_KEY_FILE=str(settings.signing_key_file),
    )
    made = json.loads(run_portal("demo", "--json", env=env).stdout)
    assert {a["role"] for a in made["accounts"]} == ROLES
    assert len({c["state"] for c in made["cases"]}) >= 4
    assert all(
        a["totp_secret"] for a in made["accounts"] if a["role"] not in ("claimant", "respondent")
    )

    refs = [c["ref"] for c in made["cases"]]
    for account in made["accounts"]:
        b: Browser = await browser()
        response = await b.post(
            "/login", {"email": account["email"], "password": account["password"]}
        )
        assert response.status_code == 303, account
        if account["totp_secret"]:
            code = pyotp.TOTP(account["totp_secret"]).now()
            assert (await b.post("/login/code", {"code": code})).status_code == 303
        for case in made["cases"]:
            on_case = account["email"] in case["participants"] or account["role"] == "supervisor"
            room = await b.get(f"/cases/{case['ref']}")
            assert room.status_code == (200 if on_case else 404), (account["email"], case)
        listing = await b.get("/cases")
        shown = {ref for ref in refs if ref in listing.text}
        expected = {
            c["ref"]
            for c in made["cases"]
            if account["email"] in c["participants"] or account["role"] == "supervisor"
        }
        assert shown == expected

    again = run_portal("demo", env=env, check=False)
    assert again.returncode == 1 and "already has accounts" in again.stderr
    production = run_portal("demo", env={**env, "PORTAL_ENV": "production"}, check=False)
    assert production.returncode == 1 and "refuses to run in production" in production.stderr

    run_portal("ledger", "integrate", env=env)
    verified = run_portal("ledger", "verify", env=env)
    assert verified.stdout.startswith("OK:")
