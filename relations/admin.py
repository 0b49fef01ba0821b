from django.contrib import admin

from . import models, services


@admin.register(models.Team)
class TeamAdmin(admin.ModelAdmin):
    search_fields = ["name"]
    filter_horizontal = ["members"]


@admin.register(models.Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "sector", "country", "tier"]
    list_filter = ["tier", "sector", "country"]
    search_fields = ["name", "sector", "country"]


@admin.register(models.Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ["name"]


@admin.register(models.Stakeholder)
class StakeholderAdmin(admin.ModelAdmin):
    list_display = ["name", "organization", "title", "importance", "owner", "cadence_days"]
    list_filter = ["importance", "influence", "interest", "legal_basis", "tags"]
    search_fields = ["name", "email", "title", "organization__name"]
    list_select_related = ["organization", "owner"]
    autocomplete_fields = ["organization", "owner", "tags"]


@admin.register(models.Relationship)
class RelationshipAdmin(admin.ModelAdmin):
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
class InteractionAdmin(admin.ModelAdmin):
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
            interaction.internal_participants.all(), interaction.stakeholders.all()
        )


@admin.register(models.Commitment)
class CommitmentAdmin(admin.ModelAdmin):
    list_display = ["description", "stakeholder", "responsible", "direction", "due_date", "status"]
    list_filter = ["status", "direction", "due_date"]
    search_fields = ["description", "stakeholder__name"]
    list_select_related = ["stakeholder", "responsible"]
    autocomplete_fields = ["stakeholder", "responsible", "interaction"]


@admin.register(models.Outcome)
class OutcomeAdmin(admin.ModelAdmin):
    list_display = ["stakeholder", "kind", "value", "occurred_on", "credited_to", "goal"]
    list_filter = ["kind", "occurred_on"]
    search_fields = ["description", "stakeholder__name"]
    list_select_related = ["stakeholder", "credited_to", "goal"]
    autocomplete_fields = ["stakeholder", "credited_to", "goal"]


@admin.register(models.StakeholderLink)
class StakeholderLinkAdmin(admin.ModelAdmin):
    list_display = ["from_stakeholder", "to_stakeholder", "kind", "strength"]
    list_filter = ["kind"]
    search_fields = ["from_stakeholder__name", "to_stakeholder__name"]
    autocomplete_fields = ["from_stakeholder", "to_stakeholder"]


class GoalStakeholderInline(admin.TabularInline):
    model = models.GoalStakeholder
    extra = 0
    autocomplete_fields = ["stakeholder"]


@admin.register(models.StrategicGoal)
class StrategicGoalAdmin(admin.ModelAdmin):
    list_display = ["title", "owner", "status", "period_start", "period_end"]
    list_filter = ["status"]
    search_fields = ["title", "description"]
    inlines = [GoalStakeholderInline]


@admin.register(models.AuthenticityPulse)
class AuthenticityPulseAdmin(admin.ModelAdmin):
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
class WebhookAdmin(admin.ModelAdmin):
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
class CalendarFeedAdmin(admin.ModelAdmin):
    list_display = ["url", "owner", "last_fetched_at", "last_error"]
    search_fields = ["url", "owner__username"]
    list_select_related = ["owner"]


@admin.register(models.CaptureBatch)
class CaptureBatchAdmin(admin.ModelAdmin):
    """What each capture did; read only (the result page acts on it)."""

    list_display = ["name", "source", "status", "created_by", "created_at"]
    list_filter = ["source", "status"]
    search_fields = ["name", "created_by__username"]
    list_select_related = ["created_by"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False
