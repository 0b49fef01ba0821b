from django.urls import path

from . import views

urlpatterns = [
    path("recompute/", views.RecomputeView.as_view(), name="recompute"),
    path("recompute/<str:pk>/", views.RecomputeJobView.as_view(), name="recompute-job"),
]
