from django.urls import path

from dashboards import exports, scorecard_views, views

urlpatterns = [
    # The signed-in user's home (DESIGN §5a): the manager's "what to do next".
    path("", views.home, name="home"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/export.csv", exports.dashboard_export, name="dashboard-export"),
    path("dashboard/stakeholders/", views.dashboard_figure, name="dashboard-figure"),
    path("dashboard/reviews/", views.dashboard_reviews, name="dashboard-reviews"),
    path("portfolio/", views.portfolio, name="portfolio"),
    path("goals/", views.goal_list, name="goal-list"),
    path("goals/<int:pk>/", views.goal_detail, name="goal-detail"),
    path("plans/", views.plan_list, name="plan-list"),
    path("scores/how/", views.how_scores_work, name="how-scores-work"),
    path("scores/recompute/", views.recompute, name="scores-recompute"),
    path(
        "people/<int:pk>/scorecard/",
        scorecard_views.person_scorecard,
        name="person-scorecard",
    ),
    path("team/", scorecard_views.team_scorecard, name="team-scorecard"),
    path("teams/<int:pk>/", scorecard_views.team_detail_scorecard, name="team-detail-scorecard"),
]
