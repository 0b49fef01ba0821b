from django.urls import path

from relations.editing import views

urlpatterns = [
    path("stakeholders/new/", views.stakeholder_create, name="stakeholder-create"),
    path(
        "stakeholders/quick-new/",
        views.stakeholder_quick_create,
        name="stakeholder-quick-create",
    ),
    path("stakeholders/<int:pk>/edit/", views.stakeholder_edit, name="stakeholder-edit"),
    path("stakeholders/<int:pk>/archive/", views.stakeholder_archive, name="stakeholder-archive"),
    path(
        "stakeholders/<int:pk>/links/new/",
        views.stakeholder_link_create,
        name="stakeholder-link-create",
    ),
    path(
        "stakeholder-links/<int:pk>/edit/",
        views.stakeholder_link_edit,
        name="stakeholder-link-edit",
    ),
    path("organizations/new/", views.organization_create, name="organization-create"),
    path("organizations/<int:pk>/edit/", views.organization_edit, name="organization-edit"),
    path(
        "organizations/<int:pk>/archive/",
        views.organization_archive,
        name="organization-archive",
    ),
    path("relationships/<int:pk>/edit/", views.relationship_edit, name="relationship-edit"),
    path("outcomes/new/", views.outcome_create, name="outcome-create"),
    path("outcomes/<int:pk>/edit/", views.outcome_edit, name="outcome-edit"),
    path("outcomes/<int:pk>/archive/", views.outcome_archive, name="outcome-archive"),
    path("goals/new/", views.goal_create, name="goal-create"),
    path("goals/<int:pk>/edit/", views.goal_edit, name="goal-edit"),
    path("goals/<int:pk>/archive/", views.goal_archive, name="goal-archive"),
    path("commitments/<int:pk>/edit/", views.commitment_edit, name="commitment-edit"),
    path("pulses/<int:pk>/edit/", views.pulse_edit, name="pulse-edit"),
    # The organisation's set-up (directors), as the API's teams and webhooks.
    path("teams/", views.team_list, name="team-list"),
    path("teams/new/", views.team_create, name="team-create"),
    path("teams/<int:pk>/edit/", views.team_edit, name="team-edit"),
    path("teams/<int:pk>/delete/", views.team_delete, name="team-delete"),
    path("webhooks/", views.webhook_list, name="webhook-list"),
    path("webhooks/new/", views.webhook_create, name="webhook-create"),
    path("webhooks/<int:pk>/edit/", views.webhook_edit, name="webhook-edit"),
    path("webhooks/<int:pk>/delete/", views.webhook_delete, name="webhook-delete"),
    # Deleting for good: for whom the record's `deletable_by` allows (the API's rule).
    path("stakeholders/<int:pk>/delete/", views.stakeholder_delete, name="stakeholder-delete"),
    path("organizations/<int:pk>/delete/", views.organization_delete, name="organization-delete"),
    path("goals/<int:pk>/delete/", views.goal_delete, name="goal-delete"),
    path("outcomes/<int:pk>/delete/", views.outcome_delete, name="outcome-delete"),
    path("relationships/<int:pk>/delete/", views.relationship_delete, name="relationship-delete"),
    path("commitments/<int:pk>/delete/", views.commitment_delete, name="commitment-delete"),
    path("pulses/<int:pk>/delete/", views.pulse_delete, name="pulse-delete"),
]
