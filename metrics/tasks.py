"""Worker tasks of DESIGN §5: thin wrappers around `metrics.recompute` and `metrics.services`.

All are idempotent (they recompute from the data and upsert), acknowledged
late (a killed worker's task is redelivered) and retried with back-off when
the database is unreachable.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from celery import shared_task
from django.db import DatabaseError
from django.utils import timezone

from relations.publishing import enqueue_on_commit

from . import recompute, services, writeback
from .models import RecomputeJob
from .signals import scores_recomputed

RETRY = {
    "acks_late": True,
    "autoretry_for": (DatabaseError, OSError),
    "retry_backoff": 1,
    "retry_backoff_max": 120,
    "retry_jitter": True,
    "max_retries": 8,
}
# The sweep leaves fresh markers to the task their own commit queued.
SWEEP_GRACE = timedelta(seconds=5)


@shared_task(**RETRY)
def recompute_pending() -> int:
    """Recompute the scores named by the dirty markers; returns how many were processed."""
    processed = recompute.pending_recompute()
    if processed:
        scores_recomputed.send(sender=recompute_pending, full=False)
    return processed


@shared_task(**RETRY)
def sweep_pending() -> int:
    """Periodic repair: markers whose task was lost (broker down, worker killed)."""
    processed = recompute.pending_recompute(older_than=SWEEP_GRACE)
    if processed:
        scores_recomputed.send(sender=sweep_pending, full=False)
    return processed


@shared_task(**RETRY)
def recompute_all(job_id: int) -> str:
    job = RecomputeJob.objects.filter(pk=job_id).first()
    if job is None:
        return "gone"
    if job.status == RecomputeJob.Status.DONE:
        return "done"  # a redelivered task does not redo a finished job
    services.job_run(job)
    scores_recomputed.send(sender=recompute_all, full=True)
    return "done"


@shared_task(**RETRY)
def nightly_refresh(at_iso: str | None = None) -> str:
    """Decay for everyone and the day's snapshots (idempotent: the snapshot is upserted)."""
    at = datetime.fromisoformat(at_iso) if at_iso else timezone.now()
    recompute.scores_recompute_all(at=at)
    writeback.snapshots_write(at.astimezone(UTC).date())
    return at.isoformat()


def recompute_job_start(*, requested_by=None, at: datetime | None = None) -> RecomputeJob:
    """Create a full-recomputation job and queue it after commit (POST /recompute/).

    Eager (no broker): it has run when the transaction commits. Broker down:
    the job is marked failed with the reason, rather than left pending forever.
    """
    job = RecomputeJob.objects.create(
        requested_by=requested_by if requested_by and requested_by.is_authenticated else None,
        at=at,
    )

    def failed(exc: Exception) -> None:
        RecomputeJob.objects.filter(pk=job.pk).exclude(status=RecomputeJob.Status.DONE).update(
            status=RecomputeJob.Status.FAILED,
            finished_at=timezone.now(),
            error=f"Could not run the job: {exc}"[:2000],
        )

    enqueue_on_commit(recompute_all, job.pk, on_failure=failed)
    return job
