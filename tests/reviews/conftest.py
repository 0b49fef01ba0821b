"""A real SMTP server on loopback (aiosmtpd) and a relationship ready for review."""

from __future__ import annotations

import pytest

from relations.models import Relationship
from tests.factories import StakeholderFactory
from tests.smtp import smtp_server  # noqa: F401 (the fixture)


@pytest.fixture
def relationship(manager):
    sam = StakeholderFactory(
        name="Sam Stakeholder", owner=manager, importance=5, email="sam@example.org"
    )
    return Relationship.objects.create(user=manager, stakeholder=sam, role=Relationship.Role.OWNER)


OURS = {
    "frequency": 4,
    "timeliness": 4,
    "accuracy": 4,
    "problem_solving": 3,
    "shared_goals": 4,
    "shared_knowledge": 3,
    "mutual_respect": 5,
    "integrity": 5,
    "transparency": 4,
    "reliability": 4,
    "more_of": "Joint planning",
}
THEIRS = {**OURS, "timeliness": 2, "shared_knowledge": 4, "more_of": "Faster replies"}


@pytest.fixture(autouse=True)
def _fresh_rate_counts():
    """The answer page counts requests per address in the cache: each test starts at 0."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _tasks_in_process():
    """Syncs and sends run in process, as on the embedded default, even when the suite
    runs with a broker configured (CI): no worker consumes this suite's queue."""
    from config.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before
