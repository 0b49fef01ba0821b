from django.urls import path

from dashboards.api import scorecards

urlpatterns = [
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
