from django.urls import path

from . import views

urlpatterns = [
    path("recompute/", views.RecomputeView.as_view(), name="recompute"),
    path("recompute/<str:pk>/", views.RecomputeJobView.as_view(), name="recompute-job"),
    path(
        "stakeholders/<str:pk>/history/",
        views.StakeholderHistoryView.as_view(),
        name="stakeholder-history",
    ),
]
