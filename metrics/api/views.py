"""`POST /api/v1/recompute/` and its pollable job (DESIGN §6): directors and admins;
the score history of a stakeholder or a relationship with what moved it."""

from __future__ import annotations

from django.db import transaction
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from relations.models import Relationship
from relations.querysets import parse_id
from relations.roles import Action, may

from .. import timeline
from ..models import RecomputeJob
from ..tasks import recompute_job_start
from ..writeback import SNAPSHOT_FIELDS


class RecomputeJobSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(help_text="Poll this until `status` is done or failed.")

    class Meta:
        model = RecomputeJob
        fields = [
            "id",
            "status",
            "progress",
            "message",
            "url",
            "created_at",
            "started_at",
            "finished_at",
            "error",
        ]
        read_only_fields = fields

    def get_url(self, job: RecomputeJob) -> str:
        return self.context["request"].build_absolute_uri(reverse("recompute-job", args=[job.pk]))


def _require_director(request: Request) -> None:
    if not may(request.user, Action.START_RECOMPUTATION):
        raise PermissionDenied("Only directors and administrators may start a recomputation.")


class RecomputeView(APIView):
    """Start a full recomputation of scores (and, after it, the network metrics)."""

    @extend_schema(request=None, responses={202: RecomputeJobSerializer})
    def post(self, request: Request) -> Response:
        _require_director(request)
        with transaction.atomic():
            job = recompute_job_start(requested_by=request.user)
        job.refresh_from_db()
        body = RecomputeJobSerializer(job, context={"request": request}).data
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["url"]})


class RecomputeJobView(APIView):
    """A recomputation job's status and progress (0…1)."""

    @extend_schema(responses=RecomputeJobSerializer)
    def get(self, request: Request, pk: str) -> Response:
        _require_director(request)
        job_id = parse_id(pk)
        job = RecomputeJob.objects.filter(pk=job_id).first() if job_id is not None else None
        if job is None:
            raise NotFound
        return Response(RecomputeJobSerializer(job, context={"request": request}).data)


class SnapshotSerializer(serializers.Serializer):
    date = serializers.DateField()
    given = serializers.FloatField(allow_null=True)
    received = serializers.FloatField(allow_null=True)
    reciprocity_balance = serializers.FloatField(allow_null=True)
    reciprocity = serializers.FloatField(allow_null=True)
    strength = serializers.FloatField(allow_null=True)
    sentiment = serializers.FloatField(allow_null=True)
    reliability = serializers.FloatField(allow_null=True)
    trust = serializers.FloatField(allow_null=True)
    investment = serializers.FloatField(allow_null=True)
    ror = serializers.FloatField(allow_null=True)
    at_risk = serializers.BooleanField()

    def get_fields(self) -> dict:
        fields = super().get_fields()
        fields["return"] = serializers.FloatField(allow_null=True)  # a Python keyword
        return fields


class MoveSerializer(serializers.Serializer):
    score = serializers.CharField(help_text="trust, reliability or reciprocity.")
    before = serializers.FloatField(
        allow_null=True, help_text="The previous snapshot's value; null: first measured."
    )
    after = serializers.FloatField()


class EventSerializer(serializers.Serializer):
    date = serializers.DateField()
    kind = serializers.CharField(
        help_text="commitment_kept, commitment_broken, commitment_overdue, "
        "interaction_negative, interaction_positive, interaction_neutral, pulse, or the "
        "kind of a registered source (a review)."
    )
    label = serializers.CharField(help_text="The event in words, in the request's language.")
    title = serializers.CharField(help_text="The record's own text (subject, commitment).")
    record_type = serializers.CharField()
    record_id = serializers.IntegerField(allow_null=True)
    score = serializers.FloatField(allow_null=True, help_text="A 0–1 figure the event carries.")
    series = serializers.CharField()


class AnnotationSerializer(serializers.Serializer):
    date = serializers.DateField()
    previous_date = serializers.DateField(
        allow_null=True, help_text="The snapshot the move is measured from; null: an assessment."
    )
    moves = MoveSerializer(many=True)
    events = EventSerializer(many=True)


ANNOTATIONS_HELP = (
    "Significant moves (newest first): days when trust, reliability or reciprocity moved "
    f"by {timeline.MOVE_POINTS} points (0–100) or more against the previous snapshot, or "
    "into another band, with the events of that day you may see that can explain them; "
    "and assessments (pulses, reviews), which move no computed score, each on its own."
)


class HistorySerializer(serializers.Serializer):
    stakeholder = serializers.IntegerField()
    results = SnapshotSerializer(many=True)
    annotations = AnnotationSerializer(many=True, help_text=ANNOTATIONS_HELP)


class RelationshipHistorySerializer(serializers.Serializer):
    relationship = serializers.IntegerField()
    results = SnapshotSerializer(many=True)
    annotations = AnnotationSerializer(many=True, help_text=ANNOTATIONS_HELP)


class HistoryQuerySerializer(serializers.Serializer):
    days = serializers.IntegerField(required=False, min_value=1, max_value=3650, default=365)


def _history_answer(key: str, pk: int, viewer, scope: timeline.TimelineScope) -> Response:
    days = (scope.last - scope.first).days + 1
    history = timeline.score_history(viewer, scope, days, fields=SNAPSHOT_FIELDS)
    results = [
        {**{k: v for k, v in row.items() if k != "return_value"}, "return": row["return_value"]}
        for row in history.rows
    ]
    return Response(
        {key: pk, "results": results, "annotations": timeline.annotations_json(history)}
    )


class StakeholderHistoryView(APIView):
    """Daily score snapshots of a stakeholder for trend charts, oldest first, with the
    significant moves and the events that explain them (`annotations`)."""

    @extend_schema(parameters=[HistoryQuerySerializer], responses=HistorySerializer)
    def get(self, request: Request, pk: str) -> Response:
        query = HistoryQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        stakeholder_id = parse_id(pk)
        if stakeholder_id is None or not timeline.stakeholder_history_visible(
            request.user, stakeholder_id
        ):
            raise NotFound
        scope = timeline.stakeholder_scope(stakeholder_id, query.validated_data["days"])
        return _history_answer("stakeholder", stakeholder_id, request.user, scope)


class RelationshipHistoryView(APIView):
    """Daily score snapshots of a relationship (its own scores: its user and directors),
    oldest first, with the significant moves and the events that explain them."""

    @extend_schema(parameters=[HistoryQuerySerializer], responses=RelationshipHistorySerializer)
    def get(self, request: Request, pk: str) -> Response:
        query = HistoryQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        relationship_id = parse_id(pk)
        relationship = (
            Relationship.objects.scores_visible_to(request.user)
            .filter(pk=relationship_id)
            .only("pk", "user_id", "stakeholder_id")
            .first()
            if relationship_id is not None
            else None
        )
        if relationship is None:
            raise NotFound
        scope = timeline.relationship_scope(relationship, query.validated_data["days"])
        return _history_answer("relationship", relationship.pk, request.user, scope)
