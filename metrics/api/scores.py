"""`GET /api/v1/stakeholders/{id}/scores/` and `/relationships/{id}/scores/`: the stored
scores of a record (DESIGN §3), read with the record in one query. The record's
visibility and whether its scores are visible are relations' rules (`visible_to`,
`with_scores_visible`); metrics only adds its scores to the answer."""

from __future__ import annotations

from typing import Any

from django.db import models
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from metrics.models import StakeholderScore
from metrics.querysets import relationships_with_review
from relations.api.permissions import IsStaffMember
from relations.api.prepared import ID, PreparedReads, Statement, record_id, role_key
from relations.api.serializers import PulseReviewSerializer
from relations.models import Relationship, Stakeholder
from relations.roles import is_director, is_staff_member

SCORES_NOT_COMPUTED = "Scores have not been computed yet; they appear within seconds of a change."


class RiskReasonSerializer(serializers.Serializer):
    """One reason a stakeholder is at risk, as the worker stores it (and webhooks send it)."""

    code = serializers.CharField(
        help_text="low_trust, trust_falling, key_overdue or low_reciprocity."
    )
    message = serializers.CharField(help_text="The reason in English, with its figures.")

    def to_representation(self, reason: Any) -> dict:
        if isinstance(reason, str):  # a bare message, as rows written by hand may hold
            return {"code": "", "message": reason}
        return {"code": reason.get("code", ""), "message": reason.get("message", "")}


class ScoresSerializer(serializers.Serializer):
    """Stakeholder- or relationship-level scores (DESIGN §3); null means "not enough data"."""

    reciprocity = serializers.FloatField(allow_null=True)
    reciprocity_balance = serializers.FloatField(allow_null=True)
    given = serializers.FloatField(allow_null=True)
    received = serializers.FloatField(allow_null=True)
    strength = serializers.FloatField(allow_null=True)
    sentiment = serializers.FloatField(allow_null=True)
    reliability = serializers.FloatField(allow_null=True)
    trust = serializers.FloatField(allow_null=True)
    investment = serializers.FloatField(allow_null=True)
    ror = serializers.FloatField(allow_null=True)
    last_contact = serializers.DateTimeField(allow_null=True)
    days_since_contact = serializers.SerializerMethodField()
    overdue = serializers.SerializerMethodField()
    at_risk = serializers.BooleanField()
    # Objects, not strings: a CharField child rendered each stored reason as Python repr.
    risk_reasons = RiskReasonSerializer(many=True)
    computed_at = serializers.DateTimeField()
    explanation = serializers.JSONField(
        help_text="The components of each score and the items that moved it most."
    )

    def get_fields(self) -> dict:
        fields = super().get_fields()
        # `return` is a Python keyword, so it cannot be a class attribute above.
        fields["return"] = serializers.FloatField(source="return_value", allow_null=True)
        return fields

    def get_days_since_contact(self, score: Any) -> int | None:
        # As of now, not of computed_at: it moves with the clock between recomputations.
        return score.contact_status()[0]

    def get_overdue(self, score: Any) -> bool | None:
        return score.contact_status()[1]


def score_answer(score: Any) -> Response:
    if score is None:
        return Response({"detail": SCORES_NOT_COMPUTED}, status=status.HTTP_404_NOT_FOUND)
    return Response(ScoresSerializer(score).data)


SCORES_SCHEMA_DESCRIPTION = (
    "The stored scores (DESIGN §3). 404 when the record is not visible to you, "
    "or when its scores have not been computed yet (`detail` says which)."
)
SCORES_SCHEMA = extend_schema(
    responses={200: ScoresSerializer}, description=SCORES_SCHEMA_DESCRIPTION
)


class ScoresViewSet(viewsets.GenericViewSet):
    """A record's `scores` action beside relations' own routes for the record."""

    permission_classes = [IsStaffMember]
    # Any path segment reaches the view, so `/stakeholders/1.5/scores/` is a JSON 404.
    lookup_value_regex = "[^/]+"
    filter_backends: list = []
    pagination_class = None


class StakeholderScoresViewSet(ScoresViewSet):
    def get_queryset(self) -> models.QuerySet:
        # The row's id, whether its scores are visible to the caller and the stored
        # scores, in one query; none of the stakeholder's own columns.
        user = self.request.user
        return (
            Stakeholder.objects.only("pk", "score")
            .select_related("score")
            .visible_to(user)
            .with_scores_visible(user)
        )

    # The stored scores of a stakeholder the caller may see the scores of, by one
    # statement compiled once per user (relations.api.prepared): the answer of nearly
    # every call. Without a row (not visible, not computed, no such id) the path below
    # says which.
    prepared_reads = PreparedReads()

    def visible_score(self, record: int) -> StakeholderScore | None:
        user = self.request.user

        def statement() -> Statement:
            visible = Stakeholder.objects.visible_to(user).scores_visible_to(user)
            return Statement(
                StakeholderScore.objects.filter(stakeholder_id=ID, stakeholder__in=visible)
            )

        key = role_key(user, is_staff_member, is_director)
        found = self.prepared_reads.get(key, statement).objects(record)
        return found[0] if found else None

    @SCORES_SCHEMA
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def scores(self, request: Request, pk: str | None = None) -> Response:
        """Directors see everyone's scores; a manager those of stakeholders they own or know."""
        record = None if request.query_params else record_id(pk)
        score = None if record is None else self.visible_score(record)
        if score is not None:
            return score_answer(score)
        stakeholder = self.get_object()
        if not stakeholder.scores_visible:
            raise NotFound
        return score_answer(getattr(stakeholder, "score", None))


class RelationshipScoresSerializer(PulseReviewSerializer, ScoresSerializer):
    """A relationship's scores with its latest pulse beside trust and the review flag."""

    def to_representation(self, score: Any) -> dict:
        data = ScoresSerializer.to_representation(self, score)
        # The pulse and the flag are the relationship row's (`relationships_with_review`).
        data.update(PulseReviewSerializer(self.context["relationship"]).data)
        return data


class RelationshipScoresViewSet(ScoresViewSet):
    def get_queryset(self) -> models.QuerySet:
        # One query with the row, its latest pulse and the review flag.
        user = self.request.user
        return relationships_with_review(
            Relationship.objects.select_related("score").visible_to(user).with_latest_pulse(user),
            user,
        )

    @extend_schema(
        responses={200: RelationshipScoresSerializer},
        description=SCORES_SCHEMA_DESCRIPTION
        + " With the latest pulse you may see beside trust and the review flag, as on the "
        "relationship page and in `/relationships/`.",
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def scores(self, request: Request, pk: str | None = None) -> Response:
        """A relationship's own scores: its user and directors (404 for the others)."""
        relationship = self.get_object()
        if not relationship.scores_visible:
            raise NotFound
        score = getattr(relationship, "score", None)
        if score is None:
            return score_answer(None)
        return Response(
            RelationshipScoresSerializer(score, context={"relationship": relationship}).data
        )
