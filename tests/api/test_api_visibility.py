"""Who sees what through the API (DESIGN §7), the same rules as the browser.

Maria (`manager`) owns `stakeholder` and met it in `interaction`; Otto
(`other_manager`) has nothing to do with either; Dana (`director`) sees all.
Not visible → 404 (and absent from lists); visible but not changeable → 403.
"""

import pytest

from relations.models import Commitment, Interaction, Outcome, Relationship
from relations.services import relationships_ensure
from tests.clients import token_client
from tests.factories import CommitmentFactory, InteractionFactory, OutcomeFactory

pytestmark = pytest.mark.django_db

ANONYMOUS = "anonymous"


@pytest.fixture
def clients(manager, other_manager, director, api_client):
    return {
        "manager": token_client(manager),
        "other_manager": token_client(other_manager),
        "director": token_client(director),
        ANONYMOUS: api_client,
    }


@pytest.fixture
def records(manager, stakeholder, interaction):
    relationships_ensure([manager], [stakeholder])
    return {
        "interactions": interaction,
        "commitments": CommitmentFactory(stakeholder=stakeholder, responsible=manager),
        "outcomes": OutcomeFactory(stakeholder=stakeholder, credited_to=manager),
        "relationships": Relationship.objects.get(user=manager, stakeholder=stakeholder),
    }


# (who, expected status of GET on the detail)
MATRIX = [("manager", 200), ("director", 200), ("other_manager", 404), (ANONYMOUS, 401)]


@pytest.mark.parametrize("resource", ["interactions", "commitments", "outcomes", "relationships"])
@pytest.mark.parametrize(("who", "expected"), MATRIX)
def test_detail_visibility(clients, records, resource, who, expected):
    obj = records[resource]
    response = clients[who].get(f"/api/v1/{resource}/{obj.pk}/")
    assert response.status_code == expected
    listing = clients[who].get(f"/api/v1/{resource}/")
    if who == ANONYMOUS:
        assert listing.status_code == 401
    else:
        ids = [row["id"] for row in listing.json()["results"]]
        assert (obj.pk in ids) == (expected == 200)


@pytest.mark.parametrize("resource", ["interactions", "commitments", "outcomes", "relationships"])
def test_invisible_records_cannot_be_changed_or_deleted(clients, records, resource):
    obj = records[resource]
    url = f"/api/v1/{resource}/{obj.pk}/"
    assert clients["other_manager"].patch(url, {}, format="json").status_code == 404
    assert clients["other_manager"].delete(url).status_code == 404
    assert type(obj).objects.filter(pk=obj.pk).exists()


def test_relationship_member_sees_but_may_not_change_a_colleagues_interaction(
    clients, other_manager, stakeholder, interaction
):
    # Otto joins the stakeholder's relationships: he now sees its interactions...
    relationships_ensure([other_manager], [stakeholder])
    url = f"/api/v1/interactions/{interaction.pk}/"
    assert clients["other_manager"].get(url).status_code == 200
    # ...but is not a participant, so he may not change or delete them.
    response = clients["other_manager"].patch(url, {"subject": "Hijack"}, format="json")
    assert response.status_code == 403
    assert clients["other_manager"].delete(url).status_code == 403
    assert Interaction.objects.get(pk=interaction.pk).subject != "Hijack"
    # The director may.
    response = clients["director"].patch(url, {"subject": "Fixed"}, format="json")
    assert response.status_code == 200


def test_private_notes_hidden_from_non_participants(clients, manager, other_manager, stakeholder):
    private = InteractionFactory(
        participants=[manager], with_stakeholders=[stakeholder], private=True, notes="Secret"
    )
    relationships_ensure([other_manager], [stakeholder])
    url = f"/api/v1/interactions/{private.pk}/"
    assert clients["manager"].get(url).json()["notes"] == "Secret"
    assert clients["director"].get(url).json()["notes"] == "Secret"
    body = clients["other_manager"].get(url).json()
    assert body["subject"] == private.subject
    assert body["notes"] is None
    listed = clients["other_manager"].get("/api/v1/interactions/").json()["results"]
    assert [row["notes"] for row in listed if row["id"] == private.pk] == [None]
    # Nor can the notes be found by searching.
    found = clients["other_manager"].get("/api/v1/interactions/?search=Secret").json()
    assert found["count"] == 0


def test_commitment_closed_by_owner_but_not_by_a_mere_member(
    clients, manager, other_manager, stakeholder
):
    colleague_commitment = CommitmentFactory(stakeholder=stakeholder, responsible=manager)
    relationships_ensure([other_manager], [stakeholder])
    url = f"/api/v1/commitments/{colleague_commitment.pk}/"
    assert clients["other_manager"].get(url).status_code == 200
    response = clients["other_manager"].patch(url, {"status": "kept"}, format="json")
    assert response.status_code == 403
    assert Commitment.objects.get(pk=colleague_commitment.pk).status == "open"


def test_outcome_changed_only_by_those_involved(clients, other_manager, stakeholder, records):
    relationships_ensure([other_manager], [stakeholder])
    url = f"/api/v1/outcomes/{records['outcomes'].pk}/"
    assert clients["other_manager"].patch(url, {"value": "1"}, format="json").status_code == 403
    assert Outcome.objects.get(pk=records["outcomes"].pk).value == 1000


def test_relationship_changed_by_its_user_owner_or_director_only(
    clients, other_manager, stakeholder, records
):
    relationships_ensure([other_manager], [stakeholder])
    url = f"/api/v1/relationships/{records['relationships'].pk}/"
    assert clients["other_manager"].get(url).status_code == 200
    assert (
        clients["other_manager"].patch(url, {"status": "ended"}, format="json").status_code == 403
    )
    assert clients["director"].patch(url, {"status": "ended"}, format="json").status_code == 200


def test_manager_cannot_add_someone_else_to_a_stakeholder_they_do_not_own(
    clients, manager, stakeholder
):
    response = clients["other_manager"].post(
        "/api/v1/relationships/",
        {"user": manager.pk, "stakeholder": stakeholder.pk},
        format="json",
    )
    assert response.status_code == 400
    assert "user" in response.json()
