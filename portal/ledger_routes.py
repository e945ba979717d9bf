"""The ledger's public HTTP face: the latest checkpoint, the verifier keys, the seal, proofs.

These are public on purpose: anyone holding a case file must be able to fetch a newer
checkpoint and a consistency proof to check that the log was not rewritten since, and the
seal certificates and trust file (`portal verify --trust`) that pin who issued it.
"""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

from litestar import Controller, MediaType, Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.params import Parameter

from ledger.keys import published_verifiers, trusted_verifiers
from ledger.proofs import consistency_proof, inclusion_proof, latest_checkpoint
from portal.casefile.export import seal_of
from portal.casefile.seal import SealMissing, published_pem
from portal.casefile.trust import trust_document


async def seal_certificates(request: Request[Any, Any, Any]) -> list[Any]:
    """This portal's seal certificates, the current first (made on first use in development)."""
    try:
        seal = await asyncio.to_thread(seal_of, request.app.state.settings)
    except SealMissing:
        return []
    return await asyncio.to_thread(seal.certificates)


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

    @get("/seal.pem", media_type="application/x-pem-file", cache=False)
    async def seal(self, request: Request[Any, Any, Any]) -> str:
        """Every certificate that seals this portal's case files, the current first,
        each with its SHA-256 fingerprint and validity in a comment line."""
        certificates = await seal_certificates(request)
        if not certificates:
            raise NotFoundException("This portal has no seal certificate yet.")
        return published_pem(certificates)

    @get("/trust.json", cache=False)
    async def trust(self, request: Request[Any, Any, Any]) -> Response[bytes]:
        """The trust file for `portal verify --trust`: the verifier keys this portal trusts
        (from its keyring, not from the database) and its seal certificates."""
        keyring = request.app.state.keyring
        certificates = await seal_certificates(request)
        if not certificates:
            raise NotFoundException("This portal has no seal certificate yet.")
        verifiers = await asyncio.to_thread(trusted_verifiers, keyring)
        document = trust_document(keyring.origin, verifiers, certificates)
        return Response(
            json.dumps(document, indent=1).encode("utf-8"),
            media_type=MediaType.JSON,
            headers={"Content-Disposition": 'attachment; filename="trust.json"'},
        )

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
