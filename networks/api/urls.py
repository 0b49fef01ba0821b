from django.urls import path

from . import views

urlpatterns = [
    path("network/health/", views.NetworkHealthView.as_view(), name="network-health"),
    path(
        "network/health/history/",
        views.NetworkHealthHistoryView.as_view(),
        name="network-health-history",
    ),
    path("network/key-person-risk/", views.KeyPersonRiskView.as_view(), name="network-kpr"),
    path("network/graph/", views.NetworkGraphView.as_view(), name="network-graph"),
    path(
        "stakeholders/<str:pk>/intro-paths/",
        views.IntroPathsView.as_view(),
        name="stakeholder-intro-paths",
    ),
]
