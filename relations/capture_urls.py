from django.urls import path

from . import capture_views

urlpatterns = [
    path("capture/", capture_views.capture_home, name="capture"),
    path("capture/<int:pk>/", capture_views.capture_result, name="capture-result"),
    path(
        "capture/<int:pk>/addresses/create/",
        capture_views.capture_address_action,
        {"action": "create"},
        name="capture-address-create",
    ),
    path(
        "capture/<int:pk>/addresses/ignore/",
        capture_views.capture_address_action,
        {"action": "ignore"},
        name="capture-address-ignore",
    ),
]
