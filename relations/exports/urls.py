from django.urls import path

from relations.exports import views

urlpatterns = [
    path("stakeholders/export.csv", views.stakeholder_export, name="stakeholder-export"),
    path("organizations/export.csv", views.organization_export, name="organization-export"),
    path("commitments/export.csv", views.commitment_export, name="commitment-export"),
]
