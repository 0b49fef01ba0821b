import pytest

from tests.api.conftest import token_client


@pytest.fixture
def manager_api(manager):
    return token_client(manager)


@pytest.fixture
def other_api(other_manager):
    return token_client(other_manager)
