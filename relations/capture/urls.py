from django.urls import path

from relations.capture import views

urlpatterns = [
    path("capture/", views.capture_home, name="capture"),
    path("capture/<int:pk>/", views.capture_result, name="capture-result"),
    path(
        "capture/<int:pk>/addresses/create/",
        views.capture_address_action,
        {"action": "create"},
        name="capture-address-create",
    ),
    path(
        "capture/<int:pk>/addresses/ignore/",
        views.capture_address_action,
        {"action": "ignore"},
        name="capture-address-ignore",
    ),
]
