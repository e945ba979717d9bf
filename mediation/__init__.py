"""Mediation with outside mediators: roster, appointment, caucus, offers, settlements."""
