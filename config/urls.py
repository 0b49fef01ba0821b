from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.utils.csp import CSP
from django.views.decorators.csp import csp_override
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny

from connections import api_urls as connections_api
from metrics.api import urls as metrics_api
from relations.api import urls as relations_api

# Swagger UI's page carries one inline <style>; relax style-src for that page alone.
_docs_csp = {**settings.SECURE_CSP, "style-src": [CSP.SELF, CSP.UNSAFE_INLINE]}

# A database outage met outside a view answers 503 too (config.unavailable).
handler500 = "config.unavailable.server_error"
# A request body over DATA_UPLOAD_MAX_MEMORY_SIZE answers 413, not 400.
handler400 = "config.unavailable.bad_request"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("relations.audit.urls")),
    path("", include("accounts.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    # One "api" namespace for relations' records and the scores metrics adds to them.
    path(
        "api/v1/",
        include(
            (
                [
                    *relations_api.urlpatterns,
                    *metrics_api.record_urlpatterns,
                    *connections_api.urlpatterns,
                ],
                "api",
            )
        ),
    ),
    path("api/v1/", include("networks.api.urls")),
    path("api/v1/", include("metrics.api.urls")),
    path("api/v1/", include("dashboards.api.urls")),
    path("api/v1/", include("reviews.api.urls")),
    # The schema and docs describe the API (no data): public, so clients can be generated.
    path(
        "api/schema/",
        SpectacularAPIView.as_view(permission_classes=[AllowAny]),
        name="api-schema",
    ),
    path(
        "api/docs/",
        csp_override(_docs_csp)(
            SpectacularSwaggerSplitView.as_view(
                url_name="api-schema", permission_classes=[AllowAny]
            )
        ),
        name="api-docs",
    ),
    path("", include("networks.urls")),
    # Before relations.urls: its "" (the old home) is replaced by the manager home.
    path("", include("dashboards.urls")),
    path("", include("relations.urls")),
    path("", include("relations.importing.urls")),
    path("", include("relations.exports.urls")),
    path("", include("relations.merging.urls")),
    path("", include("relations.capture.urls")),
    path("", include("reviews.urls")),
    path("", include("connections.urls")),
]

if settings.RAPPORT_BENCH_VIEWS:
    # Bare views beside the API for the benchmark's ratio (demo.bench).
    urlpatterns.insert(0, path("bench/", include("demo.bench.urls")))
