"""Telling people what to act on: notify(), the badge, the list, and marking read."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from babel.support import NullTranslations

import portal.i18n
from portal.accounts.tables import User
from portal.database import write_transaction
from portal.notifications.mail import render_mail
from portal.notifications.notify import notify
from portal.notifications.tables import Notification, OutboundMail

REF = "D-2026-0001"
LINK = f"/cases/{REF}"


class Marked(NullTranslations):
    """A stand-in catalogue: whatever it translates comes out marked, so a test can tell."""

    def gettext(self, message: str) -> str:
        return "[zh] " + message

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return "[zh] " + (singular if n == 1 else plural)


@pytest.fixture
def marked_chinese(monkeypatch):
    english = NullTranslations()
    monkeypatch.setattr(
        portal.i18n, "_catalogue", lambda code: Marked() if code == "zh_Hans" else english
    )


async def statement_posted(user_ids, author="Mona") -> int:
    async with write_transaction(Notification._meta.db):
        return await notify(
            user_ids,
            "statement_posted",
            case_ref=REF,
            link=LINK,
            template="statement_posted",
            author_name=author,
        )


async def test_notify_tells_each_active_user_once_in_their_language(people, marked_chinese):
    alice, bob, eve = people["alice"], people["bob"], people["eve"]
    await User.update({User.language: "zh_Hans"}).where(User.id == bob.id)
    await User.update({User.active: False}).where(User.id == eve.id)

    told = await statement_posted([alice.id, bob.id, eve.id, alice.id])

    assert told == 2
    notes = {row["user"]: row for row in await Notification.select()}
    assert set(notes) == {alice.id, bob.id}
    assert notes[alice.id]["message"] == f"Case {REF}: Mona posted a statement"
    assert notes[bob.id]["message"].startswith("[zh] Case ")
    assert all(
        note["kind"] == "statement_posted"
        and note["case_ref"] == REF
        and note["link"] == LINK
        and note["read_at"] is None
        for note in notes.values()
    )

    mails = {row["to_address"]: row for row in await OutboundMail.select()}
    assert set(mails) == {alice.email, bob.email}
    english = mails[alice.email]
    assert english["subject"] == notes[alice.id]["message"]
    assert english["body"].startswith("Hello Alice,\n")
    assert f"http://portal.test{LINK}\n" in english["body"]  # absolute, from PORTAL_BASE_URL
    assert mails[bob.email]["subject"] == notes[bob.id]["message"]
    assert mails[bob.email]["body"].startswith("[zh] Hello")


async def test_nothing_is_told_when_the_callers_transaction_rolls_back(people):
    with pytest.raises(RuntimeError):
        async with write_transaction(Notification._meta.db):
            await notify(
                [people["alice"].id], "case_filed", case_ref=REF, link=LINK, template="case_filed"
            )
            assert await Notification.count() == 1  # written, in this transaction
            raise RuntimeError("the change that was being announced failed")
    assert await Notification.count() == 0
    assert await OutboundMail.count() == 0


async def test_a_link_must_stay_on_the_portal(people):
    for link in ("https://evil.example/", "//evil.example/x", "javascript:alert(1)"):
        with pytest.raises(ValueError, match="path on the portal"):
            await notify(
                [people["alice"].id], "case_filed", case_ref=REF, link=link, template="case_filed"
            )
    assert await Notification.count() == 0


TEMPLATES = {
    "case_filed": ({}, "your dispute has been filed"),
    "case_assigned": ({}, "has been assigned to you"),
    "respondent_invited": ({"claimant_name": "Alice Chen"}, "Alice Chen has filed a dispute"),
    "statement_posted": ({"author_name": "Bob"}, "Bob posted a statement"),
    "evidence_added": ({"author_name": "Bob", "count": 3}, "Bob added 3 files of evidence"),
}


@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_each_email_says_what_happened_and_where_to_act(template):
    extra, expected = TEMPLATES[template]
    link = f"http://portal.test{LINK}"
    subject, body = render_mail(template, "en", ref=REF, link=link, recipient_name="Alice", **extra)
    assert REF in subject and expected in subject and "\n" not in subject
    assert body.startswith("Hello Alice,\n\n")
    assert f"\n{link}\n" in body
    assert "{{" not in body and "%(" not in body


def test_one_file_of_evidence_is_singular():
    subject, _body = render_mail(
        "evidence_added", "en", ref=REF, link="x", recipient_name="A", author_name="Bob", count=1
    )
    assert subject == f"Case {REF}: Bob added 1 file of evidence"


# In the portal


def badge_count(response) -> int:
    assert response.status_code == 200
    match = re.fullmatch(r'\s*(?:<span class="badge"[^>]*>(\d+)</span>)?\s*', response.text)
    assert match, response.text
    return int(match.group(1) or 0)


async def test_the_badge_counts_only_my_unread_notifications(people, browser):
    alice, bob = people["alice"], people["bob"]
    a = await browser(alice)
    assert badge_count(await a.get("/notifications/badge")) == 0
    assert (await a.get("/notifications/badge")).text.strip() == ""

    await statement_posted([alice.id, bob.id])
    await statement_posted([alice.id], author="Ivy")
    assert badge_count(await a.get("/notifications/badge")) == 2
    b = await browser(bob)
    assert badge_count(await b.get("/notifications/badge")) == 1


async def test_the_list_shows_newest_first_and_marks_what_is_unread(people, browser):
    alice = people["alice"]
    await statement_posted([alice.id], author="Mona")
    await statement_posted([alice.id], author="Ivy")
    a = await browser(alice)

    page = await a.get("/notifications")

    assert page.status_code == 200
    text = page.text
    assert text.index("Ivy posted a statement") < text.index("Mona posted a statement")
    assert text.count(">New<") == 2
    assert f'href="{LINK}"' in text


async def test_marking_one_read_updates_it_and_the_badge(people, browser):
    alice = people["alice"]
    await statement_posted([alice.id], author="Mona")
    await statement_posted([alice.id], author="Ivy")
    mona_note = (
        await Notification.select(Notification.id)
        .where(Notification.message.like("%Mona%"))
        .first()
    )
    a = await browser(alice)

    response = await a.post(f"/notifications/{mona_note['id']}/read", htmx=True)

    assert response.status_code == 200
    assert "Mona posted a statement" in response.text and ">New<" not in response.text
    assert 'id="badge" hx-swap-oob="innerHTML"><span class="badge"' in response.text
    assert badge_count(await a.get("/notifications/badge")) == 1
    # Without htmx the form sends the browser back to the list.
    response = await a.post(f"/notifications/{mona_note['id']}/read")
    assert response.status_code == 303 and response.headers["location"] == "/notifications"


async def test_anothers_notification_is_not_found_and_stays_unread(people, browser):
    alice, bob = people["alice"], people["bob"]
    await statement_posted([alice.id])
    note = await Notification.select(Notification.id).first()
    b = await browser(bob)

    for htmx in (False, True):
        response = await b.post(f"/notifications/{note['id']}/read", htmx=htmx)
        assert response.status_code == 404
    assert (await b.post("/notifications/999999/read")).status_code == 404
    assert await Notification.count().where(Notification.read_at.is_null()) == 1
    assert "posted a statement" not in (await b.get("/notifications")).text


async def test_mark_all_read_touches_only_mine(people, browser):
    alice, bob = people["alice"], people["bob"]
    await statement_posted([alice.id, bob.id])
    await statement_posted([alice.id, bob.id], author="Ivy")
    a = await browser(alice)

    response = await a.post("/notifications/read-all", htmx=True)

    assert response.status_code == 200
    assert ">New<" not in response.text and "Ivy posted a statement" in response.text
    assert 'id="badge" hx-swap-oob="innerHTML"></span>' in response.text
    assert badge_count(await a.get("/notifications/badge")) == 0
    assert badge_count(await (await browser(bob)).get("/notifications/badge")) == 2


async def test_the_list_is_paged_by_fifty(people, browser):
    alice = people["alice"]
    start = datetime.now(UTC) - timedelta(days=1)
    await Notification.insert(
        *(
            Notification(
                user=alice.id,
                kind="statement_posted",
                case_ref=REF,
                message=f"Message number {n:02d}.",
                link=LINK,
                created_at=start + timedelta(minutes=n),
            )
            for n in range(60)
        )
    )
    a = await browser(alice)

    first = (await a.get("/notifications")).text
    second = (await a.get("/notifications?page=2")).text

    assert first.count("Message number") == 50 and "Message number 59." in first
    assert "Message number 09." not in first and 'href="/notifications?page=2"' in first
    assert second.count("Message number") == 10 and "Message number 00." in second
    assert 'href="/notifications?page=1"' in second and "page=3" not in second
    assert (await a.get("/notifications?page=0")).status_code == 400


async def test_notifications_need_a_login(browser):
    anonymous = await browser()
    for path in ("/notifications", "/notifications/badge"):
        response = await anonymous.get(path)
        assert response.status_code == 303 and response.headers["location"].startswith("/login")
    assert (await anonymous.post("/notifications/read-all")).status_code == 303
