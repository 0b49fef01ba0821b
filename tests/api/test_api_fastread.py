"""`FastReadMixin` (relations/api/fastread.py) answers exactly as DRF's own
`to_representation` would, for every model serializer of the API."""

import pytest
from rest_framework import serializers as drf_serializers
from rest_framework.test import APIRequestFactory

from relations.api import serializers
from relations.models import (
    Commitment,
    Interaction,
    Organization,
    Outcome,
    Relationship,
    Stakeholder,
    StakeholderLink,
    StrategicGoal,
    Team,
)
from tests.api.test_api_queries import make_rows

pytestmark = pytest.mark.django_db

CASES = [
    (serializers.StakeholderSerializer, Stakeholder),
    (serializers.OrganizationSerializer, Organization),
    (serializers.InteractionSerializer, Interaction),
    (serializers.CommitmentSerializer, Commitment),
    (serializers.OutcomeSerializer, Outcome),
    (serializers.RelationshipSerializer, Relationship),
    (serializers.StakeholderLinkSerializer, StakeholderLink),
    (serializers.GoalSerializer, StrategicGoal),
    (serializers.TeamSerializer, Team),
]


@pytest.mark.parametrize(("serializer_class", "model"), CASES)
def test_fast_representation_equals_drf(serializer_class, model, manager, director):
    make_rows(3, manager, director)
    request = APIRequestFactory().get("/")
    request.user = manager
    rows = list(model.objects.order_by("pk"))
    assert rows
    serializer = serializer_class(context={"request": request})
    for row in rows:
        fast = serializer.to_representation(row)
        plain = drf_serializers.ModelSerializer.to_representation(serializer, row)
        assert fast == plain
        assert list(fast) == list(plain)  # the same keys in the same order
