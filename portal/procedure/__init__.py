"""The rules of the procedure, as data: the kernel every area builds on.

What a case, a mediation or an arbitration may do next, who may do it, what each
state means and who owes the next step are declared here once, in tables of the same
types (`portal.procedure.table`); the areas' services and the screens ask these tables
instead of keeping their own copies. The kernel imports only `ledger/`, Piccolo, the
standard library and the plain modules at the bottom (settings, database, i18n,
errors); nothing here knows of the web.
"""
