"""Capture tests run their tasks (feed fetches, score recomputation) in process, as on
the embedded default, even when the suite runs with a broker configured."""

import pytest


@pytest.fixture(autouse=True)
def _tasks_in_process():
    from config.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before
