from django.contrib import admin

from . import models


@admin.register(models.NetworkRun)
class NetworkRunAdmin(admin.ModelAdmin):
    list_display = ["pk", "status", "started_at", "duration_seconds", "node_count", "edge_count"]
    list_filter = ["status"]
    exclude = ["graph"]


@admin.register(models.NetworkHealth)
class NetworkHealthAdmin(admin.ModelAdmin):
    list_display = ["scope", "scope_id", "date", "health_index", "coverage", "key_stakeholders"]
    list_filter = ["scope", "date"]
