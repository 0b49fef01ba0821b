"""`/stakeholders/{id}/scores/` and `/relationships/{id}/scores/`: the stored rows, with
DESIGN §6 field names, visible as DESIGN §7 says."""

import pytest
from django.utils import timezone

from metrics.models import RelationshipScore, StakeholderScore
from relations.models import Relationship
from relations.services import relationships_ensure

pytestmark = pytest.mark.django_db

FIELDS = {
    "reciprocity",
    "reciprocity_balance",
    "given",
    "received",
    "strength",
    "sentiment",
    "reliability",
    "trust",
    "investment",
    "return",
    "ror",
    "last_contact",
    "days_since_contact",
    "overdue",
    "at_risk",
    "risk_reasons",
    "computed_at",
    "explanation",
}


@pytest.fixture
def stored(stakeholder):
    return StakeholderScore.objects.create(
        stakeholder=stakeholder,
        given=4.0,
        received=2.0,
        reciprocity=0.67,
        trust=None,
        return_value=1500.0,
        investment=500.0,
        ror=2.0,
        last_contact=timezone.now() - timezone.timedelta(days=10),
        cadence_days=45,
        at_risk=True,
        risk_reasons=[{"code": "trust_falling", "message": "Trust fell from 0.90 to 0.67"}],
        explanation={"trust": {"components": {}}},
        computed_at=timezone.now(),
    )


def test_owner_and_director_read_stored_stakeholder_scores(manager_api, director_api, stored):
    for client in (manager_api, director_api):
        response = client.get(f"/api/v1/stakeholders/{stored.stakeholder_id}/scores/")
        assert response.status_code == 200
        body = response.json()
        assert set(body) == FIELDS
        assert body["return"] == 1500.0
        assert body["trust"] is None  # "not enough data" stays null
        assert body["days_since_contact"] == 10
        assert body["overdue"] is False


def test_risk_reasons_are_json_objects(director_api, stored):
    # They were Python reprs ("{'code': …}") while the schema promised strings.
    body = director_api.get(f"/api/v1/stakeholders/{stored.stakeholder_id}/scores/").json()
    assert body["risk_reasons"] == [
        {"code": "trust_falling", "message": "Trust fell from 0.90 to 0.67"}
    ]


def test_unrelated_manager_gets_404_for_scores(other_api, stored):
    # Otto sees the stakeholder record (every staff member does) but not its scores.
    assert other_api.get(f"/api/v1/stakeholders/{stored.stakeholder_id}/").status_code == 200
    assert other_api.get(f"/api/v1/stakeholders/{stored.stakeholder_id}/scores/").status_code == 404


def test_scores_not_computed_yet_is_a_clear_404(manager_api, stakeholder):
    response = manager_api.get(f"/api/v1/stakeholders/{stakeholder.pk}/scores/")
    assert response.status_code == 404
    assert "not been computed" in response.json()["detail"]


def test_relationship_scores(manager_api, other_api, manager, stakeholder):
    relationships_ensure([manager], [stakeholder])
    relationship = Relationship.objects.get(user=manager, stakeholder=stakeholder)
    RelationshipScore.objects.create(
        relationship=relationship, strength=0.4, return_value=0.0, computed_at=timezone.now()
    )
    url = f"/api/v1/relationships/{relationship.pk}/scores/"
    body = manager_api.get(url).json()
    assert (body["strength"], body["return"]) == (0.4, 0.0)
    assert other_api.get(url).status_code == 404
