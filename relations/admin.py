from django.contrib import admin
from django.db import transaction

from relations import models, services


class AuditedAdmin(admin.ModelAdmin):
    """Every create, change and delete made in the admin is audited, inlines included,
    with the same snapshots and diffs as the services."""

    def save_model(self, request, obj, form, change):
        if change:
            request._audit_before = services.snapshot(type(obj).objects.get(pk=obj.pk))
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        # After the many-to-many fields are saved, so the snapshot includes them.
        super().save_related(request, form, formsets, change)
        obj = form.instance
        if change:
            changes = services.diff(request._audit_before, services.snapshot(obj))
            if changes:
                services.audit_record(
                    actor=request.user,
                    action=models.AuditEvent.Action.UPDATE,
                    obj=obj,
                    changes=changes,
                )
        else:
            services.audit_record(
                actor=request.user,
                action=models.AuditEvent.Action.CREATE,
                obj=obj,
                changes=services.snapshot(obj),
            )

    def save_formset(self, request, form, formset, change):
        model = formset.model
        existing = [f.instance.pk for f in formset.initial_forms if f.instance.pk]
        before = {o.pk: services.snapshot(o) for o in model.objects.filter(pk__in=existing)}
        super().save_formset(request, form, formset, change)
        for obj in formset.new_objects:
            services.audit_record(
                actor=request.user,
                action=models.AuditEvent.Action.CREATE,
                obj=obj,
                changes=services.snapshot(obj),
            )
        for obj, _fields in formset.changed_objects:
            services.audit_record(
                actor=request.user,
                action=models.AuditEvent.Action.UPDATE,
                obj=obj,
                changes=services.diff(before.get(obj.pk, {}), services.snapshot(obj)),
            )
        for deleted_form in formset.deleted_forms:
            pk = deleted_form.instance.pk or deleted_form.initial.get("id")
            pk = getattr(pk, "pk", pk)
            if pk in before:
                services.audit_record(
                    actor=request.user,
                    action=models.AuditEvent.Action.DELETE,
                    obj=_Deleted(model, pk, deleted_form.instance),
                    changes=before[pk],
                )

    def delete_model(self, request, obj):
        with transaction.atomic():
            services.audit_record(
                actor=request.user,
                action=models.AuditEvent.Action.DELETE,
                obj=obj,
                changes=services.snapshot(obj),
            )
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for obj in queryset:
                services.audit_record(
                    actor=request.user,
                    action=models.AuditEvent.Action.DELETE,
                    obj=obj,
                    changes=services.snapshot(obj),
                )
            super().delete_queryset(request, queryset)


class _Deleted:
    """An inline row already deleted (its pk cleared): what audit_record needs of it."""

    def __init__(self, model, pk, instance):
        self._meta = model._meta
        self.pk = pk
        self._repr = str(instance)

    def __str__(self) -> str:
        return self._repr


@admin.register(models.Team)
class TeamAdmin(AuditedAdmin):
    search_fields = ["name"]
    filter_horizontal = ["members"]


@admin.register(models.Organization)
class OrganizationAdmin(AuditedAdmin):
    list_display = ["name", "sector", "country", "tier"]
    list_filter = ["tier", "sector", "country"]
    search_fields = ["name", "sector", "country"]


@admin.register(models.Tag)
class TagAdmin(AuditedAdmin):
    search_fields = ["name"]


@admin.register(models.Stakeholder)
class StakeholderAdmin(AuditedAdmin):
    list_display = ["name", "organization", "title", "importance", "owner", "cadence_days"]
    list_filter = ["importance", "influence", "interest", "legal_basis", "tags"]
    search_fields = ["name", "email", "title", "organization__name"]
    list_select_related = ["organization", "owner"]
    autocomplete_fields = ["organization", "owner", "tags"]


@admin.register(models.Relationship)
class RelationshipAdmin(AuditedAdmin):
    list_display = ["user", "stakeholder", "role", "status", "next_review"]
    list_filter = ["role", "status"]
    search_fields = ["stakeholder__name", "user__username", "objective"]
    list_select_related = ["user", "stakeholder"]
    autocomplete_fields = ["user", "stakeholder"]


class CommitmentInline(admin.TabularInline):
    model = models.Commitment
    extra = 0
    autocomplete_fields = ["stakeholder", "responsible"]


@admin.register(models.Interaction)
class InteractionAdmin(AuditedAdmin):
    list_display = ["subject", "kind", "occurred_at", "value_given", "value_received", "private"]
    list_filter = ["kind", "private", "sentiment", "occurred_at"]
    search_fields = ["subject", "notes", "stakeholders__name"]
    date_hierarchy = "occurred_at"
    autocomplete_fields = ["internal_participants", "stakeholders"]
    inlines = [CommitmentInline]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        interaction = form.instance
        services.relationships_ensure(
            interaction.internal_participants.all(), interaction.stakeholders.all(), by=request.user
        )


@admin.register(models.Commitment)
class CommitmentAdmin(AuditedAdmin):
    list_display = ["description", "stakeholder", "responsible", "direction", "due_date", "status"]
    list_filter = ["status", "direction", "due_date"]
    search_fields = ["description", "stakeholder__name"]
    list_select_related = ["stakeholder", "responsible"]
    autocomplete_fields = ["stakeholder", "responsible", "interaction"]


@admin.register(models.Outcome)
class OutcomeAdmin(AuditedAdmin):
    list_display = ["stakeholder", "kind", "value", "occurred_on", "credited_to", "goal"]
    list_filter = ["kind", "occurred_on"]
    search_fields = ["description", "stakeholder__name"]
    list_select_related = ["stakeholder", "credited_to", "goal"]
    autocomplete_fields = ["stakeholder", "credited_to", "goal"]


@admin.register(models.StakeholderLink)
class StakeholderLinkAdmin(AuditedAdmin):
    list_display = ["from_stakeholder", "to_stakeholder", "kind", "strength"]
    list_filter = ["kind"]
    search_fields = ["from_stakeholder__name", "to_stakeholder__name"]
    autocomplete_fields = ["from_stakeholder", "to_stakeholder"]


class GoalStakeholderInline(admin.TabularInline):
    model = models.GoalStakeholder
    extra = 0
    autocomplete_fields = ["stakeholder"]


@admin.register(models.StrategicGoal)
class StrategicGoalAdmin(AuditedAdmin):
    list_display = ["title", "owner", "status", "period_start", "period_end"]
    list_filter = ["status"]
    search_fields = ["title", "description"]
    inlines = [GoalStakeholderInline]


@admin.register(models.AuthenticityPulse)
class AuthenticityPulseAdmin(AuditedAdmin):
    list_display = [
        "relationship",
        "assessed_by",
        "assessed_on",
        "integrity",
        "transparency",
        "reliability",
    ]
    list_filter = ["assessed_on"]
    search_fields = ["relationship__stakeholder__name", "note"]


@admin.register(models.AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["at", "actor", "action", "object_type", "object_id", "object_repr"]
    list_filter = ["action", "object_type"]
    search_fields = ["object_repr", "object_id", "actor__username"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


class WebhookDeliveryInline(admin.TabularInline):
    model = models.WebhookDelivery
    extra = 0
    can_delete = False
    fields = ["event", "status", "attempts", "response_status", "last_error", "created_at"]
    readonly_fields = fields
    ordering = ["-created_at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(models.Webhook)
class WebhookAdmin(AuditedAdmin):
    list_display = ["url", "owner", "active", "created_at"]
    list_filter = ["active"]
    search_fields = ["url", "description", "owner__username"]
    readonly_fields = ["secret"]
    inlines = [WebhookDeliveryInline]


@admin.register(models.WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["event", "webhook", "status", "attempts", "response_status", "created_at"]
    list_filter = ["status", "event"]
    search_fields = ["webhook__url", "last_error"]
    list_select_related = ["webhook"]


@admin.register(models.CalendarFeed)
class CalendarFeedAdmin(AuditedAdmin):
    list_display = ["url", "owner", "last_fetched_at", "last_error"]
    search_fields = ["url", "owner__username"]
    list_select_related = ["owner"]


@admin.register(models.CaptureBatch)
class CaptureBatchAdmin(AuditedAdmin):
    """What each capture did; read only (the result page acts on it)."""

    list_display = ["name", "source", "status", "created_by", "created_at"]
    list_filter = ["source", "status"]
    search_fields = ["name", "created_by__username"]
    list_select_related = ["created_by"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False
