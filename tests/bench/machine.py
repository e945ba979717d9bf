"""The machine a run measures: what it is, and how much of it other work took meanwhile.

Two cores shared with a test run measure the test run. `WATCH` samples /proc once a
second in a thread and counts the CPU time of every process that is neither this
benchmark, a child of it, nor a PostgreSQL server process (whose work is the benchmark's
own load, though another client's queries would hide there too), and the time the
hypervisor took from this virtual machine ("steal"). Each benchmark prints both beside its
figures, so a disturbed figure says so.
"""

from __future__ import annotations

import os
import platform
import threading
import time
from dataclasses import dataclass, field
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
class CpuWatch:
    """Other processes' CPU use, as a share of all cores, since the last `interference`."""

    ticks_per_second: int = field(default_factory=lambda: os.sysconf("SC_CLK_TCK"))
    cores: int = field(default_factory=lambda: os.cpu_count() or 1)
    _other_ticks: float = 0.0
    _steal_ticks: int = 0
    _all_ticks: int = 0
    _peak: float = 0.0
    _since: float = 0.0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def available(self) -> bool:
        return Path("/proc/self/stat").exists()

    def start(self) -> None:
        if not self.available or self._thread is not None:
            return
        self._since = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="cpu-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        me = os.getpid()
        previous = _processes()
        last = time.monotonic()
        steal_before, total_before = _steal_and_total()
        while not self._stop.wait(SAMPLE_SECONDS):
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
            with self._lock:
                self._other_ticks += ticks
                self._steal_ticks += steal - steal_before
                self._all_ticks += total - total_before
                share = ticks / self.ticks_per_second / ((now - last) * self.cores)
                self._peak = max(self._peak, share)
            previous, last = current, now
            steal_before, total_before = steal, total

    def interference(self) -> tuple[float, float, float] | None:
        """Since the last call: the (mean, peak) share of all cores that other processes
        used, and the share of all CPU time the hypervisor stole."""
        if self._thread is None:
            return None
        now = time.monotonic()
        with self._lock:
            seconds = now - self._since
            mean = self._other_ticks / self.ticks_per_second / (seconds * self.cores)
            peak = self._peak
            stolen = self._steal_ticks / self._all_ticks if self._all_ticks else 0.0
            self._other_ticks, self._peak, self._since = 0.0, 0.0, now
            self._steal_ticks = self._all_ticks = 0
        return mean, peak, stolen


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
