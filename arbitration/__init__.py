"""Arbitration: rules, roster, appointment by list, challenges, timetable, awards."""
