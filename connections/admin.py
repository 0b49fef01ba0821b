"""The admin lists connected accounts without their secret: it is never shown again."""

from django.contrib import admin

from connections.models import ConnectedAccount, SuggestedStakeholder


@admin.register(ConnectedAccount)
class ConnectedAccountAdmin(admin.ModelAdmin):
    list_display = ("label", "owner", "kind", "status", "last_synced_at")
    list_filter = ("kind", "status")
    exclude = ("secret", "sync_state", "exclude_addresses")
    readonly_fields = ("owner", "kind", "status_message", "last_synced_at", "next_sync_at")


@admin.register(SuggestedStakeholder)
class SuggestedStakeholderAdmin(admin.ModelAdmin):
    list_display = ("email", "name", "owner", "status", "message_count", "meeting_count")
    list_filter = ("status",)
    raw_id_fields = ("possible_match", "items")
