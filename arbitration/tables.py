"""The arbitration of a case: the tribunal's constitution, its procedure and its award.

Rows that record an event keep the `case_seq` of its ledger entry, as the case's own
rows do. Nothing issued is ever edited: an award is corrected by an addendum, an
order by a later order, a date by an extension.
"""

from piccolo.columns import Boolean, ForeignKey, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.table import Table

from portal.accounts.tables import User
from portal.cases.tables import Case


class Arbitration(Table, tablename="arbitration"):
    """One case's arbitration: the ruleset chosen, and where its constitution stands."""

    id = Serial(primary_key=True)
    case = ForeignKey(references=Case, unique=True)
    ruleset = Varchar(length=16)
    started_by = ForeignKey(references=User)
    status = Varchar(length=16, default="constituting")  # constituting, constituted, awarded
    started_at = Timestamptz()
    constituted_at = Timestamptz(null=True, default=None)


class CandidateList(Table, tablename="arbitration_list"):
    """A list of candidates for one seat, sent to those who strike and rank it."""

    id = Serial(primary_key=True)
    arbitration = ForeignKey(references=Arbitration, index=True)
    seat = Varchar(length=16)  # sole, presiding
    candidates = Text()  # JSON: user ids in list order
    due_at = Timestamptz()
    status = Varchar(length=16, default="open")  # open, closed
    case_seq = Integer()
    created_at = Timestamptz()
    closed_at = Timestamptz(null=True, default=None)


class ListAnswer(Table, tablename="arbitration_list_answer"):
    """One ranker's strikes and ranking of a list (a side, or a co-arbitrator).

    `defaulted`: no answer by the deadline, so taken to accept all in list order.
    """

    id = Serial(primary_key=True)
    candidate_list = ForeignKey(references=CandidateList, index=True)
    ranker = ForeignKey(references=User)
    ranking = Text()  # JSON: {"<user id>": rank from 1, or null when struck}
    defaulted = Boolean(default=False)
    case_seq = Integer()
    created_at = Timestamptz()


class Seat(Table, tablename="tribunal_seat"):
    """One arbitrator invited to one seat of a tribunal, and how far it got.

    invited -> active, or declined / lapsed; active -> removed (a challenge upheld).
    """

    id = Serial(primary_key=True)
    arbitration = ForeignKey(references=Arbitration, index=True)
    case = ForeignKey(references=Case, index=True)
    seat = Varchar(length=24)  # sole, presiding, claimant_nominee, respondent_nominee
    arbitrator = ForeignKey(references=User)
    chosen_by = Varchar(length=16)  # list, nomination
    status = Varchar(length=16, default="invited")
    answer_due = Timestamptz()
    disclosure = Text(default="")
    disclosed_at = Timestamptz(null=True, default=None)
    decline_reasons = Text(default="")
    appointed_at = Timestamptz(null=True, default=None)
    ended_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz()


class Challenge(Table, tablename="arbitrator_challenge"):
    """A party's challenge to an appointed arbitrator, and the supervisor's decision."""

    id = Serial(primary_key=True)
    seat = ForeignKey(references=Seat, index=True)
    case = ForeignKey(references=Case, index=True)
    party = ForeignKey(references=User)
    reasons = Text()
    status = Varchar(length=16, default="pending")  # pending, upheld, dismissed
    decided_by = ForeignKey(references=User, null=True)
    decision = Text(default="")
    created_at = Timestamptz()
    decided_at = Timestamptz(null=True, default=None)


class TimetableStep(Table, tablename="tribunal_timetable"):
    """A date the tribunal set: a submission owed by a side, the hearing, or closing."""

    id = Serial(primary_key=True)
    case = ForeignKey(references=Case, index=True)
    step = Varchar(length=16)  # claim, defence, evidence, reply, hearing, closing
    owed_by = Varchar(length=16)  # claimant, respondent, both, tribunal
    due_at = Timestamptz()
    place = Text(default="")  # the hearing: an address, or a video link
    set_by = ForeignKey(references=User)
    case_seq = Integer()
    updated_at = Timestamptz()


class Extension(Table, tablename="timetable_extension"):
    """A side's request to move a date, and the tribunal's answer."""

    id = Serial(primary_key=True)
    case = ForeignKey(references=Case, index=True)
    step = ForeignKey(references=TimetableStep)
    party = ForeignKey(references=User)
    wanted = Timestamptz()
    reasons = Text()
    status = Varchar(length=16, default="pending")  # pending, granted, refused
    decided_by = ForeignKey(references=User, null=True)
    decision = Text(default="")
    created_at = Timestamptz()
    decided_at = Timestamptz(null=True, default=None)


class ProceduralOrder(Table, tablename="procedural_order"):
    """A numbered order of the tribunal (no. 1 sets the timetable, and so on)."""

    id = Serial(primary_key=True)
    case = ForeignKey(references=Case, index=True)
    number = Integer()
    text = Text()
    sha256 = Varchar(length=64)
    issued_by = ForeignKey(references=User)
    case_seq = Integer()
    issued_at = Timestamptz()


class Award(Table, tablename="arbitral_award"):
    """The award: a draft the tribunal alone reads until it is issued.

    `text` is the award as signed, in the case's language; `sha256` is over it as UTF-8,
    and every signature and dissent names it. A change to the draft clears the votes.
    """

    id = Serial(primary_key=True)
    case = ForeignKey(references=Case, index=True)
    status = Varchar(length=16, default="draft")  # draft, issued
    reasons = Text()
    relief = Text()  # JSON: items, as in mediation offers
    costs = Text()
    language = Varchar(length=10)
    text = Text()
    sha256 = Varchar(length=64)
    drafted_by = ForeignKey(references=User)
    updated_at = Timestamptz()
    issued_at = Timestamptz(null=True, default=None)
    case_seq = Integer(default=0)  # of the award.issued entry


class AwardVote(Table, tablename="award_vote"):
    """An arbitrator's signature on the award, or their recorded dissent."""

    id = Serial(primary_key=True)
    award = ForeignKey(references=Award, index=True)
    arbitrator = ForeignKey(references=User)
    vote = Varchar(length=16)  # signed, dissent
    dissent = Text(default="")
    sha256 = Varchar(length=64)  # the award text this vote was given on
    case_seq = Integer()
    voted_at = Timestamptz()


class Correction(Table, tablename="award_correction"):
    """A party's request to correct a clerical error, and the addendum that answers it."""

    id = Serial(primary_key=True)
    award = ForeignKey(references=Award, index=True)
    case = ForeignKey(references=Case, index=True)
    party = ForeignKey(references=User)
    request = Text()
    status = Varchar(length=16, default="pending")  # pending, corrected, refused
    addendum = Text(default="")
    addendum_sha256 = Varchar(length=64, default="")
    decided_by = ForeignKey(references=User, null=True)
    created_at = Timestamptz()
    decided_at = Timestamptz(null=True, default=None)
    case_seq = Integer(default=0)  # of the addendum's entry


ARBITRATION_TABLES: list[type[Table]] = [
    Arbitration,
    CandidateList,
    ListAnswer,
    Seat,
    Challenge,
    TimetableStep,
    Extension,
    ProceduralOrder,
    Award,
    AwardVote,
    Correction,
]
