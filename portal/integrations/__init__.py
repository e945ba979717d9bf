"""The platform's API (`/api/v1`): keys for its back end, cases filed and records attached
by it, status read by it, and signed webhooks that tell it of every move of a case.

The integration acts through an account of its own (role `integration`, never able to
log in), so that the ledger, the case room and the evidence list name it like anyone
else; each entry it causes also names the API key that caused it.
"""
