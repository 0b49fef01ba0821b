"""Fixtures of the stored-score tests.

Tasks run in process here (as on the embedded default), even when the suite
runs with a broker configured, except in the `worker` tests which start a real
Celery worker.
"""

import pytest

from relations.services import interaction_log


@pytest.fixture(autouse=True)
def _tasks_in_process(request):
    if request.node.get_closest_marker("worker"):
        yield
        return
    from config.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


@pytest.fixture
def log(manager):
    """`interaction_log` as the manager, with the fields tests care about."""

    def log_interaction(participants, stakeholders, **fields):
        fields.setdefault("subject", "Catch-up")
        return interaction_log(
            by=manager, participants=participants, stakeholders=stakeholders, **fields
        )

    return log_interaction
