"""Case files are tested through the real app and the `portal` command: the portal tests'
fixtures, shared, and two installations of the portal that share nothing."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.portal.conftest import app, browser, people, settings  # noqa: F401 (fixtures)
from tests.support import portal_env, run_portal

LIQUIDATION = "DR-2026-000001"


@dataclass(frozen=True)
class Installation:
    """A portal of its own (SQLite database, ledger keyring and seal) with the demo in it,
    and the full case file of the demo's liquidation case, as a PDF and as a zip."""

    env: dict[str, str]
    pdf: Path
    zip: Path
    key: str
    """Its verifier key, as `portal ledger keys` prints it."""
    seal: Path
    """Its seal certificate (PEM)."""


def install(root: Path) -> Installation:
    env = portal_env(f"sqlite:///{root / 'data' / 'portal.sqlite3'}", root)
    (root / "data").mkdir(parents=True)
    run_portal("migrate", env=env)
    run_portal("demo", "--json", env=env)
    pdf, archive = root / "casefile.pdf", root / "casefile.zip"
    run_portal("export", LIQUIDATION, "-o", str(pdf), "--bundle", str(archive), env=env)
    key = run_portal("ledger", "keys", env=env).stdout.split()[0]
    return Installation(env, pdf, archive, key, root / "casefile-seal.pem")


@pytest.fixture(scope="session")
def here(tmp_path_factory: pytest.TempPathFactory) -> Installation:
    """A portal whose case files are checked offline: the database plays no part in
    verifying, so one SQLite installation serves every test that only reads its files."""
    return install(tmp_path_factory.mktemp("here"))


@pytest.fixture(scope="session")
def elsewhere(tmp_path_factory: pytest.TempPathFactory) -> Installation:
    """A second, independent installation: same software, same demo, same case numbers and
    log name, but its own keys and seal. Its files are forgeries as far as `here` goes."""
    return install(tmp_path_factory.mktemp("elsewhere"))
