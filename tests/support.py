"""What tests share besides fixtures: paths, the `portal` command, its environment, and
a `portal serve` of their own on a free port (browser tests, load tests, benchmarks)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import asyncpg
import httpx

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


PG_ADMIN_URL = os.environ.get(
    "PORTAL_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres"
)
SERVER_START_DEADLINE = 120.0  # a liveness bound for `portal serve`, never a measurement


class Unavailable(Exception):
    """The database a test asked for cannot be had here; the message says why."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def postgres_admin(sql: str, admin_url: str = PG_ADMIN_URL) -> None:
    async def run() -> None:
        conn = await asyncpg.connect(admin_url, timeout=5)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    # In a thread of its own: the caller's event loop may be running in this one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(lambda: asyncio.run(run())).result()


@contextmanager
def postgres_database(prefix: str, admin_url: str = PG_ADMIN_URL) -> Iterator[str]:
    """A fresh database on the server at `admin_url`, dropped afterwards; `Unavailable`
    with the reason when no server answers there."""
    try:
        postgres_admin("SELECT 1", admin_url)
    except Exception as exc:
        raise Unavailable(
            f"PostgreSQL at {admin_url} is unreachable ({type(exc).__name__}: {exc})"
        ) from exc
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    postgres_admin(f'CREATE DATABASE "{name}"', admin_url)
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', admin_url)


@contextmanager
def portal_serving(
    env: dict[str, str], port: int, log_path: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """`portal serve --workers 2` on `port`, answering /healthz, until the block ends; its
    output goes to `log_path`, which a failure to start quotes."""
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "portal", "serve", "--port", str(port), "--workers", "2"],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            # A group of its own, ended whole: a worker uvicorn was just starting again
            # (after a fault test killed one) outlived its parent and kept running.
            start_new_session=True,
        )
        try:
            _wait_until_healthy(process, f"http://127.0.0.1:{port}/healthz", log_path)
            yield process
        finally:
            _end_group(process)


def _end_group(process: subprocess.Popen[bytes]) -> None:
    """Terminate the server and every process of its group; kill what lingers."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=30)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # workers left behind, if any
    process.wait()


def _wait_until_healthy(process: subprocess.Popen[bytes], url: str, log_path: Path) -> None:
    end = time.monotonic() + SERVER_START_DEADLINE
    while time.monotonic() < end:
        if process.poll() is not None:
            raise AssertionError(
                f"portal serve exited with {process.returncode}:\n"
                f"{log_path.read_text(errors='replace')}"
            )
        try:
            if httpx.get(url, timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(
        f"portal serve never answered {url}:\n{log_path.read_text(errors='replace')}"
    )
