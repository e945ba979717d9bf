"""Demo data for `make run`: one account per role and cases in several states.

Everything is made through the same services the web uses (accounts, filing,
statements, evidence), so the demo's ledger verifies like any other. Passwords are
random for each demo database and printed once (and kept, readable by the owner
only, in `<data dir>/demo-accounts.json`).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import secrets
import struct
import zlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import portal.listeners  # noqa: F401  (the demo moves cases: every after-a-move hook)
from arbitration import award, constitution, disclosure, listing, rankings
from arbitration.tables import CandidateList, Seat
from ledger.keys import Keyring
from mediation import appointment, invitation, proposal, roster
from portal.accounts.second_factor import new_secret, seal
from portal.accounts.service import create_user
from portal.accounts.tables import User
from portal.cases import filing
from portal.cases.access import case_access
from portal.cases.events import SYSTEM, record
from portal.cases.lifecycle import take_action
from portal.cases.statements import post_statement
from portal.cases.tables import Case, CaseParticipant
from portal.cases.uploads import ReceivedFile, sniff, stored_path
from portal.database import write_transaction
from portal.procedure import roles
from portal.procedure.people import Viewer
from portal.settings import Settings

ACCOUNTS = (
    ("alice", "Alice Chen", roles.PARTY, "claimant", "en"),
    ("bob", "Bob Wang 王波", roles.PARTY, "respondent", "zh_Hans"),
    ("ada", "Ada Li", roles.AGENT, roles.AGENT, "en"),
    ("ivy", "Ivy Zhang 张艺", roles.INVESTIGATOR, roles.INVESTIGATOR, "zh_Hans"),
    ("sam", "Sam Okafor", roles.ASSESSOR, roles.ASSESSOR, "en"),
    ("sue", "Sue Park", roles.SUPERVISOR, roles.SUPERVISOR, "en"),
    ("mona", "Mona Haddad", roles.MEDIATOR, roles.MEDIATOR, "en"),
    ("ari", "Ari Levin", roles.ARBITRATOR, roles.ARBITRATOR, "en"),
    ("lee", "Lee Chen 陈立", roles.LEGAL, roles.LEGAL, "zh_Hans"),
)


class DemoRefused(Exception):
    """The demo may not run here (production, or a database that is not empty)."""


@dataclass
class DemoAccount:
    email: str
    password: str
    role: str
    totp_secret: str | None
    viewer: Viewer


def png(width: int, height: int, colour: tuple[int, int, int]) -> bytes:
    """A small valid PNG, so the demo's evidence previews as an image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    row = b"\x00" + bytes(colour) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


def pdf(text: str) -> bytes:
    """A one-page PDF with a line of (ASCII) text."""
    content = f"BT /F1 14 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(content)).encode() + b" >>\nstream\n" + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
    ).encode()
    return bytes(out)


def orders_csv() -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["time_utc", "order_id", "pair", "side", "price", "qty", "status"])
    writer.writerow(
        ["2026-10-03T14:02:11Z", "ORD-88121", "BTC-USDT", "sell", "61250.5", "0.4", "liquidated"]
    )
    writer.writerow(
        ["2026-10-03T14:02:12Z", "ORD-88122", "BTC-USDT", "sell", "60980.0", "0.1", "liquidated"]
    )
    return buffer.getvalue().encode()


def store_demo_file(settings: Settings, name: str, data: bytes) -> ReceivedFile:
    digest = hashlib.sha256(data).hexdigest()
    path = stored_path(settings.data_dir, digest)
    path.parent.mkdir(parents=True, exist_ok=True)
    newly = not path.exists()
    if newly:
        path.write_bytes(data)
    media_type = sniff(data[:64], name, text_ok=True) or "application/octet-stream"
    return ReceivedFile(name, media_type, len(data), digest, path, newly)


async def _accounts(settings: Settings) -> dict[str, DemoAccount]:
    made = {}
    for key, name, role, shown_role, language in ACCOUNTS:
        password = "-".join(secrets.token_hex(3) for _ in range(3))
        email = f"{key}@demo.example"
        user_id = await create_user(
            email=email, name=name, role=role, password=password, language=language
        )
        secret = None
        if role in roles.NEEDS_SECOND_FACTOR:
            secret = new_secret()
            await User.update(
                {User.totp_secret: seal(secret, settings.secret_key), User.totp_enabled: True}
            ).where(User.id == user_id)
        viewer = Viewer(user_id, email, name, role, language, secret is not None, True)
        made[key] = DemoAccount(email, password, shown_role, secret, viewer)
    return made


async def _join(
    keyring: Keyring,
    ref: str,
    account: DemoAccount,
    role: str,
    acts_for: DemoAccount | None = None,
) -> None:
    """Put someone on a case; a legal user acts for the platform, or for `acts_for`."""
    case = await Case.select(Case.id).where(Case.ref == ref).first()
    assert case is not None, f"the demo just filed {ref}"
    body = {"user": account.viewer.actor_id, "role": role}
    if role == roles.LEGAL:
        body["acts_for"] = acts_for.viewer.actor_id if acts_for else "platform"
    async with write_transaction(Case._meta.db):
        await CaseParticipant.insert(
            CaseParticipant(
                case=case["id"],
                user=account.viewer.id,
                role=role,
                added_at=datetime.now(UTC),
                acts_for=acts_for.viewer.id if acts_for else None,
            )
        )
        await record(keyring, ref, "participant.added", SYSTEM, body)


async def _step(keyring: Keyring, ref: str, by: DemoAccount, action: str, **form: str) -> None:
    """Take one step of the case's life through the state table, as the web would."""
    _case, access = await case_access(by.viewer, ref)
    await take_action(keyring, ref, access, action, form)


async def _say(
    keyring: Keyring,
    ref: str,
    who: DemoAccount,
    text: str,
    channel: str = "all",
    party: int | None = None,
) -> None:
    _case, access = await case_access(who.viewer, ref)
    await post_statement(keyring, ref, access, channel, party, text)


async def _roster(people: dict[str, DemoAccount]) -> None:
    """The demo's neutrals, on the roster with a profile each."""
    await roster.save_profile(people["mona"].viewer.id, {
        "languages": "English, 中文", "jurisdiction": "Hong Kong",
        "expertise": "Peer-to-peer trading and payment disputes; CEDR-accredited mediator.",
        "profile": "Twelve years mediating fintech and payments disputes.",
    }, by_supervisor=False)  # fmt: skip
    await roster.save_profile(people["ari"].viewer.id, {
        "languages": "English", "jurisdiction": "Singapore",
        "expertise": "Derivatives, margin trading and liquidation.",
        "profile": "Former exchange general counsel; arbitrator since 2019.",
    }, by_supervisor=False)  # fmt: skip


async def _appoint_mediator(keyring: Keyring, ref: str, people: dict[str, DemoAccount]) -> None:
    """sue proposes mona, both sides agree, and mona accepts: the real appointment steps."""
    _case, access = await case_access(people["sue"].viewer, ref)
    await proposal.propose(keyring, ref, access, {"mediator": str(people["mona"].viewer.id)})
    for side in ("alice", "bob"):
        _case, access = await case_access(people[side].viewer, ref)
        await proposal.answer(keyring, ref, access, {"answer": "agree"})
    invited = await appointment.live_appointment(access.case_id)
    assert invited is not None
    await invitation.accept(keyring, people["mona"].viewer, invited["id"],
                            {"disclosure": "none", "password": people["mona"].password},
                            "demo")  # fmt: skip


async def _constitute_sole_tribunal(keyring: Keyring, ref: str,
                                    people: dict[str, DemoAccount]) -> None:  # fmt: skip
    """sue starts a sole arbitration and speaks for the platform; both sides rank the list
    (ari, the only arbitrator on the demo's roster) and ari accepts: the real steps."""
    _case, access = await case_access(people["sue"].viewer, ref)
    form = {"ruleset": "sole", "representative": str(people["sue"].viewer.id)}
    await constitution.start(keyring, ref, access, form)
    sent = await CandidateList.select().order_by(CandidateList.id, ascending=False).first()
    assert sent is not None, "starting the arbitration sends a list"
    ranks = {listing.field(int(c)): "1" for c in json.loads(sent["candidates"])}
    for side in ("alice", "sue"):
        _case, access = await case_access(people[side].viewer, ref)
        await rankings.answer_list(keyring, ref, access, sent["id"], ranks)
    seat = await Seat.select().order_by(Seat.id, ascending=False).first()
    assert seat is not None, "ranking the list fills a seat"
    await disclosure.accept(keyring, people["ari"].viewer, seat["id"],
                              {"disclosure": "none", "password": people["ari"].password},
                              "demo")  # fmt: skip


async def _file(
    keyring: Keyring, who: DemoAccount, form: dict[str, str], files: list[ReceivedFile]
) -> str:
    checked = filing.check_filing(form)
    return (await filing.file_case(keyring, who.viewer, checked, files)).ref


async def create_demo(settings: Settings, keyring: Keyring) -> dict[str, Any]:
    """Make the demo; refuse in production or when the database already has accounts."""
    if settings.is_production:
        raise DemoRefused("The demo refuses to run in production (PORTAL_ENV=production).")
    if await User.count() > 0:
        raise DemoRefused("The database already has accounts; the demo only fills an empty one.")
    people = await _accounts(settings)
    await _roster(people)
    a, b = people["alice"], people["bob"]
    today = date.today()

    # 1. A liquidation under investigation (English), with platform records.
    liquidation = await _file(
        keyring,
        a,
        {
            "category": "liquidation",
            "contested_resolution": "Support replied that the liquidation followed the mark price "
            "and closed my ticket without looking at the order book.",
            "what_happened": "On 3 October my BTC-USDT long was liquidated during a spike that "
            "lasted two seconds. The index price never reached my liquidation price.\n\n"
            "I had added margin one minute before.",
            "happened_on": (today - timedelta(days=40)).isoformat(),
            "transaction_ids": "ORD-88121, ORD-88122",
            "amount": "2480.75",
            "asset": "USDT",
            "remedy_wanted": "Refund the loss from the liquidation and the liquidation fee.",
        },
        [
            store_demo_file(settings, "position-chart.png", png(64, 40, (31, 95, 191))),
            store_demo_file(settings, "orders.csv", orders_csv()),
        ],
    )
    ada, ivy, sam = people["ada"], people["ivy"], people["sam"]
    await _step(keyring, liquidation, ada, "start_review")
    await _step(keyring, liquidation, ada, "accept", severity="high", category="liquidation",
                in_scope="yes")  # fmt: skip
    await _join(keyring, liquidation, people["lee"], roles.LEGAL)
    await _say(
        keyring,
        liquidation,
        a,
        "I attach the chart and my order history. "
        "See also https://example.com/status/2026-10-03 for the incident notice.",
    )
    await _say(
        keyring,
        liquidation,
        people["ivy"],
        "Pulled the liquidation engine log; "
        "the mark price feed lagged 1.8 s at 14:02:10. Checking the insurance fund.",
        channel="staff",
    )

    # 2. A peer-to-peer dispute in Chinese, in mediation, with caucus messages.
    p2p = await _file(
        keyring,
        b,
        {
            "category": "deposit_withdrawal",
            "contested_resolution": "客服认为对方已放币，订单已完成，不予处理。",
            "what_happened": "我在C2C市场向对方付款 7,000 元人民币购买 USDT，对方确认收款后"
            "平台显示已放币，但我的资金账户没有到账。\n\n我已提供银行转账凭证。",
            "happened_on": (today - timedelta(days=20)).isoformat(),
            "transaction_ids": "C2C-2026-55120",
            "amount": "1000",
            "asset": "USDT",
            "remedy_wanted": "请平台核实放币记录，并将 1000 USDT 划转到我的账户。",
            "respondent_email": a.email,
        },
        [store_demo_file(settings, "转账凭证.pdf", pdf("Bank transfer receipt CNY 7000"))],
    )
    await _step(keyring, p2p, ada, "start_review")
    await _step(keyring, p2p, ada, "accept", severity="medium", category="deposit_withdrawal",
                in_scope="yes")  # fmt: skip
    await _step(
        keyring,
        p2p,
        ivy,
        "hand_over",
        summary="C2C 订单日志显示卖方在 14:05 确认收款并放币；资金账户流水未见入账。",
    )
    await _step(keyring, p2p, sam, "propose",
                findings="放币记录与账户流水不一致，平台与卖方各有责任。",
                responsibility="shared", remedy="compensation", amount="500", asset="USDT",
                remedy_details="平台补偿 500 USDT，其余由双方协商。")  # fmt: skip
    await _step(keyring, p2p, b, "request_mediation", reasons="希望由调解员协助与对方协商。")
    await _appoint_mediator(keyring, p2p, people)
    await _say(keyring, p2p, b, "我希望尽快解决，已经等了三周。")
    await _say(keyring, p2p, people["mona"], "各位好，我是本案调解员。我会先分别与双方沟通。")
    await _say(keyring, p2p, people["mona"], "王先生，您能接受部分补偿吗？", "caucus", b.viewer.id)
    await _say(keyring, p2p, b, "如果能在本周内到账，我可以接受 800 USDT。", "caucus", b.viewer.id)
    await _say(
        keyring,
        p2p,
        people["mona"],
        "Alice, would you agree to return part of the amount?",
        "caucus",
        a.viewer.id,
    )

    # 3. A frozen account, just filed (Chinese).
    await _file(
        keyring,
        a,
        {
            "category": "account_security",
            "contested_resolution": "平台以安全风控为由冻结账户，未说明原因。",
            "what_happened": "我更换手机后登录，账户被冻结，提交的身份验证材料两次被拒。",
            "happened_on": (today - timedelta(days=5)).isoformat(),
            "transaction_ids": "",
            "amount": "",
            "asset": "",
            "remedy_wanted": "解冻账户，或说明需要补充哪些材料。",
        },
        [],
    )

    # 4. A fee dispute with a proposal waiting for the claimant (English).
    fees = await _file(
        keyring,
        b,
        {
            "category": "fees_service",
            "contested_resolution": "The platform says the withdrawal fee was shown before I "
            "confirmed.",
            "what_happened": "I was charged a 25 USDT withdrawal fee; the fee table said 1 USDT.",
            "happened_on": (today - timedelta(days=12)).isoformat(),
            "transaction_ids": "WD-771203",
            "amount": "24",
            "asset": "USDT",
            "remedy_wanted": "Refund the difference.",
        },
        [store_demo_file(settings, "fee-screen.png", png(48, 32, (180, 35, 24)))],
    )
    await _join(keyring, fees, people["lee"], roles.LEGAL, acts_for=b)  # bob's lawyer here
    await _step(keyring, fees, ada, "start_review")
    await _step(keyring, fees, ada, "accept", severity="low", category="fees_service",
                in_scope="yes")  # fmt: skip
    await _step(
        keyring,
        fees,
        ivy,
        "hand_over",
        summary="The fee table shown at withdrawal was a cached, outdated copy.",
    )
    await _step(
        keyring,
        fees,
        sam,
        "propose",
        findings="The fee table shown was out of date; the user was charged 24 USDT "
        "more than the published fee.",
        responsibility="platform",
        remedy="refund",
        amount="24",
        asset="USDT",
        remedy_details="Refund within 3 working days.",
    )
    await _say(keyring, fees, sam, "Proposal: refund 24 USDT within 3 working days.")

    # 5. A disputed KYC restriction in arbitration, with the tribunal's private notes and
    # its draft award.
    kyc = await _file(
        keyring,
        a,
        {
            "category": "kyc_aml",
            "contested_resolution": "My account was restricted after a KYC review; mediation "
            "failed.",
            "what_happened": "Withdrawals have been blocked for 60 days although all documents "
            "were accepted.",
            "happened_on": (today - timedelta(days=70)).isoformat(),
            "transaction_ids": "",
            "amount": "15000",
            "asset": "USDT",
            "remedy_wanted": "Lift the restriction and compensate the lost trading opportunity.",
        },
        [],
    )
    await _step(keyring, kyc, ada, "start_review")
    await _step(keyring, kyc, ada, "accept", severity="critical", category="kyc_aml",
                in_scope="yes")  # fmt: skip
    await _step(keyring, kyc, ivy, "hand_over", summary="KYC review notes attached.")
    await _step(keyring, kyc, sam, "propose", findings="The restriction followed the policy.",
                responsibility="user", remedy="no_action")  # fmt: skip
    await _step(
        keyring,
        kyc,
        a,
        "request_arbitration",
        reasons="The restriction has no basis; I ask for a binding decision.",
    )
    await _constitute_sole_tribunal(keyring, kyc, people)
    await _say(
        keyring,
        kyc,
        people["ari"],
        "Timetable to follow; first I need the KYC review notes.",
        "tribunal",
    )
    _case, access = await case_access(people["ari"].viewer, kyc)
    await award.save_draft(keyring, kyc, access, {
        "reasons": "Draft, for the tribunal only: the restriction outlived the review by 45 "
        "days without a documented reason.",
        "item-0-kind": "unfreeze", "item-0-by": roles.PLATFORM, "item-0-account": "Alice Chen",
        "costs": "The platform bears the costs of the arbitration.",
    })  # fmt: skip

    # 6. A rejected complaint the claimant has appealed to a supervisor.
    spam = await _file(keyring, a, {
        "category": "other",
        "contested_resolution": "Support said promotions are not in scope.",
        "what_happened": "I did not receive the 10 USDT sign-up bonus.",
        "happened_on": (today - timedelta(days=3)).isoformat(),
        "transaction_ids": "", "amount": "10", "asset": "USDT",
        "remedy_wanted": "Pay the bonus.",
    }, [])  # fmt: skip
    await _step(keyring, spam, ada, "start_review")
    await _step(keyring, spam, ada, "reject", in_scope="no",
                reasons="Promotional bonuses are governed by the campaign terms, not this "
                "dispute process.")  # fmt: skip
    await _step(
        keyring,
        spam,
        a,
        "appeal",
        reasons="The campaign terms promised the bonus for every new account.",
    )

    # 7. A withdrawal delay waiting for the claimant's answer (the staff clock is paused).
    slow = await _file(keyring, b, {
        "category": "deposit_withdrawal",
        "contested_resolution": "客服说提现在审核中，但已经过了 10 天。",
        "what_happened": "我于上周提现 0.5 BTC，至今未到账，状态一直显示处理中。",
        "happened_on": (today - timedelta(days=10)).isoformat(),
        "transaction_ids": "WD-990112", "amount": "0.5", "asset": "BTC",
        "remedy_wanted": "尽快完成提现，或退回到账户。",
    }, [])  # fmt: skip
    await _step(keyring, slow, ada, "start_review")
    await _step(keyring, slow, ada, "request_info",
                questions="请提供提现的目标地址，以及收款平台的截图。",
                due_date=(today + timedelta(days=5)).isoformat())  # fmt: skip

    cases = []
    for row in await Case.select(Case.id, Case.ref, Case.state).order_by(Case.id):
        emails = (
            await CaseParticipant.select(CaseParticipant.user.email)
            .where(CaseParticipant.case == row["id"])
            .order_by(CaseParticipant.id)
        )
        cases.append(
            {
                "ref": row["ref"],
                "state": row["state"],
                "participants": sorted({e["user.email"] for e in emails}),
            }
        )
    return {
        "accounts": [
            {"email": p.email, "password": p.password, "role": p.role, "totp_secret": p.totp_secret}
            for p in people.values()
        ],
        "cases": cases,
    }
