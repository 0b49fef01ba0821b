"""A lost database connection answers 503 "temporarily unavailable", never a 500 page
with internals (the fault tests in tests/faults prove it against a real restart)."""

import pytest
from django.db import OperationalError
from django.test import RequestFactory

from config.unavailable import server_error
from relations.querysets import StakeholderQuerySet

INTERNALS = ("Traceback", "psycopg", "OperationalError", "server closed the connection")


@pytest.fixture
def database_gone(monkeypatch):
    def unreachable(self, user):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(StakeholderQuerySet, "visible_to", unreachable)


def _no_internals(text: str) -> None:
    for word in INTERNALS:
        assert word not in text


def test_api_answers_503_json_with_retry_after(manager_api, database_gone):
    response = manager_api.get("/api/v1/stakeholders/")

    assert response.status_code == 503
    assert response["Retry-After"] == "10"
    assert response.json() == {
        "detail": "The service is temporarily unavailable. Please try again in a moment."
    }
    _no_internals(response.content.decode())


def test_page_answers_a_plain_503_page(client, manager, database_gone):
    client.force_login(manager)

    response = client.get("/stakeholders/")

    assert response.status_code == 503
    assert response["Retry-After"] == "10"
    text = response.content.decode()
    assert "Temporarily unavailable" in text and "try again in a moment" in text
    _no_internals(text)


def test_outage_met_outside_a_view_answers_503_too():
    request = RequestFactory().get("/stakeholders/")
    try:
        raise OperationalError("connection refused")
    except OperationalError:
        response = server_error(request)
    assert response.status_code == 503
    _no_internals(response.content.decode())

    api_request = RequestFactory().get("/api/v1/stakeholders/")
    try:
        raise OperationalError("connection refused")
    except OperationalError:
        response = server_error(api_request)
    assert response.status_code == 503 and response["Content-Type"] == "application/json"


def test_other_errors_keep_their_500(db):
    try:
        raise ValueError("a bug")
    except ValueError:
        page = server_error(RequestFactory().get("/"))
        api = server_error(RequestFactory().get("/api/v1/stakeholders/"))
    assert page.status_code == 500 and "Something went wrong" in page.content.decode()
    assert api.status_code == 500
    assert api.content == b'{"detail": "Internal error; it has been logged."}'
