"""Capture tests run their tasks (feed fetches, score recomputation) in process, as on
the embedded default, even when the suite runs with a broker configured.

`client_for(user)` and `api_for(user)`: a browser session and an API token client
signed in as `user`."""

import pytest

from tests.api.conftest import token_client
from tests.relations.conftest import signed_in


@pytest.fixture(autouse=True)
def _tasks_in_process():
    from config.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


@pytest.fixture
def client_for():
    return signed_in


@pytest.fixture
def api_for():
    return token_client
