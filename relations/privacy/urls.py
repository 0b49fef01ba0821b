"""Data protection (GDPR) pages."""

from django.urls import path

from relations.privacy import views

urlpatterns = [
    path(
        "stakeholders/<int:pk>/privacy/",
        views.stakeholder_privacy,
        name="stakeholder-privacy",
    ),
    path(
        "stakeholders/<int:pk>/export/",
        views.stakeholder_export_page,
        name="stakeholder-export",
    ),
    path(
        "stakeholders/<int:pk>/export.json",
        views.stakeholder_export_download,
        name="stakeholder-export-json",
    ),
    path(
        "stakeholders/<int:pk>/erase/",
        views.stakeholder_erase_view,
        name="stakeholder-erase",
    ),
    path("data-protection/", views.register, name="privacy-register"),
    path("data-protection/retention/", views.retention_review, name="privacy-retention"),
    path(
        "data-protection/processing/",
        views.processing_record_view,
        name="privacy-processing",
    ),
]
