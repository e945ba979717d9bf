"""What tests share besides fixtures: paths, the `portal` command, its environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

ORIGIN = "test.portal.example/ledger"


def shared_dir() -> Path:
    """`../shared` beside the project (CI's layout), or PORTAL_SHARED_DIR."""
    configured = os.environ.get("PORTAL_SHARED_DIR")
    return Path(configured) if configured else ROOT.parent / "shared"


def portal_env(database_url: str, tmp: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env.update(
        PORTAL_DATABASE_URL=database_url,
        PORTAL_DATA_DIR=str(tmp / "data"),
        PORTAL_SIGNING_KEY_FILE=str(tmp / "ledger.key"),
        PORTAL_LOG_ORIGIN=ORIGIN,
        PICCOLO_CONF="portal.piccolo_conf",
        PYTHONPATH=str(ROOT),
    )
    env.update(extra)
    return env


def run_portal(
    *args: str, env: dict[str, str], check: bool = True, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run the real `portal` command in a child process."""
    result = subprocess.run(
        [sys.executable, "-m", "portal", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"portal {' '.join(args)} exited {result.returncode}\n"
            f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
        )
    return result
