"""Every error answers JSON in DRF's `{"field": ["message"]}` shape, never an HTML 500."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError, InterfaceError, OperationalError
from rest_framework import status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler, set_rollback

from relations.services import EditConflict

logger = logging.getLogger(__name__)


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    response = exception_handler(exc, context)
    if response is not None:
        return response
    if isinstance(exc, RequestDataTooBig):
        # DRF reads JSON through request.body, which refuses more than
        # DATA_UPLOAD_MAX_MEMORY_SIZE: the body is too large, not the server broken.
        return Response(
            {"detail": "The request body is too large."},
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    # Whatever follows was raised mid-write: undo the request's atomic block, if any.
    set_rollback()
    if isinstance(exc, EditConflict):
        return Response(
            {"version": ["This record was changed by someone else; reload it and retry."]},
            status=status.HTTP_409_CONFLICT,
        )
    if isinstance(exc, OperationalError | InterfaceError):
        # The database is unreachable (restarting, failing over): a passing state,
        # so tell the client to retry, without internals.
        logger.warning("API request while the database is unavailable: %s", type(exc).__name__)
        return Response(
            {"detail": "The service is temporarily unavailable. Please try again in a moment."},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": "10"},
        )
    if isinstance(exc, DjangoValidationError):
        # A model's full_clean() inside a service: the same field messages as a form.
        return Response(as_serializer_error(exc), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, IntegrityError | DataError):
        # A database constraint caught what validation missed (e.g. a concurrent
        # duplicate): the transaction was rolled back, so nothing was saved.
        logger.warning("API constraint violation: %s", exc)
        return Response(
            {"non_field_errors": ["The data conflicts with a database constraint."]},
            status=status.HTTP_400_BAD_REQUEST,
        )
    logger.exception("Unhandled API error", exc_info=exc)
    return Response(
        {"detail": "Internal error; it has been logged."},
        status=status.HTTP_500_INTERNAL_SERVER_ERROR,
    )
