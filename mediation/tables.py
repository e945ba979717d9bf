"""The mediation of a case: the roster, the appointment, offers and the settlement.

Rows that record an event keep the `case_seq` of its ledger entry, as the case's own
rows do, so that each item in the room links to its receipt.
"""

from piccolo.columns import Boolean, ForeignKey, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.table import Table

from portal.accounts.tables import User
from portal.cases.tables import Case


class NeutralProfile(Table, tablename="neutral_profile"):
    """A mediator's or arbitrator's entry on the roster: what a supervisor chooses by.

    The account's global role says which roster it is on; `on_roster` takes someone off
    the list for new cases without touching the cases they already have.
    """

    id = Serial(primary_key=True)
    user = ForeignKey(references=User, unique=True)
    languages = Varchar(length=100, default="")  # codes, comma-separated: "en,zh_Hans"
    expertise = Text(default="")
    jurisdiction = Varchar(length=200, default="")
    profile = Text(default="")
    on_roster = Boolean(default=True)
    updated_at = Timestamptz()


class Appointment(Table, tablename="mediator_appointment"):
    """One mediator proposed for one case, and how far the appointment got.

    proposed -> invited -> active, or disclosed -> active when the mediator disclosed
    something the parties may object to; objected, declined or ended close it.
    """

    id = Serial(primary_key=True)
    case = ForeignKey(references=Case, index=True)
    mediator = ForeignKey(references=User)
    proposed_by = ForeignKey(references=User)
    status = Varchar(length=16, default="proposed")
    objection_due = Timestamptz()  # the parties' window: on the proposal, then on a disclosure
    answer_due = Timestamptz(null=True, default=None)  # the mediator's time to answer
    disclosure = Text(default="")  # empty: the mediator disclosed nothing
    disclosed_at = Timestamptz(null=True, default=None)
    decline_reasons = Text(default="")
    period_ends = Timestamptz(null=True, default=None)  # the mediation period, once active
    extended = Boolean(default=False)  # the period may be extended once
    created_at = Timestamptz()
    ended_at = Timestamptz(null=True, default=None)


class AppointmentAnswer(Table, tablename="mediator_appointment_answer"):
    """A party's answer to a proposed mediator, or to what the mediator disclosed."""

    id = Serial(primary_key=True)
    appointment = ForeignKey(references=Appointment, index=True)
    party = ForeignKey(references=User)
    stage = Varchar(length=16)  # proposal, disclosure
    # Shadows Piccolo's `Table.objects` (a query builder the portal never calls on this
    # table); the column's name is the schema's.
    objects = Boolean()  # type: ignore[assignment]
    reasons = Text(default="")
    created_at = Timestamptz()


class Offer(Table, tablename="settlement_offer"):
    """A settlement offer: its items (JSON), who made it, until when it stands.

    A counter-offer is a new row naming the one it answers, which is then `countered`;
    no offer is ever edited, so the history of the negotiation stays as it was.
    """

    id = Serial(primary_key=True)
    case = ForeignKey(references=Case, index=True)
    author = ForeignKey(references=User)
    author_role = Varchar(length=20)
    items = Text()
    note = Text(default="")
    expires_at = Timestamptz()
    status = Varchar(length=16, default="open")  # open, accepted, rejected, countered, ...
    counter_of = Integer(null=True, default=None)
    case_seq = Integer()
    created_at = Timestamptz()
    closed_at = Timestamptz(null=True, default=None)


class OfferAnswer(Table, tablename="settlement_offer_answer"):
    """One party's answer to an offer: accept, reject, or counter."""

    id = Serial(primary_key=True)
    offer = ForeignKey(references=Offer, index=True)
    party = ForeignKey(references=User)
    answer = Varchar(length=16)
    reasons = Text(default="")
    case_seq = Integer()
    created_at = Timestamptz()


class Settlement(Table, tablename="settlement_agreement"):
    """The agreement drawn up from an offer every party accepted, in the case's language.

    `sha256` is of `text` as UTF-8: what every signature names in the ledger.
    """

    id = Serial(primary_key=True)
    case = ForeignKey(references=Case, index=True)
    offer = ForeignKey(references=Offer)
    language = Varchar(length=10)
    text = Text()
    sha256 = Varchar(length=64)
    status = Varchar(length=16, default="signing")  # signing, signed, void
    case_seq = Integer()
    created_at = Timestamptz()
    signed_at = Timestamptz(null=True, default=None)


class SettlementSignature(Table, tablename="settlement_signature"):
    """A party's or the mediator's signature, given by entering their password again."""

    id = Serial(primary_key=True)
    settlement = ForeignKey(references=Settlement, index=True)
    signer = ForeignKey(references=User)
    role = Varchar(length=20)
    case_seq = Integer()
    signed_at = Timestamptz()


MEDIATION_TABLES: list[type[Table]] = [
    NeutralProfile,
    Appointment,
    AppointmentAnswer,
    Offer,
    OfferAnswer,
    Settlement,
    SettlementSignature,
]
