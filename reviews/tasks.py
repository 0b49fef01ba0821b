"""The worker's side of reviews: sending invitations (with retries) and the nightly
schedule. Thin: the work is in reviews.services."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from . import services


@shared_task(
    acks_late=True,
    bind=True,
    autoretry_for=(services.SendFailed,),
    retry_backoff=30,
    retry_backoff_max=3600,
    retry_jitter=True,
    max_retries=settings.RAPPORT_REVIEW_SEND_RETRIES,
)
def review_invitation_send(self, invitation_id: int) -> str:
    # In process (no broker) there is nobody to retry later without holding up the
    # request: one attempt, its failure shown on the review (as webhooks do).
    final = bool(self.request.is_eager) or self.request.retries >= self.max_retries
    return services.invitation_send(invitation_id, final_attempt=final)


@shared_task(acks_late=True)
def reviews_schedule() -> dict:
    """Nightly: reviews falling due are scheduled, unanswered links past their date
    expire, and invitations whose task was lost are queued again."""
    from .models import ReviewInvitation

    scheduled = services.reviews_schedule()
    expired = services.reviews_expire()
    stale = timezone.now() - timedelta(minutes=10)
    lost = list(
        ReviewInvitation.objects.filter(
            delivery=ReviewInvitation.Delivery.QUEUED, created_at__lt=stale, used_at__isnull=True
        ).values_list("pk", flat=True)[:1000]
    )
    for invitation_id in lost:
        review_invitation_send.delay(invitation_id)
    return {"scheduled": scheduled, "expired": expired, "requeued": len(lost)}
