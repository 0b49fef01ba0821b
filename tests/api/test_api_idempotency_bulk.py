"""Integrations retry: `Idempotency-Key` makes a retried create return the first answer;
bulk creates up to 1,000 interactions in one transaction, all or nothing."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from relations.models import IdempotencyRecord, Interaction, Organization, Relationship
from tests.clients import token_client
from tests.factories import StakeholderFactory

pytestmark = pytest.mark.django_db


def test_retried_create_returns_the_first_result(manager_api):
    headers = {"HTTP_IDEMPOTENCY_KEY": "order-42"}
    first = manager_api.post("/api/v1/organizations/", {"name": "Acme"}, format="json", **headers)
    again = manager_api.post("/api/v1/organizations/", {"name": "Acme"}, format="json", **headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Organization.objects.count() == 1


def test_same_key_with_a_different_body_is_refused(manager_api):
    headers = {"HTTP_IDEMPOTENCY_KEY": "k1"}
    manager_api.post("/api/v1/organizations/", {"name": "Acme"}, format="json", **headers)
    response = manager_api.post(
        "/api/v1/organizations/", {"name": "Other"}, format="json", **headers
    )
    assert response.status_code == 422
    assert "Idempotency-Key" in response.json()
    assert list(Organization.objects.values_list("name", flat=True)) == ["Acme"]


def test_keys_are_per_user(manager_api, other_api):
    headers = {"HTTP_IDEMPOTENCY_KEY": "shared"}
    manager_api.post("/api/v1/organizations/", {"name": "Acme"}, format="json", **headers)
    response = other_api.post("/api/v1/organizations/", {"name": "Acme"}, format="json", **headers)
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    assert Organization.objects.count() == 2


def test_a_failed_request_is_not_remembered(manager_api):
    headers = {"HTTP_IDEMPOTENCY_KEY": "fix-and-retry"}
    bad = manager_api.post("/api/v1/organizations/", {"name": ""}, format="json", **headers)
    assert bad.status_code == 400
    assert not IdempotencyRecord.objects.exists()
    good = manager_api.post("/api/v1/organizations/", {"name": "Acme"}, format="json", **headers)
    assert good.status_code == 201


def test_retried_interaction_is_logged_once(manager_api, stakeholder):
    payload = {"subject": "Call", "stakeholders": [stakeholder.pk], "kind": "call"}
    for _ in range(3):
        response = manager_api.post(
            "/api/v1/interactions/", payload, format="json", HTTP_IDEMPOTENCY_KEY="call-1"
        )
        assert response.status_code == 201
    assert Interaction.objects.count() == 1


def test_oversize_key_is_a_400(manager_api):
    response = manager_api.post(
        "/api/v1/organizations/", {"name": "Acme"}, format="json", HTTP_IDEMPOTENCY_KEY="k" * 256
    )
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()
    assert not Organization.objects.exists()


def _item(stakeholder, **fields):
    return {"subject": "Bulk", "kind": "email", "stakeholders": [stakeholder.pk], **fields}


def test_bulk_creates_all_items_in_one_go(manager_api, manager, other_manager):
    stakeholders = StakeholderFactory.create_batch(3)
    items = [
        _item(s, internal_participants=[manager.pk, other_manager.pk]) for s in stakeholders
    ] * 10
    response = manager_api.post(
        "/api/v1/interactions/bulk/", {"interactions": items}, format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["created"] == 30
    assert sorted(body["ids"]) == sorted(Interaction.objects.values_list("pk", flat=True))
    # Through the service: relationships created as for a single interaction.
    assert Relationship.objects.filter(user=other_manager).count() == 3


def test_bulk_is_all_or_nothing_with_per_item_errors(manager_api, stakeholder):
    items = [
        _item(stakeholder),
        _item(stakeholder, value_given=9),
        _item(stakeholder, stakeholders=[]),
    ]
    response = manager_api.post(
        "/api/v1/interactions/bulk/", {"interactions": items}, format="json"
    )
    assert response.status_code == 400
    # Errors keyed by the index of each failing item; valid items are left out.
    errors = response.json()["interactions"]
    assert set(errors) == {"1", "2"}
    assert "value_given" in errors["1"]
    assert "stakeholders" in errors["2"]
    assert not Interaction.objects.exists()


def test_bulk_refuses_more_than_1000_items(manager_api, stakeholder):
    items = [_item(stakeholder)] * 1001
    response = manager_api.post(
        "/api/v1/interactions/bulk/", {"interactions": items}, format="json"
    )
    assert response.status_code == 400
    assert "interactions" in response.json()
    assert not Interaction.objects.exists()


def test_bulk_refuses_an_empty_list_and_a_wrong_shape(manager_api):
    assert (
        manager_api.post(
            "/api/v1/interactions/bulk/", {"interactions": []}, format="json"
        ).status_code
        == 400
    )
    response = manager_api.post("/api/v1/interactions/bulk/", [{"subject": "x"}], format="json")
    assert response.status_code == 400


def test_bulk_validation_resolves_ids_with_one_query_per_model(manager_api, manager):
    stakeholders = StakeholderFactory.create_batch(5)
    invalid = _item(stakeholders[0], kind="telepathy", internal_participants=[manager.pk])
    few = {"interactions": [invalid]}
    many = {
        "interactions": [_item(s, internal_participants=[manager.pk]) for s in stakeholders] * 4
        + [invalid]
    }
    with CaptureQueriesContext(connection) as one:
        assert manager_api.post("/api/v1/interactions/bulk/", few, format="json").status_code == 400
    with CaptureQueriesContext(connection) as twenty_one:
        assert (
            manager_api.post("/api/v1/interactions/bulk/", many, format="json").status_code == 400
        )
    # token, other tokens, groups, SAVEPOINT, users by id, stakeholders by id,
    # ROLLBACK TO and RELEASE SAVEPOINT: the same whatever the number of items.
    assert len(twenty_one) == len(one) <= 8
    assert not Interaction.objects.exists()


def test_bulk_by_a_user_who_cannot_see_the_stakeholder(db, stakeholder):
    from tests.factories import UserFactory

    outsider = UserFactory(username="olga")
    outsider.groups.clear()
    response = token_client(outsider).post(
        "/api/v1/interactions/bulk/", {"interactions": [_item(stakeholder)]}, format="json"
    )
    assert response.status_code == 403
    assert not Interaction.objects.exists()
