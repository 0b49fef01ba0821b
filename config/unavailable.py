"""A clean 503 while the database is unreachable, instead of a 500.

PostgreSQL restarting, failing over or refusing connections is a passing state:
the person or integration should be told to retry, and see no internals. The
connection is health-checked at the start of each request (`CONN_HEALTH_CHECKS`),
so the app recovers on its own once the database is back.
"""

from __future__ import annotations

import logging
import sys

from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views import defaults

logger = logging.getLogger(__name__)

DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 10


def is_database_unavailable(exc: BaseException | None) -> bool:
    return isinstance(exc, DATABASE_UNAVAILABLE)


def wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def database_unavailable_response(request: HttpRequest) -> HttpResponse:
    """503 with Retry-After: JSON under /api/, a plain page otherwise (no database
    access while rendering it: no request context, so no user or session)."""
    message = _("The service is temporarily unavailable. Please try again in a moment.")
    if wants_json(request):
        response: HttpResponse = JsonResponse({"detail": message}, status=503)
    else:
        response = HttpResponse(render_to_string("503.html", {"message": message}), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseUnavailableMiddleware:
    """Turns a view's lost database connection into a 503."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_database_unavailable(exception):
            return None
        logger.warning(
            "Database unavailable during %s %s: %s",
            request.method,
            request.path,
            exception.__class__.__name__,
        )
        return database_unavailable_response(request)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: a database outage met outside a view (loading the session or the
    user in a middleware) still answers 503; anything else the plain 500 page
    (JSON under /api/)."""
    exc = sys.exc_info()[1]
    if is_database_unavailable(exc):
        logger.warning("Database unavailable during %s %s", request.method, request.path)
        return database_unavailable_response(request)
    if wants_json(request):
        return JsonResponse({"detail": _("Internal error; it has been logged.")}, status=500)
    return defaults.server_error(request)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler400: a body over DATA_UPLOAD_MAX_MEMORY_SIZE (Django raises it as a
    suspicious operation wherever the body is read: a form, the CSRF check) answers
    413, as the API does; anything else Django's 400."""
    if isinstance(exception, RequestDataTooBig):
        message = _("The request body is too large.")
        if wants_json(request):
            return JsonResponse({"detail": message}, status=413)
        return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")
    return defaults.bad_request(request, exception)
