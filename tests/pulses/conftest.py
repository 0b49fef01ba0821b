"""Fixtures of the pulse tests: Maria's relationship with Sam, a colleague who also
knows Sam (a member), signed-in page and API clients, and stored trust.

- `manager` (Maria) owns Sam and has the relationship under test;
- `member` (Mia) has her own relationship with Sam, yet may not assess Maria's (DESIGN §7);
- `other_manager` (Otto) has nothing to do with Sam;
- `director` (Dana) sees and may do everything.
"""

import pytest
from django.test import Client
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from metrics.models import RelationshipScore
from relations.models import Relationship
from tests.factories import UserFactory


@pytest.fixture
def relationship(manager, stakeholder):
    return Relationship.objects.create(
        user=manager, stakeholder=stakeholder, role=Relationship.Role.OWNER
    )


@pytest.fixture
def member(stakeholder):
    mia = UserFactory(username="mia", first_name="Mia", last_name="Member", role="manager")
    Relationship.objects.create(user=mia, stakeholder=stakeholder)
    return mia


@pytest.fixture
def trust(relationship):
    """Store the relationship's computed trust, as the worker would."""

    def store(value):
        return RelationshipScore.objects.update_or_create(
            relationship=relationship,
            defaults={"trust": value, "computed_at": timezone.now()},
        )[0]

    return store


def page_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def client_for():
    return page_client


def token_client(user) -> APIClient:
    _row, token = AuthToken.objects.create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


@pytest.fixture
def api_for():
    return token_client


@pytest.fixture(autouse=True)
def _no_throttle(settings):
    # A shared in-memory throttle budget would leak between tests.
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"token": None},
    }
