"""Network computation in the worker, on its own queue (`graph`: one solo-pool worker).

The solo pool runs the task in the worker process itself, which is not
daemonic and may fork: betweenness then spreads its sources over
`RAPPORT_BETWEENNESS_PROCESSES` processes (networks.services.betweenness_options).
"""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone

from relations.publishing import enqueue_on_commit

from . import services
from .models import NetworkRun

RETRY = {
    "acks_late": True,
    "autoretry_for": (DatabaseError, OSError),
    "retry_backoff": 5,
    "retry_backoff_max": 300,
    "max_retries": 5,
}


def debounce_seconds() -> int:
    return int(getattr(settings, "RAPPORT_NETWORK_DEBOUNCE_SECONDS", 120))


@shared_task(**RETRY)
def network_recompute(run_id: int | None = None) -> int:
    run = NetworkRun.objects.filter(pk=run_id).first() if run_id else None
    if run is not None and run.status == NetworkRun.Status.DONE:
        return run.pk  # a redelivered task does not redo a finished run
    return services.network_recompute(run=run).pk


def network_request_recompute() -> None:
    """Ask for a network computation soon: at most one every few minutes.

    Changes arriving while a run is scheduled join it. A scheduled run whose
    task was lost (broker down) is replaced once it is older than twice the
    debounce interval; the nightly run also covers it.
    """
    now = timezone.now()
    wait = debounce_seconds()
    scheduled = NetworkRun.objects.filter(status=NetworkRun.Status.SCHEDULED)
    if scheduled.filter(started_at__gte=now - timedelta(seconds=2 * wait)).exists():
        return
    scheduled.update(status=NetworkRun.Status.FAILED, error="schedule lost; replaced")
    if settings.CELERY_TASK_ALWAYS_EAGER:
        # In process there is no delayed queue: run now, unless a run is recent.
        recent = NetworkRun.objects.filter(started_at__gte=now - timedelta(seconds=wait))
        if recent.exists():
            return
    run = NetworkRun.objects.create(status=NetworkRun.Status.SCHEDULED, started_at=now)

    def failed(exc: Exception) -> None:  # broker down: the nightly run catches up
        NetworkRun.objects.filter(pk=run.pk).update(
            status=NetworkRun.Status.FAILED, error="could not queue"
        )

    enqueue_on_commit(network_recompute, run_id=run.pk, countdown=wait, on_failure=failed)


@shared_task(**RETRY)
def network_nightly() -> int:
    return services.network_recompute().pk
