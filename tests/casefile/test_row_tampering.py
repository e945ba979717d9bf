"""What a row says, the ledger attests: text changed in the case's tables, or an evidence
file replaced on disk, behind the portal's back, is found by `portal ledger verify` and
named (which row, which case, which entry), and no case file is made from it.

Mallory has write access to the database and the data directory, but not to the signing
key. Each change is made with SQL on the real tables, or by writing over the stored file;
the verifier and the export are the real `portal` commands.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from piccolo.querystring import QueryString

from arbitration.tables import Award, Correction
from ledger.tables import LedgerEntry
from mediation.tables import Offer, OfferAnswer, Settlement
from portal.cases.tables import Case, Evidence, Proposal, Statement
from portal.cases.uploads import stored_path
from tests.support import portal_env, run_portal

LIQUIDATION = "DR-2026-000001"  # the demo's: a statement in `all`, ivy's staff note, two files
P2P = "DR-2026-000002"  # the demo's case in mediation, with sam's proposal


async def sql(db, text: str, *args: Any) -> None:
    """Run one statement; `{}` marks a parameter, on either database."""
    await db.engine.run_querystring(QueryString(text, *args))


def verify(env: dict[str, str], *options: str) -> tuple[int, list[str]]:
    result = run_portal("ledger", "verify", *options, env=env, check=False)
    # A crash exits 1 too; a verdict is printed on stdout and nothing on stderr.
    assert not result.stderr.strip(), result.stderr
    return result.returncode, result.stdout.splitlines()


def assert_named(lines: list[str], expected: list[str]) -> None:
    missing = [line for line in expected if not any(shown.startswith(line) for shown in lines)]
    assert not missing, f"verify did not report {missing}; it printed:\n" + "\n".join(lines)


async def row_of(table, ref: str, *where) -> dict[str, Any]:
    case = await Case.select(Case.id).where(Case.ref == ref).first()
    query = table.select().where(table.case == case["id"])
    for condition in where:
        query = query.where(condition)
    row = await query.order_by(table.id).first()
    assert row is not None
    return row


def where(table, row: dict[str, Any], ref: str, seq: int | None = None) -> str:
    """How the report names a row and the entry that vouches for it."""
    seq = row["case_seq"] if seq is None else seq
    return f"{table._meta.tablename} row {row['id']} ({ref} entry #{seq}):"


@pytest.fixture
def demo(db, tmp_path: Path) -> dict[str, str]:
    env = portal_env(db.url, tmp_path)
    run_portal("demo", "--json", env=env)
    return env


async def test_rows_edited_or_deleted_in_the_database_are_named(db, demo):
    code, lines = verify(demo)
    assert code == 0, "\n".join(lines)
    assert lines[-1].endswith("every check holds.") and "[rows]" not in "\n".join(lines)

    said = await row_of(Statement, LIQUIDATION, Statement.channel == "all")
    note = await row_of(Statement, LIQUIDATION, Statement.channel == "staff")
    proposal = await row_of(Proposal, P2P)
    gone = await row_of(Statement, P2P, Statement.channel == "all")
    for row in (said, note):
        await sql(db, "UPDATE case_statement SET text = {} WHERE id = {}", "I never said that.",
                  row["id"])  # fmt: skip
    await sql(db, "UPDATE case_proposal SET findings = {} WHERE id = {}", "Nobody is at fault.",
              proposal["id"])  # fmt: skip
    await sql(db, "DELETE FROM case_statement WHERE id = {}", gone["id"])

    code, lines = verify(demo)
    assert code == 1, "verify passed the edited rows:\n" + "\n".join(lines)
    assert lines[-1].startswith("FAILED: 4 mismatches")
    assert_named(
        lines,
        [
            f"FAIL [rows] {where(Statement, said, LIQUIDATION)} text: its SHA-256 is not",
            f"FAIL [rows] {where(Statement, note, LIQUIDATION)} text: its SHA-256 is not",
            f"FAIL [rows] {where(Proposal, proposal, P2P)} findings:",
            f"FAIL [rows] case_statement ({P2P} entry #{gone['case_seq']}): the entry vouches",
        ],
    )
    # The ledger itself is intact: its own audit alone passes and compares no row.
    code, lines = verify(demo, "--log-only")
    assert code == 0 and "[rows]" not in "\n".join(lines), "\n".join(lines)


def replace_stored_file(data_dir: Path, sha256: str) -> Path:
    path = stored_path(data_dir, sha256)
    path.chmod(0o600)
    path.write_bytes(b"time_utc,order_id\n2026-01-01,forged\n")
    return path


async def exported_nothing(env: dict[str, str], tmp_path: Path, message: str) -> None:
    before = await LedgerEntry.count().where(LedgerEntry.case_ref == LIQUIDATION)
    out, bundle = tmp_path / "out.pdf", tmp_path / "bundle.zip"
    result = run_portal("export", LIQUIDATION, "-o", str(out), "--bundle", str(bundle), env=env,
                        check=False)  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"The case file of {LIQUIDATION} was not made" in result.stderr
    assert message in result.stderr and "Nothing was written." in result.stderr
    assert not out.exists() and not bundle.exists()
    assert not (Path(env["PORTAL_DATA_DIR"]) / "casefiles").exists()  # nothing sealed
    assert await LedgerEntry.count().where(LedgerEntry.case_ref == LIQUIDATION) == before


async def test_a_replaced_evidence_file_is_named_and_no_case_file_is_made(db, demo, tmp_path):
    code, lines = verify(demo, "--evidence")
    assert code == 0, "\n".join(lines)
    assert "stored evidence files of" in lines[-1]

    # An edited statement: the export refuses, naming the entry.
    note = await row_of(Statement, LIQUIDATION, Statement.channel == "staff")
    await sql(db, "UPDATE case_statement SET text = {} WHERE id = {}", "Edited.", note["id"])
    await exported_nothing(demo, tmp_path, f"(entry #{note['case_seq']})")
    await sql(db, "UPDATE case_statement SET text = {} WHERE id = {}", note["text"], note["id"])

    orders = await row_of(Evidence, LIQUIDATION, Evidence.name == "orders.csv")
    replace_stored_file(Path(demo["PORTAL_DATA_DIR"]), orders["sha256"])
    # Without --evidence no file is read (and it says so); with it, the file is named.
    code, lines = verify(demo)
    assert code == 0 and "--evidence reads them" in lines[-1]
    code, lines = verify(demo, "--evidence")
    assert code == 1, "verify passed the replaced file:\n" + "\n".join(lines)
    assert_named(
        lines,
        [f"FAIL [evidence] {where(Evidence, orders, LIQUIDATION)} the stored file's SHA-256 is"],
    )
    await exported_nothing(demo, tmp_path, f"(entry #{orders['case_seq']})")


# Offers, the settlement and the award: made through the real app.


async def settled(people, browser) -> str:
    """alice's case against bob, mediated by mona: bob rejects alice's first offer with
    reasons, counters her second, alice accepts, and everyone signs."""
    from tests.mediation.test_journeys import PAY_70, PAY_90, appointed, in_mediation, offer_form
    from tests.mediation.test_journeys import ok as done

    alice, _ada, ref = await in_mediation(people, browser)
    _sue, mona = await appointed(people, browser, ref)
    bob = await browser(people["bob"])
    offers = f"/cases/{ref}/mediation/offers"
    await done(await alice.post(offers, offer_form(note="Please.", pay=PAY_90)))
    first = await Offer.select().order_by(Offer.id, ascending=False).first()
    await done(await bob.post(f"{offers}/{first['id']}/answer",
                              {"answer": "reject", "reasons": "Too much for a lag."}))  # fmt: skip
    await done(await alice.post(offers, offer_form(pay=PAY_90)))
    second = await Offer.select().order_by(Offer.id, ascending=False).first()
    counter = offer_form(note="Less, but soon.", pay=PAY_70)
    await done(await bob.post(f"{offers}/{second['id']}/counter", counter))
    third = await Offer.select().order_by(Offer.id, ascending=False).first()
    await done(await alice.post(f"{offers}/{third['id']}/answer", {"answer": "accept"}))
    for name, b in (("alice", alice), ("bob", bob), ("mona", mona)):
        signed = {"password": people[name].password}
        await done(await b.post(f"/cases/{ref}/mediation/sign", signed))
    assert (await Case.select(Case.state).where(Case.ref == ref).first())["state"] == "settled"
    return ref


async def test_offer_answer_and_settlement_texts_edited_are_named(app, people, browser, db,
                                                                  tmp_path):  # fmt: skip
    ref = await settled(people, browser)
    env = portal_env(db.url, tmp_path)
    code, lines = verify(env)
    assert code == 0, "\n".join(lines)

    offer = await row_of(Offer, ref)
    rejection = await OfferAnswer.select().where(OfferAnswer.answer == "reject").first()
    settlement = await row_of(Settlement, ref)
    await sql(db, "UPDATE settlement_offer SET note = {} WHERE id = {}", "Take it.", offer["id"])
    await sql(db, "UPDATE settlement_offer_answer SET reasons = {} WHERE id = {}", "Fine.",
              rejection["id"])  # fmt: skip
    forged = settlement["text"].replace("70 USDT", "7 USDT")
    await sql(db, "UPDATE settlement_agreement SET text = {} WHERE id = {}", forged,
              settlement["id"])  # fmt: skip

    code, lines = verify(env)
    assert code == 1, "verify passed the edited rows:\n" + "\n".join(lines)
    assert_named(
        lines,
        [
            f"FAIL [rows] {where(Offer, offer, ref)} note:",
            f"FAIL [rows] {where(OfferAnswer, rejection, ref)} reasons:",
            f"FAIL [rows] {where(Settlement, settlement, ref)} text:",
            f"FAIL [rows] {where(Settlement, settlement, ref)} text: its SHA-256 is not",
        ],
    )

    # The room's export refuses too, saying which entry, and records nothing.
    alice = await browser(people["alice"])
    before = await LedgerEntry.count().where(LedgerEntry.case_ref == ref)
    refused = await alice.post(f"/cases/{ref}/casefile.pdf", {})
    assert refused.status_code == 409
    assert f"The case file of {ref} was not made" in refused.text
    assert f"#{settlement['case_seq']}" in refused.text
    assert await LedgerEntry.count().where(LedgerEntry.case_ref == ref) == before


async def test_award_and_a_decisions_reasons_edited_are_named(app, people, browser, db, tmp_path):
    from tests.arbitration.test_award import award_issued
    from tests.arbitration.test_proceedings import ok as done

    _alice, bob, (ari,), ref = await award_issued(app, people, browser)
    ask = f"/cases/{ref}/tribunal/corrections"
    await done(await bob.post(ask, {"request": "I want 500 USDT."}))
    asked = await Correction.select().first()
    refusal = {"decision": "refuse", "reasons": "That is no clerical error."}
    await done(await ari.post(f"{ask}/{asked['id']}/answer", refusal))
    env = portal_env(db.url, tmp_path)
    code, lines = verify(env)
    assert code == 0, "\n".join(lines)

    award = await row_of(Award, ref)
    refused = await Correction.select().first()
    await sql(db, "UPDATE arbitral_award SET reasons = {}, text = {} WHERE id = {}",
              "The claim fails.", award["text"].replace("platform bears", "claimant bears"),
              award["id"])  # fmt: skip
    await sql(db, "UPDATE award_correction SET addendum = {} WHERE id = {}",
              "Granted after all.", refused["id"])  # fmt: skip

    code, lines = verify(env)
    assert code == 1, "verify passed the edited rows:\n" + "\n".join(lines)
    assert_named(
        lines,
        [
            f"FAIL [rows] {where(Award, award, ref)} text:",
            f"FAIL [rows] {where(Award, award, ref)} reasons: not the reasons written",
            f"FAIL [rows] {where(Correction, refused, ref)} reasons:",
        ],
    )
