"""Viewsets of API v1: thin; visibility from `visible_to`, writes through services."""

from __future__ import annotations

import re
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models, transaction
from django.db.models import F, Prefetch
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers as drf_serializers
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from relations import registry, services
from relations.api import filters, serializers
from relations.api.idempotency import idempotent
from relations.api.permissions import CanChangeObject, DirectorWrites, IsStaffMember
from relations.api.prepared import PreparedReads
from relations.api.viewsets import (
    IDEMPOTENCY_PARAMETER,
    DetailWithoutListFiltersMixin,
    RapportViewSet,
)
from relations.editing import services as editing
from relations.exports.api import CsvExportMixin
from relations.merging.api import MergeActionMixin
from relations.models import (
    AuthenticityPulse,
    Commitment,
    Interaction,
    Organization,
    Outcome,
    Relationship,
    Stakeholder,
    StakeholderLink,
    StrategicGoal,
    Team,
    Webhook,
)
from relations.querysets import parse_id
from relations.roles import Action, is_staff_member, may, staff_users

IF_MATCH_PARAMETER = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description='The `version` (or `ETag`, e.g. `"3"`) you read; a newer record answers 409.',
)


class IfMatchMixin:
    """Edits that carry the version read (`If-Match` or `version`): documented here."""

    @extend_schema(parameters=[IF_MATCH_PARAMETER])
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().update(request, *args, **kwargs)

    @extend_schema(parameters=[IF_MATCH_PARAMETER])
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().partial_update(request, *args, **kwargs)


def _only_ids(model: type[models.Model]) -> models.QuerySet:
    return model.objects.only("pk").order_by()


class ArchiveActionMixin:
    """`POST {id}/archive/` and `POST {id}/unarchive/`: the browser's archive page, through
    the same service (`<noun>_archive`) and rule (`editable_by`; 403 otherwise). An
    archived record leaves the browser's lists and stays in every figure; lists here
    show it unless `?archived=false`."""

    archive_service: Any = None

    @extend_schema(
        request=None,
        description="Archive the record: it leaves the browser's lists, pickers and search "
        "and still counts in every figure. Whoever may change it (403 otherwise); audited. "
        "Archiving an archived record changes nothing but its date.",
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def archive(self, request: Request, pk: str | None = None) -> Response:
        return self._archived(request, archived=True)

    @extend_schema(
        request=None,
        description="Put an archived record back in the lists. Whoever may change it "
        "(403 otherwise); audited.",
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def unarchive(self, request: Request, pk: str | None = None) -> Response:
        return self._archived(request, archived=False)

    def _archived(self, request: Request, *, archived: bool) -> Response:
        obj = self.get_object()  # type: ignore[attr-defined]
        with transaction.atomic():
            obj = self.archive_service(obj, by=request.user, archived=archived)
        return Response(self.get_serializer(obj).data)  # type: ignore[attr-defined]


class UserViewSet(DetailWithoutListFiltersMixin, viewsets.ReadOnlyModelViewSet):
    """Staff members (read only), for choosing participants, owners and responsibles."""

    serializer_class = serializers.UserSerializer
    lookup_value_regex = "[^/]+"
    filterset_class = filters.UserFilter
    search_fields = ["username", "first_name", "last_name", "email"]
    ordering_fields = ["username", "last_name", "id"]
    ordering = ["username"]

    def get_queryset(self) -> models.QuerySet:
        if not is_staff_member(self.request.user):
            return User.objects.none()
        return (
            staff_users()
            .order_by("username")
            .prefetch_related("groups", Prefetch("teams", queryset=_only_ids(Team)))
        )


class TeamViewSet(RapportViewSet):
    """Teams: every staff member reads them; directors create, change and delete them."""

    model = Team
    serializer_class = serializers.TeamSerializer
    permission_classes = [IsStaffMember, DirectorWrites, CanChangeObject]
    filterset_class = filters.TeamFilter
    search_fields = ["name", "description"]
    ordering_fields = ["name", "created_at", "id"]

    def base_queryset(self) -> models.QuerySet:
        return Team.objects.prefetch_related(Prefetch("members", queryset=_only_ids(User)))

    # The team pages' services: the same rule (directors), members and audit.
    create_service = staticmethod(editing.team_create)
    update_service = staticmethod(editing.team_update)


class OrganizationViewSet(CsvExportMixin, MergeActionMixin, ArchiveActionMixin, RapportViewSet):
    """External organisations: every staff member edits; directors delete."""

    model = Organization
    serializer_class = serializers.OrganizationSerializer
    filterset_class = filters.OrganizationFilter
    create_service = staticmethod(editing.organization_create)
    update_service = staticmethod(editing.organization_update)
    archive_service = staticmethod(editing.organization_archive)
    search_fields = ["name", "sector", "country"]
    ordering_fields = ["name", "tier", "created_at", "id"]


class StakeholderViewSet(CsvExportMixin, MergeActionMixin, ArchiveActionMixin, RapportViewSet):
    """External people: every staff member edits; directors delete."""

    model = Stakeholder
    serializer_class = serializers.StakeholderSerializer
    filterset_class = filters.StakeholderFilter
    create_service = staticmethod(editing.stakeholder_create)
    update_service = staticmethod(editing.stakeholder_update)
    archive_service = staticmethod(editing.stakeholder_archive)
    search_fields = ["name", "email", "title", "organization__name"]
    # `last_name`: the name without its tussenvoegsel, family name first ("Jan van den
    # Berg" under B), i.e. the stored `surname_key`, which the API does not name.
    ordering_fields = [
        "name",
        "last_name",
        "importance",
        "influence",
        "interest",
        "created_at",
        "id",
    ]
    # Annotated once, when the class is made: resolving the three subqueries cost about
    # as much as running the query. Each request chains from a clone, as DRF
    # does with a view's `queryset`.
    queryset = serializers.with_tag_names(Stakeholder.objects.with_key_flag()).alias(
        last_name=F("surname_key")
    )
    # Its queryset depends on nothing but the caller's role (staff see every stakeholder).
    prepared_reads = PreparedReads()

    def base_queryset(self) -> models.QuerySet:
        return self.queryset.all()

    @extend_schema(
        responses={200: OpenApiTypes.OBJECT},
        description="Everything held about the stakeholder (a data-subject access request): "
        "the record, scores, relationships, interactions, commitments, outcomes, links, goals, "
        "pulses, audit events and data-protection register entries. Directors only (403 for "
        "others); entered in the register and the audit log.",
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def export(self, request: Request, pk: str | None = None) -> Response:
        from relations.privacy import services as privacy

        stakeholder = self.get_object()
        if not may(request.user, Action.HANDLE_PERSONAL_DATA):
            raise PermissionDenied(_("Only directors export personal data."))
        return Response(privacy.stakeholder_export(stakeholder, by=request.user))

    @extend_schema(
        request=serializers.ErasureRequestSerializer,
        responses={200: serializers.ErasureResultSerializer},
        description="Anonymise the stakeholder's personal data everywhere, keeping the "
        "figures (GDPR erasure). Directors only; an erased record answers 403.",
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def erase(self, request: Request, pk: str | None = None) -> Response:
        from relations.privacy import services as privacy

        stakeholder = self.get_object()
        if not may(request.user, Action.HANDLE_PERSONAL_DATA):
            raise PermissionDenied(_("Only directors erase personal data."))
        body = serializers.ErasureRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            entry = privacy.stakeholder_erase(
                stakeholder, by=request.user, reason=body.validated_data["reason"]
            )
        except DjangoValidationError as error:
            raise drf_serializers.ValidationError(
                error.message_dict if hasattr(error, "error_dict") else {"detail": error.messages}
            ) from error
        return Response(
            {
                "stakeholder": stakeholder.pk,
                "erased_at": stakeholder.erased_at,
                "register_entry": entry.pk,
            }
        )


class StakeholderLinkViewSet(CsvExportMixin, RapportViewSet):
    model = StakeholderLink
    serializer_class = serializers.StakeholderLinkSerializer
    filterset_class = filters.StakeholderLinkFilter
    ordering_fields = ["strength", "created_at", "id"]
    ordering = ["id"]
    create_service = staticmethod(editing.stakeholder_link_create)
    update_service = staticmethod(editing.stakeholder_link_update)

    def perform_destroy(self, instance: StakeholderLink) -> None:
        editing.stakeholder_link_delete(instance, by=self.request.user)


class GoalViewSet(CsvExportMixin, ArchiveActionMixin, RapportViewSet):
    """Strategic goals with their linked stakeholders and each one's role."""

    model = StrategicGoal
    serializer_class = serializers.GoalSerializer
    filterset_class = filters.GoalFilter
    search_fields = ["title", "description"]
    ordering_fields = ["title", "period_start", "period_end", "created_at", "id"]

    def base_queryset(self) -> models.QuerySet:
        return StrategicGoal.objects.prefetch_related("links")

    create_service = staticmethod(editing.goal_create)
    update_service = staticmethod(editing.goal_update)
    archive_service = staticmethod(editing.goal_archive)


class RelationshipViewSet(CsvExportMixin, RapportViewSet):
    """User ↔ stakeholder ties: changed by their user, the stakeholder's owner, directors."""

    model = Relationship
    serializer_class = serializers.RelationshipSerializer
    filterset_class = filters.RelationshipFilter
    search_fields = ["stakeholder__name", "user__username", "objective"]
    ordering_fields = ["next_review", "started_on", "created_at", "id"]
    create_service = staticmethod(editing.relationship_create)
    update_service = staticmethod(editing.relationship_update)

    def base_queryset(self) -> models.QuerySet:
        return Relationship.objects.select_related("stakeholder")

    def get_queryset(self) -> models.QuerySet:
        # The latest pulse and the review flag come with the rows (subqueries), and
        # `?review=true` filters on the flag.
        return registry.relationship_review(super().get_queryset(), self.request.user)


RELATIONSHIP_ID_PARAMETER = OpenApiParameter(
    "relationship_id",
    int,
    OpenApiParameter.PATH,
    description="The relationship's id; 404 when it does not exist or you may not see it.",
)


@extend_schema_view(
    list=extend_schema(parameters=[RELATIONSHIP_ID_PARAMETER]),
    create=extend_schema(parameters=[RELATIONSHIP_ID_PARAMETER, IDEMPOTENCY_PARAMETER]),
    retrieve=extend_schema(parameters=[RELATIONSHIP_ID_PARAMETER]),
    update=extend_schema(parameters=[RELATIONSHIP_ID_PARAMETER]),
    partial_update=extend_schema(parameters=[RELATIONSHIP_ID_PARAMETER]),
    destroy=extend_schema(parameters=[RELATIONSHIP_ID_PARAMETER]),
)
class PulseViewSet(RapportViewSet):
    """Authenticity pulses of one relationship, newest first.

    Seen by their author, the relationship's user and directors; recorded by the
    relationship's user, members (users with their own relationship to the same
    stakeholder) and directors; changed or deleted by their author or a director.
    """

    model = AuthenticityPulse
    serializer_class = serializers.PulseSerializer
    ordering_fields = ["assessed_on", "created_at", "id"]
    ordering = ["-assessed_on", "-id"]

    def relationship(self) -> Relationship:
        """The relationship in the URL, visible to the caller (404 otherwise)."""
        if not hasattr(self, "_relationship"):
            relationship_id = parse_id(self.kwargs.get("relationship_id", ""))
            relationship = (
                Relationship.objects.visible_to(self.request.user)
                .filter(pk=relationship_id)
                .first()
                if relationship_id is not None
                else None
            )
            if relationship is None:
                raise NotFound
            self._relationship = relationship
        return self._relationship

    def get_queryset(self) -> models.QuerySet:
        if getattr(self, "swagger_fake_view", False):
            return AuthenticityPulse.objects.none()
        return AuthenticityPulse.objects.visible_to(self.request.user).filter(
            relationship=self.relationship()
        )

    def get_serializer_context(self) -> dict:
        context = super().get_serializer_context()
        if not getattr(self, "swagger_fake_view", False):
            context["relationship"] = self.relationship()
        return context

    def get_success_headers(self, data: Any) -> dict[str, str]:
        if isinstance(data, dict) and "id" in data:
            url = reverse(
                "api:relationship-pulse-detail", args=[self.relationship().pk, data["id"]]
            )
            return {"Location": url}
        return {}

    # The services audit pulses themselves.
    def perform_create(self, serializer: drf_serializers.BaseSerializer) -> None:
        serializer.save()

    def perform_update(self, serializer: drf_serializers.BaseSerializer) -> None:
        serializer.save()

    def perform_destroy(self, instance: AuthenticityPulse) -> None:
        services.pulse_delete(instance, by=self.request.user)


def _expected_version(request: Request) -> int | None:
    """The version from `If-Match` (`3`, `"3"` or `W/"3"`); None when absent."""
    header = request.headers.get("If-Match")
    if not header or header.strip() == "*":
        return None
    match = re.fullmatch(r'\s*(?:W/)?"?(\d{1,9})"?\s*', header)
    if not match:
        raise drf_serializers.ValidationError(
            {"If-Match": ['Send the record\'s version, e.g. If-Match: "3".']}
        )
    return int(match.group(1))


class InteractionViewSet(IfMatchMixin, CsvExportMixin, RapportViewSet):
    """Interactions: logged through the same service as the browser form.

    Logging one creates the missing relationships of its participants and
    stakeholders. Private interactions' `notes` are null for callers who are
    neither participants nor directors.
    """

    model = Interaction
    serializer_class = serializers.InteractionSerializer
    filterset_class = filters.InteractionFilter
    search_fields = ["subject"]  # not notes: a private note must not be findable
    ordering_fields = ["occurred_at", "subject", "created_at", "id"]

    def base_queryset(self) -> models.QuerySet:
        return Interaction.objects.prefetch_related(
            Prefetch("internal_participants", queryset=_only_ids(User)),
            Prefetch("stakeholders", queryset=_only_ids(Stakeholder)),
        )

    def get_serializer_context(self) -> dict:
        context = super().get_serializer_context()
        if self.request.method in {"PUT", "PATCH"}:
            context["expected_version"] = _expected_version(self.request)
        return context

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response = super().retrieve(request, *args, **kwargs)
        response["ETag"] = f'"{response.data["version"]}"'
        return response

    # The services audit interactions themselves.
    def perform_create(self, serializer: drf_serializers.BaseSerializer) -> None:
        serializer.save()

    def perform_update(self, serializer: drf_serializers.BaseSerializer) -> None:
        serializer.save()

    def perform_destroy(self, instance: Interaction) -> None:
        services.interaction_delete(instance, by=self.request.user)

    @extend_schema(
        request=serializers.InteractionBulkSerializer,
        responses={201: serializers.InteractionBulkResultSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
        description="Create up to 1,000 interactions in one transaction: all or none. "
        "A 400 gives the errors of each failing item by its index: "
        '`{"interactions": {"3": {"kind": ["..."]}}}`; nothing is saved.',
    )
    @action(detail=False, methods=["post"], url_path="bulk")
    def bulk(self, request: Request) -> Response:
        return idempotent(request, lambda: self._bulk_create(request))

    def _bulk_create(self, request: Request) -> Response:
        context = self.get_serializer_context()
        context["pk_cache"] = self._prefetch_ids(request.data)
        serializer = serializers.InteractionBulkSerializer(data=request.data, context=context)
        serializer.is_valid(raise_exception=True)
        items = serializer.validated_data["interactions"]
        ids = []
        item_serializer = serializers.InteractionSerializer(context=context)
        for index, item in enumerate(items):
            try:
                ids.append(item_serializer.create(dict(item)).pk)
            except DjangoValidationError as exc:
                # Model validation the serializer cannot see; report it at the item.
                errors = {str(index): drf_serializers.as_serializer_error(exc)}
                raise drf_serializers.ValidationError({"interactions": errors}) from exc
        return Response({"created": len(ids), "ids": ids}, status=status.HTTP_201_CREATED)

    def _prefetch_ids(self, data: Any) -> dict:
        """Load every user and stakeholder the items name, one query per model."""
        items = data.get("interactions") if isinstance(data, dict) else None
        if not isinstance(items, list) or len(items) > 1000:
            return {}
        wanted: dict[str, set[int]] = {"internal_participants": set(), "stakeholders": set()}
        for item in items:
            if not isinstance(item, dict):
                continue
            for name, ids in wanted.items():
                values = item.get(name)
                if isinstance(values, list):
                    ids.update(
                        v
                        for v in values
                        if isinstance(v, int) and not isinstance(v, bool) and 0 < v < 2**63
                    )
        user = self.request.user
        return {
            User: {u.pk: u for u in staff_users().filter(pk__in=wanted["internal_participants"])},
            Stakeholder: {
                s.pk: s
                for s in Stakeholder.objects.visible_to(user).filter(pk__in=wanted["stakeholders"])
            },
        }


class CommitmentViewSet(IfMatchMixin, CsvExportMixin, RapportViewSet):
    """Promises made by us or by them; closed by the responsible, its creator, the
    stakeholder's owner or a director."""

    model = Commitment
    serializer_class = serializers.CommitmentSerializer
    filterset_class = filters.CommitmentFilter
    search_fields = ["description"]
    ordering_fields = ["due_date", "status", "created_at", "id"]

    def base_queryset(self) -> models.QuerySet:
        return Commitment.objects.select_related("stakeholder")

    # The edit page's service: the same permission, completion date, version and audit.
    def perform_update(self, serializer: drf_serializers.BaseSerializer) -> None:
        serializer.instance = editing.commitment_update(
            serializer.instance,
            by=self.request.user,
            expected_version=_expected_version(self.request),
            **serializer.validated_data,
        )


class OutcomeViewSet(CsvExportMixin, ArchiveActionMixin, RapportViewSet):
    """Value produced by a relationship: changed by its creator, the person credited,
    the stakeholder's owner or a director."""

    model = Outcome
    serializer_class = serializers.OutcomeSerializer
    filterset_class = filters.OutcomeFilter
    search_fields = ["description"]
    ordering_fields = ["occurred_on", "value", "created_at", "id"]
    create_service = staticmethod(editing.outcome_create)
    update_service = staticmethod(editing.outcome_update)
    archive_service = staticmethod(editing.outcome_archive)

    def base_queryset(self) -> models.QuerySet:
        return Outcome.objects.select_related("stakeholder")


class WebhookViewSet(RapportViewSet):
    """Directors register endpoints for events; deliveries are signed (see the README)."""

    model = Webhook
    serializer_class = serializers.WebhookSerializer
    search_fields = ["url", "description"]
    ordering_fields = ["created_at", "url"]

    def get_permissions(self) -> list:
        return [*super().get_permissions(), DirectorWrites()]

    def get_serializer_context(self) -> dict:
        # The secret is shown once: in the answer to the create.
        return {**super().get_serializer_context(), "show_secret": self.action == "create"}

    # The webhook pages' services: the caller's own endpoint, the outbound guard on a
    # new or changed URL, the secret made once and never changed, audited.
    create_service = staticmethod(editing.webhook_create)
    update_service = staticmethod(editing.webhook_update)

    @extend_schema(responses=serializers.WebhookDeliverySerializer(many=True))
    @action(detail=True, methods=["get"])
    def deliveries(self, request: Request, pk: str | None = None) -> Response:
        """The delivery log of this webhook, newest first."""
        webhook = self.get_object()
        page = self.paginate_queryset(webhook.deliveries.order_by("-created_at", "-pk"))
        return self.get_paginated_response(
            serializers.WebhookDeliverySerializer(page, many=True).data
        )
