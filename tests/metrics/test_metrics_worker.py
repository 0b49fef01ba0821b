"""Against a real Redis and a real Celery worker process (DESIGN §5).

Run with a broker and PostgreSQL, for example:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/rapport_scores \\
    CELERY_BROKER_URL=redis://127.0.0.1:6379/5 .venv/bin/pytest tests/metrics -q
"""

import os
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from metrics import tasks
from metrics.models import PendingRecompute, RelationshipScore, StakeholderScore
from relations.models import Interaction
from relations.services import interaction_log
from tests.factories import StakeholderFactory

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

DEAD_BROKER = "redis://127.0.0.1:1/0"  # nothing listens on port 1: publishing fails at once
ROOT = Path(__file__).resolve().parents[2]


def _skip_reason() -> str | None:
    if not settings.CELERY_BROKER_URL:
        return "needs CELERY_BROKER_URL (a real Redis) for a real Celery worker"
    if connection.vendor != "postgresql":
        return "needs PostgreSQL (DATABASE_URL): the worker process shares the test database"
    return None


def _database_url() -> str:
    db = connection.settings_dict
    user = db["USER"] or "postgres"
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    host = db["HOST"] or "127.0.0.1"
    return f"postgres://{user}{password}@{host}:{db['PORT'] or 5432}/{db['NAME']}"


def _broker(url: str) -> None:
    """Point this (web) process's publishing at `url`; the worker keeps the real broker."""
    from config.celery import app

    app.conf.broker_url = app.conf.broker_write_url = app.conf.broker_read_url = url
    app._pool = None
    app.amqp._producer_pool = None


@contextmanager
def _running_worker(django_db_blocker, conn_max_age: str = "0"):
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    from config.celery import app

    with django_db_blocker.unblock():
        database_url = _database_url()
    # A queue of our own: another test run (or xdist process) on the same broker
    # must neither take our tasks nor have its tasks run against our database.
    queue = f"scores-test-{uuid.uuid4().hex[:8]}"
    default_queue = app.conf.task_default_queue
    app.conf.task_default_queue = queue
    name = f"{queue}@localhost"
    log = tempfile.NamedTemporaryFile("w+", suffix=".log", delete=False)  # noqa: SIM115
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        # A worker holding no idle connection lets the tests' TRUNCATE proceed.
        "DJANGO_CONN_MAX_AGE": conn_max_age,
    }
    worker = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("celery")),
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "-Q",
            queue,
            "-n",
            name,
            "--without-gossip",
            "--without-mingle",
            "--loglevel=INFO",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if worker.poll() is not None:
                pytest.fail(f"the worker exited: {Path(log.name).read_text()[-3000:]}")
            if app.control.inspect(destination=[name], timeout=0.5).ping():
                break
        else:
            pytest.fail(f"the worker did not answer ping: {Path(log.name).read_text()[-3000:]}")
        yield worker
    finally:
        app.conf.task_default_queue = default_queue
        worker.terminate()
        try:
            worker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
        log.close()
        os.unlink(log.name)


@pytest.fixture(scope="module")
def celery_worker_process(django_db_setup, django_db_blocker):
    with _running_worker(django_db_blocker) as worker:
        yield worker


@pytest.fixture
def celery_worker_keeping_connections(django_db_setup, django_db_blocker):
    """A worker configured as deployed: its connections live CONN_MAX_AGE (60 s)."""
    with _running_worker(django_db_blocker, conn_max_age="60") as worker:
        yield worker


def _poll(predicate, seconds: float = 10.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    return predicate()


def _scored_over(stakeholder, n: int) -> StakeholderScore | None:
    """The stored score once it counts n interactions (its explanation says how many)."""
    score = StakeholderScore.objects.filter(stakeholder=stakeholder).first()
    if score and score.explanation["given"]["components"]["interactions"] == n:
        return score
    return None


def test_committed_interaction_reaches_the_stored_score(celery_worker_process, manager):
    stakeholder = StakeholderFactory(owner=manager)
    assert not StakeholderScore.objects.filter(stakeholder=stakeholder).exists()

    latencies = []
    for n in range(1, 9):
        committed = time.monotonic()
        interaction_log(
            by=manager,
            participants=[manager],
            stakeholders=[stakeholder],
            subject=f"Lunch {n}",
            value_given=3,
            value_received=1,
        )  # its own transaction, committed on return
        score = _poll(lambda n=n: _scored_over(stakeholder, n))
        assert score is not None, f"interaction {n} did not reach the stored score within 10 s"
        latencies.append(time.monotonic() - committed)

    assert score.given == pytest.approx(8 * 3, rel=1e-3)
    relationship = RelationshipScore.objects.get(relationship__stakeholder=stakeholder)
    assert relationship.given == score.given
    assert _poll(lambda: not PendingRecompute.objects.exists())
    latencies.sort()
    print(
        f"commit to stored score over {len(latencies)} interactions: "
        f"median {latencies[len(latencies) // 2] * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms"
    )


def test_broker_down_then_the_sweep_repairs(celery_worker_process, manager):
    stakeholder = StakeholderFactory(owner=manager)
    real_broker = settings.CELERY_BROKER_URL
    _broker(DEAD_BROKER)
    try:
        interaction = interaction_log(
            by=manager,
            participants=[manager],
            stakeholders=[stakeholder],
            subject="Call",
            value_given=2,
        )  # no exception: the request would still succeed
    finally:
        _broker(real_broker)

    assert Interaction.objects.filter(pk=interaction.pk).exists()
    assert PendingRecompute.objects.filter(stakeholder_id=stakeholder.pk).exists()
    time.sleep(0.5)
    assert not StakeholderScore.objects.filter(stakeholder=stakeholder).exists()

    # Time passes beyond the sweep's grace period; beat would now queue the sweep.
    PendingRecompute.objects.update(created_at=timezone.now() - timedelta(minutes=1))
    tasks.sweep_pending.delay()

    score = _poll(lambda: StakeholderScore.objects.filter(stakeholder=stakeholder).first())
    assert score is not None, "the sweep did not repair the score within 10 s"
    assert score.given == pytest.approx(2, rel=1e-3)
    assert _poll(lambda: not PendingRecompute.objects.exists())


def _sessions_ended() -> int:
    """Sessions of the test database that have ended (PostgreSQL counts a session
    when it ends); the statistics are read afresh, not from this transaction's snapshot."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")
        return cursor.fetchone()[0]


def test_the_worker_keeps_its_database_session_from_task_to_task(
    celery_worker_keeping_connections, manager
):
    # Celery's Django fix-up closed the connection after every task: each task paid for
    # a new PostgreSQL session (a fork, authentication, the catalogue warm-up), more
    # than the scores themselves (config/celery.py).
    stakeholder = StakeholderFactory(owner=manager)
    interaction_log(by=manager, participants=[manager], stakeholders=[stakeholder], subject="0")
    assert _poll(lambda: _scored_over(stakeholder, 1))
    before = _sessions_ended()
    for n in range(2, 12):
        interaction_log(
            by=manager, participants=[manager], stakeholders=[stakeholder], subject=f"{n}"
        )
        assert _poll(lambda n=n: _scored_over(stakeholder, n)), f"task {n} did not run"
    time.sleep(1)  # a session that ended is counted within a second
    assert _sessions_ended() - before <= 1
