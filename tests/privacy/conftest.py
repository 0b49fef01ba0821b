"""Fixtures of the data-protection tests: a person whose data is spread over every
place the application keeps text, and helpers that search the whole database."""

from datetime import timedelta

import pytest
from django.utils import timezone

from networks import services as network_services
from relations.models import Webhook


@pytest.fixture(autouse=True)
def _no_throttle(settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"token": None}}


@pytest.fixture(autouse=True)
def _fresh_graph_cache():
    # The restored graph is cached per run id; a flushed database reuses ids.
    network_services._graph_cache.clear()
    yield
    network_services._graph_cache.clear()


@pytest.fixture
def webhook(director):
    return Webhook.objects.create(
        owner=director,
        url="https://hooks.example.org/rapport",
        events=["interaction.created"],
        secret="s" * 64,
    )


@pytest.fixture
def long_ago():
    return timezone.now() - timedelta(days=4 * 365)


@pytest.fixture(autouse=True)
def _tasks_in_process():
    from config.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before
