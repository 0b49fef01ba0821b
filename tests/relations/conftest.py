"""Fixtures of the browser-page tests: signed-in clients for the named users."""

import pytest
from django.test import Client


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def manager_client(manager):
    return signed_in(manager)


@pytest.fixture
def other_client(other_manager):
    return signed_in(other_manager)


@pytest.fixture
def director_client(director):
    return signed_in(director)
