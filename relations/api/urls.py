from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter(trailing_slash=True)
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

app_name = "api"
urlpatterns = router.urls
