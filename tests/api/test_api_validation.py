"""Every bad input is a 400 whose body names the offending field, and nothing is saved."""

import pytest

from relations.models import (
    Commitment,
    Interaction,
    Organization,
    Stakeholder,
    StakeholderLink,
    StrategicGoal,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def valid_interaction(manager, stakeholder):
    return {
        "occurred_at": "2026-03-01T10:00:00Z",
        "kind": "meeting",
        "subject": "Review",
        "internal_participants": [manager.pk],
        "stakeholders": [stakeholder.pk],
        "value_given": 2,
        "value_received": 2,
    }


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"value_given": 6}, "value_given"),  # range 0–5
        ({"value_received": -1}, "value_received"),
        ({"sentiment": 3}, "sentiment"),  # range −2…+2
        ({"duration_minutes": 24 * 60 + 1}, "duration_minutes"),
        ({"cost": "-1"}, "cost"),
        ({"cost": "abc"}, "cost"),
        ({"kind": "telepathy"}, "kind"),  # choice
        ({"occurred_at": "yesterday"}, "occurred_at"),  # bad date
        ({"occurred_at": "0001-01-01T00:00:00Z"}, "occurred_at"),
        ({"stakeholders": [999999]}, "stakeholders"),  # unknown id
        ({"internal_participants": [999999]}, "internal_participants"),
        ({"stakeholders": []}, "stakeholders"),  # empty participant list
        ({"internal_participants": []}, "internal_participants"),
        ({"stakeholders": ["1"]}, "stakeholders"),  # ids are integers
        ({"subject": "x" * 201}, "subject"),  # oversize string
        ({"subject": ""}, "subject"),
        ({"private": "yes"}, "private"),
        ({"value_given": "3"}, "value_given"),
    ],
)
def test_bad_interaction_is_a_400_naming_the_field(manager_api, valid_interaction, change, field):
    response = manager_api.post(
        "/api/v1/interactions/", {**valid_interaction, **change}, format="json"
    )
    assert response.status_code == 400
    assert field in response.json()
    assert not Interaction.objects.exists()


def test_the_valid_payload_of_these_cases_is_accepted(manager_api, valid_interaction):
    assert (
        manager_api.post("/api/v1/interactions/", valid_interaction, format="json").status_code
        == 201
    )


def test_malformed_json_is_a_400(manager_api):
    response = manager_api.post(
        "/api/v1/organizations/", data='{"name": "Acme",', content_type="application/json"
    )
    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]
    assert not Organization.objects.exists()


def test_a_json_list_instead_of_an_object_is_a_400(manager_api):
    response = manager_api.post("/api/v1/organizations/", [1, 2], format="json")
    assert response.status_code == 400
    assert not Organization.objects.exists()


def test_a_stakeholder_id_the_caller_may_not_use_is_a_400(manager, stakeholder):
    outsider = UserFactory(username="olga")
    outsider.groups.clear()
    from tests.clients import token_client

    # A non-staff user is refused before validation: it may not see any stakeholder.
    assert (
        token_client(outsider)
        .post(
            "/api/v1/interactions/",
            {"subject": "x", "stakeholders": [stakeholder.pk]},
            format="json",
        )
        .status_code
        == 403
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"importance": 6}, "importance"),
        ({"influence": 0}, "influence"),
        ({"email": "not-an-email"}, "email"),
        ({"organization": 424242}, "organization"),
        ({"owner": 424242}, "owner"),
        ({"cadence_days": 0}, "cadence_days"),
        ({"tags": "energy"}, "tags"),
        ({"tags": ["x" * 61]}, "tags"),
        ({"name": "x" * 201}, "name"),
        ({"legal_basis": "because"}, "legal_basis"),
        ({"consent_date": "2026-02-30"}, "consent_date"),
    ],
)
def test_bad_stakeholder_is_a_400_naming_the_field(manager_api, change, field):
    response = manager_api.post("/api/v1/stakeholders/", {"name": "Ada", **change}, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Stakeholder.objects.exists()


def test_bad_update_changes_nothing(manager_api, stakeholder):
    response = manager_api.patch(
        f"/api/v1/stakeholders/{stakeholder.pk}/",
        {"name": "Renamed", "importance": 9},
        format="json",
    )
    assert response.status_code == 400
    assert "importance" in response.json()
    stakeholder.refresh_from_db()
    assert (stakeholder.name, stakeholder.importance) == ("Sam Stakeholder", 4)


def test_link_to_itself_is_a_400(manager_api, stakeholder):
    response = manager_api.post(
        "/api/v1/stakeholder-links/",
        {"from_stakeholder": stakeholder.pk, "to_stakeholder": stakeholder.pk},
        format="json",
    )
    assert response.status_code == 400
    assert "to_stakeholder" in response.json()
    assert not StakeholderLink.objects.exists()


def test_link_strength_out_of_range_is_a_400(manager_api, stakeholder):
    other = Stakeholder.objects.create(name="Other")
    response = manager_api.post(
        "/api/v1/stakeholder-links/",
        {"from_stakeholder": stakeholder.pk, "to_stakeholder": other.pk, "strength": 1.5},
        format="json",
    )
    assert response.status_code == 400
    assert "strength" in response.json()


def test_goal_period_ending_before_it_starts_is_a_400(manager_api):
    response = manager_api.post(
        "/api/v1/goals/",
        {"title": "Backwards", "period_start": "2026-06-01", "period_end": "2026-01-01"},
        format="json",
    )
    assert response.status_code == 400
    assert "period_end" in response.json()
    assert not StrategicGoal.objects.exists()


def test_goal_listing_a_stakeholder_twice_is_a_400(manager_api, stakeholder):
    link = {"stakeholder": stakeholder.pk, "role": "x"}
    response = manager_api.post(
        "/api/v1/goals/", {"title": "Twice", "stakeholders": [link, link]}, format="json"
    )
    assert response.status_code == 400
    assert "stakeholders" in response.json()
    assert not StrategicGoal.objects.exists()


def test_commitment_bad_direction_and_date(manager_api, stakeholder):
    response = manager_api.post(
        "/api/v1/commitments/",
        {
            "stakeholder": stakeholder.pk,
            "description": "x",
            "direction": "sideways",
            "due_date": "soon",
        },
        format="json",
    )
    assert response.status_code == 400
    assert {"direction", "due_date"} <= set(response.json())


def test_commitment_interaction_must_involve_its_stakeholder(manager_api, interaction):
    other = Stakeholder.objects.create(name="Other")
    response = manager_api.post(
        "/api/v1/commitments/",
        {
            "stakeholder": other.pk,
            "description": "x",
            "due_date": "2026-12-01",
            "interaction": interaction.pk,
        },
        format="json",
    )
    assert response.status_code == 400
    assert "interaction" in response.json()


def test_duplicate_relationship_is_a_400(manager_api, manager, stakeholder, interaction):
    # `interaction` brought Maria and the stakeholder together already? Make sure.
    from relations.services import relationships_ensure

    relationships_ensure([manager], [stakeholder])
    response = manager_api.post(
        "/api/v1/relationships/", {"stakeholder": stakeholder.pk}, format="json"
    )
    assert response.status_code == 400
    assert "stakeholder" in response.json()


@pytest.mark.parametrize(
    "query",
    [
        "kind=telepathy",
        "stakeholder=abc",
        "occurred_after=yesterday",
        "private=maybe",
        "participant=",
        "page_size=0",
        "page_size=abc",
    ],
)
def test_bad_list_parameters_are_a_400_naming_them(manager_api, query):
    response = manager_api.get(f"/api/v1/interactions/?{query}")
    assert response.status_code == 400
    assert query.split("=")[0] in response.json()


def test_unknown_page_is_a_404(manager_api):
    assert manager_api.get("/api/v1/interactions/?page=99").status_code == 404


@pytest.mark.parametrize("bad_id", ["abc", "1.5", "99999999999999999999999"])
def test_malformed_ids_in_the_path_are_json_404s(manager_api, bad_id):
    response = manager_api.get(f"/api/v1/stakeholders/{bad_id}/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"


def test_an_interaction_the_caller_may_not_see_is_a_400_like_an_unknown_one(
    other_api, stakeholder, interaction
):
    # Otto may not see Maria's interaction: naming it is the same error as a wrong id.
    response = other_api.post(
        "/api/v1/commitments/",
        {
            "stakeholder": stakeholder.pk,
            "description": "x",
            "due_date": "2026-12-01",
            "interaction": interaction.pk,
        },
        format="json",
    )
    assert response.status_code == 400
    assert "does not exist" in response.json()["interaction"][0]
    assert not Commitment.objects.exists()
