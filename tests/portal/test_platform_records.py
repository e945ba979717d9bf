"""Platform records: order history, liquidation logs and account activity that the
platform's staff add to a case, as files or as pasted text, marked as such in the list
and in the ledger. Parties and outsiders cannot mark anything as a platform record."""

from __future__ import annotations

import hashlib

from portal.cases.tables import Evidence
from portal.notifications.tables import Notification
from tests.portal.test_case_room import join, open_case
from tests.portal.test_evidence import CSV, PNG, entries, stored_files

ORDERS = "order_id,side,price\r\nORD-1001,sell,61234.5\r\n清算 ORD-1002,sell,61200\r\n"
ORDERS_AS_STORED = ORDERS.replace("\r\n", "\n").encode()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def upload(b, ref, files, **fields):
    return await b.post(
        f"/cases/{ref}/evidence",
        {"channel": "all", **fields},
        files=[("files", f) for f in files],
        htmx=True,
    )


async def paste(b, ref, htmx=True, **fields):
    return await b.post(f"/cases/{ref}/evidence/text", {"channel": "all", **fields}, htmx=htmx)


async def case_with_investigator(people, browser):
    alice, ref = await open_case(people, browser)
    await join(ref, people["ivy"], "investigator")
    return alice, await browser(people["ivy"]), ref


async def test_staff_mark_uploaded_files_as_platform_records(people, browser):
    alice, ivy, ref = await case_with_investigator(people, browser)
    before = len(await entries(ref))

    response = await upload(
        ivy, ref, [("liquidations.csv", CSV, "text/csv")], platform_record="yes"
    )
    assert response.status_code == 200, response.text
    await upload(ivy, ref, [("chart.png", PNG, "image/png")])

    rows = await Evidence.select(Evidence.name, Evidence.platform_record).order_by(Evidence.id)
    assert rows == [
        {"name": "liquidations.csv", "platform_record": True},
        {"name": "chart.png", "platform_record": False},
    ]
    added = (await entries(ref))[before:]
    assert added[0]["body"]["platform_record"] is True
    assert added[0]["actor"]["role"] == "investigator"
    assert "platform_record" not in added[1]["body"]
    # Everyone on the case sees which files came from the platform.
    room = (await alice.get(f"/cases/{ref}")).text
    record = room[room.index("liquidations.csv") - 400 : room.index("liquidations.csv") + 400]
    assert "Platform record" in record
    plain = room[room.index("chart.png") : room.index("chart.png") + 300]
    assert "Platform record" not in plain


async def test_only_staff_are_offered_the_checkbox_and_the_paste_form(people, browser):
    alice, ivy, ref = await case_with_investigator(people, browser)
    staff_room = (await ivy.get(f"/cases/{ref}")).text
    assert 'name="platform_record" value="yes"' in staff_room
    assert f'action="/cases/{ref}/evidence/text"' in staff_room
    party_room = (await alice.get(f"/cases/{ref}")).text
    assert 'name="platform_record"' not in party_room
    assert "/evidence/text" not in party_room


async def test_a_party_cannot_mark_a_platform_record_and_nothing_is_kept(people, browser, settings):
    alice, _ivy, ref = await case_with_investigator(people, browser)
    before_entries, before_files = len(await entries(ref)), stored_files(settings)
    before_rows = await Evidence.count()

    response = await upload(alice, ref, [("orders.csv", CSV, "text/csv")], platform_record="yes")

    assert response.status_code == 403
    assert "Only the platform&#39;s staff can add platform records." in response.text
    assert await Evidence.count() == before_rows
    assert len(await entries(ref)) == before_entries
    assert stored_files(settings) == before_files


async def test_pasted_text_becomes_a_stored_text_file_marked_as_a_platform_record(
    people, browser, settings
):
    alice, ivy, ref = await case_with_investigator(people, browser)
    before = len(await entries(ref))

    response = await paste(ivy, ref, name="Order history, 14 March", text=ORDERS)

    assert response.status_code == 200, response.text
    assert "Added the platform record." in response.text
    row = await Evidence.select().where(Evidence.platform_record == True).first()  # noqa: E712
    assert row["name"] == "Order history, 14 March.txt"
    assert row["media_type"] == "text/plain" and row["size"] == len(ORDERS_AS_STORED)
    assert row["sha256"] == sha(ORDERS_AS_STORED) and row["added_by"] == people["ivy"].id
    # Stored by hash with exactly those bytes, like any upload, and no temporary file left.
    stored = settings.data_dir / "evidence" / row["sha256"][:2] / row["sha256"]
    assert stored.read_bytes() == ORDERS_AS_STORED
    assert stored_files(settings) == [stored]
    [added] = (await entries(ref))[before:]
    assert added["type"] == "evidence.added"
    assert added["body"] == {
        "channel": "all",
        "files": [
            {
                "sha256": sha(ORDERS_AS_STORED),
                "name": "Order history, 14 March.txt",
                "size": len(ORDERS_AS_STORED),
                "media_type": "text/plain",
            }
        ],
        "platform_record": True,
    }
    # The claimant is told, and downloads the very bytes.
    kinds = await Notification.select(Notification.kind).where(
        Notification.user == people["alice"].id
    )
    assert {"kind": "evidence_added"} in kinds
    download = await alice.get(f"/cases/{ref}/evidence/{row['id']}/download")
    assert download.status_code == 200 and download.content == ORDERS_AS_STORED


async def test_a_pasted_record_can_be_for_staff_only(people, browser):
    alice, ivy, ref = await case_with_investigator(people, browser)
    response = await paste(ivy, ref, channel="staff", name="Risk log", text="Flagged at 14:02")
    assert response.status_code == 200, response.text
    row = await Evidence.select().where(Evidence.name == "Risk log.txt").first()
    assert row["channel"] == "staff" and row["platform_record"]
    assert "Risk log" not in (await alice.get(f"/cases/{ref}")).text
    assert "Risk log.txt" in (await ivy.get(f"/cases/{ref}")).text


async def test_without_javascript_the_room_comes_back(people, browser):
    _alice, ivy, ref = await case_with_investigator(people, browser)
    response = await paste(ivy, ref, htmx=False, name="Account activity.txt", text="Login 09:00")
    assert response.status_code == 303 and response.headers["location"] == f"/cases/{ref}"
    assert await Evidence.select(Evidence.name).where(Evidence.platform_record == True) == [  # noqa: E712
        {"name": "Account activity.txt"}
    ]
    refused = await paste(ivy, ref, htmx=False, name="", text="")
    assert refused.status_code == 400 and "Paste the record&#39;s text." in refused.text


async def test_a_paste_without_a_name_or_text_says_what_to_fix_and_keeps_nothing(
    people, browser, settings
):
    _alice, ivy, ref = await case_with_investigator(people, browser)
    before_entries, before_files = len(await entries(ref)), stored_files(settings)

    response = await paste(ivy, ref, name=" ", text="ORD-1")
    assert response.status_code == 200
    assert "Name the record" in response.text and 'aria-invalid="true"' in response.text
    assert "ORD-1</textarea>" in response.text  # the text is not lost
    response = await paste(ivy, ref, name="Orders", text=" \r\n ")
    assert "Paste the record&#39;s text." in response.text
    too_long = await paste(ivy, ref, name="Orders", text="x" * (1024 * 1024 + 1))
    assert "Paste at most 1 MiB of text" in too_long.text

    assert await Evidence.count() == 0
    assert len(await entries(ref)) == before_entries
    assert stored_files(settings) == before_files


async def test_parties_and_outsiders_cannot_paste_platform_records(people, browser, settings):
    alice, _ivy, ref = await case_with_investigator(people, browser)
    await join(ref, people["mona"], "mediator")
    before = len(await entries(ref))
    for b in (alice, await browser(people["mona"])):
        response = await paste(b, ref, name="Orders", text="ORD-1")
        assert response.status_code == 403
        assert "Only the platform&#39;s staff can add platform records." in response.text
    # Someone not on the case learns nothing of it.
    eve = await browser(people["eve"])
    assert (await paste(eve, ref, name="Orders", text="ORD-1")).status_code == 404
    assert await Evidence.count() == 0 and len(await entries(ref)) == before
    assert stored_files(settings) == []
