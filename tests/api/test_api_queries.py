"""List pages cost a fixed number of queries, whatever the number of rows (no N+1)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from relations.models import StakeholderLink
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
#   1 token lookup (with its user), 1 the user's other tokens (knox's expiry sweep),
#   1 the user's groups (role check, cached on the user for the request),
#   1 COUNT for the page, 1 the page of rows,
#   + 1 per prefetched relation: interactions 2 (participants, stakeholders),
#   stakeholders 1 (tags), goals 1 (links), teams 1 (members), users 2 (groups, teams).
RESOURCES = {
    "interactions": 7,
    "commitments": 5,
    "outcomes": 5,
    "relationships": 5,
    "stakeholders": 6,
    "organizations": 5,
    "stakeholder-links": 5,
    "goals": 6,
    "teams": 6,
    "users": 7,
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
    # token, other tokens, groups, COUNT, page, participants, stakeholders; notes_visible_to
    # reads the prefetched participants, so private rows cost nothing more.
    with django_assert_max_num_queries(7):
        response = manager_api.get("/api/v1/interactions/")
    assert response.json()["count"] == 5
