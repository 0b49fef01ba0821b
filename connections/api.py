"""API of connected accounts and the review queue of suggested stakeholders.

`/api/v1/connections/`: each caller sees and changes their own accounts only (directors
too: a mailbox is personal). The password (`secret`) is write-only: required to create,
optional on a change (left out or blank keeps the stored one), never in an answer.
`POST /api/v1/connections/{id}/sync/` queues a sync. `DELETE` keeps what the account
captured unless `?delete_captured=true`.

`/api/v1/suggested-stakeholders/`: the caller's review queue, with `accept`, `merge`
(into the possible match) and `ignore`.
"""

from __future__ import annotations

from typing import Any

from django.db import models, transaction
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from connections import services
from connections.models import ConnectedAccount, SuggestedStakeholder
from relations.api.permissions import IsStaffMember
from relations.api.serializers import StrictModelSerializer
from relations.api.viewsets import DetailWithoutListFiltersMixin, RapportViewSet
from relations.integrations.outbound import UnsafeDestination, check_destination, check_host


def validate_account(data: dict, instance: ConnectedAccount | None) -> dict:
    """What a mailbox and a DAV account need, and a server Rapport may reach (the sync
    checks it again: DNS may change). Raises ValidationError naming the field."""
    kind = instance.kind if instance is not None else data.get("kind")
    errors: dict[str, str] = {}
    if kind == ConnectedAccount.Kind.IMAP:
        host = data.get("host", instance.host if instance else "")
        if not host:
            errors["host"] = "A mailbox needs its IMAP server."
        elif "host" in data or "port" in data:
            security = data.get("security", instance.security if instance else "tls")
            port = data.get("port") or (instance.port if instance else None)
            port = port or (993 if security == "tls" else 143)
            try:
                check_host(host, port)
            except UnsafeDestination as exc:
                errors["host"] = str(exc)
    elif kind in (ConnectedAccount.Kind.CALDAV, ConnectedAccount.Kind.CARDDAV):
        url = data.get("url", instance.url if instance else "")
        if not url:
            errors["url"] = "A calendar or address book needs its address."
        elif "url" in data:
            try:
                check_destination(url)
            except UnsafeDestination as exc:
                errors["url"] = str(exc)
    if instance is None and not data.get("secret"):
        errors["secret"] = "The password (or app password) is needed."
    folders = data.get("folders")
    if folders is not None and (
        not isinstance(folders, list)
        or not folders
        or not all(isinstance(f, str) and f.strip() and len(f) <= 200 for f in folders)
    ):
        errors["folders"] = "A list of one or more folder names."
    if errors:
        raise ValidationError(errors)
    return data


class ConnectedAccountSerializer(StrictModelSerializer):
    secret = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=1000,
        style={"input_type": "password"},
        help_text="The password or app password: write-only, never returned. Blank or left "
        "out on a change keeps the stored one.",
    )
    folders = serializers.ListField(
        child=serializers.CharField(max_length=200),
        required=False,
        help_text='IMAP folders to read (default ["INBOX", "Sent"]).',
    )
    status_message = serializers.CharField(read_only=True, help_text="Why, in plain words.")

    class Meta:
        model = ConnectedAccount
        fields = [
            "id",
            "kind",
            "label",
            "host",
            "port",
            "security",
            "url",
            "collection_url",
            "username",
            "secret",
            "folders",
            "content",
            "exclude_addresses",
            "sync_interval_minutes",
            "status",
            "status_message",
            "last_synced_at",
            "next_sync_at",
            "progress_done",
            "progress_total",
            "created_at",
        ]
        read_only_fields = [
            "collection_url",
            "status",
            "last_synced_at",
            "next_sync_at",
            "progress_done",
            "progress_total",
            "created_at",
        ]

    def validate_sync_interval_minutes(self, value: int) -> int:
        if not 1 <= value <= 24 * 60:
            raise ValidationError("From 1 to 1440 minutes.")
        return value

    def validate(self, attrs: dict) -> dict:
        if self.instance is not None and "kind" in attrs and attrs["kind"] != self.instance.kind:
            raise ValidationError({"kind": "The kind of an account cannot change."})
        return validate_account(attrs, self.instance)


class ConnectedAccountViewSet(RapportViewSet):
    """The caller's connected accounts (directors too see only their own)."""

    model = ConnectedAccount
    # The schema generator reads the model here: get_queryset needs a signed-in user.
    queryset = ConnectedAccount.objects.none()
    serializer_class = ConnectedAccountSerializer
    search_fields = ["label", "host", "url"]
    ordering_fields = ["label", "created_at"]
    create_service = staticmethod(services.account_create)
    update_service = staticmethod(services.account_update)

    def get_queryset(self) -> models.QuerySet:
        return ConnectedAccount.objects.filter(owner=self.request.user).order_by("label", "pk")

    def can_change(self, user: Any, obj: ConnectedAccount) -> bool:
        return obj.owner_id == user.pk

    def can_delete(self, user: Any, obj: ConnectedAccount) -> bool:
        return obj.owner_id == user.pk

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "delete_captured",
                bool,
                description="Also delete the interactions only this account brought "
                "(default: keep them).",
            )
        ]
    )
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        account = self.get_object()
        raw = request.query_params.get("delete_captured", "false").lower()
        if raw not in {"true", "false", "1", "0"}:
            raise ValidationError({"delete_captured": "true or false."})
        with transaction.atomic():
            services.account_remove(account, by=request.user, delete_captured=raw in {"true", "1"})
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={202: ConnectedAccountSerializer})
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def sync(self, request: Request, pk: str | None = None) -> Response:
        """Queue a sync of the account now (whatever its status)."""
        account = self.get_object()
        with transaction.atomic():
            services.sync_request(account)
        account.refresh_from_db()
        return Response(self.get_serializer(account).data, status=status.HTTP_202_ACCEPTED)


class SuggestedStakeholderSerializer(serializers.ModelSerializer):
    class Meta:
        model = SuggestedStakeholder
        fields = [
            "id",
            "email",
            "name",
            "organisation_name",
            "message_count",
            "meeting_count",
            "status",
            "possible_match",
            "first_seen_at",
            "last_seen_at",
        ]
        read_only_fields = fields


class AcceptSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    organisation_name = serializers.CharField(max_length=200, required=False, allow_blank=True)


class StakeholderMadeSerializer(serializers.Serializer):
    stakeholder = serializers.IntegerField(help_text="The stakeholder created or merged into.")


class SuggestedStakeholderViewSet(DetailWithoutListFiltersMixin, viewsets.ReadOnlyModelViewSet):
    """The caller's review queue: people their accounts met who are no stakeholder yet."""

    # The schema generator reads the model here: get_queryset needs a signed-in user.
    queryset = SuggestedStakeholder.objects.none()
    serializer_class = SuggestedStakeholderSerializer
    permission_classes = [IsStaffMember]
    lookup_value_regex = "[^/]+"
    filterset_fields = ["status"]
    search_fields = ["email", "name", "organisation_name"]
    ordering_fields = ["last_seen_at", "message_count", "meeting_count", "email"]

    def get_queryset(self) -> models.QuerySet:
        return SuggestedStakeholder.objects.filter(owner=self.request.user).order_by(
            "-last_seen_at", "pk"
        )

    @extend_schema(request=AcceptSerializer, responses={200: StakeholderMadeSerializer})
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def accept(self, request: Request, pk: str | None = None) -> Response:
        """Create the stakeholder (yours) and log the mail and meetings that waited for them."""
        suggestion = self.get_object()
        body = AcceptSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        stakeholder = services.suggestion_accept(suggestion, by=request.user, **body.validated_data)
        return Response({"stakeholder": stakeholder.pk})

    @extend_schema(request=None, responses={200: StakeholderMadeSerializer})
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def merge(self, request: Request, pk: str | None = None) -> Response:
        """The person is the possible match: the address becomes theirs."""
        suggestion = self.get_object()
        if suggestion.possible_match_id is None:
            raise ValidationError({"possible_match": "This suggestion has no possible match."})
        try:
            stakeholder = services.suggestion_merge(suggestion, by=request.user)
        except ValueError as exc:
            raise ValidationError({"possible_match": "The possible match is gone."}) from exc
        return Response({"stakeholder": stakeholder.pk})

    @extend_schema(request=None, responses={204: None})
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def ignore(self, request: Request, pk: str | None = None) -> Response:
        """Keep the person out: their mail is not logged unless someone known takes part."""
        services.suggestion_ignore(self.get_object(), by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
