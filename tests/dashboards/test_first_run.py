"""A first run that is alive (issue 18 item 5): after `seed_demo --size small --recompute`
(what `make run` does) a director sees a health index, trend charts with history, a
filled power/interest grid, the network map, key-person risk and warm introductions,
without waiting for a change or a nightly run.

The history is derived, not invented: a past day's snapshot equals the scores
recomputed as of that day.
"""

from contextlib import nullcontext
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from demo.seed import demo_flush
from metrics.models import (
    PendingRecompute,
    RecomputeJob,
    StakeholderScore,
    StakeholderScoreSnapshot,
)
from metrics.recompute import scores_recompute_all
from networks.models import NetworkHealth, NetworkRun, NodeMetric, StakeholderThreads
from networks.services import HISTORY_DAYS, stakeholder_intro_paths
from relations.models import Stakeholder
from relations.roles import DIRECTOR
from tests.clients import signed_in
from tests.conftest import TEST_CLOCK

MIN_TREND_POINTS = 30


@pytest.fixture(scope="module")
def first_run(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        name = str(connection.settings_dict["NAME"])
        assert "test" in name or "memory" in name, name
        out = StringIO()
        # At the suite's clock (RAPPORT_TEST_CLOCK), as the tests that read the result.
        clock = time_machine.travel(TEST_CLOCK, tick=True) if TEST_CLOCK else nullcontext()
        with clock:
            call_command("seed_demo", "--size", "small", "--seed", "1", "--recompute", stdout=out)
        yield out.getvalue()
        demo_flush()
        for model in (NetworkHealth, NodeMetric, NetworkRun, PendingRecompute, RecomputeJob):
            model.objects.all().delete()


@pytest.fixture
def director(first_run, db):
    return User.objects.filter(groups__name=DIRECTOR).order_by("pk").first()


def test_the_dashboard_shows_a_health_index_and_trends_with_history(first_run, director):
    response = signed_in(director).get(reverse("dashboard"))  # the default period: 90 days

    assert response.status_code == 200
    health = response.context["health"]
    assert health is not None and health.health_index is not None
    assert health.date == timezone.now().astimezone(UTC).date()
    html = response.content.decode()
    assert "— / 100" not in html
    for chart in (response.context["index_chart"], response.context["shares_chart"]):
        days = chart["labels"]
        assert len(days) >= MIN_TREND_POINTS
        # Daily points: consecutive days, each with a value.
        parsed = [datetime.fromisoformat(day).date() for day in days]
        assert all(b - a == timedelta(days=1) for a, b in zip(parsed, parsed[1:], strict=False))
        first_series = chart["datasets"][0]["data"]
        assert sum(value is not None for value in first_series) >= MIN_TREND_POINTS
    index = response.context["index_chart"]["datasets"][0]["data"]
    assert len(set(index)) > 1, "a flat line is a copy of today, not a history"


def test_ninety_days_of_snapshots_are_kept(first_run, db):
    today = timezone.now().astimezone(UTC).date()
    days = set(StakeholderScoreSnapshot.objects.values_list("date", flat=True))
    assert days == {today - timedelta(days=n) for n in range(HISTORY_DAYS)}
    organisation = NetworkHealth.objects.filter(scope=NetworkHealth.Scope.ORGANISATION)
    assert organisation.count() == HISTORY_DAYS
    assert NetworkHealth.objects.filter(scope=NetworkHealth.Scope.TEAM).count() > HISTORY_DAYS


def test_the_grid_the_map_key_person_risk_and_introductions_are_filled(first_run, director):
    client = signed_in(director)

    grid = signed_in(director).get(reverse("dashboard")).context["grid"]
    assert sum(quadrant["count"] for quadrant in grid) > 0
    assert all(quadrant["people"] for quadrant in grid if quadrant["count"])

    network_map = client.get(reverse("network-map"))
    assert network_map.context["run"].status == NetworkRun.Status.DONE
    assert NodeMetric.objects.count() > Stakeholder.objects.count()

    risk = client.get(reverse("key-person-risk"))
    html = risk.content.decode()
    assert "has not been computed yet" not in html
    assert risk.context["rows"] and 'class="card mb-4 key-person"' in html
    assert StakeholderThreads.objects.key_person_risk().exists()

    reachable = next(
        pk
        for pk in Stakeholder.objects.key().order_by("pk").values_list("pk", flat=True)
        if stakeholder_intro_paths(pk, director)[1]
    )
    page = client.get(reverse("stakeholder-detail", args=[reachable])).content.decode()
    assert 'class="list-group-item warm-introduction"' in page
    assert "The network has not been computed yet." not in page


def test_a_past_days_snapshot_is_that_days_recomputation(first_run, db):
    """The history is the scores recomputed as of each past day, not noise or a copy."""
    day = timezone.now().astimezone(UTC).date() - timedelta(days=45)
    snapshot = {
        row[0]: row[1:]
        for row in StakeholderScoreSnapshot.objects.filter(date=day).values_list(
            "stakeholder_id", "trust", "strength", "reciprocity"
        )
    }
    current = dict(StakeholderScore.objects.values_list("stakeholder_id", "strength"))
    assert len(snapshot) == Stakeholder.objects.count()
    # Strength decays and grows with contact: 45 days ago it differed for many.
    assert sum(1 for pk, row in snapshot.items() if row[1] != current[pk]) > len(snapshot) / 2

    end_of_day = datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=UTC)
    scores_recompute_all(at=end_of_day)
    try:
        again = {
            row[0]: row[1:]
            for row in StakeholderScore.objects.values_list(
                "stakeholder_id", "trust", "strength", "reciprocity"
            )
        }
        assert again.keys() == snapshot.keys()
        for pk, row in snapshot.items():
            assert again[pk] == pytest.approx(row, nan_ok=True), pk
    finally:
        scores_recompute_all()


def test_make_runs_second_start_keeps_the_data_and_the_history(first_run, db):
    """`make run` again: `--if-empty` keeps the data, the history is not recomputed."""
    assert "Scores and network health for 90 days" in first_run
    runs = NetworkRun.objects.count()
    out = StringIO()

    call_command(
        "seed_demo", "--size", "small", "--seed", "1", "--if-empty", "--recompute", stdout=out
    )

    assert "Data is already loaded" in out.getvalue()
    assert "computed already" in out.getvalue()
    assert NetworkRun.objects.count() == runs
