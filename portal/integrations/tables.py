"""Integrations, their API keys and webhook endpoints, the webhook outbox and its log,
and the per-key request counters that rate-limit the API."""

from piccolo.columns import (
    BigSerial,
    Boolean,
    ForeignKey,
    Integer,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table

from portal.accounts.tables import User


class Integration(Table, tablename="integration"):
    """The platform's back end (or one of its services), as a supervisor named it."""

    id = Serial(primary_key=True)
    name = Varchar(length=200)
    # The account the integration acts as: cases it files, records it attaches and
    # ledger entries it causes are theirs. It has no password and cannot log in.
    account = ForeignKey(references=User, unique=True)
    created_by = ForeignKey(references=User)
    created_at = Timestamptz()


class ApiKey(Table, tablename="api_key"):
    """A key of an integration: `dpk_<prefix>_<secret>`; only the secret's SHA-256 is kept."""

    id = Serial(primary_key=True)
    integration = ForeignKey(references=Integration, index=True)
    prefix = Varchar(length=16, unique=True)  # public: shown in lists and in the ledger
    secret_sha256 = Varchar(length=64)
    scopes = Varchar(length=200)  # space-separated, see portal.integrations.keys.SCOPES
    created_by = ForeignKey(references=User)
    created_at = Timestamptz()
    last_used_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)
    revoked_by = ForeignKey(references=User, null=True, default=None)


class ApiRateWindow(Table, tablename="api_rate_window"):
    """Requests one key made in one minute: the fixed-window counter every worker shares."""

    id = BigSerial(primary_key=True)
    api_key = ForeignKey(references=ApiKey)
    window_start = Timestamptz()
    requests = Integer(default=0)


class WebhookEndpoint(Table, tablename="webhook_endpoint"):
    """A URL an integration registered to be told of events, and the secret that signs them."""

    id = Serial(primary_key=True)
    integration = ForeignKey(references=Integration, index=True)
    url = Varchar(length=2000)
    secret_sealed = Text()  # encrypted with the portal's secret key: signing needs it back
    events = Varchar(length=200)  # space-separated event types
    created_by_key = ForeignKey(references=ApiKey)
    created_at = Timestamptz()
    removed_at = Timestamptz(null=True, default=None)


class WebhookDelivery(Table, tablename="webhook_delivery"):
    """One event for one endpoint: written with the change it announces, sent later.

    `body` is the exact JSON sent on every attempt, so a retry or a replay carries the
    same bytes and the same event ID as the first try.
    """

    id = BigSerial(primary_key=True)
    endpoint = ForeignKey(references=WebhookEndpoint, index=True)
    event_id = Varchar(length=36)
    event_type = Varchar(length=40)
    case_ref = Varchar(length=20, default="")
    body = Text()
    created_at = Timestamptz()
    status = Varchar(length=16, default="pending")  # pending, delivered, failed
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz(index=True)
    delivered_at = Timestamptz(null=True, default=None)
    last_error = Text(default="")
    replay_requested = Boolean(default=False)  # by staff: the next attempt is a replay


class WebhookAttempt(Table, tablename="webhook_attempt"):
    """One try at sending a delivery: what the receiver answered, or why it did not."""

    id = BigSerial(primary_key=True)
    delivery = ForeignKey(references=WebhookDelivery, index=True)
    number = Integer()
    at = Timestamptz()
    status_code = Integer(null=True, default=None)
    error = Text(default="")
    duration_ms = Integer(default=0)
    replay = Boolean(default=False)


INTEGRATION_TABLES: list[type[Table]] = [
    Integration,
    ApiKey,
    ApiRateWindow,
    WebhookEndpoint,
    WebhookDelivery,
    WebhookAttempt,
]
