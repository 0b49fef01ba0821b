"""Fixtures of the scorecard tests: the known portfolio of `known.py` and clients."""

import pytest
from django.test import Client
from knox.models import AuthToken
from rest_framework.test import APIClient

from tests.scorecards.known import build_world


@pytest.fixture
def world(manager, other_manager, director):
    return build_world(manager, other_manager, director)


@pytest.fixture
def client_for():
    def signed_in(user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return signed_in


@pytest.fixture
def api_for():
    def token_client(user) -> APIClient:
        _row, token = AuthToken.objects.create(user=user)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        return client

    return token_client


@pytest.fixture(autouse=True)
def _no_throttle(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"token": None},
    }
