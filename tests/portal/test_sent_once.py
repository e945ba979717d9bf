"""A form sent twice is recorded once (issue 16, finding 11).

A connection that drops after the commit leaves the person, or the browser, sending the
same form again. Each form that records something carries a one-time token; the second
copy records nothing and its answer says so, in a page or (for htmx) in the messages.
Every test sends the token the page drew, as a browser would, over HTTP, on each database.
"""

from __future__ import annotations

import asyncio
import html
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

from ledger.tables import LedgerEntry
from mediation.tables import Offer, SettlementSignature
from portal.cases import submissions
from portal.cases.events import actor, record
from portal.cases.sweep import sweep
from portal.cases.tables import Evidence, SentForm, Statement
from portal.database import write_transaction
from portal.i18n import gettext, language
from tests.mediation.test_journeys import PAY_70, appointed, in_mediation, offer_form, ok
from tests.portal.test_case_room import open_case
from tests.portal.test_evidence import PNG
from tests.portal.test_filing import GOOD

ALREADY = "This was already recorded, so it was not recorded again."
ROOT = Path(__file__).resolve().parents[2]


def token_in(page: str, form: str) -> str:
    """The one-time token of the first form whose opening tag contains `form`."""
    start = page.index(form)
    found = re.compile(r'name="_sent_once" value="([^"]+)"').search(page, start)
    assert found is not None and found.start() < page.index("</form>", start), form
    return found.group(1)


async def entries_of(ref: str, event_type: str) -> int:
    return await LedgerEntry.count().where(
        (LedgerEntry.case_ref == ref) & (LedgerEntry.event_type == event_type)
    )


async def test_a_statement_sent_twice_is_recorded_once_and_the_second_answer_says_so(
    people, browser
):
    alice, ref = await open_case(people, browser)
    room = (await alice.get(f"/cases/{ref}")).text
    form = {
        "channel": "all",
        "text": "The liquidation price was never traded.",
        "_sent_once": token_in(room, 'id="statement-form"'),
    }
    first = await alice.post(f"/cases/{ref}/statements", form, htmx=True)
    assert first.status_code == 200 and ALREADY not in first.text
    # The answer draws a new form, with a new token, for the next statement.
    assert token_in(first.text, 'id="statement-form"') != form["_sent_once"]

    again = await alice.post(f"/cases/{ref}/statements", form, htmx=True)
    assert again.status_code == 200
    assert ALREADY in html.unescape(again.text)
    assert again.headers["HX-Retarget"] == "#messages"
    seq = (await Statement.select(Statement.case_seq).first())["case_seq"]
    assert f'href="/cases/{ref}/ledger/{seq}"' in again.text
    receipt = await alice.get(f"/cases/{ref}/ledger/{seq}")
    assert receipt.status_code == 200 and form["text"] in html.unescape(receipt.text)
    # Without htmx (the browser's own retry of the plain form): a page, not an error.
    plain = await alice.post(f"/cases/{ref}/statements", form)
    assert plain.status_code == 200 and ALREADY in html.unescape(plain.text)
    assert "<h1>Already recorded</h1>" in plain.text

    assert await Statement.count() == 1
    assert await entries_of(ref, "statement.submitted") == 1
    assert await SentForm.count() == 1


async def test_the_answer_is_in_chinese_for_a_chinese_reader(people, browser):
    alice, ref = await open_case(people, browser)
    await alice.post("/account/language", {"language": "zh_Hans"})
    room = (await alice.get(f"/cases/{ref}")).text
    form = {"channel": "all", "text": "两次", "_sent_once": token_in(room, 'id="statement-form"')}
    await ok(await alice.post(f"/cases/{ref}/statements", form, htmx=True), 200)
    again = await alice.post(f"/cases/{ref}/statements", form)
    with language("zh_Hans"):
        said = gettext(ALREADY)
    assert said != ALREADY and said in html.unescape(again.text)


async def test_the_same_token_with_other_words_is_a_new_statement(people, browser):
    """A page brought back with the Back button and changed is not a copy: it is recorded."""
    alice, ref = await open_case(people, browser)
    token = token_in((await alice.get(f"/cases/{ref}")).text, 'id="statement-form"')
    for text in ("First thought.", "Second thought."):
        form = {"channel": "all", "text": text, "_sent_once": token}
        await ok(await alice.post(f"/cases/{ref}/statements", form), 303)
    assert sorted(s["text"] for s in await Statement.select()) == [
        "First thought.",
        "Second thought.",
    ]


async def test_a_token_is_one_person_s_own(people, browser):
    """bob sending alice's token (with the same words) records his statement: the unique key
    is per sender, so nobody can make another's form count as sent."""
    alice, ref = await open_case(people, browser, respondent_email="bob@example.com")
    bob = await browser(people["bob"])
    token = token_in((await alice.get(f"/cases/{ref}")).text, 'id="statement-form"')
    form = {"channel": "all", "text": "Same words.", "_sent_once": token}
    for b in (alice, bob):
        await ok(await b.post(f"/cases/{ref}/statements", form), 303)
    assert await Statement.count() == 2


async def test_a_form_without_a_token_is_recorded_as_before(people, browser):
    """A page drawn before the token existed (a tab left open over an upgrade) still
    works; without a token nothing is remembered, so each send is a new statement."""
    alice, ref = await open_case(people, browser)
    for _n in range(2):
        await ok(await alice.post(f"/cases/{ref}/statements", {"text": "No token."}), 303)
    assert await Statement.count() == 2 and await SentForm.count() == 0


async def test_a_damaged_token_is_refused_and_records_nothing(people, browser):
    alice, ref = await open_case(people, browser)
    form = {"channel": "all", "text": "Tampered.", "_sent_once": "<script>"}
    refused = await alice.post(f"/cases/{ref}/statements", form)
    assert refused.status_code == 400
    assert "Reload the page and send it again." in html.unescape(refused.text)
    assert await Statement.count() == 0 and await entries_of(ref, "statement.submitted") == 0


async def test_an_upload_sent_twice_is_recorded_once(people, browser, settings):
    alice, ref = await open_case(people, browser)
    token = token_in((await alice.get(f"/cases/{ref}")).text, 'id="evidence-form"')
    parts = [
        ("_sent_once", (None, token)),
        ("channel", (None, "all")),
        ("files", ("chart.png", PNG, "image/png")),
    ]
    first = await alice.post(f"/cases/{ref}/evidence", files=parts, htmx=True)
    assert first.status_code == 200 and ALREADY not in html.unescape(first.text)
    again = await alice.post(f"/cases/{ref}/evidence", files=parts, htmx=True)
    assert again.status_code == 200 and ALREADY in html.unescape(again.text)
    # htmx would otherwise pick the evidence area out of the answer, and find nothing.
    assert again.headers["HX-Reselect"] == "#already-recorded"
    assert 'id="already-recorded"' in again.text

    rows = await Evidence.select()
    assert len(rows) == 1 and await entries_of(ref, "evidence.added") == 1
    # The copy's file was the first one's bytes: they stay, and download whole.
    download = await alice.get(f"/cases/{ref}/evidence/{rows[0]['id']}/download")
    assert download.status_code == 200 and download.content == PNG
    # Another file with the same token is another upload (a changed form): recorded.
    other = [*parts[:2], ("files", ("notes.txt", b"A second file.", "text/plain"))]
    await ok(await alice.post(f"/cases/{ref}/evidence", files=other, htmx=True), 200)
    assert await Evidence.count() == 2


async def test_a_case_filed_twice_is_filed_once(people, browser):
    alice = await browser(people["alice"])
    token = token_in((await alice.get("/cases/new")).text, 'action="/cases/new"')
    parts = [(k, (None, v)) for k, v in {**GOOD, "_sent_once": token}.items()]
    parts.append(("evidence", ("", b"", "application/octet-stream")))
    first = await alice.post("/cases/new", files=parts)
    assert first.status_code == 303, first.text
    ref = first.headers["location"].removeprefix("/cases/")
    again = await alice.post("/cases/new", files=parts)
    assert again.status_code == 200 and ALREADY in html.unescape(again.text)
    assert f'href="/cases/{ref}"' in again.text
    assert (await alice.get(f"/cases/{ref}/ledger/0")).status_code == 200
    assert f'href="/cases/{ref}/ledger/0"' in again.text
    assert await LedgerEntry.count().where(LedgerEntry.event_type == "case.filed") == 1


async def test_a_case_action_sent_twice_is_taken_once(people, browser):
    _alice, ref = await open_case(people, browser)
    ada = await browser(people["ada"])
    room = (await ada.get(f"/cases/{ref}")).text
    action = f'action="/cases/{ref}/actions/start_review"'
    form = {"_sent_once": token_in(room, action)}
    await ok(await ada.post(f"/cases/{ref}/actions/start_review", form), 303)
    # Today's answer to the copy would be "not allowed in this state": now it says why.
    again = await ada.post(f"/cases/{ref}/actions/start_review", form)
    assert again.status_code == 200 and ALREADY in html.unescape(again.text)
    assert await entries_of(ref, "case.transitioned") == 1


async def test_a_settlement_signature_sent_twice_is_signed_once(people, browser):
    alice, _ada, ref = await in_mediation(people, browser)
    bob = await browser(people["bob"])
    await appointed(people, browser, ref)
    await ok(await alice.post(f"/cases/{ref}/mediation/offers", offer_form(pay=PAY_70)))
    offer = await Offer.select(Offer.id).first()
    await ok(await bob.post(f"/cases/{ref}/mediation/offers/{offer['id']}/answer",
                            {"answer": "accept"}))  # fmt: skip
    room = (await alice.get(f"/cases/{ref}")).text
    form = {
        "password": people["alice"].password,
        "_sent_once": token_in(room, 'id="sign-settlement"'),
    }
    await ok(await alice.post(f"/cases/{ref}/mediation/sign", form))
    again = await alice.post(f"/cases/{ref}/mediation/sign", form)
    assert again.status_code == 200 and ALREADY in html.unescape(again.text)
    assert await SettlementSignature.count() == 1
    assert await entries_of(ref, "settlement.signed") == 1


def test_a_password_is_no_part_of_what_a_form_said():
    """A signature is confirmed with a password: it is never hashed into what is kept."""
    token = submissions.new_token()
    kept = []
    for password in ("correct horse", "battery staple"):
        with submissions.sending(1):
            submissions.offer([("_sent_once", token), ("password", password), ("x", "1")])
            form = submissions.unclaimed()
            assert form is not None
            kept.append(form.fingerprint)
    assert kept[0] == kept[1]


async def test_two_copies_sent_at_once_are_recorded_once(people, browser):
    alice, ref = await open_case(people, browser)
    token = token_in((await alice.get(f"/cases/{ref}")).text, 'id="statement-form"')
    form = {"channel": "all", "text": "Sent twice at once.", "_sent_once": token}
    answers = await asyncio.gather(
        *(alice.post(f"/cases/{ref}/statements", form, htmx=True) for _n in range(4))
    )
    assert [a.status_code for a in answers] == [200] * 4
    assert sum(ALREADY in html.unescape(a.text) for a in answers) == 3
    assert await Statement.count() == 1 and await entries_of(ref, "statement.submitted") == 1


async def _waiting_on_a_lock(url: str) -> bool:
    conn = await asyncpg.connect(url)
    try:
        return bool(
            await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )
    finally:
        await conn.close()


async def test_a_copy_waits_for_the_first_and_then_records_nothing(db, keyring, people):
    """Two transactions with one token, the second begun while the first is open: the
    unique index holds the second until the first commits, then it records nothing.
    On PostgreSQL the second is seen waiting on the index's lock before the first commits;
    on SQLite the writers queue, so the second finds the first's row when its turn comes.
    Two cases, so that nothing else (the case's chain) makes the second one wait."""
    alice = people["alice"]
    first_ref, second_ref = "DR-2026-900001", "DR-2026-900002"
    claimed, commit = asyncio.Event(), asyncio.Event()
    fields = [("text", "once"), ("_sent_once", submissions.new_token())]

    async def send(ref: str, hold: bool) -> int:
        with submissions.sending(alice.id):
            submissions.offer(fields)
            async with write_transaction(SentForm._meta.db):
                receipt = await record(keyring, ref, "survey.answered",
                                       actor(alice.id, "claimant"), {"score": 5})  # fmt: skip
                if hold:
                    claimed.set()
                    await commit.wait()
            return receipt.case_seq

    first = asyncio.create_task(send(first_ref, hold=True))
    await claimed.wait()
    second = asyncio.create_task(send(second_ref, hold=False))
    if not db.is_sqlite:
        for _try in range(500):  # a liveness bound, not a measurement
            if await _waiting_on_a_lock(db.url):
                break
            await asyncio.sleep(0.01)
        else:
            raise AssertionError("the second copy never waited for the first")
    commit.set()
    first_seq = await first
    try:
        await second
    except submissions.AlreadyRecorded as exc:
        assert (exc.case_ref, exc.case_seq) == (first_ref, first_seq)
    else:
        raise AssertionError("the second copy was recorded too")
    assert await LedgerEntry.count().where(LedgerEntry.case_ref == second_ref) == 0


async def test_tokens_are_forgotten_by_the_sweep_after_a_while(people, browser):
    alice, ref = await open_case(people, browser)
    token = token_in((await alice.get(f"/cases/{ref}")).text, 'id="statement-form"')
    form = {"channel": "all", "text": "Old.", "_sent_once": token}
    await ok(await alice.post(f"/cases/{ref}/statements", form), 303)
    now = datetime.now(UTC)
    await sweep(now=now + submissions.KEPT_FOR - timedelta(minutes=1))
    assert await SentForm.count() == 1
    await sweep(now=now + submissions.KEPT_FOR + timedelta(minutes=1))
    assert await SentForm.count() == 0


FORM = re.compile(r'<form\b[^>]*method="post"[^>]*>.*?</form>', re.DOTALL)
ACTION = re.compile(r'action="([^"]*)"')
# Forms that record nothing in a case's ledger, and so carry no token, by the reason.
RECORD_NOTHING = {
    "a session, an account or a language, not a case": (
        "/logout", "/language", "/login", "/login/code", "/signup", "/password/forgot",
        "/account/second-factor", "/account/name", "/account/language", "/account/password",
        "/account/roster-profile", "{{ action }}",
    ),
    "staff settings and accounts, not a case": (
        "/admin/users/{{ user.id }}/deactivate", "/admin/users/{{ user.id }}/reactivate",
        "/admin/users/{{ user.id }}/invite-again", "/staff/deadlines", "/staff/integrations",
        "/staff/roster/{{ profile.id }}", "/staff/integrations/{{ integration.id }}/keys",
        "/staff/integrations/{{ integration.id }}/keys/{{ key.id }}/revoke",
        "/staff/integrations/{{ integration.id }}/deliveries/{{ d.id }}/replay",
    ),
    "marks notifications read": ("/notifications/{{ item.id }}/read", "/notifications/read-all"),
    "reads a file, keeps nothing": ("/verify",),
    # Each copy is a new export, and a retry must get the file, not a note that it was made.
    "an export": ("/cases/{{ case.ref }}/casefile.pdf",),
}  # fmt: skip
EXEMPT = {action for actions in RECORD_NOTHING.values() for action in actions}


def test_every_form_that_records_something_carries_a_token():
    """A new form that records something fails here until it carries its token (or is
    named above, with the reason it records nothing)."""
    missing, stale = [], set(EXEMPT)
    for path in sorted((ROOT / "templates").rglob("*.html")):
        for form in FORM.findall(path.read_text()):
            action = ACTION.search(form).group(1)
            stale.discard(action)
            if action not in EXEMPT and "one_time_token()" not in form:
                missing.append(f"{path.relative_to(ROOT)}: {action}")
    assert not missing, missing
    assert not stale, f"no such forms any more: {sorted(stale)}"
