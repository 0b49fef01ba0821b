"""`POST /api/v1/recompute/` and its pollable job (DESIGN §6): directors and admins."""

from __future__ import annotations

from django.db import transaction
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from relations.ids import parse_id
from relations.roles import is_director

from ..models import RecomputeJob
from ..tasks import recompute_job_start


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
    if not is_director(request.user):
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
