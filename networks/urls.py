from django.urls import path

from . import views

urlpatterns = [
    path("network/", views.network_map, name="network-map"),
    path("network/key-person-risk/", views.key_person_risk, name="key-person-risk"),
    path(
        "stakeholders/<int:pk>/hand-over/",
        views.stakeholder_hand_over_view,
        name="stakeholder-hand-over",
    ),
]
