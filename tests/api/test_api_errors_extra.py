"""Parameters and ids the schema refuses are refused (schemathesis findings)."""

import pytest

pytestmark = pytest.mark.django_db


def test_a_page_that_is_no_positive_integer_is_a_400(manager_api):
    for page in ("", "abc", "0", "-1"):
        response = manager_api.get("/api/v1/stakeholders/", {"page": page})
        assert response.status_code == 400 and "page" in response.json()
    assert manager_api.get("/api/v1/stakeholders/", {"page": "1"}).status_code == 200


def test_an_empty_string_is_no_owner(manager_api):
    response = manager_api.post(
        "/api/v1/stakeholders/", {"name": "Chloé Dubois", "owner": ""}, format="json"
    )
    assert response.status_code == 400 and "owner" in response.json()
