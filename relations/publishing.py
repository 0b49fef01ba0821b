"""Queueing worker tasks: the one way every app publishes a Celery task.

A task queued by a write must not run before the write is committed (it would
read the rows as they were), nor at all if the write is rolled back:
`enqueue_on_commit` publishes after the commit of the current transaction (at
once outside a transaction). Publishing can still fail after the commit, when
the broker is down: the change is committed, so the caller must not fail; the
failure is logged and `on_failure(exc)` records it in the database (a job
marked failed), or the work is left to the periodic sweep that finds it
(RECIPES: Celery reliability). Without a broker (the embedded default) `delay`
runs the task in process, and an exception it raises is handled the same way.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from celery import Task
from django.db import transaction

logger = logging.getLogger(__name__)


def enqueue(
    task: Task,
    *args: Any,
    on_failure: Callable[[Exception], object] | None = None,
    countdown: float | None = None,
    **kwargs: Any,
) -> bool:
    """Publish `task` now; never raises. Returns False when it could not be queued
    (after logging it and calling `on_failure` with the exception)."""
    try:
        if countdown is None:
            task.delay(*args, **kwargs)
        else:
            task.apply_async(args, kwargs, countdown=countdown)
    except Exception as exc:
        logger.warning("Could not queue %s%r", task.name, args, exc_info=True)
        if on_failure is not None:
            on_failure(exc)
        return False
    return True


def enqueue_on_commit(
    task: Task,
    *args: Any,
    on_failure: Callable[[Exception], object] | None = None,
    countdown: float | None = None,
    **kwargs: Any,
) -> None:
    """Publish `task(*args, **kwargs)` after the current transaction commits, through
    `enqueue` (see the module's docstring): never fails the caller.

    `countdown`: seconds to wait before the task runs.
    """
    transaction.on_commit(
        functools.partial(
            enqueue, task, *args, on_failure=on_failure, countdown=countdown, **kwargs
        )
    )
