"""Serializers with the field names of DESIGN §6.

Ids the caller chooses are resolved through the same `visible_to` querysets as
the browser, so an id the caller may not see is a 400 naming the field, exactly
like an id that does not exist.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.contrib.auth.models import User
from django.db import models, transaction
from django.db.models import Count, OuterRef, StringAgg, Subquery, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, extend_schema_field, extend_schema_serializer
from rest_framework import serializers
from rest_framework.relations import MANY_RELATION_KWARGS

from relations import services
from relations.api.fastread import FastReadMixin
from relations.api.fields import (
    MoneyField,
    StrictBooleanField,
    StrictCharField,
    StrictChoiceField,
    StrictEmailField,
    StrictFloatField,
    StrictIntegerField,
    StrictListField,
    StrictManyRelatedField,
    StrictURLField,
)
from relations.integrations import webhooks
from relations.models import (
    AuthenticityPulse,
    Commitment,
    GoalStakeholder,
    Interaction,
    Organization,
    Outcome,
    Relationship,
    Stakeholder,
    StakeholderLink,
    StrategicGoal,
    Tag,
    Team,
    Webhook,
    WebhookDelivery,
)
from relations.roles import DIRECTOR, staff_users


def _request_user(context: dict) -> Any:
    request = context.get("request")
    return getattr(request, "user", None)


class VisiblePrimaryKeyField(serializers.PrimaryKeyRelatedField):
    """An id resolved within what the requesting user may see.

    The bulk endpoint fills `context["pk_cache"]` with the rows of all ids it
    received, so 1,000 items cost one query per model instead of one per id.
    """

    def __init__(self, model: type[models.Model] | None = None, **kwargs: Any) -> None:
        self.model = model
        if not kwargs.get("read_only"):
            kwargs.setdefault("queryset", (model or User).objects.none())
        super().__init__(**kwargs)

    def get_queryset(self) -> models.QuerySet:
        user = _request_user(self.context)
        if self.model is None:
            return staff_users()
        if user is None:
            return self.model.objects.none()
        return self.model.objects.visible_to(user)

    @classmethod
    def many_init(cls, *args: Any, **kwargs: Any) -> StrictManyRelatedField:
        list_kwargs = {"child_relation": cls(*args, **kwargs)}
        for key in kwargs:
            if key in MANY_RELATION_KWARGS:
                list_kwargs[key] = kwargs[key]
        return StrictManyRelatedField(**list_kwargs)

    def run_validation(self, data: Any = serializers.empty) -> Any:
        # DRF reads "" as null for relations; the schema says an id or null, so "" is
        # a wrong type, not a way to clear the field.
        if isinstance(data, str) and data == "":
            self.fail("incorrect_type", data_type="str")
        return super().run_validation(data)

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, int) or isinstance(data, bool):
            self.fail("incorrect_type", data_type=type(data).__name__)
        cache = self.context.get("pk_cache", {}).get(self.model or User)
        if cache is not None and isinstance(data, int) and not isinstance(data, bool):
            if data in cache:
                return cache[data]
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(data)


class StrictModelSerializer(FastReadMixin, serializers.ModelSerializer):
    """Model fields map to the strict fields: only the JSON types the schema promises."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.BooleanField: StrictBooleanField,
        models.CharField: StrictCharField,
        models.TextField: StrictCharField,
        models.EmailField: StrictEmailField,
        models.URLField: StrictURLField,
        models.IntegerField: StrictIntegerField,
        models.SmallIntegerField: StrictIntegerField,
        models.PositiveIntegerField: StrictIntegerField,
        models.PositiveSmallIntegerField: StrictIntegerField,
        models.FloatField: StrictFloatField,
        models.DecimalField: MoneyField,
    }
    serializer_choice_field = StrictChoiceField


class TimestampedSerializer(StrictModelSerializer):
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)


class ArchivableSerializer(TimestampedSerializer):
    """A record the browser archives (DESIGN §5a): out of the lists, still in the
    figures. Read-only here; `POST …/{id}/archive/` and `…/unarchive/` change it."""

    archived = serializers.BooleanField(
        source="is_archived", read_only=True, help_text="Archived: left out of the lists."
    )
    archived_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="When it was archived; null when it is not."
    )


# --- Users and teams ------------------------------------------------------------


class UserSerializer(serializers.ModelSerializer):
    full_name = serializers.SerializerMethodField()
    is_director = serializers.SerializerMethodField()
    teams = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    # A plain string: staff accounts may have no (or a legacy, unvalidated) address.
    email = serializers.CharField(read_only=True)

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "first_name",
            "last_name",
            "full_name",
            "email",
            "is_director",
            "teams",
        ]
        read_only_fields = fields

    def get_full_name(self, user: User) -> str:
        return user.get_full_name() or user.username

    def get_is_director(self, user: User) -> bool:
        # Groups are prefetched by the view; is_director() would query per user.
        return user.is_superuser or any(g.name == DIRECTOR for g in user.groups.all())


class TeamSerializer(TimestampedSerializer):
    members = VisiblePrimaryKeyField(many=True, required=False, help_text="User ids.")

    class Meta:
        model = Team
        fields = ["id", "name", "description", "members", "created_at", "updated_at"]


# --- Organisations and stakeholders -------------------------------------------------


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "An organisation",
            value={
                "name": "Acme Energy",
                "sector": "Energy",
                "country": "NL",
                "website": "https://acme.example",
                "tier": 1,
            },
            request_only=True,
        )
    ]
)
class OrganizationSerializer(ArchivableSerializer):
    class Meta:
        model = Organization
        fields = [
            "id",
            "name",
            "sector",
            "country",
            "website",
            "tier",
            "notes",
            "archived",
            "archived_at",
            "created_at",
            "updated_at",
        ]


TAG_SEPARATOR = "\x1f"  # the ASCII unit separator: not in tag names typed by people


def with_tag_names(queryset: models.QuerySet) -> models.QuerySet:
    """Annotate each stakeholder with its tag names, in the row's own query.

    `tag_names` is the number of tags, then each name, joined by TAG_SEPARATOR
    (null without tags): one subquery per row, where a name and a count each took
    one, and the count notices a name holding the separator (TagNamesField then
    reads the tags themselves). Replaces a prefetch: one query less per read.
    """
    through = Stakeholder.tags.through.objects.filter(stakeholder_id=OuterRef("pk")).order_by()
    summary = through.values("stakeholder_id").annotate(
        summary=Concat(
            Cast(Count("pk"), output_field=models.CharField()),
            Value(TAG_SEPARATOR),
            StringAgg("tag__name", delimiter=Value(TAG_SEPARATOR)),
            output_field=models.CharField(),
        )
    )
    return queryset.annotate(tag_names=Subquery(summary.values("summary")[:1]))


def annotated_tag_names(instance: Any) -> list[str] | None:
    """The names `with_tag_names` read with the row, or None (not annotated, or a name
    holding the separator)."""
    if "tag_names" not in instance.__dict__:
        return None
    summary = instance.__dict__["tag_names"]
    if not summary:
        return []
    count, *names = summary.split(TAG_SEPARATOR)
    return sorted(names) if len(names) == int(count) else None


class TagNamesField(StrictListField):
    """Tags as a list of names: read from the `with_tag_names` annotation (or the
    tags themselves), written as plain strings."""

    def get_attribute(self, instance: Any) -> Any:
        # The annotation spares building a related manager per row.
        names = annotated_tag_names(instance)
        return super().get_attribute(instance) if names is None else names

    def to_representation(self, value: Any) -> list[str]:
        if isinstance(value, list):
            return value
        return sorted(tag.name for tag in value.all())


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "A stakeholder",
            value={
                "name": "Ada Lovelace",
                "organization": 1,
                "title": "CTO",
                "email": "ada@acme.example",
                "phone": "+31 20 123 4567",
                "tags": ["board", "energy"],
                "importance": 5,
                "influence": 4,
                "interest": 3,
                "owner": 1,
            },
            request_only=True,
        )
    ]
)
class StakeholderSerializer(ArchivableSerializer):
    organization = VisiblePrimaryKeyField(
        Organization, required=False, allow_null=True, help_text="Organization id."
    )
    owner = VisiblePrimaryKeyField(
        required=False, allow_null=True, help_text="User id of the accountable staff member."
    )
    tags = TagNamesField(
        child=StrictCharField(max_length=60),
        required=False,
        max_length=50,
        help_text="Tag names; unknown names are created.",
    )
    cadence_days = StrictIntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=3650,
        help_text="Target contact interval in days; omitted or null: 5→30, 4→45, 3→60, "
        "2→90, 1→120 by importance.",
    )
    is_key = serializers.SerializerMethodField(
        help_text="Importance ≥ 4 or linked to an active strategic goal."
    )

    class Meta:
        model = Stakeholder
        fields = [
            "id",
            "name",
            "organization",
            "title",
            "email",
            "phone",
            "tags",
            "importance",
            "influence",
            "interest",
            "owner",
            "cadence_days",
            "is_key",
            "legal_basis",
            "consent_date",
            "data_source_kind",
            "data_source",
            "objection_on",
            "objection_note",
            "notes",
            "erased_at",
            "retention_flagged_at",
            "archived",
            "archived_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["erased_at", "retention_flagged_at"]

    def get_is_key(self, stakeholder: Stakeholder) -> bool:
        return stakeholder.is_key

    def validate_tags(self, names: list[str]) -> list[str]:
        return sorted({name.strip() for name in names if name.strip()})

    def validate(self, attrs: dict) -> dict:
        """Consent is dated, objections too, and neither lies in the future (GDPR)."""
        attrs = super().validate(attrs)

        def value(name: str) -> Any:
            return attrs[name] if name in attrs else getattr(self.instance, name, None)

        today = timezone.localdate()
        errors = {}
        consent_date = value("consent_date")
        if value("legal_basis") == Stakeholder.LegalBasis.CONSENT and not consent_date:
            errors["consent_date"] = [_("Give the date of consent when consent is the basis.")]
        elif consent_date and consent_date > today:
            errors["consent_date"] = [_("Consent cannot be dated in the future.")]
        objection_on = value("objection_on")
        if objection_on and objection_on > today:
            errors["objection_on"] = [_("An objection cannot be dated in the future.")]
        elif value("objection_note") and not objection_on:
            errors["objection_on"] = [_("Give the date of the objection.")]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs

    def _set_tags(self, stakeholder: Stakeholder, names: list[str] | None) -> None:
        if names is None:
            return
        existing = {t.name: t for t in Tag.objects.filter(name__in=names)}
        missing = [Tag(name=n) for n in names if n not in existing]
        # ignore_conflicts: a concurrent request may create the same tag.
        Tag.objects.bulk_create(missing, ignore_conflicts=True)
        stakeholder.tags.set(Tag.objects.filter(name__in=names))
        # The annotation of `with_tag_names` is stale now: the answer reads the tags.
        stakeholder.__dict__.pop("tag_names", None)

    def create(self, validated_data: dict) -> Stakeholder:
        names = validated_data.pop("tags", None)
        if validated_data.get("cadence_days") is None:
            validated_data.pop("cadence_days", None)
        stakeholder = super().create(validated_data)
        self._set_tags(stakeholder, names)
        return stakeholder

    def update(self, instance: Stakeholder, validated_data: dict) -> Stakeholder:
        names = validated_data.pop("tags", None)
        if "cadence_days" in validated_data and validated_data["cadence_days"] is None:
            validated_data["cadence_days"] = 0  # save() derives it from the importance
        stakeholder = super().update(instance, validated_data)
        self._set_tags(stakeholder, names)
        return stakeholder


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "A link",
            value={
                "from_stakeholder": 1,
                "to_stakeholder": 2,
                "kind": "reports_to",
                "strength": 0.8,
            },
            request_only=True,
        )
    ]
)
class StakeholderLinkSerializer(TimestampedSerializer):
    from_stakeholder = VisiblePrimaryKeyField(Stakeholder, help_text="Stakeholder id.")
    to_stakeholder = VisiblePrimaryKeyField(Stakeholder, help_text="Stakeholder id.")
    created_by = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True, help_text="User id; null once that user is deleted."
    )

    class Meta:
        model = StakeholderLink
        fields = [
            "id",
            "from_stakeholder",
            "to_stakeholder",
            "kind",
            "strength",
            "created_by",
            "created_at",
            "updated_at",
        ]
        # The pair-and-kind uniqueness is checked in validate() with a field message.
        validators: list = []

    def validate(self, attrs: dict) -> dict:
        source = attrs.get("from_stakeholder", getattr(self.instance, "from_stakeholder", None))
        target = attrs.get("to_stakeholder", getattr(self.instance, "to_stakeholder", None))
        kind = attrs.get("kind", getattr(self.instance, "kind", StakeholderLink.Kind.COLLEAGUE))
        if source is not None and source == target:
            raise serializers.ValidationError(
                {"to_stakeholder": ["A stakeholder cannot be linked to itself."]}
            )
        duplicate = StakeholderLink.objects.filter(
            from_stakeholder=source, to_stakeholder=target, kind=kind
        ).exclude(pk=getattr(self.instance, "pk", None))
        if duplicate.exists():
            raise serializers.ValidationError(
                {"to_stakeholder": ["This link of this kind already exists."]}
            )
        return attrs


# --- Relationships ----------------------------------------------------------------


class PulseReviewSerializer(serializers.Serializer):
    """The latest pulse beside computed trust and the review flag, read from the row's
    annotations (`relations.registry.relationship_review`); null when not read."""

    latest_pulse = serializers.SerializerMethodField(
        help_text="Id of the latest authenticity pulse you may see on the relationship."
    )
    latest_pulse_on = serializers.SerializerMethodField(help_text="The date of that pulse.")
    latest_pulse_score = serializers.SerializerMethodField(
        help_text="That pulse on trust's 0–1 scale (the mean of its three dimensions)."
    )
    flagged_for_review = serializers.SerializerMethodField(
        help_text="True when the latest pulse and the computed trust differ by 0.3 or more, "
        "as the relationship page flags it; false when they agree or either is missing; "
        "null when the relationship's scores are not yours to see (only its user and "
        "directors see them). List the flagged ones with `?review=true`."
    )
    review_direction = serializers.SerializerMethodField(
        help_text="When flagged: `higher` (the pulse is above computed trust) or `lower`."
    )

    @extend_schema_field({"type": "integer", "nullable": True})
    def get_latest_pulse(self, row: Any) -> int | None:
        return getattr(row, "latest_pulse_id", None)

    @extend_schema_field({"type": "string", "format": "date", "nullable": True})
    def get_latest_pulse_on(self, row: Any) -> str | None:
        value = getattr(row, "latest_pulse_on", None)
        return value.isoformat() if value is not None else None

    @extend_schema_field({"type": "number", "format": "double", "nullable": True})
    def get_latest_pulse_score(self, row: Any) -> float | None:
        value = getattr(row, "latest_pulse_score", None)
        # SQL's float arithmetic may differ from `AuthenticityPulse.score` in the last bit.
        return round(value, 9) if value is not None else None

    @extend_schema_field({"type": "boolean", "nullable": True})
    def get_flagged_for_review(self, row: Any) -> bool | None:
        value = getattr(row, "flagged_for_review", None)
        return bool(value) if value is not None else None

    @extend_schema_field({"type": "string", "enum": ["higher", "lower", None], "nullable": True})
    def get_review_direction(self, row: Any) -> str | None:
        return getattr(row, "review_direction", None)


PULSE_REVIEW_FIELDS = [
    "latest_pulse",
    "latest_pulse_on",
    "latest_pulse_score",
    "flagged_for_review",
    "review_direction",
]


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "A relationship plan",
            value={
                "user": 1,
                "stakeholder": 1,
                "role": "owner",
                "status": "active",
                "objective": "Co-develop the pilot",
                "desired_strength": 0.7,
                "next_review": "2026-06-01",
            },
            request_only=True,
        )
    ]
)
class RelationshipSerializer(PulseReviewSerializer, TimestampedSerializer):
    user = VisiblePrimaryKeyField(
        required=False, help_text="User id; defaults to the caller on create."
    )
    stakeholder = VisiblePrimaryKeyField(Stakeholder, help_text="Stakeholder id.")

    class Meta:
        model = Relationship
        fields = [
            "id",
            "user",
            "stakeholder",
            "role",
            "status",
            "started_on",
            "objective",
            "desired_strength",
            "next_review",
            *PULSE_REVIEW_FIELDS,
            "created_at",
            "updated_at",
        ]
        validators: list = []

    def validate(self, attrs: dict) -> dict:
        caller = _request_user(self.context)
        if self.instance is None:
            attrs.setdefault("user", caller)
        else:
            for name in ("user", "stakeholder"):
                if name in attrs and attrs[name] != getattr(self.instance, name):
                    raise serializers.ValidationError(
                        {name: ["A relationship's user and stakeholder cannot change."]}
                    )
            return attrs
        user, stakeholder = attrs["user"], attrs["stakeholder"]
        if user != caller and not stakeholder.relationships_assignable_by(caller):
            raise serializers.ValidationError(
                {"user": ["Only the stakeholder's owner or a director may add someone else."]}
            )
        if Relationship.objects.filter(user=user, stakeholder=stakeholder).exists():
            raise serializers.ValidationError(
                {"stakeholder": ["This user already has a relationship with this stakeholder."]}
            )
        return attrs


# --- Interactions ---------------------------------------------------------------------


@extend_schema_field({"type": "string", "nullable": True})
class NotesField(StrictCharField):
    """Notes; null in answers when the interaction is private and the caller may not read them."""


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "A logged meeting",
            value={
                "occurred_at": "2026-03-01T10:00:00Z",
                "kind": "meeting",
                "subject": "Quarterly review",
                "notes": "Agreed on a pilot.",
                "internal_participants": [1],
                "stakeholders": [1],
                "value_given": 3,
                "value_received": 2,
                "sentiment": 1,
                "duration_minutes": 60,
                "cost": "25.00",
                "private": False,
            },
            request_only=True,
        )
    ]
)
class InteractionSerializer(TimestampedSerializer):
    internal_participants = VisiblePrimaryKeyField(
        many=True,
        required=False,
        allow_empty=False,
        help_text="User ids, at least one; defaults to the caller on create.",
    )
    stakeholders = VisiblePrimaryKeyField(
        Stakeholder, many=True, allow_empty=False, help_text="Stakeholder ids, at least one."
    )
    notes = NotesField(
        required=False,
        allow_blank=True,
        allow_null=True,
        max_length=20000,
        help_text="Null when the interaction is private and you are neither a participant "
        "nor a director. On update, null leaves the notes unchanged.",
    )
    created_by = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True, help_text="User id; null once that user is deleted."
    )
    version = StrictIntegerField(
        required=False,
        min_value=1,
        help_text="Read: the current version. On update, send the version you read (or an "
        "`If-Match` header) to get a 409 instead of overwriting someone else's edit.",
    )

    class Meta:
        model = Interaction
        fields = [
            "id",
            "occurred_at",
            "kind",
            "subject",
            "notes",
            "internal_participants",
            "stakeholders",
            "value_given",
            "value_received",
            "sentiment",
            "duration_minutes",
            "cost",
            "private",
            "created_by",
            "version",
            "created_at",
            "updated_at",
        ]
        extra_kwargs = {"cost": {"min_value": 0}}

    def validate_occurred_at(self, value: datetime) -> datetime:
        # Far-off years overflow when converted between time zones; nobody logs them.
        if not 1900 <= value.year <= 2200:
            raise serializers.ValidationError("Must be between the years 1900 and 2200.")
        return value

    def validate_notes(self, value: str | None) -> str | None:
        # null is what a caller who may not read private notes got: sending it back
        # unchanged must not wipe them (see update()).
        return value

    def to_representation(self, instance: Interaction) -> dict:
        data = super().to_representation(instance)
        user = _request_user(self.context)
        if user is not None and not instance.notes_visible_to(user):
            data["notes"] = None
        return data

    def create(self, validated_data: dict) -> Interaction:
        caller = _request_user(self.context)
        validated_data.pop("version", None)
        participants = validated_data.pop("internal_participants", None) or [caller]
        if validated_data.get("notes") is None:
            validated_data["notes"] = ""
        stakeholders = validated_data.pop("stakeholders")
        return services.interaction_log(
            by=caller, participants=participants, stakeholders=stakeholders, **validated_data
        )

    def update(self, instance: Interaction, validated_data: dict) -> Interaction:
        expected = validated_data.pop("version", None)
        if validated_data.get("notes", "") is None:
            del validated_data["notes"]
        if self.context.get("expected_version") is not None:
            expected = self.context["expected_version"]
        updated = services.interaction_update(
            instance,
            by=_request_user(self.context),
            expected_version=expected,
            participants=validated_data.pop("internal_participants", None),
            stakeholders=validated_data.pop("stakeholders", None),
            **validated_data,
        )
        # Reload so the answer shows the participants just saved, not the prefetched ones.
        return Interaction.objects.prefetch_related("internal_participants", "stakeholders").get(
            pk=updated.pk
        )


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Two interactions",
            value={
                "interactions": [
                    {
                        "occurred_at": "2026-03-01T10:00:00Z",
                        "kind": "email",
                        "subject": "Follow-up",
                        "stakeholders": [1],
                    },
                    {
                        "occurred_at": "2026-03-02T09:30:00Z",
                        "kind": "call",
                        "subject": "Check-in",
                        "stakeholders": [1],
                        "internal_participants": [1],
                        "duration_minutes": 15,
                    },
                ]
            },
            request_only=True,
        )
    ]
)
class InteractionBulkSerializer(serializers.Serializer):
    interactions = InteractionSerializer(
        many=True,
        allow_empty=False,
        max_length=1000,
        help_text="Up to 1,000 interactions, created together or not at all.",
    )


class InteractionBulkResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    ids = serializers.ListField(child=serializers.IntegerField())


# --- Commitments and outcomes ---------------------------------------------------------


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "A promise",
            value={
                "stakeholder": 1,
                "responsible": 1,
                "direction": "us",
                "description": "Send the pilot proposal",
                "due_date": "2026-03-15",
                "status": "open",
                "interaction": None,
            },
            request_only=True,
        )
    ]
)
class CommitmentSerializer(TimestampedSerializer):
    stakeholder = VisiblePrimaryKeyField(Stakeholder, help_text="Stakeholder id.")
    responsible = VisiblePrimaryKeyField(
        required=False, help_text="User id; defaults to the caller on create."
    )
    interaction = VisiblePrimaryKeyField(
        Interaction,
        required=False,
        allow_null=True,
        help_text="The interaction the promise was made in.",
    )
    created_by = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True, help_text="User id; null once that user is deleted."
    )
    is_overdue = serializers.BooleanField(read_only=True)

    class Meta:
        model = Commitment
        fields = [
            "id",
            "stakeholder",
            "responsible",
            "direction",
            "description",
            "due_date",
            "status",
            "completed_on",
            "is_overdue",
            "interaction",
            "created_by",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["completed_on", "version"]

    def validate(self, attrs: dict) -> dict:
        if self.instance is None:
            attrs.setdefault("responsible", _request_user(self.context))
        interaction = attrs.get("interaction", getattr(self.instance, "interaction", None))
        stakeholder = attrs.get("stakeholder", getattr(self.instance, "stakeholder", None))
        if (
            interaction is not None
            and not interaction.stakeholders.filter(pk=stakeholder.pk).exists()
        ):
            raise serializers.ValidationError(
                {"interaction": ["The stakeholder did not take part in this interaction."]}
            )
        return attrs

    @transaction.atomic
    def create(self, validated_data: dict) -> Commitment:
        caller = _request_user(self.context)
        status = validated_data.pop("status", Commitment.Status.OPEN)
        commitment = Commitment.objects.create(created_by=caller, **validated_data)
        if status != Commitment.Status.OPEN:
            services.commitment_set_status(commitment, by=caller, status=status)
        return commitment

    @transaction.atomic
    def update(self, instance: Commitment, validated_data: dict) -> Commitment:
        status = validated_data.pop("status", instance.status)
        commitment = super().update(instance, validated_data)
        if status != commitment.status:
            # The service sets (or clears) the completion date and audits the change.
            services.commitment_set_status(
                commitment, by=_request_user(self.context), status=status
            )
        return commitment


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "A deal",
            value={
                "stakeholder": 1,
                "credited_to": 1,
                "goal": None,
                "kind": "deal",
                "value": "25000.00",
                "occurred_on": "2026-04-01",
                "description": "Pilot contract signed",
            },
            request_only=True,
        )
    ]
)
class OutcomeSerializer(ArchivableSerializer):
    stakeholder = VisiblePrimaryKeyField(Stakeholder, help_text="Stakeholder id.")
    credited_to = VisiblePrimaryKeyField(required=False, allow_null=True, help_text="User id.")
    goal = VisiblePrimaryKeyField(
        StrategicGoal, required=False, allow_null=True, help_text="Strategic goal id."
    )
    created_by = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True, help_text="User id; null once that user is deleted."
    )

    class Meta:
        model = Outcome
        fields = [
            "id",
            "stakeholder",
            "credited_to",
            "goal",
            "kind",
            "value",
            "occurred_on",
            "description",
            "created_by",
            "archived",
            "archived_at",
            "created_at",
            "updated_at",
        ]
        extra_kwargs = {"value": {"min_value": 0}, "description": {"max_length": 20000}}

    def create(self, validated_data: dict) -> Outcome:
        return Outcome.objects.create(created_by=_request_user(self.context), **validated_data)


# --- Strategic goals ------------------------------------------------------------------


class GoalStakeholderSerializer(StrictModelSerializer):
    stakeholder = VisiblePrimaryKeyField(Stakeholder, help_text="Stakeholder id.")

    class Meta:
        model = GoalStakeholder
        fields = ["stakeholder", "role"]


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "A goal",
            value={
                "title": "Enter the German market",
                "description": "",
                "owner": 1,
                "period_start": "2026-01-01",
                "period_end": "2026-12-31",
                "status": "active",
                "stakeholders": [{"stakeholder": 1, "role": "sponsor"}],
            },
            request_only=True,
        )
    ]
)
class GoalSerializer(ArchivableSerializer):
    owner = VisiblePrimaryKeyField(required=False, allow_null=True, help_text="User id.")
    stakeholders = GoalStakeholderSerializer(
        source="links",
        many=True,
        required=False,
        help_text="Linked stakeholders with their role for the goal; replaces the list on write.",
    )

    class Meta:
        model = StrategicGoal
        fields = [
            "id",
            "title",
            "description",
            "owner",
            "period_start",
            "period_end",
            "status",
            "stakeholders",
            "archived",
            "archived_at",
            "created_at",
            "updated_at",
        ]
        extra_kwargs = {"description": {"max_length": 20000}}

    def validate_stakeholders(self, links: list[dict]) -> list[dict]:
        ids = [link["stakeholder"].pk for link in links]
        if len(ids) != len(set(ids)):
            raise serializers.ValidationError("A stakeholder is listed twice.")
        return links

    def validate(self, attrs: dict) -> dict:
        start = attrs.get("period_start", getattr(self.instance, "period_start", None))
        end = attrs.get("period_end", getattr(self.instance, "period_end", None))
        if start and end and end < start:
            raise serializers.ValidationError(
                {"period_end": ["The period cannot end before it starts."]}
            )
        return attrs

    def _set_links(self, goal: StrategicGoal, links: list[dict] | None) -> None:
        if links is None:
            return
        goal.links.all().delete()
        GoalStakeholder.objects.bulk_create(
            GoalStakeholder(goal=goal, stakeholder=link["stakeholder"], role=link.get("role", ""))
            for link in links
        )

    @transaction.atomic
    def create(self, validated_data: dict) -> StrategicGoal:
        links = validated_data.pop("links", None)
        goal = super().create(validated_data)
        self._set_links(goal, links)
        return goal

    @transaction.atomic
    def update(self, instance: StrategicGoal, validated_data: dict) -> StrategicGoal:
        links = validated_data.pop("links", None)
        goal = super().update(instance, validated_data)
        self._set_links(goal, links)
        return goal


# --- Authenticity pulses -----------------------------------------------------


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "A pulse",
            value={
                "assessed_on": "2026-05-01",
                "integrity": 4,
                "transparency": 3,
                "reliability": 5,
                "note": "Open about the budget cut.",
            },
            request_only=True,
        )
    ]
)
class PulseSerializer(TimestampedSerializer):
    """An authenticity pulse of the relationship in the URL, by the caller."""

    relationship = serializers.PrimaryKeyRelatedField(read_only=True)
    assessed_by = serializers.PrimaryKeyRelatedField(
        read_only=True, help_text="User id of the author: the caller on create."
    )
    score = serializers.FloatField(
        read_only=True, help_text="The mean of the three dimensions on trust's 0–1 scale."
    )

    class Meta:
        model = AuthenticityPulse
        fields = [
            "id",
            "relationship",
            "assessed_by",
            "assessed_on",
            "integrity",
            "transparency",
            "reliability",
            "note",
            "score",
            "created_at",
            "updated_at",
        ]
        extra_kwargs = {
            "assessed_on": {"help_text": "Defaults to today; not in the future."},
            "integrity": {"help_text": "1 (poor) to 5 (excellent)."},
            "transparency": {"help_text": "1 (poor) to 5 (excellent)."},
            "reliability": {"help_text": "1 (poor) to 5 (excellent)."},
            "note": {"max_length": services.PULSE_NOTE_MAX_LENGTH},
        }

    def validate_assessed_on(self, value: date) -> date:
        if value > timezone.localdate():
            raise serializers.ValidationError("An assessment cannot be dated in the future.")
        if value.year < 1900:
            raise serializers.ValidationError("Must be in or after the year 1900.")
        return value

    def create(self, validated_data: dict) -> AuthenticityPulse:
        return services.pulse_record(
            relationship=self.context["relationship"],
            by=_request_user(self.context),
            **validated_data,
        )

    def update(self, instance: AuthenticityPulse, validated_data: dict) -> AuthenticityPulse:
        return services.pulse_update(instance, by=_request_user(self.context), **validated_data)


__all__ = [
    "CommitmentSerializer",
    "GoalSerializer",
    "InteractionBulkSerializer",
    "InteractionSerializer",
    "OrganizationSerializer",
    "OutcomeSerializer",
    "RelationshipSerializer",
    "StakeholderLinkSerializer",
    "StakeholderSerializer",
    "TeamSerializer",
    "UserSerializer",
]


# --- Webhooks -------------------------------------------------------------------


class WebhookSerializer(StrictModelSerializer):
    events = StrictListField(
        child=StrictChoiceField(choices=Webhook.Event.choices),
        allow_empty=False,
        help_text=(
            "Events to receive: interaction.created, scores.updated, stakeholder.at_risk, "
            "review.completed."
        ),
    )
    secret = serializers.CharField(
        read_only=True,
        help_text="HMAC-SHA256 key of the signatures; shown only in the answer to the create.",
    )

    created_at = serializers.DateTimeField(read_only=True)

    class Meta:
        model = Webhook
        fields = ["id", "url", "events", "active", "description", "secret", "created_at"]

    def validate_url(self, value: str) -> str:
        try:
            webhooks.check_destination(value)
        except webhooks.UnsafeDestination as exc:
            raise serializers.ValidationError(str(exc)) from exc
        return value

    def validate_events(self, value: list[str]) -> list[str]:
        return sorted(set(value))

    def to_representation(self, instance: Webhook) -> dict:
        data = super().to_representation(instance)
        if not self.context.get("show_secret"):
            data.pop("secret", None)
        return data


class WebhookDeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event",
            "status",
            "attempts",
            "response_status",
            "last_error",
            "created_at",
            "delivered_at",
            "payload",
        ]
        read_only_fields = fields


class ErasureRequestSerializer(serializers.Serializer):
    reason = StrictCharField(
        max_length=1000,
        help_text="Why the data is erased (e.g. the request received). "
        "Do not repeat personal data.",
    )


class ErasureResultSerializer(serializers.Serializer):
    stakeholder = serializers.IntegerField()
    erased_at = serializers.DateTimeField()
    register_entry = serializers.IntegerField(help_text="Id of the data-protection register entry.")
