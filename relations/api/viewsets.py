"""The base of every API viewset on one model, for relations' API and the apps above:
visible rows only, the model's own rules for changes, audit and idempotent creates."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.core.paginator import Paginator
from django.db import models, transaction
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers as drf_serializers
from rest_framework import viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from relations import services
from relations.api.idempotency import idempotent
from relations.api.permissions import CanChangeObject, IsStaffMember
from relations.api.prepared import ID, PreparedReads, Statement, record_id, role_key
from relations.editing import services as editing
from relations.models import AuditEvent
from relations.roles import is_director, is_staff_member

IDEMPOTENCY_PARAMETER = OpenApiParameter(
    "Idempotency-Key",
    {"type": "string", "minLength": 1, "maxLength": 255},
    OpenApiParameter.HEADER,
    required=False,
    description="Any unique string (≤ 255 characters). Retrying a POST with the same key "
    "and body returns the first answer (header `Idempotent-Replayed: true`) instead of "
    "creating a duplicate; the same key with a different body answers 422.",
)


class DetailWithoutListFiltersMixin:
    """Detail routes skip the list's filter backends when the request has no query string.

    DRF runs every filter backend in `get_object` too. Without a parameter they cannot
    change which row the lookup finds (a FilterSet given no data filters nothing,
    SearchFilter needs `?search=`, `.get()` drops the default ordering), yet building
    the FilterSet and the backends cost about as much as the row's own query (
    API reads). With any parameter they run as before, so `?search=` that the record
    does not match still answers 404. Visibility is not a backend but `get_queryset`
    (`visible_to`), which always runs.
    """

    def filter_queryset(self, queryset: models.QuerySet) -> models.QuerySet:
        if getattr(self, "detail", False) and not self.request.query_params:
            return queryset
        return super().filter_queryset(queryset)


class _CountedPage(list):
    """The first page's rows, knowing how many rows the whole list holds: what
    `Paginator` asks of a queryset (`count()`, then a slice)."""

    def __init__(self, rows: list, total: int) -> None:
        super().__init__(rows)
        self.total = total

    def count(self) -> int:  # type: ignore[override]
        return self.total


class PreparedReadsMixin:
    """A list's first page and a record, asked without query parameters, read through
    statements compiled once per user and role (`relations.api.prepared`).

    A view opts in with `prepared_reads = PreparedReads()`, promising that its
    queryset, for no query parameters, depends on the user, the user's role and the
    record's id alone. The answers are those of DRF's own `list` and `retrieve`: the
    statements are compiled from the same `filter_queryset(get_queryset())`, and
    anything else (parameters, another page, an id that is not a plain number) takes
    DRF's path.
    """

    prepared_reads: PreparedReads | None = None

    def _prepared_key(self, kind: str) -> tuple:
        return (kind, *role_key(self.request.user, is_staff_member, is_director))

    def _prepared(self) -> bool:
        return (
            self.prepared_reads is not None
            and self.request.method in ("GET", "HEAD")
            and not self.request.query_params
        )

    def get_object(self) -> Any:
        if not self._prepared() or self.action != "retrieve":
            return super().get_object()
        record = record_id(self.kwargs.get(self.lookup_url_kwarg or self.lookup_field))
        if record is None:
            return super().get_object()
        statement = self.prepared_reads.get(
            self._prepared_key("retrieve"),
            lambda: Statement(
                self.filter_queryset(self.get_queryset()).filter(**{self.lookup_field: ID})
            ),
        )
        found = statement.objects(record)
        if len(found) != 1:
            if not found:  # get_object_or_404's own answer
                raise Http404(f"No {statement.model._meta.object_name} matches the given query.")
            return super().get_object()  # as DRF answers it
        self.check_object_permissions(self.request, found[0])
        return found[0]

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if not self._prepared() or self.paginator is None:
            return super().list(request, *args, **kwargs)
        size = self.paginator.get_page_size(request)

        def statements() -> tuple[Statement, Statement]:
            queryset = self.filter_queryset(self.get_queryset())
            return Statement.count_of(queryset), Statement(queryset[:size])

        count, first_page = self.prepared_reads.get(self._prepared_key("list"), statements)
        rows = first_page.objects()
        total = count.value() if len(rows) == size else len(rows)
        page = Paginator(_CountedPage(rows, total), size).page(1)
        self.paginator.request, self.paginator.page = request, page
        return self.get_paginated_response(self.get_serializer(list(page), many=True).data)


class RapportViewSet(PreparedReadsMixin, DetailWithoutListFiltersMixin, viewsets.ModelViewSet):
    """CRUD on one model: visible rows only (404), changes as `can_change` says (403).

    Every create, change and delete is audited; POST honours `Idempotency-Key`.
    """

    permission_classes = [IsStaffMember, CanChangeObject]
    model: type[models.Model]
    # Any path segment reaches the view, so `/teams/1.5/` is a JSON 404, not an HTML page.
    lookup_value_regex = "[^/]+"

    def base_queryset(self) -> models.QuerySet:
        return self.model.objects.all()

    def get_queryset(self) -> models.QuerySet:
        return self.base_queryset().visible_to(self.request.user)

    # The rules are the model's (`editable_by`, `deletable_by`, `owner_changeable_by`):
    # the API asks them as the pages do and never re-derives them.
    def can_change(self, user: User, obj: Any) -> bool:
        return obj.editable_by(user)

    def can_delete(self, user: User, obj: Any) -> bool:
        return editing.may_delete(obj, user)

    @extend_schema(parameters=[IDEMPOTENCY_PARAMETER])
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return idempotent(
            request, lambda: super(RapportViewSet, self).create(request, *args, **kwargs)
        )

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        with transaction.atomic():
            return super().update(request, *args, **kwargs)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        with transaction.atomic():
            return super().destroy(request, *args, **kwargs)

    def get_success_headers(self, data: Any) -> dict[str, str]:
        # Location of the new record: clients (and the fuzzer's stateful phase) follow it.
        if isinstance(data, dict) and "id" in data:
            return {"Location": reverse(f"api:{self.basename}-detail", args=[data["id"]])}
        return {}

    # The write services the browser's pages call too (relations.editing.services):
    # `create_service(by=…, **validated_data)`, `update_service(obj, by=…, **changes)`.
    # They check, save and audit; without them the serializer saves and this audits.
    create_service: Any = None
    update_service: Any = None

    def perform_create(self, serializer: drf_serializers.BaseSerializer) -> None:
        if self.create_service is not None:
            serializer.instance = self.create_service(
                by=self.request.user, **serializer.validated_data
            )
            return
        obj = serializer.save()
        services.audit_record(
            actor=self.request.user,
            action=AuditEvent.Action.CREATE,
            obj=obj,
            changes=services.snapshot(obj),
        )

    def check_owner_change(self, serializer: drf_serializers.BaseSerializer) -> None:
        """Giving a record to someone else is the model's `owner_changeable_by` rule."""
        instance = serializer.instance
        if instance is None or "owner" not in serializer.validated_data:
            return
        owner = serializer.validated_data["owner"]
        if getattr(owner, "pk", None) != instance.owner_id and not instance.owner_changeable_by(
            self.request.user
        ):
            raise PermissionDenied(_("Only its owner or a director may give this to someone else."))

    def perform_update(self, serializer: drf_serializers.BaseSerializer) -> None:
        if self.update_service is not None:
            serializer.instance = self.update_service(
                serializer.instance, by=self.request.user, **serializer.validated_data
            )
            return
        self.check_owner_change(serializer)
        before = services.snapshot(serializer.instance)
        obj = serializer.save()
        services.audit_record(
            actor=self.request.user,
            action=AuditEvent.Action.UPDATE,
            obj=obj,
            changes=services.diff(before, services.snapshot(obj)),
        )

    def perform_destroy(self, instance: Any) -> None:
        # The delete pages' service: the same rule (`may_delete`) and audit row.
        editing.record_delete(instance, by=self.request.user)
