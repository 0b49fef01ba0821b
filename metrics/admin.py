from django.contrib import admin

from . import models


@admin.register(models.StakeholderScore)
class StakeholderScoreAdmin(admin.ModelAdmin):
    list_display = ["stakeholder", "trust", "reciprocity", "strength", "at_risk", "computed_at"]
    list_filter = ["at_risk", "overdue"]
    search_fields = ["stakeholder__name"]
    list_select_related = ["stakeholder"]
    readonly_fields = [f.name for f in models.StakeholderScore._meta.fields]


@admin.register(models.RelationshipScore)
class RelationshipScoreAdmin(admin.ModelAdmin):
    list_display = ["relationship", "trust", "reciprocity", "strength", "computed_at"]
    search_fields = ["relationship__stakeholder__name", "relationship__user__username"]
    list_select_related = ["relationship__stakeholder", "relationship__user"]
    readonly_fields = [f.name for f in models.RelationshipScore._meta.fields]


@admin.register(models.RecomputeJob)
class RecomputeJobAdmin(admin.ModelAdmin):
    list_display = ["pk", "kind", "status", "progress", "created_at", "finished_at"]
    list_filter = ["status", "kind"]
