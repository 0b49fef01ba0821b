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

A long task a person waits on (an import) is queued with `background=True`: without
a broker it then runs in a thread of the web process instead of inside the request,
so the request returns at once and the page can poll the task's progress; with a
broker nothing changes.
"""

from __future__ import annotations

import functools
import logging
import threading
import weakref
from collections.abc import Callable
from typing import Any

from celery import Task
from django.conf import settings
from django.db import connections, transaction

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
    background: bool = False,
    **kwargs: Any,
) -> None:
    """Publish `task(*args, **kwargs)` after the current transaction commits, through
    `enqueue` (see the module's docstring): never fails the caller.

    `countdown`: seconds to wait before the task runs. `background`: without a broker,
    run it in a thread of its own rather than in the caller (`runs_in_thread`).
    """
    if background and runs_in_thread(task):
        publish = functools.partial(in_thread, task, *args, on_failure=on_failure, **kwargs)
    else:
        publish = functools.partial(
            enqueue, task, *args, on_failure=on_failure, countdown=countdown, **kwargs
        )
    transaction.on_commit(publish)


def runs_in_thread(task: Task) -> bool:
    """Whether a background task runs in a thread here: no broker (Celery runs tasks in
    process) and `RAPPORT_EMBEDDED_BACKGROUND` (on by default; the test suite turns it
    off for tests that expect the task done when the request returns)."""
    return bool(task.app.conf.task_always_eager) and bool(
        getattr(settings, "RAPPORT_EMBEDDED_BACKGROUND", True)
    )


# The threads still running, for a clean shutdown in tests (`background_wait`).
_threads: weakref.WeakSet[threading.Thread] = weakref.WeakSet()


def in_thread(
    task: Task, *args: Any, on_failure: Callable[[Exception], object] | None = None, **kwargs: Any
) -> threading.Thread:
    """Run `task` in process in a new thread; never raises in the caller. An exception
    the task raises is logged and handed to `on_failure`, as a failed publish is.

    Not a daemon: stopping the server politely (Ctrl-C) lets the task finish its run;
    a killed process leaves the job without heartbeat, as a killed worker does.
    """

    def run() -> None:
        try:
            task.apply(args=args, kwargs=kwargs, throw=True)
        except Exception as exc:
            logger.exception("Background task %s%r failed", task.name, args)
            if on_failure is not None:
                on_failure(exc)
        finally:
            # This thread's own database connections; the request's are not touched.
            connections.close_all()

    thread = threading.Thread(target=run, name=f"rapport-{task.name}", daemon=False)
    _threads.add(thread)
    thread.start()
    return thread


def background_wait(timeout: float | None = None) -> bool:
    """Wait for the background threads to end; True when none is left running."""
    for thread in list(_threads):
        thread.join(timeout)
    return not any(thread.is_alive() for thread in list(_threads))
