from django.urls import path
from rest_framework.routers import DefaultRouter

from relations.api import views
from relations.capture import api as capture
from relations.importing.api import ImportJobViewSet

router = DefaultRouter(trailing_slash=True)
# JSON only (and CSV at its own address): no `.json` suffix routes, whose `format`
# argument the custom actions do not take (a 500 on /stakeholders/1/scores.json/).
router.include_format_suffixes = False
router.register("teams", views.TeamViewSet, basename="team")
router.register("users", views.UserViewSet, basename="user")
router.register("organizations", views.OrganizationViewSet, basename="organization")
router.register("stakeholders", views.StakeholderViewSet, basename="stakeholder")
router.register("relationships", views.RelationshipViewSet, basename="relationship")
router.register("interactions", views.InteractionViewSet, basename="interaction")
router.register("commitments", views.CommitmentViewSet, basename="commitment")
router.register("outcomes", views.OutcomeViewSet, basename="outcome")
router.register("stakeholder-links", views.StakeholderLinkViewSet, basename="stakeholder-link")
router.register("goals", views.GoalViewSet, basename="goal")
router.register("webhooks", views.WebhookViewSet, basename="webhook")
router.register("imports", ImportJobViewSet, basename="import")

# Pulses are nested under their relationship: explicit paths, same viewset rules.
pulse_list = views.PulseViewSet.as_view(
    {"get": "list", "post": "create"}, basename="relationship-pulse", detail=False
)
pulse_detail = views.PulseViewSet.as_view(
    {"get": "retrieve", "put": "update", "patch": "partial_update", "delete": "destroy"},
    basename="relationship-pulse",
    detail=True,
)

app_name = "api"
urlpatterns = [
    *router.urls,
    path("capture/email/", capture.EmailCaptureView.as_view(), name="capture-email"),
    path("capture/calendar/", capture.CalendarCaptureView.as_view(), name="capture-calendar"),
    path(
        "relationships/<str:relationship_id>/pulses/",
        pulse_list,
        name="relationship-pulse-list",
    ),
    path(
        "relationships/<str:relationship_id>/pulses/<str:pk>/",
        pulse_detail,
        name="relationship-pulse-detail",
    ),
]
