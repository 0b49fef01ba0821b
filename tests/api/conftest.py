"""API tests run without the per-token throttle (it has its own test)."""

import pytest


@pytest.fixture(autouse=True)
def _no_throttle(settings):
    # Throttling has its own test; elsewhere a shared in-memory budget would leak between tests.
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"token": None},
    }
