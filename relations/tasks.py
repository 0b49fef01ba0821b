from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from relations.integrations.webhooks import DeliveryFailed, delivery_send
from relations.models import WebhookDelivery

MAX_ATTEMPTS = 6


@shared_task(
    acks_late=True,
    bind=True,
    autoretry_for=(DeliveryFailed,),
    retry_backoff=5,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=MAX_ATTEMPTS - 1,
)
def webhook_deliver(self, delivery_id: int) -> str:
    delivery = WebhookDelivery.objects.select_related("webhook").filter(pk=delivery_id).first()
    if delivery is None:
        return "gone"
    try:
        delivery_send(delivery)
    except DeliveryFailed:
        if self.request.retries >= self.max_retries:
            WebhookDelivery.objects.filter(pk=delivery_id).update(
                status=WebhookDelivery.Status.FAILED
            )
            return "failed"
        raise
    return "delivered"


@shared_task(acks_late=True)
def webhook_sweep() -> int:
    """Queue deliveries whose task was lost (broker down when the change committed)."""
    stale = timezone.now() - timedelta(minutes=2)
    ids = list(
        WebhookDelivery.objects.filter(
            status=WebhookDelivery.Status.PENDING, attempts=0, created_at__lt=stale
        ).values_list("pk", flat=True)[:1000]
    )
    for delivery_id in ids:
        webhook_deliver.delay(delivery_id)
    return len(ids)


@shared_task(acks_late=True)
def retention_flag_stale() -> int:
    """Nightly: flag stakeholders past the retention period (or who objected) for review.

    Idempotent: a flagged stakeholder is not flagged again until a director keeps it.
    """
    from relations.privacy.services import retention_flag_stale as flag

    return flag()


@shared_task(acks_late=True)
def retention_anonymise(stakeholder_ids: list[int], actor_id: int | None, reason: str) -> int:
    """A director's reviewed batch: erasing one person takes about a second on a
    large database, too long for a page request when many are chosen."""
    from django.contrib.auth.models import User

    from relations.privacy.services import retention_anonymise as anonymise

    actor = User.objects.filter(pk=actor_id).first() if actor_id else None
    return anonymise(stakeholder_ids, by=actor, reason=reason)


# Import tasks live with the importer; imported so the worker's autodiscovery registers them.
from relations.importing.tasks import import_run, import_sweep_stale, import_undo  # noqa: E402, F401


@shared_task(acks_late=True)
def calendar_feed_capture(batch_id: int) -> str:
    """Fetch and import a calendar feed for a waiting capture; idempotent (a batch that
    is no longer waiting is left alone, so a redelivered task imports nothing twice)."""
    from relations.capture.models import CaptureBatch
    from relations.capture.services import calendar_feed_fetch_and_import

    batch = (
        CaptureBatch.objects.select_related("feed", "created_by")
        .filter(pk=batch_id, status=CaptureBatch.Status.PENDING, feed__isnull=False)
        .first()
    )
    if batch is None:
        return "gone"
    return calendar_feed_fetch_and_import(batch).status


@shared_task(acks_late=True)
def calendar_feeds_refresh() -> int:
    """Queue a fetch of every calendar feed (nightly, by beat); one capture per feed.

    A feed whose last capture is still waiting is skipped, so a slow feed is never
    queued twice."""
    from relations.capture.models import CalendarFeed, CaptureBatch

    waiting = CaptureBatch.objects.filter(status=CaptureBatch.Status.PENDING).values("feed_id")
    queued = 0
    for feed in CalendarFeed.objects.select_related("owner").exclude(pk__in=waiting):
        if not feed.owner.is_active:
            continue
        batch = CaptureBatch.objects.create(
            created_by=feed.owner,
            source=CaptureBatch.Source.CALENDAR,
            name=feed.url[:300],
            feed=feed,
            status=CaptureBatch.Status.PENDING,
        )
        calendar_feed_capture.delay(batch.pk)
        queued += 1
    return queued
