"""The benchmark's unit of worker throughput (loaded by its workers with `--include`).

One task recomputes one stakeholder's scores and its owner's relationship, under
the same recomputation locks and in one transaction, as `metrics.tasks.recompute_pending`
does for the markers of one logged interaction.
"""

from __future__ import annotations

from celery import shared_task
from django.db import transaction

from metrics import recompute


@shared_task(ignore_result=False)  # the benchmark joins the results; the app ignores its own
def bench_recompute(stakeholder_id: int, owner_id: int | None) -> int:
    with transaction.atomic():
        recompute.recomputation_lock([stakeholder_id])
        pairs = [] if owner_id is None else [(owner_id, stakeholder_id)]
        recompute.scores_recompute([stakeholder_id], pairs)
    return stakeholder_id
