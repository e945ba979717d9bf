"""Issue 16, finding 10: every document a `portal` command prints arrives whole through a
slow pipe, or the command exits non-zero and says why.

`portal ledger proof REF | (sleep 1; cat)` gave 64 KiB of a 616 KB bundle and exit 0: with
PYTHONUNBUFFERED=1 each write is one write(2), the kernel took what fit in the pipe and the
rest was dropped. Here the reader is the test: it holds off until the pipe is full (or the
command has finished), then reads everything. Each command runs once with a plain pipe and
once with a non-blocking one (the flag belongs to the pipe, shared with whoever else holds
it), and what arrives is compared with what the same command writes to a file.
"""

from __future__ import annotations

import array
import fcntl
import os
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from ledger.appender import append_entry
from ledger.entry import Actor
from ledger.keys import Keyring
from portal.standard_output import WRITE_FAILED
from tests.support import ORIGIN, ROOT, portal_env, run_portal

LIQUIDATION = "DR-2026-000001"  # the demo's first case
LONG_CASE = "DR-2026-000042"  # a case of the test's own, long enough for a large proof
# A liveness bound for one command, never a measurement.
COMMAND_DEADLINE = 240.0


# How a document reaches standard output does not depend on the database: SQLite only.
pytestmark = [pytest.mark.slow, pytest.mark.parametrize("db", ["sqlite"], indirect=True)]


@pytest.fixture
async def demo(db, tmp_path: Path) -> dict[str, str]:
    env = portal_env(db.url, tmp_path, PYTHONUNBUFFERED="1")
    run_portal("demo", "--json", env=env)
    keyring = Keyring.open(Path(env["PORTAL_SIGNING_KEY_FILE"]), ORIGIN, create=False)
    # About 400 KB of proof bundle: several pipes' worth.
    for n in range(120):
        await append_entry(
            keyring,
            case=LONG_CASE,
            event_type="statement.submitted",
            actor=Actor("alice", "claimant"),
            body={"n": n, "said": "x" * 2000},
        )
    run_portal("ledger", "integrate", env=env)
    return env


def _buffered(fd: int) -> int:
    count = array.array("i", [0])
    fcntl.ioctl(fd, termios.FIONREAD, count)
    return count[0]


def through_slow_pipe(
    *args: str, env: dict[str, str], non_blocking: bool
) -> subprocess.CompletedProcess[bytes]:
    """`portal ARGS | (wait until the pipe is full or the command ended; cat)`."""
    read_end, write_end = os.pipe()
    if non_blocking:
        fcntl.fcntl(write_end, fcntl.F_SETFL, fcntl.fcntl(write_end, fcntl.F_GETFL) | os.O_NONBLOCK)
    capacity = fcntl.fcntl(read_end, fcntl.F_GETPIPE_SZ)
    with open(read_end, "rb") as reader:
        process = subprocess.Popen(
            [sys.executable, "-m", "portal", *args],
            env=env,
            cwd=ROOT,
            stdout=write_end,
            stderr=subprocess.PIPE,
        )
        os.close(write_end)
        end = time.monotonic() + COMMAND_DEADLINE
        while process.poll() is None and _buffered(read_end) < capacity:
            assert time.monotonic() < end, f"portal {' '.join(args)} neither wrote nor ended"
            time.sleep(0.05)
        out = reader.read()
        err = process.stderr.read() if process.stderr else b""
        process.wait(timeout=COMMAND_DEADLINE)
    return subprocess.CompletedProcess(args, process.returncode, out, err)


def to_file(*args: str, env: dict[str, str], path: Path) -> bytes:
    with path.open("wb") as out:
        subprocess.run(
            [sys.executable, "-m", "portal", *args],
            env=env,
            cwd=ROOT,
            stdout=out,
            check=True,
            timeout=COMMAND_DEADLINE,
        )
    return path.read_bytes()


async def test_every_document_arrives_whole_through_a_slow_pipe(demo, tmp_path: Path):
    env = demo
    case_file = tmp_path / "case-file.pdf"
    run_portal("export", LIQUIDATION, "-o", str(case_file), env=env)
    bundle = tmp_path / "ledger-proof.json"
    bundle.write_bytes(to_file("ledger", "proof", LONG_CASE, env=env, path=bundle))
    assert len(bundle.read_bytes()) > 3 * 65536
    # Pinned, so that the verify report is a verdict (an unpinned one exits 4 by design).
    key = run_portal("ledger", "keys", env=env).stdout.split()[0]
    seal = Path(env["PORTAL_SIGNING_KEY_FILE"]).parent / "casefile-seal.pem"

    commands = [
        ("ledger", "proof", LONG_CASE),
        ("ledger", "checkpoint"),
        ("ledger", "keys"),
        ("ledger", "verify"),
        ("ledger", "verify-bundle", str(bundle)),
        ("verify", str(case_file), "--key", key, "--seal", str(seal)),
    ]
    problems = []
    for n, command in enumerate(commands):
        expected = to_file(*command, env=env, path=tmp_path / f"expected-{n}")
        for non_blocking in (False, True):
            got = through_slow_pipe(*command, env=env, non_blocking=non_blocking)
            if got.stdout != expected:
                problems.append(
                    f"portal {' '.join(command)} (non-blocking {non_blocking}): "
                    f"{len(got.stdout)} of {len(expected)} bytes, exit {got.returncode}"
                )

    # Each export is a new document (and a new ledger entry): whole is a PDF that ends
    # where its last cross-reference says, which qpdf checks.
    for non_blocking in (False, True):
        got = through_slow_pipe(
            "export", LIQUIDATION, "-o", "-", env=env, non_blocking=non_blocking
        )
        received = tmp_path / f"exported-{non_blocking}.pdf"
        received.write_bytes(got.stdout)
        check = subprocess.run(["qpdf", "--check", str(received)], capture_output=True, text=True)
        said = b"Wrote the PDF to standard output" in got.stderr
        if got.returncode != 0 or check.returncode != 0 or not said:
            problems.append(
                f"portal export -o - (non-blocking {non_blocking}): {len(got.stdout)} bytes, "
                f"exit {got.returncode}, stderr {got.stderr[-200:]!r}, "
                f"qpdf: {check.stdout[-200:]}{check.stderr[-200:]}"
            )

    assert not problems, "\n".join(problems)


async def test_a_reader_that_goes_away_is_a_failure_named_on_stderr(demo):
    process = subprocess.Popen(
        [sys.executable, "-m", "portal", "ledger", "proof", LONG_CASE],
        env=demo,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.read(100)  # the reader takes a little, then leaves
    process.stdout.close()
    err = process.stderr.read().decode()
    process.wait(timeout=COMMAND_DEADLINE)

    assert process.returncode == WRITE_FAILED, err
    assert "closed the pipe" in err and "incomplete" in err
