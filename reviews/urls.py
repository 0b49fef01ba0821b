from django.urls import path

from . import public, views

urlpatterns = [
    path("r/<str:link>/", public.review_answer, name="review-answer"),
    path(
        "relationships/<int:relationship_pk>/reviews/start/",
        views.review_start,
        name="review-start",
    ),
    path("reviews/<int:pk>/", views.review_detail, name="review-detail"),
    path("reviews/<int:pk>/answer/", views.review_answer_ours, name="review-answer-ours"),
    path("reviews/<int:pk>/invite/", views.review_invite, name="review-invite"),
    path("reviews/<int:pk>/actions/", views.review_action_add, name="review-action-add"),
]
