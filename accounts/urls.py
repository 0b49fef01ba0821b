"""Addresses of signing in and out (password or single sign-on), two-factor
authentication and the API tokens page. Included before django.contrib.auth.urls,
so that "login" and "logout" are these views."""

from django.urls import path

from accounts import mfa, oidc, tokens

urlpatterns = [
    path("accounts/login/", oidc.SignInView.as_view(), name="login"),
    path("accounts/logout/", oidc.SignOutView.as_view(), name="logout"),
    path("accounts/oidc/start/", oidc.OIDCStartView.as_view(), name="oidc-start"),
    path("accounts/oidc/callback/", oidc.OIDCCallbackView.as_view(), name="oidc-callback"),
    path("accounts/verify/", mfa.mfa_verify, name="mfa-verify"),
    path("settings/security/", mfa.mfa_settings, name="mfa-settings"),
    path("settings/security/enrol/", mfa.mfa_enrol, name="mfa-enrol"),
    path("settings/security/backup-codes/", mfa.mfa_backup_codes, name="mfa-backup-codes"),
    path("settings/security/disable/", mfa.mfa_disable, name="mfa-disable"),
    path("settings/tokens/", tokens.token_list, name="api-tokens"),
    path("settings/tokens/<str:token_key>/revoke/", tokens.token_revoke, name="api-token-revoke"),
]
