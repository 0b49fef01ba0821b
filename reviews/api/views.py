"""Reviews in the API: read with their answers (the relationship's members and
directors: `Review.objects.visible_to`), started, answered and followed by the same
services as the pages."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from relations.api.filters import FilterSet
from relations.models import Relationship

from .. import services
from ..models import Review, ReviewQuestion
from . import serializers as s


def _validation(error: DjangoValidationError) -> serializers.ValidationError:
    if hasattr(error, "error_dict"):
        return serializers.ValidationError(error.message_dict)
    return serializers.ValidationError({"non_field_errors": error.messages})


class ReviewQuestionViewSet(viewsets.ReadOnlyModelViewSet):
    """The questionnaire both sides answer."""

    serializer_class = s.ReviewQuestionSerializer
    queryset = ReviewQuestion.objects.filter(active=True)
    lookup_field = "key"
    filter_backends: list = []


class ReviewFilter(FilterSet):
    """`?status=` must name a status (an empty or unknown one is a 400, as elsewhere)."""

    class Meta:
        model = Review
        fields = ["relationship", "status"]


class ReviewViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Two-sided reviews of relationships, with both sides' answers and the gaps
    (theirs minus ours). Readable by the stakeholder's relationship members and
    directors; started by the relationship's user or a director."""

    serializer_class = s.ReviewSerializer
    # Any path segment reaches the view, so `/reviews/1.5/` is a JSON 404, not a page.
    lookup_value_regex = "[^/]+"
    filterset_class = ReviewFilter
    ordering_fields = ["due_on", "completed_at", "id"]
    ordering = ["-due_on", "-id"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Review.objects.none()
        return (
            Review.objects.visible_to(self.request.user)
            .select_related("relationship")
            .prefetch_related("answers__question")
        )

    @extend_schema(request=s.ReviewStartSerializer, responses={201: s.ReviewSerializer})
    def create(self, request: Request) -> Response:
        data = s.ReviewStartSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        relationship = (
            Relationship.objects.visible_to(request.user)
            .filter(pk=data.validated_data["relationship"])
            .first()
        )
        if relationship is None:
            raise serializers.ValidationError({"relationship": ["No such relationship."]})
        try:
            review = services.review_start(relationship=relationship, by=request.user)
        except DjangoPermissionDenied as exc:
            raise PermissionDenied from exc
        except DjangoValidationError as exc:
            raise _validation(exc) from exc
        return Response(self.get_serializer(review).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.OurAnswersSerializer, responses={200: s.ReviewSerializer})
    @action(detail=True, methods=["post"], url_path="answers")
    def answers(self, request: Request, pk: str) -> Response:
        review = self.get_object()
        data = s.OurAnswersSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            review = services.review_answer_ours(
                review, by=request.user, answers=data.validated_data["answers"]
            )
        except DjangoPermissionDenied as exc:
            raise PermissionDenied from exc
        except DjangoValidationError as exc:
            raise serializers.ValidationError({"answers": exc.message_dict}) from exc
        return Response(self.get_serializer(self.get_queryset().get(pk=review.pk)).data)

    @extend_schema(request=s.InviteSerializer, responses={202: s.InvitationSerializer})
    @action(detail=True, methods=["post"])
    def invite(self, request: Request, pk: str) -> Response:
        review = self.get_object()
        data = s.InviteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            invitation = services.review_invite(review, by=request.user, **data.validated_data)
        except DjangoPermissionDenied as exc:
            raise PermissionDenied from exc
        except DjangoValidationError as exc:
            raise _validation(exc) from exc
        invitation.refresh_from_db()
        body = {
            "id": invitation.pk,
            "email": invitation.email,
            "language": invitation.language,
            "delivery": invitation.delivery,
        }
        return Response(body, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=s.ActionSerializer, responses={201: s.ActionResultSerializer})
    @action(detail=True, methods=["post"])
    def actions(self, request: Request, pk: str) -> Response:
        review = self.get_object()
        data = s.ActionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            created = services.review_action_add(review, by=request.user, **data.validated_data)
        except DjangoPermissionDenied as exc:
            raise PermissionDenied from exc
        except DjangoValidationError as exc:
            raise _validation(exc) from exc
        return Response({"commitment": created.commitment_id}, status=status.HTTP_201_CREATED)

    def get_object(self):
        try:
            return super().get_object()
        except (ValueError, OverflowError) as exc:
            raise NotFound from exc
