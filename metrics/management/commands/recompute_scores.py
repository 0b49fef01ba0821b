"""`manage.py recompute_scores [--at ISO] [--snapshot]`: recompute every stored score."""

from __future__ import annotations

from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from metrics import services
from metrics.models import RecomputeJob


def parse_at(value: str) -> datetime:
    try:
        at = datetime.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--at: not an ISO 8601 date or date-time: {value!r}") from exc
    # A bare date or a naive time is read in UTC, the time base of every formula.
    return at.replace(tzinfo=UTC) if timezone.is_naive(at) else at


class Command(BaseCommand):
    help = "Recompute every stakeholder- and relationship-level score (a full recomputation)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--at", help="as of this ISO 8601 time (default: now)")
        parser.add_argument(
            "--snapshot", action="store_true", help="also write that day's snapshots"
        )

    def handle(self, *args, at: str | None = None, snapshot: bool = False, **options) -> None:
        job = RecomputeJob.objects.create(
            kind=RecomputeJob.Kind.NIGHTLY if snapshot else RecomputeJob.Kind.FULL,
            at=parse_at(at) if at else timezone.now(),
        )
        shown = {-1}

        def show(fraction: float, message: str) -> None:
            step = int(fraction * 10)  # a line per 10%, not per batch
            if step not in shown:
                shown.add(step)
                self.stdout.write(f"{int(fraction * 100):3d}%  {message}")

        job = services.job_run(job, on_progress=show)
        seconds = (job.finished_at - job.started_at).total_seconds()
        self.stdout.write(
            self.style.SUCCESS(
                f"Recomputed {job.message} as of {job.at.isoformat()} in {seconds:.2f} s."
            )
        )
