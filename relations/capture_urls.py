from django.urls import path

from . import capture_views, export_views, merge_views

urlpatterns = [
    path("stakeholders/export.csv", export_views.stakeholder_export, name="stakeholder-export"),
    path("organizations/export.csv", export_views.organization_export, name="organization-export"),
    path("commitments/export.csv", export_views.commitment_export, name="commitment-export"),
    path(
        "stakeholders/<int:pk>/merge/",
        merge_views.merge,
        {"kind": "stakeholder"},
        name="stakeholder-merge",
    ),
    path(
        "organizations/<int:pk>/merge/",
        merge_views.merge,
        {"kind": "organization"},
        name="organization-merge",
    ),
    path("capture/", capture_views.capture_home, name="capture"),
    path("capture/<int:pk>/", capture_views.capture_result, name="capture-result"),
    path(
        "capture/<int:pk>/addresses/create/",
        capture_views.capture_address_action,
        {"action": "create"},
        name="capture-address-create",
    ),
    path(
        "capture/<int:pk>/addresses/ignore/",
        capture_views.capture_address_action,
        {"action": "ignore"},
        name="capture-address-ignore",
    ),
]
