"""The machine a run measures: what it is, and how much of it other work took meanwhile.

Two cores shared with a test run measure the test run. `WATCH` samples /proc once a
second, in a process of its own, and counts the CPU time of every process that is neither this
benchmark, a child of it, nor a PostgreSQL server process (whose work is the benchmark's
own load, though another client's queries would hide there too), and the time the
hypervisor took from this virtual machine ("steal"). Each benchmark prints both beside its
figures, so a disturbed figure says so.
"""

from __future__ import annotations

import multiprocessing
import os
import platform
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path

SAMPLE_SECONDS = 1.0
DISTURBED = 0.05  # other processes' share of all cores above which a figure is flagged


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _processes() -> dict[int, tuple[str, int, int, int]]:
    """pid -> (command, parent pid, start time, CPU ticks used so far)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
        except OSError:
            continue  # gone already
        command = text[text.index("(") + 1 : text.rindex(")")]
        fields = text[text.rindex(")") + 2 :].split()
        # proc(5): fields 4 (ppid), 14 (utime), 15 (stime) and 22 (starttime), counted
        # from 1 at the pid. A kernel worker renames itself, so the start time, not the
        # name, tells a process from a new one that reuses its pid.
        found[int(entry.name)] = (
            command,
            int(fields[1]),
            int(fields[19]),
            int(fields[11]) + int(fields[12]),
        )
    return found


def _steal_and_total() -> tuple[int, int]:
    # proc(5) /proc/stat "cpu" line: user nice system idle iowait irq softirq steal ...
    ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return ticks[7], sum(ticks)


def _ours(pid: int, parents: dict[int, int], me: int) -> bool:
    while pid > 1:
        if pid == me:
            return True
        pid = parents.get(pid, 0)
    return False


@dataclass
class _Tally:
    """What the watching process has counted since the last report."""

    me: int  # the benchmark's pid: it and its descendants are not "other processes"
    ticks_per_second: int = field(default_factory=lambda: os.sysconf("SC_CLK_TCK"))
    cores: int = field(default_factory=lambda: os.cpu_count() or 1)
    other_ticks: float = 0.0
    steal_ticks: int = 0
    all_ticks: int = 0
    peak: float = 0.0
    since: float = field(default_factory=time.monotonic)

    def take(self) -> tuple[float, float, float]:
        """The (mean, peak) share of all cores other processes used, and the share of all
        CPU time the hypervisor stole, since the last call."""
        now = time.monotonic()
        mean = self.other_ticks / self.ticks_per_second / ((now - self.since) * self.cores)
        stolen = self.steal_ticks / self.all_ticks if self.all_ticks else 0.0
        result = (mean, self.peak, stolen)
        self.other_ticks, self.peak, self.since = 0.0, 0.0, now
        self.steal_ticks = self.all_ticks = 0
        return result


def _watch(conn: Connection, me: int) -> None:
    """The watching process: sample /proc every second, answer each "report" with the tally."""
    tally = _Tally(me)
    previous = _processes()
    last = time.monotonic()
    steal_before, total_before = _steal_and_total()
    next_sample = last + SAMPLE_SECONDS
    while True:
        if conn.poll(max(0.0, next_sample - time.monotonic())):
            if conn.recv() == "stop":
                return
            conn.send(tally.take())
            continue
        next_sample += SAMPLE_SECONDS
        current = _processes()
        now = time.monotonic()
        steal, total = _steal_and_total()
        parents = {pid: parent for pid, (_, parent, _, _) in current.items()}
        ticks = 0
        for pid, (command, _, started, used) in current.items():
            if command.startswith("postgres") or _ours(pid, parents, me):
                continue
            before = previous.get(pid)
            # A process born since the last sample used all its time since then.
            ticks += used - before[3] if before and before[2] == started else used
        tally.other_ticks += ticks
        tally.steal_ticks += steal - steal_before
        tally.all_ticks += total - total_before
        share = ticks / tally.ticks_per_second / ((now - last) * tally.cores)
        tally.peak = max(tally.peak, share)
        previous, last = current, now
        steal_before, total_before = steal, total


class CpuWatch:
    """Other processes' CPU use, as a share of all cores, since the last `interference`.

    The sampling runs in a process of its own: reading every /proc/PID/stat takes a few
    milliseconds each second, and in a thread of the benchmark it would hold the GIL that
    long, delaying whatever the benchmark was timing (a proof takes a fraction of that).
    """

    def __init__(self) -> None:
        self.cores = os.cpu_count() or 1
        self._conn: Connection | None = None
        self._process: BaseProcess | None = None

    @property
    def available(self) -> bool:
        return Path("/proc/self/stat").exists()

    def start(self) -> None:
        if not self.available or self._process is not None:
            return
        # spawn: the benchmark may already hold database threads a fork must not copy.
        context = multiprocessing.get_context("spawn")
        self._conn, theirs = context.Pipe()
        self._process = context.Process(
            target=_watch, args=(theirs, os.getpid()), name="cpu-watch", daemon=True
        )
        self._process.start()
        theirs.close()

    def stop(self) -> None:
        if self._conn is not None and self._process is not None:
            self._conn.send("stop")
            self._process.join()
            self._conn.close()
        self._conn = self._process = None

    def interference(self) -> tuple[float, float, float] | None:
        """Since the last call: the (mean, peak) share of all cores that other processes
        used, and the share of all CPU time the hypervisor stole."""
        if self._conn is None:
            return None
        self._conn.send("report")
        result: tuple[float, float, float] = self._conn.recv()
        return result


WATCH = CpuWatch()
SECTIONS: list[str] = []  # one line per benchmark section, repeated under the summary


def report_interference(section: str) -> None:
    """Print what other processes took while `section` ran, flagged when it distorts it."""
    measured = WATCH.interference()
    if measured is None:
        line = f"{section}: other processes' CPU use not measured (no /proc)"
    else:
        mean, peak, stolen = measured
        line = (
            f"{section}: other processes used {mean:.0%} of the {WATCH.cores} cores "
            f"(peak {peak:.0%} over {SAMPLE_SECONDS:.0f} s); hypervisor steal {stolen:.0%}"
        )
        if mean > DISTURBED or stolen > DISTURBED:
            line += " DISTURBED: these figures understate the ledger; run again when quiet"
    SECTIONS.append(line)
    print(f"  ({line})", flush=True)
