"""What the portal tells people: in-portal notifications and the outgoing mail queue.

Both are written in the same transaction as the event they announce, so a change that
rolls back never sends mail, and mail queued by a committed change is never lost.
"""

from piccolo.columns import BigSerial, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.table import Table

from portal.accounts.tables import User


class Notification(Table, tablename="notification"):
    """One thing a user should know of or act on, shown with a badge until read."""

    id = BigSerial(primary_key=True)
    user = ForeignKey(references=User, index=True)
    kind = Varchar(length=40)
    case_ref = Varchar(length=20, default="")
    message = Text()  # already in the user's language
    link = Varchar(length=200, default="")
    created_at = Timestamptz()
    read_at = Timestamptz(null=True, default=None)


class OutboundMail(Table, tablename="outbound_mail"):
    """An email waiting to be sent; a background task delivers it and records the result."""

    id = BigSerial(primary_key=True)
    to_address = Varchar(length=254)
    subject = Text()
    body = Text()
    created_at = Timestamptz()
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz(index=True)
    sent_at = Timestamptz(null=True, default=None)
    last_error = Text(default="")


NOTIFICATION_TABLES: list[type[Table]] = [Notification, OutboundMail]
