"""Outgoing webhooks: signed JSON deliveries with retries.

Deliveries are written in the transaction of the change that caused them (an
outbox), then sent by the worker after commit; an undelivered one is retried
with back-off and picked up again by the sweep if its task was lost.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
from collections.abc import Iterable

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from relations.integrations.outbound import (  # noqa: F401 (check_destination re-exported)
    REDIRECT_STATUSES,
    FetchFailed,
    UnsafeDestination,
    check_destination,
    outbound_request,
)
from relations.models import Webhook, WebhookDelivery
from relations.publishing import enqueue

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Rapport-Signature"
TIMESTAMP_HEADER = "X-Rapport-Timestamp"
EVENT_HEADER = "X-Rapport-Event"
DELIVERY_HEADER = "X-Rapport-Delivery"
TIMEOUT_SECONDS = 5
# A receiver's answer is not kept: read no more of it than this.
RESPONSE_MAX_BYTES = 64 * 1024


def new_secret() -> str:
    return secrets.token_hex(32)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 over `timestamp.body`, so a captured delivery cannot be replayed later."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def webhook_create(
    *, owner, url: str, events: Iterable[str], description: str = "", active: bool = True
) -> Webhook:
    """A subscription of `owner`'s, with a new signing secret (the API's create)."""
    check_destination(url)
    return Webhook.objects.create(
        owner=owner,
        url=url,
        events=sorted(set(events)),
        description=description,
        active=active,
        secret=new_secret(),
    )


def webhook_emit(event: str, data: dict) -> list[int]:
    """Queue `event` for every active webhook subscribed to it; sent after commit."""
    return webhook_emit_many(event, [data])


def webhook_subscribers(event: str) -> list[Webhook]:
    """The active webhooks subscribed to `event` (one query)."""
    return [h for h in Webhook.objects.filter(active=True) if event in h.events]


def webhook_emit_many(
    event: str, items: list[dict], *, hooks: list[Webhook] | None = None
) -> list[int]:
    """Queue one delivery of `event` per item for every subscribed webhook.

    `hooks`: the subscribers, when the caller looked them up already (emitting in chunks).
    """
    if not items:
        return []
    if hooks is None:
        hooks = webhook_subscribers(event)
    if not hooks:
        return []
    now = timezone.now().isoformat()
    payloads = [
        json.loads(
            json.dumps({"event": event, "occurred_at": now, "data": data}, cls=DjangoJSONEncoder)
        )
        for data in items
    ]
    deliveries = WebhookDelivery.objects.bulk_create(
        [WebhookDelivery(webhook=h, event=event, payload=p) for h in hooks for p in payloads]
    )
    ids = [d.pk for d in deliveries]

    def publish() -> None:
        from relations.tasks import webhook_deliver

        if settings.CELERY_TASK_ALWAYS_EAGER:
            # In process (no broker): one attempt, never a request held up by retries.
            # In the order queued (the model's default order is newest first).
            deliveries = WebhookDelivery.objects.select_related("webhook").filter(pk__in=ids)
            for delivery in deliveries.order_by("pk"):
                try:
                    delivery_send(delivery)
                except DeliveryFailed:
                    logger.info("Webhook delivery %s failed; no broker to retry it", delivery.pk)
            return
        # One callback for the batch (an import queues thousands); broker down: the
        # sweep sends them later.
        for delivery_id in ids:
            enqueue(webhook_deliver, delivery_id)

    transaction.on_commit(publish)
    return ids


class DeliveryFailed(Exception):
    pass


def delivery_send(delivery: WebhookDelivery) -> None:
    """POST one delivery; raises DeliveryFailed on a non-2xx answer or a network error.

    Through the outbound client (relations.integrations.outbound): the receiver's address is
    checked and connected to as checked; a redirect is not followed (a receiver
    answers where it was registered; following would let a public host point the
    delivery at an internal address)."""
    if delivery.status == WebhookDelivery.Status.DELIVERED:
        return  # idempotent: a redelivered task sends nothing twice
    webhook = delivery.webhook
    body = json.dumps({"id": delivery.pk, **delivery.payload}, separators=(",", ":")).encode()
    timestamp = str(int(time.time()))
    delivery.attempts += 1
    try:
        response = outbound_request(
            webhook.url,
            method="POST",
            body=body,
            headers={
                "Content-Type": "application/json",
                "User-Agent": "Rapport-Webhooks/1",
                EVENT_HEADER: delivery.event,
                DELIVERY_HEADER: str(delivery.pk),
                TIMESTAMP_HEADER: timestamp,
                SIGNATURE_HEADER: sign(webhook.secret, timestamp, body),
            },
            timeout=TIMEOUT_SECONDS,
            max_bytes=RESPONSE_MAX_BYTES,
            truncate_body=True,
            follow_redirects=False,
        )
    except (FetchFailed, UnsafeDestination) as exc:
        delivery.response_status = None
        delivery.last_error = str(exc)[:500]
    else:
        delivery.response_status = response.status
        if 200 <= response.status < 300:
            delivery.status = WebhookDelivery.Status.DELIVERED
            delivery.delivered_at = timezone.now()
            delivery.last_error = ""
            delivery.save()
            return
        delivery.last_error = f"HTTP {response.status}"
        if response.status in REDIRECT_STATUSES:
            delivery.last_error += " (redirects are not followed)"
    delivery.save()
    raise DeliveryFailed(delivery.last_error)
