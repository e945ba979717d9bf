"""The web shell of the dispute portal: app factory, settings, database, CLI."""
