"""`make bench`: run every benchmark, each in a child process, and write docs/BENCHMARKS.md.

    .venv/bin/python -m tests.bench.report                   # everything (about an hour on 2 cores)
    .venv/bin/python -m tests.bench.report --quick           # each benchmark's --quick
    .venv/bin/python -m tests.bench.report --only scale      # a subset; repeatable
    make bench BENCH="scale casefile" QUICK=1                # the same through make

Each benchmark prints its own figures, each beside the baseline it measured in the same
run, and the other processes' CPU use while it ran; this writer captures that output
as printed (echoing it meanwhile) and writes it into one file with the machine, the
date and the commit. A benchmark that fails, or cannot start, becomes a section saying
so with its error; the others still run. A benchmark module that does not exist on this
branch is listed as not run. With --only, the sections of benchmarks not run now are
kept from the file as it was, each under the date and commit of its own run.

What each benchmark measures is its module's docstring, so that the explanation lives
beside the code it explains; earlier runs' hand-written records are in
tests/bench/earlier_runs.md, copied unchanged to the end.
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import importlib.util
import os
import platform
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "docs" / "BENCHMARKS.md"
EARLIER_RUNS = Path(__file__).with_name("earlier_runs.md")
BEGIN = "<!-- bench:{} -->"
END = "<!-- /bench:{} -->"
INTERFERENCE = re.compile(r"other processes used|other processes' CPU use not measured")


@dataclass(frozen=True)
class Benchmark:
    name: str
    module: str
    title: str
    baseline: str  # what its figures are measured against, in the same run
    explained_by: tuple[str, ...] = ()  # modules whose docstrings say what it measures
    options: tuple[str, ...] = ()


BENCHMARKS = (
    Benchmark(
        "ledger",
        "tests.bench.run_all",
        "The signed ledger: appends, integration, verify, proofs, staff queues",
        "the raw rates of this machine's Ed25519 sign and verify and SHA-256, measured first in "
        "the same run; each ledger figure is printed with its ratio to one of them",
        (
            "tests.bench.run_all",
            "tests.bench.raw_rates",
            "tests.bench.appends",
            "tests.bench.verify_throughput",
            "tests.bench.proofs_at_scale",
            "tests.bench.queues",
        ),
    ),
    Benchmark(
        "casefile",
        "tests.bench.casefile",
        "Case file export",
        "WeasyPrint alone (`write_pdf` on the same HTML and attachment, in the benchmark's own "
        "process), measured in the same run; the ratio is the export's overhead",
    ),
    Benchmark(
        "dashboard",
        "tests.bench.dashboard",
        "Staff dashboard at 100,000 cases",
        "none of its own; the bare Litestar page of the scale and load sections, measured "
        "the same way in the same `make bench`, is the web baseline",
    ),
    Benchmark(
        "scale",
        "tests.bench.scale",
        "Scale: 100,000 cases and 1,000,000 ledger entries",
        "a bare Litestar page timed the same way, in the same process, for the HTTP figures; "
        "the raw Ed25519 verify rate measured at its start for `portal ledger verify`",
        ("tests.bench.scale", "tests.bench.seeded_cases", "tests.bench.seeded_ledger"),
    ),
    Benchmark(
        "load",
        "tests.bench.load",
        "Load: the portal under concurrent users",
        "a bare Litestar page served the same way, measured in the same run",
    ),
)
NAMES = [b.name for b in BENCHMARKS]


@dataclass
class Outcome:
    benchmark: Benchmark
    status: str  # "ok", "failed", "missing"
    output: str = ""
    seconds: float = 0.0
    error: str = ""
    carried: str = field(default="")  # a section kept from the previous file


def module_exists(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def docstring(module: str) -> str:
    """The module's docstring, read without importing it (some import the whole app)."""
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        return ""
    return ast.get_docstring(ast.parse(Path(spec.origin).read_text())) or ""


def run_benchmark(benchmark: Benchmark, quick: bool) -> Outcome:
    """Run it in a child process, echoing its output as it comes and keeping it."""
    if not module_exists(benchmark.module):
        return Outcome(
            benchmark, "missing", error=f"{benchmark.module} does not exist on this branch yet"
        )
    command = [sys.executable, "-m", benchmark.module, *benchmark.options]
    if quick:
        command.append("--quick")
    print(f"\n#### {' '.join(command[1:])}", flush=True)
    began = time.perf_counter()
    lines: list[str] = []
    try:
        with subprocess.Popen(
            command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        ) as child:  # fmt: skip
            assert child.stdout is not None
            for line in child.stdout:
                print(line, end="", flush=True)
                lines.append(line)
            code = child.wait()
    except OSError as exc:
        return Outcome(benchmark, "failed", error=f"could not start: {exc}")
    seconds = time.perf_counter() - began
    output = "".join(lines)
    if code != 0:
        tail = "".join(lines[-40:])
        return Outcome(
            benchmark, "failed", output, seconds, f"exited {code}; its last lines:\n{tail}"
        )
    return Outcome(benchmark, "ok", output, seconds)


def git(*args: str) -> str:
    result = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
    return result.stdout.strip() if result.returncode == 0 else "unknown"


def memory() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def machine() -> list[tuple[str, str]]:
    from tests.bench.databases import postgres_unreachable, server_version
    from tests.bench.machine import cpu_model

    async def versions() -> tuple[str, str]:
        unreachable = await postgres_unreachable()
        postgres = (
            f"unreachable ({unreachable})" if unreachable else await server_version("postgres")
        )
        return await server_version("sqlite"), postgres

    sqlite, postgres = asyncio.run(versions())
    return [
        ("cores (`os.cpu_count()`)", str(os.cpu_count())),
        ("CPU (`/proc/cpuinfo`)", cpu_model()),
        ("memory", memory()),
        ("Python", platform.python_version()),
        ("SQLite", sqlite),
        ("PostgreSQL", postgres),
        ("system", platform.platform()),
    ]


HOW_TO_RUN = """\
## How to run

    make bench                                 # every benchmark, then this file
    make bench QUICK=1                         # each benchmark's --quick (smaller loads)
    make bench BENCH="scale casefile"          # a subset; the other sections are kept
    .venv/bin/python -m tests.bench.report --only ledger --quick
    .venv/bin/python -m tests.bench.scale --quick             # one benchmark, no file written

Benchmarks: {names}.

PostgreSQL is reached as `postgres` at `127.0.0.1:5432`; set `PORTAL_BENCH_PG_ADMIN` to use
another admin URL. If no server answers, the PostgreSQL figures are printed as SKIPPED with
the reason, and the SQLite figures are still measured. Each benchmark creates its own fresh
databases (a SQLite file in a temporary directory, a PostgreSQL database
`portal_bench_<random>`), migrated by the real `python -m portal migrate` in a child
process and removed at the end. A missed target does not fail `make bench`: benchmarks
report figures, and tests judge behaviour.

Run it on a quiet machine. Every section prints how much CPU other processes used (from
`/proc`), and how much the hypervisor took, while it ran; where either exceeds 5% the
section is marked DISTURBED, because on two cores a concurrent `make test` halves every
figure. Even on a quiet machine this VM's speed drifts by about ±20% between runs, which
is why every figure is printed beside a baseline measured in the same run: compare the
ratios, not the seconds, across machines and runs.

## Targets

Each figure with a target is printed with PASS or MISS against it:

- appends: SQLite, one writer, at least 2,000/s; PostgreSQL, 32 writers, at least 1,500/s;
- integration lag (an entry's time to its first signed checkpoint), p99 at most 2 s;
- `verify_log` and `portal ledger verify`: at least 0.70 x the raw Ed25519 verify rate of
  one core, since checking the signature is the one step that cannot be made cheaper;
- inclusion and consistency proofs from a 1,000,000-leaf tree: under 1 ms.

Web pages have no target; they are given as a multiple of a bare Litestar page served
the same way on the same machine in the same run.
"""


def section(outcome: Outcome, when: str, commit: str, quick: bool) -> str:
    b = outcome.benchmark
    if outcome.carried:
        return outcome.carried
    parts = [BEGIN.format(b.name), f"## {b.title}", ""]
    parts.append(f"`python -m {b.module}`. Baseline: {b.baseline}.")
    parts.append("")
    if outcome.status == "missing":
        parts += [f"**Not run:** {outcome.error}.", ""]
        parts.append(END.format(b.name))
        return "\n".join(parts)
    for module in b.explained_by or (b.module,):
        text = docstring(module)
        if text:
            parts += [f"What `{module}` measures, in its own words:", "", quote(text), ""]
    if outcome.status == "failed":
        parts += [f"**FAILED** ({when} UTC, commit `{commit}`): {outcome.error.splitlines()[0]}"]
        if not outcome.output:
            parts += ["", "```text", outcome.error, "```"]
        parts.append("")
    lines = [line.strip() for line in outcome.output.splitlines() if INTERFERENCE.search(line)]
    if lines:
        parts += ["Other processes' CPU use while it ran:", ""]
        parts += [f"- {line.strip('()')}" for line in dict.fromkeys(lines)]
        parts.append("")
    for table in tables(outcome.output):
        parts += ["Its summary, as it printed it:", "", table, ""]
    if outcome.output:
        smaller = ", with --quick (smaller loads)" if quick else ""
        what = "Figures as printed" if outcome.status == "ok" else "Its output, until it failed"
        parts += [f"{what}, {when} UTC, commit `{commit}`, {outcome.seconds:.0f} s{smaller}:",
                  "", "```text", outcome.output.rstrip(), "```", ""]  # fmt: skip
    parts.append(END.format(b.name))
    return "\n".join(parts)


def tables(output: str) -> list[str]:
    """The Markdown tables a benchmark printed (`figures.summary_table`), to show as tables."""
    found, rows = [], []
    for line in [*output.splitlines(), ""]:
        if line.startswith("|") and line.rstrip().endswith("|"):
            rows.append(line.rstrip())
            continue
        if len(rows) > 2 and rows[1].startswith("| ---"):
            found.append("\n".join(rows))
        rows = []
    return found


def quote(text: str) -> str:
    return "\n".join(f"> {line}".rstrip() for line in text.splitlines())


def previous_sections(path: Path) -> dict[str, str]:
    """The sections of the file as it is, by benchmark name."""
    if not path.exists():
        return {}
    text = path.read_text()
    found = {}
    for name in NAMES:
        match = re.search(
            re.escape(BEGIN.format(name)) + ".*?" + re.escape(END.format(name)), text, re.S
        )
        if match:
            found[name] = match.group(0)
    return found


def measured_commit(output: Path) -> str:
    """The commit the benchmarks run, taken when they start: committing meanwhile does
    not change what they measure. The file this writes is not a change to the code."""
    commit = git("rev-parse", "--short", "HEAD")
    changed = git("status", "--porcelain", "--untracked-files=no").splitlines()
    path = output.resolve()
    written = str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else ""
    if [line for line in changed if line.split(maxsplit=1)[-1] != written]:
        commit += " with uncommitted changes"
    return commit


def write(outcomes: list[Outcome], path: Path, quick: bool, ran: str, when: str,
          commit: str) -> None:  # fmt: skip
    rows = "\n".join(f"| {k} | {v} |" for k, v in machine())
    summary = "\n".join(
        f"- {o.benchmark.name}: "
        + (
            "kept from an earlier run"
            if o.carried
            else {
                "ok": f"ran, {o.seconds:.0f} s",
                "failed": "FAILED",
                "missing": f"not run: {o.error}",
            }[o.status]
        )
        for o in outcomes
    )
    text = "\n".join(
        [
            "# Benchmarks",
            "",
            "Written by `make bench` (`tests/bench/report.py`); do not edit by hand. What a",
            "benchmark measures is its module's docstring; earlier runs' records are kept in",
            "`tests/bench/earlier_runs.md`, copied at the end.",
            "",
            f"Latest run: **{when} UTC**, commit `{commit}`, `{ran}`"
            + (" (--quick: smaller loads)" if quick else "")
            + ".",
            "",
            summary,
            "",
            "| machine | |",
            "| --- | --- |",
            rows,
            "",
            HOW_TO_RUN.format(names=", ".join(f"`{n}`" for n in NAMES)),
            *(section(o, when, commit, quick) + "\n" for o in outcomes),
            "# Earlier runs",
            "",
            EARLIER_RUNS.read_text().rstrip(),
            "",
        ]
    )
    path.write_text(text)


def main(quick: bool, only: list[str], output: Path) -> int:
    kept = previous_sections(output) if only else {}
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M")
    commit = measured_commit(output)
    outcomes = []
    for benchmark in BENCHMARKS:
        if only and benchmark.name not in only:
            if benchmark.name in kept:
                outcomes.append(Outcome(benchmark, "ok", carried=kept[benchmark.name]))
            else:
                outcomes.append(
                    Outcome(benchmark, "missing", error="not run yet (`make bench` with --only)")
                )
            continue
        outcome = run_benchmark(benchmark, quick)
        if outcome.status == "missing":
            print(f"\n#### {benchmark.name}: skipped, {outcome.error}", flush=True)
        outcomes.append(outcome)
    ran = "make bench" + (f' BENCH="{" ".join(only)}"' if only else "")
    write(outcomes, output, quick, ran, when, commit)
    failed = [o.benchmark.name for o in outcomes if o.status == "failed" and not o.carried]
    print(f"\nWrote {output}" + (f"; FAILED: {', '.join(failed)}" if failed else ""))
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="each benchmark's --quick")
    parser.add_argument("--only", action="append", choices=NAMES, default=[],
                        help="run only these benchmarks; repeatable")  # fmt: skip
    parser.add_argument("--output", type=Path, default=OUTPUT, help="where to write")
    args = parser.parse_args()
    sys.exit(main(args.quick, args.only, args.output))
