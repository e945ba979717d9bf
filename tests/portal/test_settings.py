"""Settings come from the environment; production refuses to start without its secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from portal.settings import ConfigurationError, Settings
from tests.support import portal_env, run_portal


def test_defaults_put_everything_under_var():
    settings = Settings.from_env({})
    assert settings.env == "development"
    assert settings.database_url == "sqlite:///var/portal.sqlite3"
    assert settings.log_origin == "localhost/portal-ledger"
    assert settings.signing_key_file == Path("var/ledger-signing.key")


def test_every_setting_is_read_from_its_variable(tmp_path):
    settings = Settings.from_env(
        {
            "PORTAL_ENV": "production",
            "PORTAL_DATA_DIR": str(tmp_path),
            "PORTAL_DATABASE_URL": "postgresql://portal@db:5432/portal",
            "PORTAL_LOG_ORIGIN": "disputes.example.com/ledger",
            "PORTAL_SIGNING_KEY_FILE": str(tmp_path / "k"),
            "PORTAL_SECRET_KEY": "s3cret",
        }
    )
    assert (settings.env, settings.data_dir, settings.database_url) == (
        "production",
        tmp_path,
        "postgresql://portal@db:5432/portal",
    )
    assert settings.log_origin == "disputes.example.com/ledger"
    assert settings.signing_key_file == tmp_path / "k" and settings.secret_key == "s3cret"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("PORTAL_ENV", "staging"),
        ("PORTAL_DATABASE_URL", "mysql://x"),
        ("PORTAL_INTEGRATE_INTERVAL", "soon"),
    ],
)
def test_an_unusable_value_is_named(variable, value):
    with pytest.raises(ConfigurationError, match=variable):
        Settings.from_env({variable: value})


def test_production_names_each_missing_secret(tmp_path):
    env = {"PORTAL_ENV": "production", "PORTAL_SIGNING_KEY_FILE": str(tmp_path / "missing.key")}
    with pytest.raises(ConfigurationError) as both:
        Settings.from_env(env).prepare()
    assert "PORTAL_SIGNING_KEY_FILE" in str(both.value) and "PORTAL_SECRET_KEY" in str(both.value)

    (tmp_path / "missing.key").write_text("exists")
    with pytest.raises(ConfigurationError) as one:
        Settings.from_env(env).prepare()
    assert "PORTAL_SECRET_KEY" in str(one.value) and "PORTAL_SIGNING_KEY_FILE" not in str(one.value)


def test_development_keeps_one_generated_secret_for_every_worker(tmp_path):
    env = {"PORTAL_DATA_DIR": str(tmp_path)}
    first = Settings.from_env(env).prepare().secret_key
    assert len(first) > 40
    assert Settings.from_env(env).prepare().secret_key == first


def test_portal_serve_refuses_to_start_in_production_without_a_key(tmp_path, sqlite_url):
    env = {
        "PORTAL_ENV": "production",
        "PORTAL_SECRET_KEY": "s3cret",
    }
    result = run_portal(
        "serve", env=portal_env(sqlite_url, tmp_path, **env), check=False, timeout=60
    )
    assert result.returncode != 0
    assert "PORTAL_SIGNING_KEY_FILE" in result.stderr and "does not exist" in result.stderr
    assert not (tmp_path / "ledger.key").exists()


def test_development_generates_a_missing_signing_key_and_says_so(tmp_path, sqlite_url):
    result = run_portal("-v", "ledger", "keys", env=portal_env(sqlite_url, tmp_path))
    assert "Generated a new ledger signing key" in result.stderr
    assert (tmp_path / "ledger.key").exists()
    assert result.stdout.startswith("test.portal.example/ledger+")
