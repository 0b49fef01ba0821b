"""List pages cost a fixed number of queries, whatever the number of rows (no N+1)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from metrics.models import RelationshipScore, StakeholderScore
from relations.models import Relationship, StakeholderLink
from relations.services import relationships_ensure
from tests.factories import (
    CommitmentFactory,
    GoalFactory,
    InteractionFactory,
    OutcomeFactory,
    StakeholderFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def make_rows(n: int, manager, director) -> None:
    for _ in range(n):
        stakeholder = StakeholderFactory(owner=manager)
        stakeholder.tags.create(name=f"tag-{stakeholder.pk}")
        interaction = InteractionFactory(
            participants=[manager, director], with_stakeholders=[stakeholder], private=True
        )
        CommitmentFactory(stakeholder=stakeholder, responsible=manager, interaction=interaction)
        OutcomeFactory(stakeholder=stakeholder, credited_to=manager)
        relationships_ensure([manager], [stakeholder])
        goal = GoalFactory()
        goal.links.create(stakeholder=stakeholder, role="sponsor")
        TeamFactory().members.add(manager, UserFactory())
        StakeholderLink.objects.create(
            from_stakeholder=stakeholder, to_stakeholder=StakeholderFactory()
        )


# Expected queries of one list request, by token (director's view sees everything):
#   1 token lookup (with its user, the user's roles and whether any of the user's tokens
#   expired: accounts.authentication), 1 COUNT for the page, 1 the page of rows,
#   + 1 per prefetched relation: interactions 2 (participants, stakeholders),
#   goals 1 (links), teams 1 (members), users 2 (groups, teams).
#   Stakeholders' tags come with the page (an annotation), not as a prefetch.
RESOURCES = {
    "interactions": 5,
    "commitments": 3,
    "outcomes": 3,
    "relationships": 3,
    "stakeholders": 3,
    "organizations": 3,
    "stakeholder-links": 3,
    "goals": 4,
    "teams": 4,
    "users": 5,
}


@pytest.mark.parametrize(("resource", "expected"), RESOURCES.items())
def test_list_query_count_does_not_grow_with_rows(
    resource, expected, manager, director, director_api
):
    make_rows(2, manager, director)
    with CaptureQueriesContext(connection) as few:
        first = director_api.get(f"/api/v1/{resource}/")
    make_rows(6, manager, director)
    with CaptureQueriesContext(connection) as many:
        second = director_api.get(f"/api/v1/{resource}/")
    assert first.status_code == second.status_code == 200
    assert second.json()["count"] > first.json()["count"]
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]
    assert len(many) <= expected, [q["sql"] for q in many.captured_queries]


def test_manager_interaction_list_is_bounded(
    manager, director, manager_api, django_assert_max_num_queries
):
    make_rows(5, manager, director)
    # token (with user and roles), COUNT, page, participants, stakeholders; notes_visible_to
    # reads the prefetched participants, so private rows cost nothing more.
    with django_assert_max_num_queries(5):
        response = manager_api.get("/api/v1/interactions/")
    assert response.json()["count"] == 5


# Reads of one record: the token query (user and roles included), then one query for the
# row with everything it shows (tags, key flag; for scores: their visibility and the
# stored scores).
def test_stakeholder_detail_is_two_queries(director_api, stakeholder, django_assert_num_queries):
    stakeholder.tags.create(name="board")
    with django_assert_num_queries(2):
        response = director_api.get(f"/api/v1/stakeholders/{stakeholder.pk}/")
    assert response.json()["tags"] == ["board"]


@pytest.mark.parametrize("caller", ["manager_api", "director_api"])
def test_stakeholder_scores_are_two_queries(
    request, caller, stakeholder, django_assert_num_queries
):
    StakeholderScore.objects.create(stakeholder=stakeholder, computed_at=timezone.now())
    client = request.getfixturevalue(caller)
    with django_assert_num_queries(2):
        response = client.get(f"/api/v1/stakeholders/{stakeholder.pk}/scores/")
    assert response.status_code == 200


def test_hidden_scores_are_two_queries(other_api, stakeholder, django_assert_num_queries):
    StakeholderScore.objects.create(stakeholder=stakeholder, computed_at=timezone.now())
    # The prepared read of visible scores finds none; the two reads that say why (the
    # path every other answer skips), and the audit of the denied read (an INSERT).
    with django_assert_num_queries(4):
        response = other_api.get(f"/api/v1/stakeholders/{stakeholder.pk}/scores/")
    assert response.status_code == 404


def test_relationship_scores_are_two_queries(
    manager, manager_api, stakeholder, django_assert_num_queries
):
    relationships_ensure([manager], [stakeholder])
    relationship = Relationship.objects.get(user=manager, stakeholder=stakeholder)
    RelationshipScore.objects.create(relationship=relationship, computed_at=timezone.now())
    with django_assert_num_queries(2):
        response = manager_api.get(f"/api/v1/relationships/{relationship.pk}/scores/")
    assert response.status_code == 200


def test_tags_from_the_annotation_match_the_tags(director_api):
    # No tags, several tags, and a name holding the annotation's separator (read from
    # the tags themselves then): the same lists as the tags say.
    plain = StakeholderFactory(name="A")
    several = StakeholderFactory(name="B")
    for name in ("zeta", "alpha", "mid dle"):
        several.tags.create(name=name)
    odd = StakeholderFactory(name="C")
    odd.tags.create(name="x\x1fy")
    odd.tags.create(name="b")
    body = director_api.get("/api/v1/stakeholders/?ordering=name").json()
    tags = {row["id"]: row["tags"] for row in body["results"]}
    assert tags == {plain.pk: [], several.pk: ["alpha", "mid dle", "zeta"], odd.pk: ["b", "x\x1fy"]}
