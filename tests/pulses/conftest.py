"""Fixtures of the pulse tests: Maria's relationship with Sam, a colleague who also
knows Sam (a member), signed-in page and API clients, and stored trust.

- `manager` (Maria) owns Sam and has the relationship under test;
- `member` (Mia) has her own relationship with Sam, yet may not assess Maria's (DESIGN §7);
- `other_manager` (Otto) has nothing to do with Sam;
- `director` (Dana) sees and may do everything.
"""

import pytest
from django.utils import timezone

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
