"""Case file export: how long a case of 50, 200 and 2,000 entries takes, how much of that
is WeasyPrint's own layout, and how a light page answers while an export runs.

    .venv/bin/python -m tests.bench.casefile            # 50, 200 and 2,000 entries
    .venv/bin/python -m tests.bench.casefile --quick    # 50 and 200

Each size is one demo case (alice's liquidation, SQLite in a temporary directory) grown
with statements to that many ledger entries. "export" is `portal.casefile.export.export`
end to end (ledger entry, integration, bundle, HTML, the render child, the seal);
"WeasyPrint" is `write_pdf` on the same HTML with the same attachment, in this process;
the ratio is our overhead. "/healthz while exporting" is the latency of GET /healthz
through the real app, sent every 50 ms for as long as an export of the same case runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from tests.support import ORIGIN, portal_env, run_portal

SIZES = (50, 200, 2000)
QUICK_SIZES = (50, 200)
REF = "DR-2026-000001"


async def grow(keyring, entries: int) -> int:
    from ledger.integrator import integrate
    from ledger.tables import LedgerEntry
    from portal.accounts.tables import User
    from portal.cases.access import case_access
    from portal.cases.statements import post_statement
    from portal.web.viewer import Viewer

    alice = await User.select().where(User.email == "alice@demo.example").first()
    viewer = Viewer(alice["id"], alice["email"], alice["name"], "party", "en", False, True)
    _case, access = await case_access(viewer, REF)
    have = await LedgerEntry.count().where(LedgerEntry.case_ref == REF)
    for n in range(have, entries - 1):  # the export adds the last one
        text = f"Statement {n}: the order book at 14:02 shows the spike lasted two seconds."
        await post_statement(keyring, REF, access, "all", None, text)
    await integrate(keyring, wait=True)
    return entries


async def measure(entries: int) -> dict[str, float]:
    from ledger.entry import Actor
    from ledger.keys import Keyring
    from portal.app import create_app
    from portal.casefile import export as casefile
    from portal.database import bind_tables, connected, create_engine
    from portal.pdf import worker
    from portal.pdf.render import pdf_templates
    from portal.settings import Settings
    from portal.tables import ALL_TABLES

    tmp = Path(tempfile.mkdtemp(prefix="bench-casefile-"))
    url = f"sqlite:///{tmp / 'portal.sqlite3'}"
    env = portal_env(url, tmp)
    run_portal("migrate", env=env)
    run_portal("demo", "--json", env=env)
    settings = Settings(
        data_dir=tmp / "data",
        database_url=url,
        log_origin=ORIGIN,
        signing_key_file=tmp / "ledger.key",
        seal_cert_file=tmp / "casefile-seal.pem",
        seal_key_file=tmp / "casefile-seal.key",
        secret_key="bench-secret-0123456789-0123456789-0123456789",
    )
    keyring = Keyring.open(settings.signing_key_file, ORIGIN, create=False)
    engine = create_engine(url)
    bind_tables(engine, ALL_TABLES)
    figures: dict[str, float] = {}
    async with connected(engine, pool_size=4):
        await grow(keyring, entries)
        started = time.perf_counter()
        await casefile.export(settings, keyring, REF, "staff", Actor("system", "system"))
        figures["export"] = time.perf_counter() - started

        # The same HTML and attachment, laid out by WeasyPrint in this process.
        case = await casefile.Case.select().where(casefile.Case.ref == REF).first()
        access = await casefile.audience_access(case, "staff")
        bundle = await casefile.case_bundle(REF, ORIGIN)
        evidence = await casefile._evidence(settings, access)
        seal = casefile.seal_of(settings)
        context = await casefile._context(case, "staff", access, bundle, evidence, seal)
        from portal import i18n

        with i18n.language(case["language"]):
            html = pdf_templates().get_template("pdf/casefile.html").render(**context)
        proof = tmp / casefile.BUNDLE_NAME
        proof.write_text(json.dumps(bundle))
        started = time.perf_counter()
        pdf = worker.write_pdf(html, [proof])
        figures["weasyprint"] = time.perf_counter() - started
        figures["pages"] = pdf.count(b"/Type /Page\n") or pdf.count(b"/Type /Page")

    # A light page while an export of the same case runs, through the real app.
    app = create_app(settings)
    async with app.lifespan():
        logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per request otherwise
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            exporting = asyncio.create_task(
                casefile.export(settings, keyring, REF, "staff", Actor("user:0", "bench"))
            )
            latencies = []
            while not exporting.done():
                started = time.perf_counter()
                response = await client.get("/healthz")
                latencies.append(time.perf_counter() - started)
                assert response.status_code == 200
                await asyncio.sleep(0.05)
            await exporting
    figures["healthz_median_ms"] = statistics.median(latencies) * 1000
    figures["healthz_max_ms"] = max(latencies) * 1000
    figures["healthz_samples"] = len(latencies)
    return figures


async def main(quick: bool) -> None:
    print(f"Case file export, SQLite, {os.cpu_count()} cores")
    print(
        f"{'entries':>8} {'export s':>9} {'WeasyPrint s':>13} {'ratio':>6} "
        f"{'/healthz median ms':>19} {'max ms':>7} {'samples':>8}"
    )
    from portal.pdf.render import RenderFailed

    for entries in QUICK_SIZES if quick else SIZES:
        try:
            f = await measure(entries)
        except RenderFailed as failure:
            # A figure, not a crash: the rest of `make bench` still runs and reports.
            print(f"{entries:>8} FAILED: {failure}", flush=True)
            continue
        print(
            f"{entries:>8} {f['export']:>9.2f} {f['weasyprint']:>13.2f} "
            f"{f['export'] / f['weasyprint']:>6.2f} {f['healthz_median_ms']:>19.1f} "
            f"{f['healthz_max_ms']:>7.1f} {int(f['healthz_samples']):>8}",
            flush=True,
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    asyncio.run(main(parser.parse_args().quick))
