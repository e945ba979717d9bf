"""Raw rates on this machine, one core: the yardsticks every other figure is a ratio of.

Ed25519 sign and verify (the `cryptography` package, as the ledger uses it) and SHA-256
leaf hashes, all over a realistic entry of about 400 bytes. Also, with no target, the two
pure-Python steps around them: encoding an entry as JCS (every append does it) and
decoding it strictly (every verified entry does it), which show where time goes.
"""

from __future__ import annotations

import hashlib
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ledger.entry import decode_entry, encode_entry
from ledger.keys import Keyring
from tests.bench.databases import ORIGIN
from tests.bench.figures import Figure, heading, show
from tests.bench.machine import report_interference
from tests.bench.workload import sample_entry, signed_sample


@dataclass(frozen=True)
class RawRates:
    sign: float
    verify: float
    sha256: float
    entry_bytes: int


def per_second(operation: Callable[[], object], seconds: float, rounds: int = 3) -> float:
    """How many times a second `operation` runs: the best of `rounds` rounds of `seconds`.

    The best round, because this virtual machine's speed drifts by a fifth from minute to
    minute; it is also the harder yardstick for ratios such as verify's 70%.
    """
    for _ in range(50):  # warm up
        operation()
    best, chunk = 0.0, 200
    for _ in range(rounds):
        done = 0
        start = time.perf_counter()
        deadline = start + seconds
        while True:
            for _ in range(chunk):
                operation()
            done += chunk
            now = time.perf_counter()
            if now >= deadline:
                best = max(best, done / (now - start))
                break
    return best


def measure(quick: bool) -> tuple[RawRates, list[Figure]]:
    heading("Raw rates (one core, ~400-byte entry, best of 3 rounds)")
    seconds = 0.25 if quick else 0.5
    with tempfile.TemporaryDirectory(prefix="portal-bench-raw-") as tmp:
        keyring = Keyring.open(Path(tmp) / "ledger.key", ORIGIN, create=True)
        data, signature = signed_sample(keyring)
        private = keyring.current.private_key
        public = Ed25519PublicKey.from_public_bytes(keyring.current.public_key)
        entry = decode_entry(data)

        sign = per_second(lambda: private.sign(data), seconds)
        verify = per_second(lambda: public.verify(signature, data), seconds)
        sha = per_second(lambda: hashlib.sha256(b"\x00" + data).digest(), seconds)
        encode = per_second(lambda: encode_entry(entry), seconds)
        decode = per_second(lambda: decode_entry(data), seconds)
        sizes = [len(sample_entry(keyring, i)) for i in range(30)]

    entry_bytes = round(sum(sizes) / len(sizes))
    note = f"{entry_bytes}-byte entries"
    figures = [
        show(Figure("Ed25519 sign/s", "-", sign, "/s", note=note)),
        show(Figure("Ed25519 verify/s", "-", verify, "/s", note=note)),
        show(Figure("SHA-256 leaf hashes/s", "-", sha, "/s", note=note)),
        show(Figure("encode_entry/s (checks + JCS)", "-", encode, "/s", note="pure Python")),
        show(Figure("decode_entry/s (parse + re-encode)", "-", decode, "/s", note="pure Python")),
    ]
    report_interference("raw rates")
    return RawRates(sign, verify, sha, entry_bytes), figures
