"""The scorecards cost the same number of queries for 3 people as for 12."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dashboards.scorecards import Period, scorecards_for
from tests.factories import TeamFactory
from tests.scorecards.known import make_people

pytestmark = pytest.mark.django_db

# Per call of scorecards_for: commitments, owned stakeholders, two last-contact
# aggregates, reciprocity, portfolio, single threads, slipped promises and the trend.
SCORECARD_QUERIES = 9


def count(fn) -> int:
    with CaptureQueriesContext(connection) as captured:
        fn()
    return len(captured)


def test_scorecards_for_3_or_12_people_cost_the_same(world):
    small = make_people(3, "small")
    large = make_people(12, "large")
    period = Period.last(90)
    assert count(lambda: scorecards_for(small, period)) == SCORECARD_QUERIES
    assert count(lambda: scorecards_for(large, period)) == SCORECARD_QUERIES
    cards = scorecards_for(large, period)
    assert all(c.commitments.kept == 1 and c.commitments.overdue == 1 for c in cards)
    assert all(c.single_threaded_key == 1 and c.cadence.within == 1 for c in cards)


def _team_with(people):
    team = TeamFactory()
    team.members.set(people)
    return team


def test_the_team_page_and_api_are_bounded_whatever_the_team_size(
    world, director, client_for, api_for, django_assert_max_num_queries
):
    small = _team_with(make_people(3, "small"))
    large = _team_with(make_people(12, "large"))
    client = client_for(director)
    api = api_for(director)
    page_counts, api_counts = [], []
    for team in (small, large):
        url = reverse("team-detail-scorecard", args=[team.pk])
        with django_assert_max_num_queries(18):
            assert client.get(url).status_code == 200
        page_counts.append(count(lambda url=url: client.get(url)))
        api_url = f"/api/v1/teams/{team.pk}/scorecard/"
        with django_assert_max_num_queries(18):
            assert api.get(api_url).status_code == 200
        api_counts.append(count(lambda api_url=api_url: api.get(api_url)))
    assert page_counts[0] == page_counts[1]
    assert api_counts[0] == api_counts[1]


def test_the_person_page_is_bounded(world, manager, client_for, django_assert_max_num_queries):
    make_people(12, "more")
    client = client_for(manager)
    with django_assert_max_num_queries(16):
        response = client.get(reverse("person-scorecard", args=[manager.pk]))
    assert response.status_code == 200


def test_the_lists_behind_the_figures_are_bounded(
    world, manager, director, client_for, django_assert_max_num_queries
):
    make_people(12, "more")
    client = client_for(director)
    for url in (
        f"/stakeholders/?owner={manager.pk}&contact=outside",
        f"/commitments/?responsible={manager.pk}&outcome=missed",
        f"/portfolio/?user={manager.pk}&balance=taking",
    ):
        # + 1: the director's second-factor device (django-otp) on each request; the
        # stakeholder list also reads its page's last contacts (one query).
        with django_assert_max_num_queries(14):
            assert client.get(url).status_code == 200


def test_the_everyone_view_is_bounded_whatever_the_staff(world, director, client_for):
    client = client_for(director)
    make_people(3, "small")
    _team_with(make_people(2, "teamed"))
    few = count(lambda: client.get("/team/"))
    _team_with(make_people(12, "large"))
    assert count(lambda: client.get("/team/")) == few
