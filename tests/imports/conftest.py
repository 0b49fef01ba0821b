import pytest

from tests.clients import token_client


@pytest.fixture
def manager_api(manager):
    return token_client(manager)


@pytest.fixture
def other_api(other_manager):
    return token_client(other_manager)


@pytest.fixture(autouse=True)
def _tasks_in_process():
    """Imports run in process here, as on the embedded default, even when the
    suite has a broker configured (no worker serves these tests)."""
    from config.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before
