"""Signed case files: one PDF/A-3 per case and audience, with the ledger's proof bundle
attached and the platform's PAdES seal on it, and the offline verifier that checks one.

`export` writes to the ledger and the database; `verify` needs neither. The file's layout
and what the verifier checks: docs/LEDGER-FORMAT.md#case-file.
"""
