"""The OpenAPI schema is complete, and the docs are served without any external host."""

import re

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

RESOURCES = [
    "teams",
    "users",
    "organizations",
    "stakeholders",
    "relationships",
    "interactions",
    "commitments",
    "outcomes",
    "stakeholder-links",
    "goals",
]


@pytest.fixture
def schema(manager_api):
    response = manager_api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def test_every_resource_has_list_and_detail_paths(schema):
    for resource in RESOURCES:
        assert f"/api/v1/{resource}/" in schema["paths"]
        assert f"/api/v1/{resource}/{{id}}/" in schema["paths"]
    assert "post" in schema["paths"]["/api/v1/interactions/bulk/"]
    assert "get" in schema["paths"]["/api/v1/stakeholders/{id}/scores/"]


def test_design_field_names_are_in_the_schema(schema):
    components = schema["components"]["schemas"]
    expected = {
        "Organization": ["name", "sector", "country", "website", "tier"],
        "Stakeholder": [
            "name",
            "organization",
            "title",
            "email",
            "phone",
            "tags",
            "importance",
            "influence",
            "interest",
            "owner",
            "cadence_days",
        ],
        "Interaction": [
            "occurred_at",
            "kind",
            "subject",
            "notes",
            "internal_participants",
            "stakeholders",
            "value_given",
            "value_received",
            "sentiment",
            "duration_minutes",
            "cost",
            "private",
            "version",
        ],
        "Relationship": [
            "user",
            "stakeholder",
            "role",
            "status",
            "objective",
            "desired_strength",
            "next_review",
        ],
        "Commitment": [
            "stakeholder",
            "responsible",
            "direction",
            "description",
            "due_date",
            "status",
            "interaction",
        ],
        "StakeholderLink": ["from_stakeholder", "to_stakeholder", "kind", "strength"],
        "Outcome": [
            "stakeholder",
            "credited_to",
            "goal",
            "kind",
            "value",
            "occurred_on",
            "description",
        ],
        "Scores": ["return", "ror", "trust", "explanation", "computed_at"],
    }
    for component, fields in expected.items():
        assert set(fields) <= set(components[component]["properties"]), component


def test_error_answers_are_documented(schema):
    operation = schema["paths"]["/api/v1/interactions/{id}/"]["patch"]
    assert {"400", "401", "403", "404", "409"} <= set(operation["responses"])
    create = schema["paths"]["/api/v1/interactions/"]["post"]
    assert "Idempotency-Key" in [p["name"] for p in create["parameters"]]


def test_interactive_docs_load_everything_from_this_server(db):
    # Public: the docs and schema describe the API, they hold no data.
    client = Client()
    page = client.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert not re.search(r'(src|href)="(https?:)?//', html), "no asset from another host"
    csp = page["Content-Security-Policy"]
    assert "'unsafe-inline'" in csp.split("style-src")[1].split(";")[0]
    assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    script_url = re.search(r'<script src="([^"]*\?script=)"', html).group(1)
    script = client.get(script_url)
    assert script.status_code == 200
    assert "/api/schema/" in script.content.decode()
    assert client.get("/api/schema/").status_code == 200
    # Only this page relaxes the policy.
    assert "unsafe-inline" not in client.get("/accounts/login/")["Content-Security-Policy"]
