"""Case files are tested through the real app and the `portal` command: the portal tests'
fixtures, shared."""

from tests.portal.conftest import app, browser, people, settings  # noqa: F401 (fixtures)
