from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.utils.csp import CSP
from django.views.decorators.csp import csp_override
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny

from relations import tokens

# Swagger UI's page carries one inline <style>; relax style-src for that page alone.
_docs_csp = {**settings.SECURE_CSP, "style-src": [CSP.SELF, CSP.UNSAFE_INLINE]}

# A database outage met outside a view answers 503 too (config.unavailable).
handler500 = "config.unavailable.server_error"
# A request body over DATA_UPLOAD_MAX_MEMORY_SIZE answers 413, not 400.
handler400 = "config.unavailable.bad_request"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("relations.security_urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include("relations.api.urls")),
    path("api/v1/", include("networks.api.urls")),
    path("api/v1/", include("metrics.api.urls")),
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
    path("settings/tokens/", tokens.token_list, name="api-tokens"),
    path("settings/tokens/<str:token_key>/revoke/", tokens.token_revoke, name="api-token-revoke"),
    path("", include("networks.urls")),
    # Before relations.urls: its "" (the old home) is replaced by the manager home.
    path("", include("metrics.urls")),
    path("", include("relations.urls")),
    path("", include("relations.importing.urls")),
    path("", include("relations.capture_urls")),
]

if settings.RAPPORT_BENCH_VIEWS:
    # Bare views beside the API for the benchmark's ratio (relations.bench).
    urlpatterns.insert(0, path("bench/", include("relations.bench.urls")))
