"""`POST /api/v1/stakeholders/{id}/merge/` and `/organizations/{id}/merge/`."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from relations.merging.services import organization_merge, stakeholder_merge
from relations.querysets import parse_id


class MergeRequestSerializer(serializers.Serializer):
    other = serializers.IntegerField(
        min_value=1,
        help_text="The id of the duplicate: everything of it moves to this record, then it "
        "is deleted. You must be allowed to change both (managers: stakeholders they own; "
        "directors: any).",
    )


class MergeActionMixin:
    """A `merge` action on a RapportViewSet whose model has a merge service."""

    @extend_schema(
        request=MergeRequestSerializer,
        description="Merge a duplicate into this record (audited; scores recomputed). "
        "Answers the merged record.",
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def merge(self, request: Request, pk: str | None = None) -> Response:
        keep = self.get_object()
        # Refused before the body is read: a caller who may not change this record
        # learns nothing from validation messages about the other one.
        if not keep.mergeable_by(request.user):
            raise PermissionDenied
        body = MergeRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        other_id = parse_id(str(body.validated_data["other"]))
        absorb = self.get_queryset().filter(pk=other_id).first() if other_id else None
        if absorb is None:
            raise ValidationError({"other": ["No such record, or you may not see it."]})
        service = stakeholder_merge if self.basename == "stakeholder" else organization_merge
        try:
            merged = service(keep=keep, absorb=absorb, by=request.user)
        except DjangoValidationError as error:
            raise ValidationError(
                {"other": error.message_dict.get("other", error.messages)}
            ) from error
        fresh = self.get_queryset().get(pk=merged.pk)
        return Response(self.get_serializer(fresh).data, status=status.HTTP_200_OK)
