"""The integrator: gives committed entries their place in the global log and signs it.

Each batch, in one transaction, assigns the next leaf indexes in commit order, stores
the tree nodes that become complete and a checkpoint signed over the new root. Every
worker process runs it in the background; a database lock lets one at a time work
(an advisory lock on PostgreSQL, the write lock on SQLite), and because everything a
batch does commits together, a killed integrator leaves nothing for the next one to
repair: it starts again from the last checkpoint.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial

from ledger.checkpoint import Checkpoint, sign_checkpoint
from ledger.errors import LedgerError
from ledger.keys import Keyring, checkpoint_signers
from ledger.merkle import append_leaves, range_hash
from ledger.note import NoteSigner
from ledger.proofs import latest_checkpoint
from ledger.storage import Batch, LogState
from ledger.store import store_for

log = logging.getLogger(__name__)

BATCH_LIMIT = 5000


def plan_batch(state: LogState, origin: str, signers: list[NoteSigner]) -> Batch:
    """The batch that integrates `state.pending` after the last checkpoint."""
    if state.size and range_hash(0, state.size, state.frontier) != state.root:
        # Never sign a root that is not an extension of the last signed one.
        raise LedgerError(
            f"The stored tree nodes no longer give the root of the checkpoint of size "
            f"{state.size}; refusing to sign. Run `portal ledger verify`."
        )
    leaf_hashes = [leaf for _, leaf in state.pending]
    new_nodes = append_leaves(state.size, state.frontier, leaf_hashes)
    size = state.size + len(leaf_hashes)
    root = range_hash(0, size, {**state.frontier, **new_nodes})
    return Batch(
        first_index=state.size,
        entry_ids=[entry_id for entry_id, _ in state.pending],
        nodes=new_nodes,
        size=size,
        root=root,
        note=sign_checkpoint(Checkpoint(origin, size, root), signers),
        created_at=datetime.now(UTC),
    )


@dataclass(frozen=True)
class Integrated:
    batches: int
    entries: int
    size: int


async def integrate(keyring: Keyring, limit: int = BATCH_LIMIT, wait: bool = False) -> Integrated:
    """Integrate everything pending now, batch by batch; each batch is one checkpoint.

    With `wait`, wait for another worker's batch to finish instead of leaving the work
    to it, so that everything committed before the call is integrated when it returns.
    """
    store = store_for()
    batches = entries = 0
    while True:
        signers = await checkpoint_signers(keyring)
        plan = partial(plan_batch, origin=keyring.origin, signers=signers)
        batch = await store.integrate(limit, plan, wait=wait)
        if batch is not None:
            batches += 1
            entries += len(batch.entry_ids)
        if batch is None or len(batch.entry_ids) < limit:
            latest = await latest_checkpoint()
            return Integrated(batches, entries, latest.size if latest else 0)


async def run_integrator(keyring: Keyring, interval: float, stop: asyncio.Event) -> None:
    """Integrate every `interval` seconds until `stop` is set; errors are logged, not fatal."""
    while not stop.is_set():
        try:
            await integrate(keyring)
        except Exception:
            log.exception("Integration failed; trying again in %.1f s", interval)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
