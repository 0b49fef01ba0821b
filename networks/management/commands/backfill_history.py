"""`manage.py backfill_history [--days 90]`: derive the daily history, then compute
the scores and the whole network as of now (see `networks.services.history_backfill`)."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime

from django.core.management.base import BaseCommand, CommandParser

from networks.models import NetworkRun
from networks.services import HISTORY_DAYS, history_backfill


class Command(BaseCommand):
    help = (
        "Recompute the scores and network health as of the end of each of the last DAYS "
        "days (daily snapshots derived from the records), then scores and the whole "
        "network as of now: trend lines and the network map show at once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=HISTORY_DAYS, help="days of history")
        parser.add_argument(
            "--today",
            type=date.fromisoformat,
            default=None,
            help="The last day of the history (YYYY-MM-DD, UTC), computed as of its noon. "
            "Default: now.",
        )
        parser.add_argument(
            "--if-missing",
            action="store_true",
            help="Do nothing when the network was computed before (for `make run`).",
        )

    def handle(
        self,
        *args,
        days: int,
        today: date | None = None,
        if_missing: bool = False,
        **options,
    ) -> None:
        verbose = options["verbosity"] > 0
        if if_missing and NetworkRun.objects.filter(status=NetworkRun.Status.DONE).exists():
            if verbose:
                self.stdout.write("The network and its history are computed already.")
            return
        started = time.perf_counter()
        shown: set[int] = set()

        def show(done: int, total: int, day) -> None:
            step = done * 10 // total  # a line per 10%, not per day
            if verbose and step not in shown:
                shown.add(step)
                self.stdout.write(f"{done * 100 // total:3d}%  {day.isoformat()}")

        now = datetime(today.year, today.month, today.day, 12, tzinfo=UTC) if today else None
        result = history_backfill(days=max(1, days), now=now, progress=show)
        if verbose:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Scores and network health for {result['days']} days "
                    f"({result['first_day']} to {result['last_day']}) and the network "
                    f"as of now in {time.perf_counter() - started:.1f} s."
                )
            )
