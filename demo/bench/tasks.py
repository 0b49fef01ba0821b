"""The benchmark's unit of worker throughput (loaded by its workers with `--include`).

One task recomputes one stakeholder's scores and its owner's relationship, under
the same recomputation locks and in one transaction, as `metrics.tasks.recompute_pending`
does for the markers of one logged interaction. Its result is ignored, as the app's
own tasks' are; it counts itself done in a Redis counter of the run, which the
benchmark reads (collecting 1,000 results cost the benchmark's driver a quarter of a
core, taken from the workers it measures).
"""

from __future__ import annotations

from functools import cache

import redis
from celery import shared_task
from django.conf import settings
from django.db import transaction

from metrics import recompute


@cache
def counters() -> redis.Redis:
    """The broker's Redis, where the runs' counters live."""
    return redis.Redis.from_url(settings.CELERY_BROKER_URL)


@shared_task
def bench_recompute(stakeholder_id: int, owner_id: int | None, counter: str) -> None:
    with transaction.atomic():
        recompute.recomputation_lock([stakeholder_id])
        pairs = [] if owner_id is None else [(owner_id, stakeholder_id)]
        recompute.scores_recompute([stakeholder_id], pairs)
    counters().incr(counter)
