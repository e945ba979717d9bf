"""A case, the people on it, what they said and the files they gave.

Each row that records an event keeps the `case_seq` of its ledger entry, so the case
room can link every item to its receipt.
"""

from piccolo.columns import (
    BigInt,
    Boolean,
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
    # The column shadows Piccolo's `Table.ref` (a join by name) which the portal never
    # calls; the name is the schema's.
    ref = Varchar(length=20, unique=True)  # type: ignore[assignment]
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
    in_scope = Boolean(null=True, default=None)
    deadline_at = Timestamptz(null=True, default=None, index=True)
    next_step_by = Varchar(length=32, default="agent")  # the role that owes the next step
    # While the case waits on the claimant the staff clock stops: what was left of it.
    paused_remaining = Integer(null=True, default=None)  # seconds
    state_since = Timestamptz(null=True, default=None)
    proposal_author = Integer(null=True, default=None)  # user id of the current proposal's
    reconsidered_by = Integer(null=True, default=None)  # who took up the reconsideration
    remedy_reference = Varchar(length=200, default="")
    # How the case ended, or last ended before a rejection was overturned: one of
    # `states.OUTCOMES`, or "" while it has none. A closed case keeps the outcome it was
    # closed after, which its state no longer says. Set with the step that reached it.
    outcome = Varchar(length=16, default="")
    outcome_at = Timestamptz(null=True, default=None)
    filed_at = Timestamptz()
    updated_at = Timestamptz()


class CaseParticipant(Table, tablename="case_participant"):
    """A person's role on one case: claimant, respondent, staff, neutral or legal."""

    id = Serial(primary_key=True)
    case = ForeignKey(references=Case, index=True)
    user = ForeignKey(references=User, index=True)
    role = Varchar(length=20)
    added_at = Timestamptz()
    # A legal user acts for a side: a party (its user) or, when null, the platform.
    acts_for = ForeignKey(references=User, null=True)


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
    platform_record = Boolean(default=False)  # supplied by the platform's staff or systems


class Proposal(Table, tablename="case_proposal"):
    """An assessment report and the remedy it proposes; a revision is a new row."""

    id = Serial(primary_key=True)
    case = ForeignKey(references=Case, index=True)
    author = ForeignKey(references=User)
    findings = Text()
    responsibility = Varchar(length=16)  # platform, user, shared, third_party
    remedy = Varchar(length=16)  # refund, compensation, unfreeze, warning, no_action
    amount = Varchar(length=40, default="")
    asset = Varchar(length=20, default="")
    remedy_details = Text(default="")
    answer_due = Timestamptz()
    case_seq = Integer()
    created_at = Timestamptz()


class InfoRequest(Table, tablename="case_info_request"):
    """Questions to a party, with a due date, and their answer once given."""

    id = Serial(primary_key=True)
    case = ForeignKey(references=Case, index=True)
    addressee = ForeignKey(references=User)
    asked_by = ForeignKey(references=User)
    questions = Text()
    due_at = Timestamptz()
    answer = Text(default="")
    answered_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz()


class Survey(Table, tablename="case_survey"):
    """The claimant's satisfaction with a closed case: 1 to 5, and a comment."""

    id = Serial(primary_key=True)
    case = ForeignKey(references=Case, unique=True)
    score = Integer()
    comment = Text(default="")
    created_at = Timestamptz()


class DeadlinePolicy(Table, tablename="deadline_policy"):
    """How long each stage may take, per priority; supervisors edit it."""

    id = Serial(primary_key=True)
    stage = Varchar(length=32)
    priority = Varchar(length=16)
    hours = Integer()


class DeadlineReminder(Table, tablename="deadline_reminder"):
    """A reminder sent for one deadline of one case: the unique key makes it once only."""

    id = Serial(primary_key=True)
    case = ForeignKey(references=Case)
    deadline_at = Timestamptz()
    kind = Varchar(length=16)  # due_soon, overdue
    # The stage the deadline was for. An `overdue` row is the record of a missed deadline:
    # the sweep found it passed while the case was still in that stage.
    stage = Varchar(length=32, default="")
    sent_at = Timestamptz()


class SentForm(Table, tablename="sent_form"):
    """A form that recorded something: who sent it, its one-time token, what it said (as a
    hash) and the ledger entry it made. Its unique index on (sender, token, fingerprint)
    lets the same form, sent twice, be recorded once (see `portal.cases.submissions`)."""

    id = Serial(primary_key=True)
    sender = ForeignKey(references=User)
    token = Varchar(length=64)
    fingerprint = Varchar(length=64)  # SHA-256 of the token and the fields sent, in hex
    case_ref = Varchar(length=20)
    case_seq = Integer()
    sent_at = Timestamptz(index=True)


CASE_TABLES: list[type[Table]] = [
    CaseCounter,
    Case,
    CaseParticipant,
    Statement,
    Evidence,
    Proposal,
    InfoRequest,
    Survey,
    DeadlinePolicy,
    DeadlineReminder,
    SentForm,
]
