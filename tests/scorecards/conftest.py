"""Fixtures of the scorecard tests: the known portfolio of `known.py` and clients."""

import pytest

from tests.scorecards.known import build_world


@pytest.fixture
def world(manager, other_manager, director):
    return build_world(manager, other_manager, director)


@pytest.fixture(autouse=True)
def _no_throttle(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"token": None},
    }
