"""`Idempotency-Key` on POST: a retried create returns the first answer, not a duplicate.

The record is written in the same transaction as the objects it describes, so
either both exist or neither does; a concurrent retry with the same key hits
the unique constraint, rolls back its own work, and replays the winner's answer.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from relations.models import IdempotencyRecord

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
# Long enough for any client's retry loop; old keys may then be reused.
RETENTION = timedelta(hours=24)


def _fingerprint(request: Request) -> str:
    body = json.dumps(request.data, sort_keys=True, default=str)
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def _replay(record: IdempotencyRecord, fingerprint: str) -> Response:
    if record.fingerprint != fingerprint:
        return Response(
            {HEADER: ["This key was already used for a different request."]},
            status=status.HTTP_422_UNPROCESSABLE_ENTITY,
        )
    return Response(
        record.response_body, status=record.status_code, headers={"Idempotent-Replayed": "true"}
    )


def idempotent(request: Request, handler: Callable[[], Response]) -> Response:
    """Run `handler` once per (user, Idempotency-Key); without the header, just run it."""
    key = request.headers.get(HEADER)
    if key is None:
        with transaction.atomic():
            return handler()
    if not key or len(key) > MAX_KEY_LENGTH:
        return Response(
            {HEADER: [f"Must be 1 to {MAX_KEY_LENGTH} characters."]},
            status=status.HTTP_400_BAD_REQUEST,
        )
    fingerprint = _fingerprint(request)
    records = IdempotencyRecord.objects.filter(user=request.user, key=key)
    records.filter(created_at__lt=timezone.now() - RETENTION).delete()
    record = records.first()
    if record is not None:
        return _replay(record, fingerprint)
    try:
        with transaction.atomic():
            response = handler()
            if status.is_success(response.status_code):
                IdempotencyRecord.objects.create(
                    user=request.user,
                    key=key,
                    method=request.method,
                    path=request.path[:500],
                    fingerprint=fingerprint,
                    status_code=response.status_code,
                    response_body=json.loads(json.dumps(response.data, default=str)),
                )
    except IntegrityError:
        record = records.first()
        if record is None:
            raise
        return _replay(record, fingerprint)
    return response
