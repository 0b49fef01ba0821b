"""What every browser journey checks: the network is cut off but for the test server,
and the pages log no console error (a CSP violation or a script error shows there)."""

import pytest
from playwright.sync_api import Page


@pytest.fixture
def offline(page: Page, live_server) -> list[str]:
    """Cut the browser off from everything but the test server; record what it tried."""
    outside: list[str] = []

    def only_local(route):
        if route.request.url.startswith(live_server.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_local)
    return outside


@pytest.fixture
def problems(page: Page) -> list[str]:
    found: list[str] = []
    page.on("console", lambda m: found.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: found.append(str(e)))
    return found
