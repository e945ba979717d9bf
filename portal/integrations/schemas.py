"""What the API reads and writes, as msgspec Structs: Litestar checks each request body
against them before a handler runs, and the OpenAPI schema is made from them.

The limits here are those of the web forms (`portal.cases.filing`), so that a body
that passes here meets the same checks as a filing typed into the portal; those checks
then run too, and say what to fix field by field.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from msgspec import Meta, Struct

from portal.cases.categories import CATEGORIES
from portal.cases.filing import TEXT_LIMIT

Category = Literal[CATEGORIES]  # type: ignore[valid-type]
Email = Annotated[str, Meta(min_length=3, max_length=254, examples=["alice@example.com"])]
LongText = Annotated[str, Meta(max_length=TEXT_LIMIT)]


class NewCase(Struct, forbid_unknown_fields=True):
    """A dispute to file for one of the platform's users."""

    claimant_email: Annotated[
        str,
        Meta(
            min_length=3,
            max_length=254,
            description="The user's email. Without an account, one is made and the user "
            "is emailed a single-use link to choose a password.",
        ),
    ]
    category: Category
    contested_resolution: Annotated[
        LongText,
        Meta(
            description="How the platform resolved the complaint, and what the user disagrees with."
        ),
    ]
    what_happened: LongText
    happened_on: Annotated[date, Meta(description="The day it happened (YYYY-MM-DD).")]
    remedy_wanted: LongText
    transaction_ids: Annotated[list[Annotated[str, Meta(max_length=100)]], Meta(max_length=50)] = []
    amount: Annotated[str, Meta(max_length=40, description="A decimal, like 1250.50.")] = ""
    asset: Annotated[str, Meta(max_length=20, examples=["USDT"])] = ""
    respondent_email: Annotated[str, Meta(max_length=254)] = ""
    claimant_name: Annotated[
        str, Meta(max_length=200, description="The name for a new account.")
    ] = ""
    language: Literal["en", "zh_Hans"] = "en"

    def as_form(self) -> dict[str, str]:
        """The body as the web form sends it, for the form's own checks."""
        return {
            "category": self.category,
            "contested_resolution": self.contested_resolution,
            "what_happened": self.what_happened,
            "happened_on": self.happened_on.isoformat(),
            "remedy_wanted": self.remedy_wanted,
            "transaction_ids": "\n".join(self.transaction_ids),
            "amount": self.amount,
            "asset": self.asset,
            "respondent_email": self.respondent_email,
        }


class Remedy(Struct):
    remedy: str
    amount: str
    asset: str
    details: str


class Outcome(Struct):
    """How the case was decided, and whether the platform has carried out the remedy."""

    decision: Literal[
        "proposal_accepted",
        "settled",
        "awarded",
        "rejected",
        "rejection_upheld",
        "closed_after_impasse",
        "withdrawn",
    ]
    decided_at: datetime
    remedy: Remedy | None
    remedy_carried_out: bool
    remedy_reference: str


class CaseStatus(Struct):
    """Where a case stands: its state, the current deadline and who owes the next step."""

    ref: str
    state: str
    next_step_by: str | None
    deadline_at: datetime | None
    filed_at: datetime
    updated_at: datetime
    outcome: Outcome | None


class FiledCase(Struct):
    ref: str
    claimant_account_created: bool
    status: CaseStatus


class JsonRecord(Struct, forbid_unknown_fields=True):
    """A platform record as JSON: kept as a `.json` evidence file of its canonical bytes
    (RFC 8785), so the same record always has the same hash."""

    name: Annotated[
        str,
        Meta(min_length=1, max_length=200, examples=["Order history, March 2026"]),
    ]
    record: Annotated[Any, Meta(description="Any JSON value: the record itself.")]
    channel: Literal["all", "staff"] = "all"


class StoredFile(Struct):
    sha256: str
    name: str
    size: int
    media_type: str


class AttachedRecords(Struct):
    case_seq: Annotated[int, Meta(description="The ledger entry that records the files.")]
    files: list[StoredFile]


class NewWebhook(Struct, forbid_unknown_fields=True):
    url: Annotated[str, Meta(min_length=8, max_length=2000, examples=["https://example.com/hook"])]
    events: (
        list[Literal["case.state_changed", "case.outcome_recorded", "case.remedy_due"]] | None
    ) = None


class Webhook(Struct):
    id: int
    url: str
    events: list[str]
    created_at: datetime


class CreatedWebhook(Struct):
    id: int
    url: str
    events: list[str]
    created_at: datetime
    secret: Annotated[
        str, Meta(description="Signs every delivery (X-Portal-Signature). Shown only now.")
    ]
