"""A case, the people on it, what they said and the files they gave.

Each row that records an event keeps the `case_seq` of its ledger entry, so the case
room can link every item to its receipt.
"""

from piccolo.columns import (
    BigInt,
    Date,
    ForeignKey,
    Integer,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table

from portal.accounts.tables import User


class CaseCounter(Table, tablename="case_counter"):
    """The last reference number issued per year; incremented under the write lock."""

    year = Integer(primary_key=True)
    last = Integer(default=0)


class Case(Table, tablename="dispute_case"):
    """One dispute, as the claimant filed it, and where it stands now."""

    id = Serial(primary_key=True)
    ref = Varchar(length=20, unique=True)
    state = Varchar(length=32, index=True, default="submitted")
    category = Varchar(length=32, index=True)
    severity = Varchar(length=16, default="")
    priority = Varchar(length=16, default="standard")
    language = Varchar(length=10, default="en")
    contested_resolution = Text()
    what_happened = Text()
    happened_on = Date()
    transaction_ids = Text(default="")
    amount = Varchar(length=40, default="")  # a decimal string, as the ledger keeps amounts
    asset = Varchar(length=20, default="")
    remedy_wanted = Text()
    deadline_at = Timestamptz(null=True, default=None)
    next_step_by = Varchar(length=32, default="agent")  # the role that owes the next step
    filed_at = Timestamptz()
    updated_at = Timestamptz()


class CaseParticipant(Table, tablename="case_participant"):
    """A person's role on one case: claimant, respondent, staff, neutral or legal."""

    id = Serial(primary_key=True)
    case = ForeignKey(references=Case, index=True)
    user = ForeignKey(references=User, index=True)
    role = Varchar(length=20)
    added_at = Timestamptz()


class Statement(Table, tablename="case_statement"):
    """What someone said in a channel. Private channels' text is kept for its readers only."""

    id = Serial(primary_key=True)
    case = ForeignKey(references=Case, index=True)
    channel = Varchar(length=16)
    caucus_party = ForeignKey(references=User, null=True)  # the party of a caucus channel
    author = ForeignKey(references=User)
    text = Text()
    content_sha256 = Varchar(length=64)
    case_seq = Integer()
    created_at = Timestamptz()


class Evidence(Table, tablename="case_evidence"):
    """A file given to a case, stored once by its SHA-256 under the data directory."""

    id = Serial(primary_key=True)
    case = ForeignKey(references=Case, index=True)
    channel = Varchar(length=16, default="all")
    caucus_party = ForeignKey(references=User, null=True)
    added_by = ForeignKey(references=User)
    name = Varchar(length=255)
    media_type = Varchar(length=100)
    size = BigInt()
    sha256 = Varchar(length=64, index=True)
    case_seq = Integer()
    created_at = Timestamptz()


CASE_TABLES: list[type[Table]] = [CaseCounter, Case, CaseParticipant, Statement, Evidence]
