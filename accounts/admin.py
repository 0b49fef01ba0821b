"""API tokens in the admin, audited like those of the tokens page."""

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from knox.admin import AuthTokenAdmin
from knox.models import AuthToken

from accounts.models import OIDCIdentity
from accounts.tokens import api_token_audit
from relations.models import AuditEvent

admin.site.unregister(AuthToken)


class AdminSignInForm(AdminAuthenticationForm):
    """The admin's password form obeys RAPPORT_LOCAL_LOGIN=0 like the sign-in page:
    with single sign-on only, a password opens nothing."""

    def clean(self):
        from accounts.oidc import local_login_enabled

        if not local_login_enabled():
            raise ValidationError(
                _("Passwords are turned off: sign in through your organisation's account."),
                code="local_login_off",
            )
        return super().clean()


admin.site.login_form = AdminSignInForm


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
