"""Another worker: the portal's background integrator alone, in its own process.

`python -m tests.bench.integrator_worker` reads the same PORTAL_* settings as `portal
serve` and runs the same `run_integrator` loop a worker runs from its lifespan, until
SIGTERM. It prints `ready` once connected, so the benchmark starts its load after.
"""

from __future__ import annotations

import asyncio
import signal

import uvloop

from ledger.integrator import run_integrator
from ledger.keys import Keyring, publish_keys
from portal.database import bind_tables, connected, create_engine
from portal.settings import Settings
from portal.tables import ALL_TABLES


async def serve_integration() -> None:
    settings = Settings.from_env()
    engine = create_engine(settings.database_url)
    bind_tables(engine, ALL_TABLES)
    keyring = Keyring.open(settings.signing_key_file, settings.log_origin, create=False)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with connected(engine):
        await publish_keys(keyring)
        print("ready", flush=True)
        await run_integrator(keyring, settings.integrate_interval, stop)


if __name__ == "__main__":
    # The event loop `portal serve` runs (uvicorn picks uvloop when it is installed).
    uvloop.run(serve_integration())
