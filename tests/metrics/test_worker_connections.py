"""A worker's database connections between tasks (config/celery.py): kept after a
task that succeeded, as a web process keeps them after a request; closed after one
that did not (it may have been interrupted in the middle of a query); never touched
for a task run in process, whose connection is its caller's.
tests/metrics/test_metrics_worker.py proves the first against a real worker."""

from types import SimpleNamespace

import pytest
from celery.signals import task_postrun, task_prerun
from django.db import connection

from relations.models import Stakeholder

pytestmark = pytest.mark.django_db(transaction=True)


def task(*, eager: bool) -> SimpleNamespace:
    return SimpleNamespace(request=SimpleNamespace(is_eager=eager))


def test_a_task_that_succeeded_keeps_the_connection(settings):
    settings.DATABASES["default"]["CONN_MAX_AGE"] = 60
    connection.close()
    Stakeholder.objects.exists()
    session = connection.connection
    worker_task = task(eager=False)
    task_prerun.send(sender=None, task=worker_task)
    Stakeholder.objects.exists()
    task_postrun.send(sender=None, task=worker_task, state="SUCCESS")
    assert connection.connection is session


@pytest.mark.skipif(
    connection.vendor == "sqlite", reason="Django never closes an in-memory SQLite database"
)
@pytest.mark.parametrize("state", ["FAILURE", "RETRY"])
def test_a_task_that_did_not_succeed_closes_the_connection(state):
    Stakeholder.objects.exists()
    assert connection.connection is not None
    task_postrun.send(sender=None, task=task(eager=False), state=state)
    assert connection.connection is None
    assert not Stakeholder.objects.exists()  # the next task connects anew


@pytest.mark.django_db(transaction=False)
def test_a_task_run_in_process_leaves_its_callers_connection_alone():
    # Inside the test's transaction: closing the connection would lose it.
    Stakeholder.objects.exists()
    session = connection.connection
    in_process = task(eager=True)
    task_prerun.send(sender=None, task=in_process)
    task_postrun.send(sender=None, task=in_process, state="FAILURE")
    assert connection.connection is session
    assert connection.in_atomic_block
