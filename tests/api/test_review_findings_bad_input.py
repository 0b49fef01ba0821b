"""Security review, items 13 and 14: bad input answers 400 (or 413, 404), never 500.

Deeply nested JSON on any JSON endpoint and in the import `mapping`; JSON bodies
over the size limit (while the documented 1,000-item bulk endpoint still works);
dates outside what the database can hold in list filters and CSV exports; huge
ids and impossible dates in the browser's interaction form; NUL characters as
record ids (PostgreSQL refuses them in text).
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from tests.clients import token_client

pytestmark = pytest.mark.django_db

DEEP = "[" * 100_000 + "]" * 100_000
# Under the interpreter's recursion limit, so that json parses it: the depth cap decides.
DEEP_PARSEABLE = '{"name": ' + "[" * 500 + "]" * 500 + "}"


def _json_endpoints(stakeholder, interaction, director) -> list[tuple[str, str]]:
    return [
        ("post", "/api/v1/stakeholders/"),
        ("patch", f"/api/v1/stakeholders/{stakeholder.pk}/"),
        ("put", f"/api/v1/stakeholders/{stakeholder.pk}/"),
        ("post", "/api/v1/interactions/"),
        ("post", "/api/v1/interactions/bulk/"),
        ("patch", f"/api/v1/interactions/{interaction.pk}/"),
        ("post", f"/api/v1/stakeholders/{stakeholder.pk}/merge/"),
        ("post", f"/api/v1/stakeholders/{stakeholder.pk}/erase/"),
        ("post", "/api/v1/commitments/"),
        ("post", "/api/v1/organizations/"),
        ("post", "/api/v1/webhooks/"),
        ("post", "/api/v1/goals/"),
        ("post", "/api/v1/stakeholder-links/"),
    ]


@pytest.mark.parametrize("body", [DEEP, DEEP_PARSEABLE], ids=["100000-deep", "500-deep"])
def test_deeply_nested_json_is_a_400_everywhere(body, stakeholder, interaction, director):
    client = token_client(director)
    for method, url in _json_endpoints(stakeholder, interaction, director):
        response = getattr(client, method)(url, body, content_type="application/json")
        assert response.status_code == 400, (method, url, response.status_code)
        assert "nested" in response.json()["detail"], (method, url)


def test_deeply_nested_import_mapping_is_a_400(manager):
    response = token_client(manager).post(
        "/api/v1/imports/",
        {
            "file": SimpleUploadedFile("a.csv", b"name\nAda\n", content_type="text/csv"),
            "kind": "stakeholders",
            "mapping": "[" * 10_000 + "]" * 10_000,
        },
        format="multipart",
    )
    assert response.status_code == 400
    assert "mapping" in response.json()


def test_json_bodies_over_the_limit_answer_413(manager):
    client = token_client(manager)
    too_big = json.dumps({"name": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10)})
    for url in ("/api/v1/stakeholders/", "/api/v1/interactions/bulk/"):
        response = client.post(url, too_big, content_type="application/json")
        assert response.status_code == 413, (url, response.status_code)
        assert "too large" in response.json()["detail"]


def test_the_documented_bulk_of_1000_interactions_with_long_notes_fits(manager, stakeholder):
    """1,000 items at the documented maximum: notes of 20,000 characters each (about
    20 MB of JSON, eight times Django's default limit). The body is read and every
    item validated: the one bad item (the last) is reported by its index, and nothing
    is saved. (Creating 1,000 interactions is the bulk tests' concern, and slow.)"""
    when = (timezone.now() - timedelta(days=1)).isoformat()
    items = [
        {
            "subject": f"Call {i}",
            "kind": "call",
            "occurred_at": when,
            "stakeholders": [stakeholder.pk],
            "notes": "n" * 20_000,
        }
        for i in range(1000)
    ]
    items[-1]["kind"] = "carrier pigeon"
    body = json.dumps({"interactions": items})
    assert len(body) > 20_000_000
    response = token_client(manager).post(
        "/api/v1/interactions/bulk/", body, content_type="application/json"
    )
    assert response.status_code == 400, response.content[:300]
    assert list(response.json()["interactions"]) == ["999"]


def test_a_form_post_over_the_limit_answers_413(manager, settings):
    page = Client()
    page.force_login(manager)
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = page.post("/interactions/new/", {"subject": "x" * 2000})
    assert response.status_code == 413


OUT_OF_RANGE = [
    {"occurred_after": "9999-12-31T23:59:59-12:00"},
    {"occurred_before": "0001-01-01T00:00:00+14:00"},
    {"occurred_after": "1899-12-31T00:00:00Z"},
    {"occurred_before": "2201-01-01T00:00:00Z"},
]


@pytest.mark.parametrize("params", OUT_OF_RANGE)
def test_out_of_range_dates_in_filters_are_a_400(params, manager, interaction):
    client = token_client(manager)
    for url in ("/api/v1/interactions/", "/api/v1/interactions/csv/"):
        response = client.get(url, params)
        assert response.status_code == 400, (url, params, response.status_code)
        assert list(params)[0] in response.json()


def test_dates_within_range_still_filter(manager, interaction):
    client = token_client(manager)
    response = client.get("/api/v1/interactions/", {"occurred_after": "1900-01-01T00:00:00Z"})
    assert response.status_code == 200 and response.json()["count"] == 1


@pytest.fixture
def form_page(manager):
    client = Client()
    client.force_login(manager)
    return client


def _interaction_form(stakeholder, manager, **changes):
    data = {
        "stakeholders": [stakeholder.pk],
        "internal_participants": [manager.pk],
        "occurred_at": "2026-01-05T10:00",
        "kind": "meeting",
        "subject": "Form test",
        "duration_minutes": 30,
        "value_given": 0,
        "value_received": 0,
        "cost": "0",
        "form-TOTAL_FORMS": 0,
        "form-INITIAL_FORMS": 0,
    }
    data.update(changes)
    return data


HUGE = "9" * 20


@pytest.mark.parametrize(
    "changes",
    [
        {"stakeholders": [HUGE]},
        {"internal_participants": [HUGE]},
        {"stakeholders": ["-" + HUGE]},
    ],
)
def test_a_20_digit_id_in_the_interaction_form_is_a_form_error(
    form_page, stakeholder, manager, changes
):
    response = form_page.post(
        "/interactions/new/", _interaction_form(stakeholder, manager, **changes)
    )
    assert response.status_code == 200  # the form again, with its error
    assert response.context["form"].errors


@pytest.mark.parametrize("when", ["9999-12-31T23:59", "0001-01-01T00:00", "1899-12-31T23:59"])
def test_impossible_dates_in_the_interaction_form_are_a_form_error(
    form_page, stakeholder, manager, when
):
    from relations.models import Interaction

    before = Interaction.objects.count()
    response = form_page.post(
        "/interactions/new/", _interaction_form(stakeholder, manager, occurred_at=when)
    )
    assert response.status_code == 200
    assert "occurred_at" in response.context["form"].errors
    assert Interaction.objects.count() == before


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/users/%00/scorecard/",
        "/api/v1/relationships/%00/pulses/",
        "/api/v1/relationships/%00/pulses/%00/",
        "/api/v1/stakeholders/%00/",
        "/api/v1/imports/%00/",
        "/settings/tokens/%00/revoke/",
    ],
)
def test_a_nul_character_as_a_record_id_is_a_404(url, manager):
    if url.startswith("/api/"):
        response = token_client(manager).get(url)
        assert response.status_code in (404, 405), response.status_code
    page = Client()
    page.force_login(manager)
    assert page.get(url).status_code in (302, 404, 405)
    assert page.post(url).status_code < 500
