"""The archived state in the API (issue #17): what the browser archives (stakeholders,
organisations, goals, outcomes) shows `archived` / `archived_at` read-only, is
archived and put back with `POST …/archive/` and `…/unarchive/` through the browser's
service and rule, and lists filter on it with `?archived=`.

Maria (`manager`) owns the goal; Otto (`other_manager`) is a colleague."""

from __future__ import annotations

import pytest

from relations.models import AuditEvent, Stakeholder
from tests.factories import GoalFactory, OrganizationFactory, OutcomeFactory, StakeholderFactory

pytestmark = pytest.mark.django_db


def test_archived_fields_are_shown_and_read_only(manager_api, manager):
    stakeholder = StakeholderFactory(owner=manager)
    answer = manager_api.get(f"/api/v1/stakeholders/{stakeholder.pk}/").json()
    assert answer["archived"] is False and answer["archived_at"] is None
    response = manager_api.patch(
        f"/api/v1/stakeholders/{stakeholder.pk}/",
        {"archived": True, "archived_at": "2026-01-01T00:00:00Z"},
        format="json",
    )
    assert response.status_code in (200, 400)
    stakeholder.refresh_from_db()
    assert stakeholder.archived_at is None


@pytest.mark.parametrize("resource", ["stakeholders", "organizations", "goals", "outcomes"])
def test_archive_and_unarchive_through_the_browsers_service(resource, manager_api, manager):
    record = {
        "stakeholders": lambda: StakeholderFactory(owner=manager),
        "organizations": lambda: OrganizationFactory(),
        "goals": lambda: GoalFactory(owner=manager),
        "outcomes": lambda: OutcomeFactory(credited_to=manager),
    }[resource]()
    response = manager_api.post(f"/api/v1/{resource}/{record.pk}/archive/")
    assert response.status_code == 200, response.content
    assert response.json()["archived"] is True and response.json()["archived_at"]
    record.refresh_from_db()
    assert record.is_archived and record.version == 2
    assert AuditEvent.objects.filter(
        action="update", object_id=str(record.pk), changes__has_key="archived_at"
    ).exists()
    response = manager_api.post(f"/api/v1/{resource}/{record.pk}/unarchive/")
    assert response.status_code == 200
    assert response.json()["archived"] is False and response.json()["archived_at"] is None
    record.refresh_from_db()
    assert not record.is_archived


def test_whom_the_archive_page_refuses_the_api_refuses(other_api, other_client, manager):
    goal = GoalFactory(owner=manager)
    assert other_client.get(f"/goals/{goal.pk}/archive/").status_code == 403
    assert other_api.post(f"/api/v1/goals/{goal.pk}/archive/").status_code == 403
    goal.refresh_from_db()
    assert not goal.is_archived


def test_an_archive_in_the_api_shows_in_the_browser(manager_api, manager_client, manager):
    stakeholder = StakeholderFactory(name="Zed Archived", owner=manager)
    manager_api.post(f"/api/v1/stakeholders/{stakeholder.pk}/archive/")
    assert "Zed Archived" not in manager_client.get("/stakeholders/").content.decode()
    detail = manager_client.get(f"/stakeholders/{stakeholder.pk}/").content.decode()
    assert "Archived" in detail


def test_lists_keep_every_record_and_filter_on_archived(manager_api, manager):
    kept = StakeholderFactory(name="Kept", owner=manager)
    gone = StakeholderFactory(name="Gone", owner=manager)
    manager_api.post(f"/api/v1/stakeholders/{gone.pk}/archive/")

    def names(query: str = "") -> set[str]:
        response = manager_api.get(f"/api/v1/stakeholders/{query}")
        assert response.status_code == 200, response.content
        return {row["name"] for row in response.json()["results"]}

    assert names() == {"Kept", "Gone"}  # the default is unchanged
    assert names("?archived=all") == {"Kept", "Gone"}
    assert names("?archived=false") == {"Kept"}  # as the browser's list
    assert names("?archived=true") == {"Gone"}
    assert manager_api.get("/api/v1/stakeholders/?archived=maybe").status_code == 400
    assert manager_api.get("/api/v1/stakeholders/?archived=").status_code == 400
    assert Stakeholder.objects.filter(pk=kept.pk, archived_at__isnull=True).exists()
