"""`POST /api/v1/recompute/` and its pollable job (DESIGN §6): directors and admins."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from relations.models import Stakeholder
from relations.querysets import parse_id
from relations.roles import Action, may

from ..models import RecomputeJob, StakeholderScoreSnapshot
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


class HistorySerializer(serializers.Serializer):
    stakeholder = serializers.IntegerField()
    results = SnapshotSerializer(many=True)


class HistoryQuerySerializer(serializers.Serializer):
    days = serializers.IntegerField(required=False, min_value=1, max_value=3650, default=365)


class StakeholderHistoryView(APIView):
    """Daily score snapshots of a stakeholder for trend charts, oldest first."""

    @extend_schema(parameters=[HistoryQuerySerializer], responses=HistorySerializer)
    def get(self, request: Request, pk: str) -> Response:
        query = HistoryQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        stakeholder_id = parse_id(pk)
        visible = Stakeholder.objects.scores_visible_to(request.user)
        if stakeholder_id is None or not visible.filter(pk=stakeholder_id).exists():
            raise NotFound
        since = timezone.localdate() - timedelta(days=query.validated_data["days"])
        rows = (
            StakeholderScoreSnapshot.objects.filter(stakeholder_id=stakeholder_id, date__gte=since)
            .order_by("date")
            .values("date", *SNAPSHOT_FIELDS)
        )
        results = [{**row, "return": row.pop("return_value")} for row in rows]
        return Response({"stakeholder": stakeholder_id, "results": results})
