"""API addresses of connected accounts, in the project's "api" namespace (config.urls)."""

from rest_framework.routers import DefaultRouter

from connections import api

router = DefaultRouter(trailing_slash=True)
router.include_format_suffixes = False
router.register("connections", api.ConnectedAccountViewSet, basename="connection")
router.register(
    "suggested-stakeholders", api.SuggestedStakeholderViewSet, basename="suggested-stakeholder"
)

urlpatterns = [url for url in router.urls if url.name != "api-root"]
