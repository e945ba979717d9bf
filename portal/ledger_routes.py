"""The ledger's public HTTP face: the latest checkpoint, the verifier keys, proofs.

These are public on purpose: anyone holding a case file must be able to fetch a newer
checkpoint and a consistency proof to check that the log was not rewritten since.
"""

from __future__ import annotations

import base64

from litestar import Controller, MediaType, Response, get
from litestar.exceptions import NotFoundException
from litestar.params import Parameter

from ledger.keys import published_verifiers
from ledger.proofs import consistency_proof, inclusion_proof, latest_checkpoint


def _b64(hashes: list[bytes]) -> list[str]:
    return [base64.b64encode(h).decode() for h in hashes]


class LedgerController(Controller):
    path = "/ledger"
    tags = ("ledger",)

    @get("/checkpoint", media_type=MediaType.TEXT, cache=False)
    async def checkpoint(self) -> str:
        """The latest signed checkpoint, as a C2SP signed note."""
        latest = await latest_checkpoint()
        if latest is None:
            raise NotFoundException("The log has no signed checkpoint yet.")
        return latest.note

    @get("/keys", media_type=MediaType.TEXT)
    async def keys(self) -> str:
        """Every verifier key that has signed for this log, one per line, newest first."""
        return "".join(f"{key}\n" for key in await published_verifiers())

    @get("/proof/consistency")
    async def consistency(
        self,
        old: int = Parameter(ge=1, description="the smaller tree size"),
        new: int = Parameter(ge=1, description="the larger tree size, at most the latest signed"),
    ) -> Response[dict[str, object]]:
        """RFC 9162 2.1.4.1 proof that the tree of size `new` extends that of size `old`."""
        proof = await consistency_proof(old, new)
        return Response({"old": old, "new": new, "proof": _b64(proof)})

    @get("/proof/inclusion")
    async def inclusion(
        self,
        index: int = Parameter(ge=0, description="the leaf's index"),
        size: int = Parameter(ge=1, description="the tree size, at most the latest signed"),
    ) -> Response[dict[str, object]]:
        """RFC 9162 2.1.3.1 audit path for one leaf, leaf side first."""
        proof = await inclusion_proof(index, size)
        return Response({"index": index, "size": size, "proof": _b64(proof)})
