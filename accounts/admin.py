"""API tokens in the admin, audited like those of the tokens page."""

from django.contrib import admin
from knox.admin import AuthTokenAdmin
from knox.models import AuthToken

from accounts.models import OIDCIdentity
from accounts.tokens import api_token_audit
from relations.models import AuditEvent

admin.site.unregister(AuthToken)


@admin.register(AuthToken)
class AuditedAuthTokenAdmin(AuthTokenAdmin):
    """Tokens made or deleted in the admin are audited like those of the tokens page."""

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change:
            api_token_audit(obj, by=request.user, action=AuditEvent.Action.CREATE)

    def delete_model(self, request, obj):
        api_token_audit(obj, by=request.user, action=AuditEvent.Action.DELETE)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            api_token_audit(obj, by=request.user, action=AuditEvent.Action.DELETE)
        super().delete_queryset(request, queryset)


@admin.register(OIDCIdentity)
class OIDCIdentityAdmin(admin.ModelAdmin):
    """Link an existing account to the provider's subject before its first single sign-on."""

    list_display = ["user", "issuer", "subject", "last_sign_in_at"]
    search_fields = ["user__username", "user__email", "subject"]
    raw_id_fields = ["user"]
    readonly_fields = ["created_at", "last_sign_in_at"]
