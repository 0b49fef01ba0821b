"""Contract tests: an outside client using only DESIGN §6 field names.

Each resource: create, read, update and delete with those names; state checked
in the database before and after.
"""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from relations.models import (
    AuditEvent,
    Commitment,
    Interaction,
    Organization,
    Outcome,
    Relationship,
    Stakeholder,
    StakeholderLink,
    StrategicGoal,
    Team,
)
from tests.factories import (
    CommitmentFactory,
    GoalFactory,
    InteractionFactory,
    OrganizationFactory,
    StakeholderFactory,
)

pytestmark = pytest.mark.django_db


def test_organization_crud(manager_api, director_api):
    response = manager_api.post(
        "/api/v1/organizations/",
        {
            "name": "Acme",
            "sector": "Energy",
            "country": "NL",
            "website": "https://acme.example",
            "tier": 1,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert {k: body[k] for k in ("name", "sector", "country", "website", "tier")} == {
        "name": "Acme",
        "sector": "Energy",
        "country": "NL",
        "website": "https://acme.example",
        "tier": 1,
    }
    url = f"/api/v1/organizations/{body['id']}/"
    assert manager_api.patch(url, {"tier": 2}, format="json").json()["tier"] == 2
    assert Organization.objects.get(pk=body["id"]).tier == 2
    # Deleting an organisation is for directors.
    assert manager_api.delete(url).status_code == 403
    assert director_api.delete(url).status_code == 204
    assert not Organization.objects.filter(pk=body["id"]).exists()
    actions = list(
        AuditEvent.objects.filter(object_type="relations.organization").values_list(
            "action", flat=True
        )
    )
    assert sorted(actions) == ["create", "delete", "update"]


def test_stakeholder_crud_with_tags_and_default_cadence(manager_api, director_api, manager):
    organization = OrganizationFactory()
    payload = {
        "name": "Ada Lovelace",
        "organization": organization.pk,
        "title": "CTO",
        "email": "ada@example.org",
        "phone": "+31 6 1234",
        "tags": ["energy", "board"],
        "importance": 5,
        "influence": 4,
        "interest": 3,
        "owner": manager.pk,
    }
    response = manager_api.post("/api/v1/stakeholders/", payload, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["tags"] == ["board", "energy"]
    assert body["cadence_days"] == 30  # importance 5 → 30 days
    assert body["is_key"] is True
    for name in ("name", "organization", "title", "email", "phone", "importance", "owner"):
        assert body[name] == payload[name]
    stakeholder = Stakeholder.objects.get(pk=body["id"])
    assert sorted(stakeholder.tags.values_list("name", flat=True)) == ["board", "energy"]

    url = f"/api/v1/stakeholders/{stakeholder.pk}/"
    response = manager_api.patch(url, {"tags": ["vip"], "cadence_days": 14}, format="json")
    assert response.status_code == 200
    assert response.json()["tags"] == ["vip"]
    stakeholder.refresh_from_db()
    assert stakeholder.cadence_days == 14
    assert list(stakeholder.tags.values_list("name", flat=True)) == ["vip"]

    assert manager_api.delete(url).status_code == 403
    assert director_api.delete(url).status_code == 204
    assert not Stakeholder.objects.filter(pk=stakeholder.pk).exists()


def test_interaction_crud_through_the_services(manager_api, manager, other_manager, stakeholder):
    assert not Relationship.objects.filter(user=other_manager, stakeholder=stakeholder).exists()
    payload = {
        "occurred_at": "2026-03-01T10:00:00Z",
        "kind": "video_call",
        "subject": "Quarterly review",
        "notes": "Went well",
        "internal_participants": [manager.pk, other_manager.pk],
        "stakeholders": [stakeholder.pk],
        "value_given": 3,
        "value_received": 2,
        "sentiment": 1,
        "duration_minutes": 45,
        "cost": "12.50",
        "private": False,
    }
    response = manager_api.post("/api/v1/interactions/", payload, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    for name in ("kind", "subject", "notes", "value_given", "sentiment", "private"):
        assert body[name] == payload[name]
    assert sorted(body["internal_participants"]) == sorted([manager.pk, other_manager.pk])
    assert body["stakeholders"] == [stakeholder.pk]
    assert body["cost"] == "12.50"
    assert body["version"] == 1
    assert body["created_by"] == manager.pk
    # The service created the missing relationship and audited the creation.
    assert Relationship.objects.filter(user=other_manager, stakeholder=stakeholder).exists()
    assert AuditEvent.objects.filter(
        object_type="relations.interaction", object_id=str(body["id"]), action="create"
    ).exists()

    url = f"/api/v1/interactions/{body['id']}/"
    response = manager_api.get(url)
    assert response["ETag"] == '"1"'
    response = manager_api.patch(url, {"subject": "Q1 review", "version": 1}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["version"] == 2
    assert Interaction.objects.get(pk=body["id"]).subject == "Q1 review"
    # A stale version is a conflict, and nothing changes.
    response = manager_api.patch(url, {"subject": "Stale", "version": 1}, format="json")
    assert response.status_code == 409
    assert "version" in response.json()
    response = manager_api.patch(url, {"subject": "Stale"}, format="json", HTTP_IF_MATCH='"1"')
    assert response.status_code == 409
    assert Interaction.objects.get(pk=body["id"]).subject == "Q1 review"

    assert manager_api.delete(url).status_code == 204
    assert not Interaction.objects.filter(pk=body["id"]).exists()
    assert AuditEvent.objects.filter(object_id=str(body["id"]), action="delete").exists()


def test_interaction_participants_default_to_the_caller(manager_api, manager, stakeholder):
    response = manager_api.post(
        "/api/v1/interactions/",
        {"subject": "Coffee", "stakeholders": [stakeholder.pk], "kind": "meeting"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["internal_participants"] == [manager.pk]


def test_commitment_crud_and_status_change(manager_api, manager, stakeholder, interaction):
    response = manager_api.post(
        "/api/v1/commitments/",
        {
            "stakeholder": stakeholder.pk,
            "responsible": manager.pk,
            "direction": "us",
            "description": "Send the proposal",
            "due_date": "2026-12-24",
            "status": "open",
            "interaction": interaction.pk,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["interaction"] == interaction.pk
    assert body["completed_on"] is None
    url = f"/api/v1/commitments/{body['id']}/"
    response = manager_api.patch(url, {"status": "kept"}, format="json")
    assert response.status_code == 200
    commitment = Commitment.objects.get(pk=body["id"])
    assert commitment.status == "kept"
    assert commitment.completed_on == timezone.localdate()
    assert response.json()["completed_on"] == timezone.localdate().isoformat()
    assert manager_api.delete(url).status_code == 204
    assert not Commitment.objects.filter(pk=body["id"]).exists()


def test_outcome_crud(manager_api, manager, stakeholder):
    goal = GoalFactory()
    response = manager_api.post(
        "/api/v1/outcomes/",
        {
            "stakeholder": stakeholder.pk,
            "credited_to": manager.pk,
            "goal": goal.pk,
            "kind": "deal",
            "value": 2500.5,
            "occurred_on": "2026-02-01",
            "description": "Signed",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["value"] == "2500.50"
    assert body["occurred_on"] == "2026-02-01"
    outcome = Outcome.objects.get(pk=body["id"])
    assert outcome.value == Decimal("2500.50")
    url = f"/api/v1/outcomes/{outcome.pk}/"
    assert manager_api.patch(url, {"value": "10"}, format="json").json()["value"] == "10.00"
    assert manager_api.delete(url).status_code == 204
    assert not Outcome.objects.filter(pk=outcome.pk).exists()


def test_relationship_crud(manager_api, other_api, manager, other_manager, stakeholder):
    # The stakeholder's owner may add a colleague.
    response = manager_api.post(
        "/api/v1/relationships/",
        {
            "user": other_manager.pk,
            "stakeholder": stakeholder.pk,
            "role": "supporting",
            "status": "active",
            "objective": "Co-develop the pilot",
            "desired_strength": 0.7,
            "next_review": "2026-06-01",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["desired_strength"] == 0.7
    url = f"/api/v1/relationships/{body['id']}/"
    # Its user may change it.
    assert other_api.patch(url, {"status": "dormant"}, format="json").status_code == 200
    assert Relationship.objects.get(pk=body["id"]).status == "dormant"
    filtered = manager_api.get(f"/api/v1/relationships/?user={other_manager.pk}").json()
    assert [r["id"] for r in filtered["results"]] == [body["id"]]
    filtered = manager_api.get(f"/api/v1/relationships/?stakeholder={stakeholder.pk}").json()
    assert body["id"] in [r["id"] for r in filtered["results"]]
    assert other_api.delete(url).status_code == 204
    assert not Relationship.objects.filter(pk=body["id"]).exists()


def test_stakeholder_link_crud(manager_api, stakeholder):
    other = StakeholderFactory()
    response = manager_api.post(
        "/api/v1/stakeholder-links/",
        {
            "from_stakeholder": stakeholder.pk,
            "to_stakeholder": other.pk,
            "kind": "reports_to",
            "strength": 0.8,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    url = f"/api/v1/stakeholder-links/{body['id']}/"
    assert manager_api.patch(url, {"strength": 0.3}, format="json").json()["strength"] == 0.3
    assert manager_api.delete(url).status_code == 204
    assert not StakeholderLink.objects.exists()


def test_goal_crud_with_linked_stakeholders(manager_api, manager, stakeholder):
    other = StakeholderFactory()
    response = manager_api.post(
        "/api/v1/goals/",
        {
            "title": "Enter the German market",
            "description": "",
            "owner": manager.pk,
            "period_start": "2026-01-01",
            "period_end": "2026-12-31",
            "status": "active",
            "stakeholders": [
                {"stakeholder": stakeholder.pk, "role": "sponsor"},
                {"stakeholder": other.pk, "role": "gatekeeper"},
            ],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert sorted((s["stakeholder"], s["role"]) for s in body["stakeholders"]) == sorted(
        [(stakeholder.pk, "sponsor"), (other.pk, "gatekeeper")]
    )
    goal = StrategicGoal.objects.get(pk=body["id"])
    url = f"/api/v1/goals/{goal.pk}/"
    response = manager_api.patch(
        url, {"stakeholders": [{"stakeholder": other.pk, "role": "champion"}]}, format="json"
    )
    assert response.status_code == 200
    assert list(goal.links.values_list("stakeholder_id", "role")) == [(other.pk, "champion")]
    # Linked to an active goal, the other stakeholder is now key.
    assert manager_api.get(f"/api/v1/stakeholders/{other.pk}/").json()["is_key"] is True
    assert manager_api.delete(url).status_code == 204
    assert not StrategicGoal.objects.filter(pk=goal.pk).exists()


def test_teams_are_read_by_all_and_written_by_directors(manager_api, director_api, manager):
    response = director_api.post(
        "/api/v1/teams/", {"name": "Energy", "members": [manager.pk]}, format="json"
    )
    assert response.status_code == 201, response.json()
    team_id = response.json()["id"]
    assert manager_api.get(f"/api/v1/teams/{team_id}/").json()["members"] == [manager.pk]
    assert manager_api.post("/api/v1/teams/", {"name": "Mine"}, format="json").status_code == 403
    assert (
        manager_api.patch(f"/api/v1/teams/{team_id}/", {"name": "X"}, format="json").status_code
        == 403
    )
    assert manager_api.delete(f"/api/v1/teams/{team_id}/").status_code == 403
    assert Team.objects.get(pk=team_id).name == "Energy"
    assert director_api.delete(f"/api/v1/teams/{team_id}/").status_code == 204


def test_users_are_read_only(manager_api, manager, director):
    body = manager_api.get(f"/api/v1/users/{director.pk}/").json()
    assert body["username"] == director.username
    assert body["is_director"] is True
    assert manager_api.post("/api/v1/users/", {"username": "x"}, format="json").status_code == 405
    assert manager_api.delete(f"/api/v1/users/{manager.pk}/").status_code == 405


def test_interaction_filters(manager_api, manager, other_manager, stakeholder):
    other = StakeholderFactory(owner=manager)
    now = timezone.now()
    old = InteractionFactory(
        participants=[manager],
        with_stakeholders=[stakeholder],
        kind="call",
        occurred_at=now - timedelta(days=30),
    )
    recent = InteractionFactory(
        participants=[manager, other_manager],
        with_stakeholders=[other],
        kind="email",
        occurred_at=now - timedelta(days=1),
    )

    def ids(query: str) -> list[int]:
        response = manager_api.get(f"/api/v1/interactions/?{query}")
        assert response.status_code == 200, response.json()
        return [i["id"] for i in response.json()["results"]]

    assert ids(f"stakeholder={stakeholder.pk}") == [old.pk]
    assert ids(f"participant={other_manager.pk}") == [recent.pk]
    assert ids("kind=call") == [old.pk]
    since = (now - timedelta(days=7)).isoformat().replace("+00:00", "Z")
    assert ids(f"occurred_after={since}") == [recent.pk]
    assert ids(f"occurred_before={since}") == [old.pk]
    assert ids("ordering=occurred_at") == [old.pk, recent.pk]
    assert ids(f"search={recent.subject}") == [recent.pk]


def test_pagination_accepts_and_caps_page_size(manager_api):
    OrganizationFactory.create_batch(3)
    body = manager_api.get("/api/v1/organizations/?page_size=2").json()
    assert body["count"] == 3
    assert len(body["results"]) == 2
    assert body["next"] is not None
    assert manager_api.get("/api/v1/organizations/?page_size=1000").status_code == 200


def test_stakeholder_filters_by_tag_and_key(manager_api, stakeholder):
    StakeholderFactory(importance=2).tags.create(name="board")
    body = manager_api.get("/api/v1/stakeholders/?tag=board").json()
    assert [s["tags"] for s in body["results"]] == [["board"]]
    body = manager_api.get("/api/v1/stakeholders/?key=true").json()
    assert [s["id"] for s in body["results"]] == [stakeholder.pk]


def test_commitment_filters(manager_api, manager, stakeholder):
    soon = CommitmentFactory(
        stakeholder=stakeholder, responsible=manager, due_date=date(2026, 1, 5)
    )
    CommitmentFactory(stakeholder=stakeholder, responsible=manager, due_date=date(2026, 3, 5))
    body = manager_api.get("/api/v1/commitments/?due_before=2026-02-01&status=open").json()
    assert [c["id"] for c in body["results"]] == [soon.pk]


def test_create_answers_the_location_of_the_new_record(manager_api):
    response = manager_api.post("/api/v1/organizations/", {"name": "Acme"}, format="json")
    assert response["Location"] == f"/api/v1/organizations/{response.json()['id']}/"
    assert manager_api.get(response["Location"]).json()["name"] == "Acme"


def test_sending_back_hidden_notes_as_null_keeps_them(manager_api, manager, stakeholder):
    # A client that read `notes: null` (hidden) and sends the record back must not wipe them.
    private = InteractionFactory(
        participants=[manager], with_stakeholders=[stakeholder], private=True, notes="Secret"
    )
    url = f"/api/v1/interactions/{private.pk}/"
    response = manager_api.patch(url, {"subject": "Renamed", "notes": None}, format="json")
    assert response.status_code == 200
    assert Interaction.objects.get(pk=private.pk).notes == "Secret"
