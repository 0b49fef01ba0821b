"""Addresses of the audit trail and of two-factor authentication."""

from django.urls import path

from . import audit_views, mfa

urlpatterns = [
    path("audit/", audit_views.audit_log, name="audit-log"),
    path("accounts/verify/", mfa.mfa_verify, name="mfa-verify"),
    path("settings/security/", mfa.mfa_settings, name="mfa-settings"),
    path("settings/security/enrol/", mfa.mfa_enrol, name="mfa-enrol"),
    path("settings/security/backup-codes/", mfa.mfa_backup_codes, name="mfa-backup-codes"),
    path("settings/security/disable/", mfa.mfa_disable, name="mfa-disable"),
]
