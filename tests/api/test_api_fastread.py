"""`FastReadMixin` (relations/api/fastread.py) answers exactly as DRF's own
`to_representation` would, for every model serializer of the API: on a
serializer that only reads (its fields never built, the plan made once per
class) and on one whose fields are built (a write)."""

import random

import pytest
from django.utils import timezone
from rest_framework import serializers as drf_serializers
from rest_framework.test import APIRequestFactory

from metrics import scoring
from metrics.fields import PackedExplanation
from metrics.models import StakeholderScore
from relations.api import serializers
from relations.api.fastread import FastReadMixin
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
from tests.metrics.facts import rows_from_facts
from tests.metrics.test_scoring import random_groups
from tests.metrics.timebase import T

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


@pytest.mark.parametrize(("serializer_class", "model"), CASES)
@pytest.mark.parametrize("who", ["manager", "other_manager"])
def test_reads_without_building_fields_equal_drf(
    serializer_class, model, who, manager, other_manager, director, monkeypatch
):
    make_rows(3, manager, director)
    request = APIRequestFactory().get("/")
    # Private interactions' notes depend on the caller: the context reaches the fields.
    request.user = {"manager": manager, "other_manager": other_manager}[who]
    context = {"request": request}
    rows = list(model.objects.order_by("pk"))
    with monkeypatch.context() as drf_only:
        drf_only.setattr(
            FastReadMixin, "to_representation", drf_serializers.ModelSerializer.to_representation
        )
        expected = [serializer_class(row, context=context).data for row in rows]
    for row, plain in zip(rows, expected, strict=True):
        reader = serializer_class(row, context=context)
        fast = reader.data
        assert "fields" not in reader.__dict__  # a read builds no more than it needs
        assert fast == plain
        assert list(fast) == list(plain)


def test_fields_copies_are_independent():
    # Each instance gets its own fields (DRF's promise): changing one changes no other.
    first = serializers.StakeholderSerializer()
    first.fields["name"].read_only = True
    first.fields.pop("notes")
    second = serializers.StakeholderSerializer()
    assert not second.fields["name"].read_only
    assert "notes" in second.fields
    assert second.fields["name"] is not first.fields["name"]
    assert second.fields["name"].parent is second


def test_a_field_with_its_own_descriptor_is_read_through_it(stakeholder):
    # Explanations are stored packed and rendered by their descriptor on first read:
    # the instance's __dict__ holds the packed bytes, the attribute the rendered dict.
    n, ia, cm, oc = rows_from_facts(random_groups(random.Random(1), 1))
    scores = scoring.score_groups(n, ia, cm, oc, at=T.timestamp(), level=scoring.Level.STAKEHOLDER)
    packed = PackedExplanation(scoring.explanations_pack(scores)[0].tobytes())
    StakeholderScore.objects.create(stakeholder=stakeholder, explanation=packed, computed_at=T)

    class ExplanationSerializer(serializers.StrictModelSerializer):
        explanation = drf_serializers.JSONField()

        class Meta:
            model = StakeholderScore
            fields = ["stakeholder", "explanation"]

    score = StakeholderScore.objects.get(stakeholder=stakeholder)
    assert isinstance(score.__dict__["explanation"], PackedExplanation)
    assert ExplanationSerializer(score).data["explanation"] == scores.explanation_for(0)


@pytest.mark.parametrize("zone", ["UTC", "Europe/Amsterdam", "America/Sao_Paulo"])
@pytest.mark.parametrize(("serializer_class", "model"), CASES)
def test_times_are_written_in_the_current_zone_as_drf_writes_them(
    serializer_class, model, zone, manager, director, monkeypatch
):
    # DateTimeFields are written inline (one zone asked per serializer, not per value):
    # the same text as DRF's, "Z" in UTC, the offset elsewhere; a list's rows alike.
    make_rows(3, manager, director)
    request = APIRequestFactory().get("/")
    request.user = manager
    context = {"request": request}
    rows = list(model.objects.order_by("pk"))
    with timezone.override(zone):
        with monkeypatch.context() as drf_only:
            drf_only.setattr(
                FastReadMixin,
                "to_representation",
                drf_serializers.ModelSerializer.to_representation,
            )
            expected = serializer_class(rows, many=True, context=context).data
        assert serializer_class(rows, many=True, context=context).data == expected
    written = [value for row in expected for value in row.values() if isinstance(value, str)]
    if zone == "UTC":
        assert any(value.endswith("Z") for value in written)
    else:
        assert not any(value.endswith("Z") and value[:4].isdigit() for value in written)
