"""Security is tested through the real app: the portal tests' fixtures, shared."""

from tests.portal.conftest import app, browser, people, settings  # noqa: F401 (fixtures)
