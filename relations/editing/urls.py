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
]
