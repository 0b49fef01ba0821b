from django.urls import path
from rest_framework.routers import DefaultRouter

from . import scores, views

# The scores of relations' records, beside their routes and in their "api" namespace
# (config.urls joins them): `api:stakeholder-scores`, `api:relationship-scores`.
scores_router = DefaultRouter(trailing_slash=True)
scores_router.include_format_suffixes = False  # JSON only, as the relations router
scores_router.include_root_view = False
scores_router.register("stakeholders", scores.StakeholderScoresViewSet, basename="stakeholder")
scores_router.register("relationships", scores.RelationshipScoresViewSet, basename="relationship")
record_urlpatterns = scores_router.urls

urlpatterns = [
    path("recompute/", views.RecomputeView.as_view(), name="recompute"),
    path("recompute/<str:pk>/", views.RecomputeJobView.as_view(), name="recompute-job"),
    path(
        "stakeholders/<str:pk>/history/",
        views.StakeholderHistoryView.as_view(),
        name="stakeholder-history",
    ),
    path(
        "relationships/<str:pk>/history/",
        views.RelationshipHistoryView.as_view(),
        name="relationship-history",
    ),
]
