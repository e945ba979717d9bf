"""Benchmarks of the signed ledger: scripts that print figures and ratios (`make bench`).

They are not tests: nothing here is collected by pytest, and no file starts with `test_`.
Each benchmark makes its own fresh SQLite file and PostgreSQL database and drops them after.
"""
