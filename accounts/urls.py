"""Addresses of two-factor authentication and of the API tokens page."""

from django.urls import path

from accounts import mfa, tokens

urlpatterns = [
    path("accounts/verify/", mfa.mfa_verify, name="mfa-verify"),
    path("settings/security/", mfa.mfa_settings, name="mfa-settings"),
    path("settings/security/enrol/", mfa.mfa_enrol, name="mfa-enrol"),
    path("settings/security/backup-codes/", mfa.mfa_backup_codes, name="mfa-backup-codes"),
    path("settings/security/disable/", mfa.mfa_disable, name="mfa-disable"),
    path("settings/tokens/", tokens.token_list, name="api-tokens"),
    path("settings/tokens/<str:token_key>/revoke/", tokens.token_revoke, name="api-token-revoke"),
]
