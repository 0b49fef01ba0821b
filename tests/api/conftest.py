"""API clients that authenticate like integrations do: `Authorization: Token <key>`."""

import pytest
from knox.models import AuthToken
from rest_framework.test import APIClient


def token_client(user) -> APIClient:
    _row, token = AuthToken.objects.create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    client.user = user
    return client


@pytest.fixture
def api_client():
    """An unauthenticated client."""
    return APIClient()


@pytest.fixture
def manager_api(manager):
    return token_client(manager)


@pytest.fixture
def other_api(other_manager):
    return token_client(other_manager)


@pytest.fixture
def director_api(director):
    return token_client(director)


@pytest.fixture(autouse=True)
def _no_throttle(settings):
    # Throttling has its own test; elsewhere a shared in-memory budget would leak between tests.
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"token": None},
    }
