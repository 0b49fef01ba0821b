from django.urls import include, path

from relations import views

urlpatterns = [
    path("", include("relations.editing.urls")),
    path("", include("relations.search.urls")),
    path("stakeholders/", views.stakeholder_list, name="stakeholder-list"),
    path("stakeholders/<int:pk>/", views.stakeholder_detail, name="stakeholder-detail"),
    path("", include("relations.privacy.urls")),
    path("organizations/", views.organization_list, name="organization-list"),
    path("organizations/<int:pk>/", views.organization_detail, name="organization-detail"),
    path("relationships/<int:pk>/", views.relationship_detail, name="relationship-detail"),
    path(
        "relationships/<int:pk>/pulses/",
        views.relationship_pulse_create,
        name="relationship-pulse-create",
    ),
    path("interactions/new/", views.interaction_create, name="interaction-create"),
    path("interactions/<int:pk>/", views.interaction_detail, name="interaction-detail"),
    path("interactions/<int:pk>/edit/", views.interaction_edit, name="interaction-edit"),
    path("interactions/<int:pk>/delete/", views.interaction_delete_view, name="interaction-delete"),
    path("commitments/", views.commitment_list, name="commitment-list"),
    path("commitments/<int:pk>/status/", views.commitment_status, name="commitment-status"),
    path(
        "autocomplete/stakeholders/",
        views.autocomplete_stakeholders,
        name="autocomplete-stakeholders",
    ),
    path("autocomplete/users/", views.autocomplete_users, name="autocomplete-users"),
    path(
        "autocomplete/organizations/",
        views.autocomplete_organizations,
        name="autocomplete-organizations",
    ),
]
