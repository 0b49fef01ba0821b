"""`/api/v1/imports/`: the same imports as the pages, for integrations.

POST a multipart form (file, kind, optional mapping, duplicates): the file is
checked and read at once (400 naming the field when it cannot be), then the
import runs in the worker and the answer (202) carries the job's `url` to poll.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import mixins, parsers, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from relations.api.parsers import JSONParser, json_loads_bounded
from relations.api.permissions import IsStaffMember
from relations.importing import columns as cols
from relations.importing import services
from relations.importing.forms import upload_check
from relations.importing.models import ImportJob
from relations.importing.parsing import ImportFileError
from relations.querysets import parse_id


class ImportRowErrorSerializer(serializers.Serializer):
    line = serializers.IntegerField()
    reason = serializers.CharField()


class ImportMatchSerializer(serializers.Serializer):
    line = serializers.IntegerField()
    id = serializers.IntegerField(help_text="The record the row matched.")
    name = serializers.CharField()
    action = serializers.ChoiceField(choices=["merged", "skipped"])
    new = serializers.BooleanField(help_text="The record was created earlier in the same file.")


def extend_schema_field_list(item: type[serializers.Serializer]):
    return extend_schema_field(item(many=True))


class ImportJobSerializer(serializers.ModelSerializer):
    progress = serializers.FloatField(read_only=True, help_text="0…1.")
    url = serializers.SerializerMethodField(help_text="Poll this until `status` is done or failed.")
    errors = serializers.SerializerMethodField(
        help_text="Bad rows (not imported) with their line number and reason."
    )
    matched = serializers.SerializerMethodField(
        help_text="Rows that matched an existing record, merged or skipped."
    )

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "kind",
            "status",
            "file_name",
            "encoding",
            "headers",
            "mapping",
            "duplicates",
            "progress",
            "total_rows",
            "processed_rows",
            "created_count",
            "merged_count",
            "skipped_count",
            "error_count",
            "errors",
            "matched",
            "error",
            "url",
            "created_at",
            "started_at",
            "finished_at",
            "undone_at",
        ]
        read_only_fields = fields

    def get_url(self, job: ImportJob) -> str:
        return self.context["request"].build_absolute_uri(
            reverse("api:import-detail", args=[job.pk])
        )

    @extend_schema_field_list(ImportRowErrorSerializer)
    def get_errors(self, job: ImportJob) -> list[dict]:
        return (job.report or {}).get("errors", [])

    @extend_schema_field_list(ImportMatchSerializer)
    def get_matched(self, job: ImportJob) -> list[dict]:
        return (job.report or {}).get("matched", [])


class ImportJobCreateSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="A CSV file, or a vCard (.vcf) file for kind `vcard`.")
    kind = serializers.ChoiceField(choices=ImportJob.Kind.choices)
    mapping = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=20000,
        help_text='JSON: an object from column header to field ({"E-mail": "email"}), or a '
        'list with one field per column ("" to leave a column out). Omitted: guessed from '
        "the headers. Ignored for vCard files.",
    )
    duplicates = serializers.ChoiceField(
        choices=ImportJob.Duplicates.choices,
        default=ImportJob.Duplicates.MERGE,
        help_text="What to do with a row that matches an existing record.",
    )


def _mapping_parse(raw: str, headers: list[str], guessed: list[str]) -> list[str]:
    if not raw.strip():
        return guessed
    try:
        given = json_loads_bounded(raw)
    except ValueError:
        raise serializers.ValidationError({"mapping": ["Not valid JSON."]}) from None
    if isinstance(given, dict):
        unknown = [h for h in given if h not in headers]
        if unknown:
            raise serializers.ValidationError(
                {"mapping": [f"The file has no column “{h}”." for h in unknown[:10]]}
            )
        if not all(isinstance(v, str) for v in given.values()):
            raise serializers.ValidationError({"mapping": ["Each field must be a string."]})
        return [given.get(h, "") for h in headers]
    if isinstance(given, list):
        if len(given) != len(headers) or not all(isinstance(v, str) for v in given):
            raise serializers.ValidationError(
                {
                    "mapping": [
                        f"Give one field name (a string) for each of the {len(headers)} columns."
                    ]
                }
            )
        return given
    raise serializers.ValidationError({"mapping": ["Give an object or a list."]})


class ImportJobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Your imports (directors: everyone's), with progress and the report of bad rows."""

    serializer_class = ImportJobSerializer
    permission_classes = [IsStaffMember]
    parser_classes = [parsers.MultiPartParser, parsers.FormParser]
    filter_backends: list = []
    lookup_value_regex = "[^/]+"

    def get_queryset(self):
        return ImportJob.objects.visible_to(self.request.user).defer("content")

    def get_object(self) -> ImportJob:
        pk = parse_id(self.kwargs["pk"])
        job = self.get_queryset().filter(pk=pk).first() if pk is not None else None
        if job is None:
            raise NotFound
        return job

    @extend_schema(
        request={"multipart/form-data": ImportJobCreateSerializer},
        responses={202: ImportJobSerializer, 400: OpenApiResponse(description="Field errors.")},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Upload a file and start importing it; poll the answer's `url`."""
        given = ImportJobCreateSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        kind = given.validated_data["kind"]
        try:
            content = upload_check(given.validated_data["file"], kind)
            inspection = services.file_inspect(content, kind)
        except ImportFileError as exc:
            raise serializers.ValidationError({"file": [str(exc)]}) from None
        mapping = None
        if kind != ImportJob.Kind.VCARD:
            mapping = _mapping_parse(
                given.validated_data.get("mapping", ""), inspection.headers, inspection.mapping
            )
            problems = cols.mapping_problems(kind, mapping)
            if problems:
                raise serializers.ValidationError({"mapping": problems})
        with transaction.atomic():
            job, _ = services.import_job_create(
                owner=request.user,
                kind=kind,
                file_name=given.validated_data["file"].name or "upload",
                content=content,
            )
            services.import_job_start(
                job, mapping=mapping, duplicates=given.validated_data["duplicates"]
            )
        job.refresh_from_db()
        body = self.get_serializer(job).data
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["url"]})

    @extend_schema(
        request=None,
        responses={
            202: ImportJobSerializer,
            409: OpenApiResponse(description="Only a finished import can be undone."),
        },
    )
    @action(detail=True, methods=["post"], parser_classes=[JSONParser])
    def undo(self, request: Request, pk: str | None = None) -> Response:
        """Delete what the import created and revert what it merged (owner or director)."""
        with transaction.atomic():
            job = self.get_object()
            job = ImportJob.objects.select_for_update().defer("content").get(pk=job.pk)
            if not job.can_undo(request.user):
                return Response(
                    {"detail": "Only a finished import can be undone."},
                    status=status.HTTP_409_CONFLICT,
                )
            services.import_undo_start(job, by=request.user)
        job.refresh_from_db()
        body = self.get_serializer(job).data
        return Response(body, status=status.HTTP_202_ACCEPTED)
