from django.urls import path

from . import scorecards, views

urlpatterns = [
    path("recompute/", views.RecomputeView.as_view(), name="recompute"),
    path("recompute/<str:pk>/", views.RecomputeJobView.as_view(), name="recompute-job"),
    path(
        "stakeholders/<str:pk>/history/",
        views.StakeholderHistoryView.as_view(),
        name="stakeholder-history",
    ),
    path(
        "users/<str:pk>/scorecard/",
        scorecards.UserScorecardView.as_view(),
        name="user-scorecard",
    ),
    path(
        "teams/<str:pk>/scorecard/",
        scorecards.TeamScorecardView.as_view(),
        name="team-scorecard-api",
    ),
]
