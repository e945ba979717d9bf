"""Security is tested through the real app: the portal tests' fixtures, shared; and, for
what only a browser shows, the browser tests' demo portal and Chromium."""

from tests.browser.conftest import (  # noqa: F401 (fixtures)
    browser_installed,
    browser_problems,
    chromium,
    new_page,
    page,
    site,
)
from tests.portal.conftest import app, browser, people, settings  # noqa: F401 (fixtures)
