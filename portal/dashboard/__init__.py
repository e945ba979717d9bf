"""The staff dashboard: the portal's figures as server-drawn charts, and as CSV.

`filters` reads and checks the query string, `figures` asks the database for each
chart's numbers (aggregate queries only: the work grows with the number of groups, not
of cases), `charts` draws them as inline SVG, `export` writes them as CSV, and
`controllers` serves `/staff/dashboard` to whom `portal.procedure.policy.may_see_dashboard` allows.
"""
