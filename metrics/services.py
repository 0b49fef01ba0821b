"""Multi-step writes of the metrics app: running a recomputation job (DESIGN §5).

The recomputation itself lives in `metrics.recompute` (reading in `scored_objects`
and `row_sets`, storing in `writeback`); this records a job's progress and outcome.
"""

from __future__ import annotations

from datetime import UTC

from django.utils import timezone

from .models import RecomputeJob
from .recompute import scores_recompute_all
from .writeback import Progress, snapshots_write


def job_run(job: RecomputeJob, *, on_progress: Progress | None = None) -> RecomputeJob:
    """Run a RecomputeJob to the end, recording its progress and outcome on the row.

    Progress is written in its own statements (the recomputation is not one
    transaction), so the API can show it while the job runs.
    """
    RecomputeJob.objects.filter(pk=job.pk).update(
        status=RecomputeJob.Status.RUNNING, started_at=timezone.now(), progress=0.0, error=""
    )

    def progress(fraction: float, message: str) -> None:
        RecomputeJob.objects.filter(pk=job.pk).update(
            progress=round(min(max(fraction, 0.0), 1.0), 4), message=message[:200]
        )
        if on_progress:
            on_progress(fraction, message)

    try:
        at = job.at or timezone.now()
        counts = scores_recompute_all(at=at, progress=progress)
        if job.kind == RecomputeJob.Kind.NIGHTLY:
            snapshots_write(at.astimezone(UTC).date())
    except Exception as exc:
        RecomputeJob.objects.filter(pk=job.pk).update(
            status=RecomputeJob.Status.FAILED, finished_at=timezone.now(), error=str(exc)[:2000]
        )
        raise
    RecomputeJob.objects.filter(pk=job.pk).update(
        status=RecomputeJob.Status.DONE,
        progress=1.0,
        finished_at=timezone.now(),
        message=(
            f"{counts['stakeholders']} stakeholder and "
            f"{counts['relationships']} relationship scores"
        ),
    )
    job.refresh_from_db()
    return job
