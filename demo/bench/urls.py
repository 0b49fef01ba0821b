from django.urls import path

from demo.bench import views

urlpatterns = [
    path("stakeholders/", views.stakeholder_list, name="bench-stakeholder-list"),
    path("stakeholders/<int:pk>/", views.stakeholder_detail, name="bench-stakeholder-detail"),
    path(
        "stakeholders/<int:pk>/scores/",
        views.stakeholder_scores,
        name="bench-stakeholder-scores",
    ),
    path("interactions/", views.interaction_create, name="bench-interaction-create"),
]
