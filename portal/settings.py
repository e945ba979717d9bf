"""The portal's settings: one dataclass, read from the environment in one place.

Every field is documented in the README. Development fills in what is missing so
that `make run` works on a fresh machine; production refuses to start and says
which setting is missing, because a generated signing key or secret there would
silently fork the ledger or log everyone out.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from portal.cases.file_kinds import KINDS

log = logging.getLogger(__name__)

ENVIRONMENTS = ("development", "production")


class ConfigurationError(Exception):
    """A setting is missing or wrong; the message names it and says what to do."""


@dataclass(frozen=True)
class Settings:
    env: str = "development"
    """PORTAL_ENV: `development` or `production`."""

    data_dir: Path = field(default_factory=lambda: Path("var"))
    """PORTAL_DATA_DIR: where the SQLite database, keys and uploaded files live."""

    database_url: str = ""
    """PORTAL_DATABASE_URL: `sqlite:///path` or `postgresql://user@host:port/db`."""

    log_origin: str = "localhost/portal-ledger"
    """PORTAL_LOG_ORIGIN: the ledger's origin; it never changes for a deployment."""

    signing_key_file: Path = field(default_factory=lambda: Path("var/ledger-signing.key"))
    """PORTAL_SIGNING_KEY_FILE: the ledger's Ed25519 keyring (PEM, current key first)."""

    seal_cert_file: Path = field(default_factory=lambda: Path("var/casefile-seal.pem"))
    """PORTAL_SEAL_CERT_FILE: the certificate (PEM) that seals exported case files."""

    seal_key_file: Path = field(default_factory=lambda: Path("var/casefile-seal.key"))
    """PORTAL_SEAL_KEY_FILE: its private key (PEM, RSA: see portal/casefile/seal.py)."""

    secret_key: str = ""
    """PORTAL_SECRET_KEY: signs session cookies and CSRF tokens."""

    integrate_interval: float = 0.5
    """PORTAL_INTEGRATE_INTERVAL: seconds between a worker's attempts to integrate the log."""

    key_overlap_days: int = 30
    """PORTAL_KEY_OVERLAP_DAYS: how long the old key co-signs checkpoints after a rotation."""

    base_url: str = "http://127.0.0.1:8000"
    """PORTAL_BASE_URL: the portal's address as users reach it, for links in emails."""

    smtp_url: str = ""
    """PORTAL_SMTP_URL: `smtp://[user:password@]host:port` (`smtps://` for TLS); empty in
    development writes each email to `<data dir>/outbox/` instead."""

    mail_from: str = "Dispute portal <portal@localhost>"
    """PORTAL_MAIL_FROM: the sender of the portal's emails."""

    secure_cookies: bool = False
    """PORTAL_SECURE_COOKIES: send cookies over HTTPS only; on by default in production."""

    max_upload_mb: int = 250
    """PORTAL_MAX_UPLOAD_MB: the largest evidence file accepted, in MiB."""

    evidence_types: frozenset[str] = frozenset(KINDS)
    """PORTAL_EVIDENCE_TYPES: the media types accepted as evidence (comma-separated)."""

    api_rate_per_minute: int = 120
    """PORTAL_API_RATE_PER_MINUTE: requests one API key may make in a minute."""

    webhook_backoff_seconds: float = 30.0
    """PORTAL_WEBHOOK_BACKOFF_SECONDS: the wait after a webhook's first failed attempt;
    each further failure doubles it, up to an hour."""

    webhook_timeout_seconds: float = 5.0
    """PORTAL_WEBHOOK_TIMEOUT_SECONDS: how long a webhook receiver has to answer."""

    webhook_interval: float = 1.0
    """PORTAL_WEBHOOK_INTERVAL: seconds between a worker's looks for webhooks to send."""

    webhook_private_addresses: bool = True
    """PORTAL_WEBHOOK_PRIVATE_ADDRESSES: let webhooks post to private and local network
    addresses; off by default in production (portal/integrations/addresses.py says why)."""

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        """Read the settings; raise ConfigurationError naming anything unusable."""
        env = dict(os.environ if environ is None else environ)
        mode = _mode(env)
        data_dir = Path(env.get("PORTAL_DATA_DIR") or "var")
        database_url = _database_url(env, data_dir)
        key_file = Path(env.get("PORTAL_SIGNING_KEY_FILE") or data_dir / "ledger-signing.key")
        interval, overlap, max_upload_mb = _ledger_and_upload_numbers(env)
        api_rate, backoff, webhook_timeout, webhook_interval = _api_and_webhook_numbers(env)
        smtp_url = _smtp_url(env)
        evidence_types = _evidence_types(env)
        production = mode == "production"
        return cls(
            env=mode,
            data_dir=data_dir,
            database_url=database_url,
            log_origin=env.get("PORTAL_LOG_ORIGIN") or "localhost/portal-ledger",
            signing_key_file=key_file,
            # Beside the ledger key by default: the two secrets are kept and backed up together.
            seal_cert_file=Path(
                env.get("PORTAL_SEAL_CERT_FILE") or key_file.with_name("casefile-seal.pem")
            ),
            seal_key_file=Path(
                env.get("PORTAL_SEAL_KEY_FILE") or key_file.with_name("casefile-seal.key")
            ),
            secret_key=env.get("PORTAL_SECRET_KEY", ""),
            integrate_interval=interval,
            key_overlap_days=overlap,
            base_url=(env.get("PORTAL_BASE_URL") or "http://127.0.0.1:8000").rstrip("/"),
            smtp_url=smtp_url,
            mail_from=env.get("PORTAL_MAIL_FROM") or "Dispute portal <portal@localhost>",
            secure_cookies=_flag(env, "PORTAL_SECURE_COOKIES", default=production),
            max_upload_mb=max_upload_mb,
            evidence_types=evidence_types,
            api_rate_per_minute=api_rate,
            webhook_backoff_seconds=backoff,
            webhook_timeout_seconds=webhook_timeout,
            webhook_interval=webhook_interval,
            webhook_private_addresses=_flag(
                env, "PORTAL_WEBHOOK_PRIVATE_ADDRESSES", default=not production
            ),
        )

    def prepare(self) -> Settings:
        """Make the settings usable for serving: check production, fill in development.

        Returns settings whose secret key is set. In development a missing secret is
        generated once and kept under the data directory, so every worker process
        (and the next restart) shares it.
        """
        missing = []
        if self.is_production:
            if not self.signing_key_file.is_file():
                missing.append(
                    f"PORTAL_SIGNING_KEY_FILE ({self.signing_key_file} does not exist; "
                    "create it with `portal ledger init-key` and keep a backup)"
                )
            if not self.secret_key:
                missing.append("PORTAL_SECRET_KEY (set it to a long random string)")
            if missing:
                raise ConfigurationError(
                    "Refusing to start in production without: " + "; ".join(missing) + "."
                )
            return self
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.secret_key:
            return self
        secret_file = self.data_dir / "secret.key"
        if not secret_file.exists():
            _write_private(secret_file, secrets.token_urlsafe(48))
            log.warning("Development: generated a secret key in %s", secret_file)
        return replace(self, secret_key=secret_file.read_text().strip())


def _write_private(path: Path, text: str) -> None:
    """Write a secret readable by its owner only, atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text + "\n")
    os.replace(tmp, path)


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    """An on/off setting: 1, true or yes; 0, false or no; anything else is a mistake."""
    value = env.get(name, "1" if default else "0").strip().lower()
    if value not in ("0", "1", "true", "false", "yes", "no"):
        raise ConfigurationError(f"{name} must be 1 or 0; got {value!r}.")
    return value in ("1", "true", "yes")


def _mode(env: Mapping[str, str]) -> str:
    mode = env.get("PORTAL_ENV", "development")
    if mode not in ENVIRONMENTS:
        raise ConfigurationError(
            f"PORTAL_ENV is {mode!r}; set it to 'development' or 'production'."
        )
    return mode


def _database_url(env: Mapping[str, str], data_dir: Path) -> str:
    """The database to use: SQLite in the data directory unless PostgreSQL is named."""
    database_url = env.get("PORTAL_DATABASE_URL") or f"sqlite:///{data_dir / 'portal.sqlite3'}"
    if not database_url.startswith(("sqlite:///", "postgresql://", "postgres://")):
        raise ConfigurationError(
            "PORTAL_DATABASE_URL must start with sqlite:/// or postgresql://; "
            f"got {database_url!r}."
        )
    return database_url


def _ledger_and_upload_numbers(env: Mapping[str, str]) -> tuple[float, int, int]:
    """How often the ledger integrates, how long an old key still verifies, and the
    largest upload, refused together when one is not a number."""
    try:
        interval = float(env.get("PORTAL_INTEGRATE_INTERVAL", "0.5"))
        overlap = int(env.get("PORTAL_KEY_OVERLAP_DAYS", "30"))
        max_upload_mb = int(env.get("PORTAL_MAX_UPLOAD_MB", "250"))
    except ValueError as exc:
        raise ConfigurationError(
            "PORTAL_INTEGRATE_INTERVAL must be a number of seconds, "
            "PORTAL_KEY_OVERLAP_DAYS a whole number of days and PORTAL_MAX_UPLOAD_MB "
            f"a whole number of MiB ({exc})."
        ) from exc
    return interval, overlap, max_upload_mb


def _api_and_webhook_numbers(env: Mapping[str, str]) -> tuple[int, float, float, float]:
    """The API's rate limit and the webhooks' pacing; zero would stop them, so each
    must be above it."""
    try:
        api_rate = int(env.get("PORTAL_API_RATE_PER_MINUTE", "120"))
        backoff = float(env.get("PORTAL_WEBHOOK_BACKOFF_SECONDS", "30"))
        webhook_timeout = float(env.get("PORTAL_WEBHOOK_TIMEOUT_SECONDS", "5"))
        webhook_interval = float(env.get("PORTAL_WEBHOOK_INTERVAL", "1"))
        if api_rate < 1 or min(backoff, webhook_timeout, webhook_interval) <= 0:
            raise ValueError("each must be above zero")
    except ValueError as exc:
        raise ConfigurationError(
            "PORTAL_API_RATE_PER_MINUTE must be a whole number of requests (1 or more), "
            "PORTAL_WEBHOOK_BACKOFF_SECONDS, PORTAL_WEBHOOK_TIMEOUT_SECONDS and "
            f"PORTAL_WEBHOOK_INTERVAL a number of seconds above zero ({exc})."
        ) from exc
    return api_rate, backoff, webhook_timeout, webhook_interval


def _smtp_url(env: Mapping[str, str]) -> str:
    smtp_url = env.get("PORTAL_SMTP_URL", "")
    if smtp_url and not smtp_url.startswith(("smtp://", "smtps://")):
        raise ConfigurationError(
            f"PORTAL_SMTP_URL must start with smtp:// or smtps://; got {smtp_url!r}."
        )
    return smtp_url


def _evidence_types(env: Mapping[str, str]) -> frozenset[str]:
    """The media types evidence may have: every kind the portal recognises, unless the
    deployment narrows the list; a type it cannot recognise by its bytes is a mistake."""
    evidence_types = frozenset(
        t.strip().lower() for t in env.get("PORTAL_EVIDENCE_TYPES", "").split(",") if t.strip()
    ) or frozenset(KINDS)
    if unknown := sorted(evidence_types - KINDS.keys()):
        raise ConfigurationError(
            f"PORTAL_EVIDENCE_TYPES names {', '.join(unknown)}, which the portal cannot "
            f"recognise; choose among {', '.join(KINDS)}."
        )
    return evidence_types
