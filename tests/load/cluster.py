"""A PostgreSQL server of the test's own, to stop and start while the portal runs.

The shared server at 5432 serves every other test, so it is never touched: this one is
made by `initdb` in a temporary directory, listens on a free port, and is removed
afterwards. PostgreSQL refuses to run as root, so as root it runs as the `postgres`
user, which then owns the directory.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support import Unavailable, free_port

START_DEADLINE = 120  # seconds: a liveness bound for pg_ctl, never a measurement


def _bindir() -> Path | None:
    candidates = []
    if pg_config := shutil.which("pg_config"):
        found = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
        candidates.append(found.stdout.strip())
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for candidate in candidates:
        if candidate and (Path(candidate) / "initdb").exists():
            return Path(candidate)
    return None


@dataclass
class Cluster:
    bindir: Path
    directory: Path
    port: int
    as_user: list[str]  # the prefix that runs a command as the cluster's owner

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        result = subprocess.run(
            [*self.as_user, *args], capture_output=True, text=True, timeout=START_DEADLINE + 30
        )
        if result.returncode != 0:
            raise AssertionError(f"{' '.join(args)}: {result.stdout}\n{result.stderr}")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1"
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.directory / "data"),
            "-o",
            options,
            "-l",
            str(self.directory / "server.log"),
            "-t",
            str(START_DEADLINE),
            "-w",
            "start",
        )

    def stop(self) -> None:
        """Stop at once, as an operator's restart does: sessions are ended mid-query."""
        self._run(
            str(self.bindir / "pg_ctl"), "-D", str(self.directory / "data"), "-m", "fast", "-w",
            "stop",
        )  # fmt: skip


@contextmanager
def private_cluster() -> Iterator[Cluster]:
    """A fresh, running PostgreSQL on a free port; stopped and removed after the block."""
    bindir = _bindir()
    if bindir is None:
        raise Unavailable("initdb is not installed (apt-get install postgresql)")
    directory = Path(tempfile.mkdtemp(prefix="portal-pg-", dir="/tmp"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError as exc:
            shutil.rmtree(directory)
            raise Unavailable("running as root and there is no postgres user") from exc
        os.chown(directory, owner.pw_uid, owner.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    cluster = Cluster(bindir, directory, free_port(), as_user)
    try:
        cluster._run(
            str(bindir / "initdb"), "-D", str(directory / "data"), "-U", "postgres",
            "--auth=trust", "-E", "UTF8", "--no-sync",
        )  # fmt: skip
        cluster.start()
        try:
            yield cluster
        finally:
            subprocess.run(
                [*as_user, str(bindir / "pg_ctl"), "-D", str(directory / "data"), "-m",
                 "immediate", "stop"],
                capture_output=True,
            )  # fmt: skip
    finally:
        shutil.rmtree(directory, ignore_errors=True)
