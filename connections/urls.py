from django.urls import path

from connections import views

urlpatterns = [
    path("settings/connections/", views.connection_list, name="connection-list"),
    path("settings/connections/add/<str:kind>/", views.connection_add, name="connection-add"),
    path("settings/connections/<int:pk>/edit/", views.connection_edit, name="connection-edit"),
    path(
        "settings/connections/<int:pk>/remove/",
        views.connection_remove,
        name="connection-remove",
    ),
    path("settings/connections/<int:pk>/sync/", views.connection_sync, name="connection-sync"),
    path("settings/connections/review/", views.review_list, name="connection-review"),
    path(
        "settings/connections/review/<int:pk>/<str:decision>/",
        views.review_decide,
        name="connection-review-decide",
    ),
]
