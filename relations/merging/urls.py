from django.urls import path

from relations.merging import views

urlpatterns = [
    path(
        "stakeholders/<int:pk>/merge/",
        views.merge,
        {"kind": "stakeholder"},
        name="stakeholder-merge",
    ),
    path(
        "organizations/<int:pk>/merge/",
        views.merge,
        {"kind": "organization"},
        name="organization-merge",
    ),
]
