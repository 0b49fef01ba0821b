"""Every dashboard page costs a bounded number of queries, the same ceiling for the
`tiny`, `small` and (with RAPPORT_TEST_MEDIUM=1) `medium` demo: it does not grow
with the size of the network.

The first three queries of every page are the session, the user and the user's
groups (for the role checks, cached on the user for the request).
"""

import os

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.db.models import Count
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from demo import seed as demo
from metrics.models import PendingRecompute, RecomputeJob
from metrics.recompute import scores_recompute_all
from metrics.writeback import snapshots_write
from networks.models import NetworkHealth, NetworkRun, NodeMetric
from networks.services import network_recompute
from relations.models import Organization, Stakeholder, StrategicGoal, Team

BASE = 3  # session, user, the user's groups
# A director's requests also load their second-factor device (django-otp), and the
# record pages show directors the record's history (one query).
DIRECTOR_EXTRA = 1
HISTORY_PAGES = {"goal-detail", "organization-detail", "stakeholder-detail"}

# page → (ceiling, the queries after BASE)
CEILINGS = {
    # the team of the scope; latest health; trend; at-risk list; grid counts + 4
    # quadrants; 2 distributions; teams + their health; goals + their health; the
    # teams and the goals of the scope selects
    "dashboard": BASE + 17,
    # count, page (+owner, organisation, score, threads); the scope selects' options
    "dashboard-figure": BASE + 4,
    # open counts; ours due; theirs due; losing-touch candidates + their rows;
    # at risk; plans due; recent interactions + stakeholders + participants;
    # the director's health card; key relationships whose pulse is due; my reviews
    # due or answered (the reviews panel)
    "home": BASE + 13,
    # count, page (+stakeholder, organisation, scores), sparklines
    "portfolio": BASE + 3,
    # count, page of goals with their latest health (subqueries)
    "goal-list": BASE + 2,
    # the goal; links count + page; visible scores; outcomes + total; plans;
    # latest health; trend (the last two for directors and the goal's owner)
    "goal-detail": BASE + 9,
    # users and goals for the selects; count; page
    "plan-list": BASE + 4,
    # the organisation; stakeholders count + page (+owner); roll-up; trend; ledger
    "organization-detail": BASE + 6,
    # the stakeholder + tags; timeline count + page (+participants, stakeholders);
    # visible relationships; scores; relationships (+users); the network run, its
    # graph and the people of its panel; open commitments; scores visibility;
    # monthly give/take; outcomes; known ties; the interactions, commitments and
    # outcomes the score explanation names (one query per kind, DESIGN §5b: items
    # named, not ids); trust over time: whether I may see it, the snapshots, and the
    # span's commitments, interactions and pulses (one query each, whatever the span);
    # the reviews I may read (the reviews panel) and those on the time line
    "stakeholder-detail": BASE + 21 + 5 + 1 + 1,
}


MEDIUM = pytest.param(
    "medium",
    marks=pytest.mark.skipif(
        not os.environ.get("RAPPORT_TEST_MEDIUM"),
        reason="about a minute: set RAPPORT_TEST_MEDIUM=1 to run it",
    ),
)


@pytest.fixture(scope="module", params=["tiny", "small", MEDIUM])
def seeded(request, django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        # Never the development database: pytest-django sets the test one up only
        # when a collected test asks for `db` (as test_pages_are_bounded does).
        name = str(connection.settings_dict["NAME"])
        assert "test" in name or "memory" in name, name
        demo.demo_seed(size=request.param, seed=1, flush=True)
        scores_recompute_all()
        network_recompute()
        snapshots_write(timezone.now().date())
        yield request.param
        demo.demo_flush()
        # Rows without a foreign key to the domain, which the flush leaves behind.
        for model in (NetworkHealth, NodeMetric, NetworkRun, PendingRecompute, RecomputeJob):
            model.objects.all().delete()


def url_of(page: str) -> str:
    if page == "goal-detail":
        return reverse(page, args=[StrategicGoal.objects.order_by("pk").first().pk])
    if page == "organization-detail":
        organization = (
            Organization.objects.filter(stakeholders__isnull=False).order_by("pk").first()
        )
        return reverse(page, args=[organization.pk])
    if page == "stakeholder-detail":
        # The stakeholder with the most interactions: the longest timeline.
        busiest = Stakeholder.objects.annotate(n=Count("interactions")).order_by("-n", "pk")
        return reverse(page, args=[busiest.first().pk])
    return reverse(page)


def busiest_manager() -> User:
    """The manager with the most owned stakeholders: the fullest home page."""
    owner_id = (
        Stakeholder.objects.exclude(owner=None)
        .values("owner")
        .annotate(n=Count("pk"))
        .order_by("-n")
        .first()["owner"]
    )
    return User.objects.get(pk=owner_id)


@pytest.mark.parametrize("page", list(CEILINGS))
def test_pages_are_bounded(seeded, db, page, django_assert_max_num_queries):
    director = User.objects.filter(groups__name="director", is_superuser=False).first()
    for user in (director, busiest_manager()):
        if page.startswith("dashboard") and user != director:
            continue
        client = Client()
        client.force_login(user)
        params = {"team": Team.objects.first().pk} if page == "dashboard" else {}
        url = url_of(page)
        ceiling = CEILINGS[page]
        if user == director:
            ceiling += DIRECTOR_EXTRA + (page in HISTORY_PAGES)
        with django_assert_max_num_queries(ceiling):
            response = client.get(url, params)
        assert response.status_code == 200
