"""The ledger's own exceptions, so that callers can tell a broken record from a bug."""


class LedgerError(Exception):
    """Base of every ledger error."""


class EntryError(LedgerError):
    """An entry's bytes or fields break the ledger format."""


class ProofError(LedgerError):
    """An inclusion or consistency proof does not verify or is malformed."""


class NoteError(LedgerError):
    """A signed note or verifier key is malformed, or its signatures fail."""
