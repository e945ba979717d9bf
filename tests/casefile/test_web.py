"""The case room's export button and the public /verify page, through the real app."""

from __future__ import annotations

import subprocess
from pathlib import Path

from ledger.tables import LedgerEntry
from tests.portal.test_case_room import join, open_case

STAFF_NOTE = "The hot wallet was drained at 14:01; do not tell the claimant yet."


def text_of(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "file.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


async def test_each_exports_their_copy_and_anyone_can_verify_it(people, browser, tmp_path):
    alice, ref = await open_case(people, browser, respondent_email="bob@example.com")
    await join(ref, people["ivy"], "investigator")
    await join(ref, people["lee"], "legal")
    await join(ref, people["mona"], "mediator")
    ivy = await browser(people["ivy"])
    await ivy.post(f"/cases/{ref}/statements", {"channel": "staff", "text": STAFF_NOTE}, htmx=True)

    room = await alice.get(f"/cases/{ref}")
    assert "Export signed case file (your copy as a party)" in room.text
    mona = await browser(people["mona"])
    assert "Export signed case file" not in (await mona.get(f"/cases/{ref}")).text
    assert (await mona.post(f"/cases/{ref}/casefile.pdf")).status_code == 403

    # The platform's legal team reads the staff notes, in the room and in the staff copy.
    lee = await browser(people["lee"])
    assert "Export signed case file (staff copy)" in (await lee.get(f"/cases/{ref}")).text
    assert STAFF_NOTE in (await lee.get(f"/cases/{ref}?channel=staff")).text
    staff = await lee.post(f"/cases/{ref}/casefile.pdf")
    assert staff.status_code == 200 and staff.headers["content-type"] == "application/pdf"
    assert STAFF_NOTE in text_of(staff.content, tmp_path)
    party = await alice.post(f"/cases/{ref}/casefile.pdf")
    assert party.status_code == 200
    assert STAFF_NOTE not in text_of(party.content, tmp_path)

    # Exporting again with nothing new on the case gives the same file and no new entry.
    entries = await LedgerEntry.count()
    again = await alice.post(f"/cases/{ref}/casefile.pdf")
    assert again.content == party.content
    assert await LedgerEntry.count() == entries

    # The public page: no login, the same report, and nothing kept.
    anyone = await browser()
    page = await anyone.get("/verify")
    assert page.status_code == 200
    checked = await anyone.post(
        "/verify", files=[("case_file", ("copy.pdf", party.content, "application/pdf"))]
    )
    assert checked.status_code == 200, checked.text
    assert "every check holds" in checked.text and "no entry was cut off" in checked.text

    broken = bytearray(party.content)
    broken[len(broken) // 2] ^= 0x01
    refused = await anyone.post(
        "/verify", files=[("case_file", ("copy.pdf", bytes(broken), "application/pdf"))]
    )
    assert refused.status_code == 422
    assert "seal" in refused.text.lower() and "Not verified" in refused.text

    # A reader of Chinese reads the whole report in Chinese, sentence by sentence.
    chinese = await anyone.post(
        "/verify",
        files=[("case_file", ("copy.pdf", party.content, "application/pdf"))],
        headers={"Accept-Language": "zh-CN,zh;q=0.9"},
    )
    assert chinese.status_code == 200
    assert "核验通过：所有检查均成立。" in chinese.text
    assert "电子印章覆盖整个文件" in chinese.text and "无截除" in chinese.text
    assert "末尾没有记录被截去" in chinese.text
    assert "every check holds" not in chinese.text and "no entry was cut off" not in chinese.text


async def test_a_settled_case_file_carries_the_agreement_and_each_side_only_its_caucus(
    people, browser, tmp_path
):
    from tests.mediation.test_journeys import PAY_70, appointed, in_mediation, offer_form, ok

    alice, _ada, ref = await in_mediation(people, browser)
    bob = await browser(people["bob"])
    sue, mona = await appointed(people, browser, ref)
    alice_secret, bob_secret = "Alice would take 50 USDT", "Bob could pay 95 USDT"
    for channel_party, text in ((people["alice"].id, alice_secret), (people["bob"].id, bob_secret)):
        form = {"channel": "caucus", "party": str(channel_party), "text": text}
        await ok(await mona.post(f"/cases/{ref}/statements", form, htmx=True), 200)
    await ok(await alice.post(f"/cases/{ref}/mediation/offers", offer_form(pay=PAY_70)))
    from mediation.tables import Offer

    offer = await Offer.select(Offer.id).order_by(Offer.id, ascending=False).first()
    answer = {"answer": "accept"}
    await ok(await bob.post(f"/cases/{ref}/mediation/offers/{offer['id']}/answer", answer))
    for who, b in (("alice", alice), ("bob", bob), ("mona", mona)):
        await ok(await b.post(f"/cases/{ref}/mediation/sign", {"password": people[who].password}))

    alice_copy = text_of((await alice.post(f"/cases/{ref}/casefile.pdf")).content, tmp_path)
    bob_copy = text_of((await bob.post(f"/cases/{ref}/casefile.pdf")).content, tmp_path)
    for copy in (alice_copy, bob_copy):
        assert "Settlement agreement" in copy and "Bob pays 70 USDT to Alice." in copy
        assert "Mona" in copy and "Settled" in copy
    assert alice_secret in alice_copy and bob_secret not in alice_copy
    assert bob_secret in bob_copy and alice_secret not in bob_copy
    # The staff copy has neither caucus: each is its two members' only.
    staff = text_of((await sue.post(f"/cases/{ref}/casefile.pdf")).content, tmp_path)
    assert "Staff copy" in staff and "Bob pays 70 USDT to Alice." in staff
    assert alice_secret not in staff and bob_secret not in staff


async def test_verify_pins_this_portal_and_publishes_what_pins_it(
    people, browser, settings, elsewhere, tmp_path
):
    """A case file from a second installation (its own keys and seal) is refused by
    /verify as not issued by this portal; the seal and trust file it publishes pin it
    offline too."""
    import hashlib

    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    from tests.support import run_portal

    alice, ref = await open_case(people, browser, respondent_email="bob@example.com")
    own = await alice.post(f"/cases/{ref}/casefile.pdf")
    assert own.status_code == 200
    anyone = await browser()

    # The seal, published, with the fingerprint the page prints.
    published = await anyone.get("/ledger/seal.pem")
    assert published.status_code == 200
    [certificate] = x509.load_pem_x509_certificates(published.content)
    der = certificate.public_bytes(serialization.Encoding.DER)
    assert der == x509.load_pem_x509_certificate(settings.seal_cert_file.read_bytes()).public_bytes(
        serialization.Encoding.DER
    )
    fingerprint = hashlib.sha256(der).hexdigest()
    assert f"SHA-256 fingerprint: {fingerprint}" in published.text
    assert "Valid from" in published.text
    form = await anyone.get("/verify")
    assert fingerprint in form.text and "/ledger/trust.json" in form.text

    # Another installation's file is intact, and not this portal's.
    for name in (elsewhere.pdf, elsewhere.zip):
        refused = await anyone.post(
            "/verify", files=[("case_file", (name.name, name.read_bytes(), "application/pdf"))]
        )
        assert refused.status_code == 422, refused.text
        assert "Not issued by this portal" in refused.text
        assert "every check holds" not in refused.text
    own_checked = await anyone.post(
        "/verify", files=[("case_file", ("copy.pdf", own.content, "application/pdf"))]
    )
    assert own_checked.status_code == 200 and "Verified: every check holds." in own_checked.text

    # The trust file pins `portal verify` offline: this portal's file holds, the other's not.
    trust = await anyone.get("/ledger/trust.json")
    assert trust.status_code == 200
    document = trust.json()
    assert [s["sha256"] for s in document["seal_certificates"]] == [fingerprint]
    trust_file, own_file = tmp_path / "trust.json", tmp_path / "own.pdf"
    trust_file.write_bytes(trust.content)
    own_file.write_bytes(own.content)
    ok = run_portal("verify", "--trust", str(trust_file), str(own_file), env=elsewhere.env)
    assert ok.returncode == 0 and ok.stdout.startswith("VERIFIED"), ok.stdout
    forged = run_portal(
        "verify", "--trust", str(trust_file), str(elsewhere.zip), env=elsewhere.env, check=False
    )
    assert forged.returncode == 1
    assert forged.stdout.startswith("NOT VERIFIED: this file was not issued by")
