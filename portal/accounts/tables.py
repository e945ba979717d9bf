"""Who can log in: users, their server-side sessions, login attempts, and one-time links."""

from piccolo.columns import (
    BigSerial,
    Boolean,
    Bytea,
    ForeignKey,
    Integer,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table


class User(Table, tablename="portal_user"):
    """A person with an account. `role` is global: a party's side comes from each case."""

    id = Serial(primary_key=True)
    email = Varchar(length=254, unique=True)
    name = Varchar(length=200)
    role = Varchar(length=20, index=True)
    password_hash = Text(default="")
    language = Varchar(length=10, default="en")
    active = Boolean(default=True)
    # Bumped to end every session of the user at once (deactivation, password change).
    session_epoch = Integer(default=0)
    totp_secret = Text(default="")  # encrypted with the portal's secret key
    totp_enabled = Boolean(default=False)
    totp_last_step = Integer(default=0)  # the last code's time step: a code works once
    created_at = Timestamptz()


class WebSession(Table, tablename="web_session"):
    """Litestar's server-side session store: any worker can serve any request."""

    key = Varchar(length=128, primary_key=True)
    value = Bytea()
    expires_at = Timestamptz(null=True, default=None, index=True)


class LoginAttempt(Table, tablename="login_attempt"):
    """A failed login, counted per account and per address to slow password guessing."""

    id = BigSerial(primary_key=True)
    account = Varchar(length=254, index=True)
    address = Varchar(length=64, index=True)
    at = Timestamptz(index=True)


class AccountToken(Table, tablename="account_token"):
    """A single-use link (invitation or password reset); only the token's hash is kept."""

    id = Serial(primary_key=True)
    token_hash = Varchar(length=64, unique=True)
    purpose = Varchar(length=20)
    user = ForeignKey(references=User)
    created_by = ForeignKey(references=User, null=True)
    created_at = Timestamptz()
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)


ACCOUNT_TABLES: list[type[Table]] = [User, WebSession, LoginAttempt, AccountToken]
