"""Arbitration: rules, roster, appointment by list, challenges, timetable, awards.

Plain services over Piccolo tables (`arbitration.tables`); the web shell in `portal/`
calls them and never the other way round.
"""
