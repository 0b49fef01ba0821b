"""Trust over time (issue 23, item 4): a relationship's and a stakeholder's daily
snapshots on one time line, with the events that moved them, on the page and in the
API, for whom may see them, in a bounded number of queries.

The world, on a frozen clock (10 November 2026, noon UTC): Maria's relationship with
Sam has 120 daily snapshots; trust and reliability fall on 3 November, the day her
commitment "Send the proposal" was marked broken; reciprocity and trust fall on 20
October, the day of a meeting with a negative tone; she recorded a pulse on 1
November. Otto also knows Sam (a relationship of his own), so he sees Sam's
stakeholder-level history but not Maria's relationship.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from metrics import timeline
from metrics.models import RelationshipScoreSnapshot, StakeholderScoreSnapshot
from relations import registry
from relations.models import AuthenticityPulse, Commitment, Relationship
from relations.registry import TimelineEvent, TimelineScope
from tests.factories import CommitmentFactory, InteractionFactory, StakeholderFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)
TODAY = NOW.date()
BROKEN_ON = date(2026, 11, 3)
NEGATIVE_ON = date(2026, 10, 20)
PULSE_ON = date(2026, 11, 1)


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def _figures(day: date) -> dict[str, float]:
    """Trust 0.75 and reciprocity 0.8 until the negative meeting (then 0.68 / 0.7),
    reliability 0.8 until the broken commitment (then 0.55, trust 0.60); drift of a
    tenth of a point a day in between, which marks nothing."""
    drift = (TODAY - day).days * 0.001
    trust, reliability, reciprocity = 0.75, 0.8, 0.8
    if day >= NEGATIVE_ON:
        trust, reciprocity = 0.68, 0.7
    if day >= BROKEN_ON:
        trust, reliability = 0.60, 0.55
    return {
        "trust": trust + drift,
        "reliability": reliability + drift,
        "reciprocity": reciprocity + drift,
        "strength": 0.5,
    }


def snapshots_write(relationship: Relationship, days: int = 120) -> None:
    for offset in range(days):
        day = TODAY - timedelta(days=offset)
        RelationshipScoreSnapshot.objects.create(
            relationship=relationship, date=day, **_figures(day)
        )
        StakeholderScoreSnapshot.objects.create(
            stakeholder=relationship.stakeholder, date=day, **_figures(day)
        )


def at_noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


@pytest.fixture
def world(manager, other_manager):
    sam = StakeholderFactory(name="Sam Stakeholder", owner=manager, importance=4)
    mine = Relationship.objects.create(user=manager, stakeholder=sam, role="owner")
    Relationship.objects.create(user=other_manager, stakeholder=sam)
    snapshots_write(mine)
    CommitmentFactory(
        stakeholder=sam,
        responsible=manager,
        description="Send the proposal",
        due_date=date(2026, 11, 5),
        status=Commitment.Status.BROKEN,
        completed_on=BROKEN_ON,
    )
    negative = InteractionFactory(
        participants=[manager],
        with_stakeholders=[sam],
        occurred_at=at_noon(NEGATIVE_ON),
        subject="Budget talks",
        notes="They felt misled about the tariff; do not repeat the 2025 offer",
        sentiment=-2,
        private=True,
    )
    AuthenticityPulse.objects.create(
        relationship=mine,
        assessed_by=manager,
        assessed_on=PULSE_ON,
        integrity=4,
        transparency=4,
        reliability=3,
        note="Feels fragile since the budget talks",
    )
    return {"sam": sam, "mine": mine, "negative": negative}


# --- Which moves are significant, and which events explain them (no database) ---------


def _row(day: date, trust: float, reliability: float | None = None) -> dict:
    return {"date": day, "trust": trust, "reliability": reliability, "reciprocity": None}


def _event(day: date, kind: str, moves: set[str] = frozenset()) -> TimelineEvent:
    return TimelineEvent(day=day, kind=kind, label=kind, moves=frozenset(moves))


@pytest.mark.django_db(False)
def test_a_move_of_five_points_or_into_another_band_is_significant_drift_is_not():
    assert timeline.is_significant(0.75, 0.70)  # 5 points
    assert not timeline.is_significant(0.75, 0.71)  # 4 points, still strong
    assert timeline.is_significant(0.71, 0.69)  # 71 strong → 69 fair: another band
    assert timeline.is_significant(None, 0.5)  # first measured
    d = date(2026, 1, 1)
    rows = [_row(d + timedelta(days=i), 0.80 - i * 0.004) for i in range(20)]
    assert timeline.significant_moves(rows) == []  # 8 points over 20 days: drift
    rows[10] = _row(rows[10]["date"], 0.60)
    moves = timeline.significant_moves(rows)
    # Down to 60 on day 10, back up to 76 on day 11: two marked days.
    assert [(a.day, a.moves[0].before, a.moves[0].after) for a in moves] == [
        (d + timedelta(days=10), 0.764, 0.60),
        (d + timedelta(days=11), 0.60, pytest.approx(0.756)),
    ]


@pytest.mark.django_db(False)
def test_events_explain_the_move_of_their_day_and_assessments_stand_alone():
    d = date(2026, 3, 10)
    rows = [_row(d, 0.8, 0.8), _row(d + timedelta(days=1), 0.6, 0.5), _row(d + timedelta(2), 0.6)]
    broken = _event(d + timedelta(days=1), "commitment_broken", {"reliability", "trust"})
    chat = _event(d + timedelta(days=1), "interaction_neutral", {"strength"})
    earlier = _event(d - timedelta(days=5), "commitment_kept", {"reliability", "trust"})
    pulse = _event(d + timedelta(days=2), "pulse")
    moves, assessments = timeline.attribute_events(
        timeline.significant_moves(rows), [pulse, chat, broken, earlier]
    )
    assert len(moves) == 1 and moves[0].day == d + timedelta(days=1)
    assert [m.score for m in moves[0].moves] == ["trust", "reliability"]
    # The chat moves only strength, which did not move; the kept one is days before.
    assert moves[0].events == [broken]
    assert [(a.day, a.events) for a in assessments] == [(d + timedelta(days=2), [pulse])]


@pytest.mark.django_db(False)
def test_an_event_of_the_day_before_explains_a_snapshot_written_just_after_midnight():
    # The nightly run writes day d's snapshot at 00:15 of d: an event of d − 1 shows
    # first in d's snapshot.
    d = date(2026, 3, 10)
    rows = [_row(d - timedelta(days=1), 0.8), _row(d, 0.6)]
    broken = _event(d - timedelta(days=1), "commitment_broken", {"trust"})
    moves, _ = timeline.attribute_events(timeline.significant_moves(rows), [broken])
    assert moves[0].events == [broken]


# --- The relationship page --------------------------------------------------------------


def _chart(html: str) -> dict:
    found = re.search(r'<script [^>]*id="trust-history-\w+"[^>]*>(.*?)</script>', html, re.S)
    assert found, "the chart's data block"
    return json.loads(found.group(1))


def _changes(html: str) -> list[str]:
    block = re.search(r'<ul class="list-unstyled small history-changes".*?</ul>', html, re.S)
    assert block, "the list of annotated changes"
    items = re.findall(r"<li[^>]*>(.*?)</li>", block.group(0), re.S)
    return [" ".join(re.sub(r"<[^>]+>", "", item).split()) for item in items]


def test_the_relationship_page_shows_trust_over_90_days_with_the_events_that_moved_it(
    world, manager_client
):
    html = manager_client.get(f"/relationships/{world['mine'].pk}/").content.decode()
    assert "Trust over time" in html
    chart = _chart(html)
    # At least 90 days, dated in words, the last one today; the lines on 0–100.
    assert len(chart["labels"]) == 90
    assert chart["labels"][0] == "13 Aug 2026" and chart["labels"][-1] == "10 Nov 2026"
    trust = next(d for d in chart["datasets"] if d["label"] == "Trust")
    assert trust["data"][-1] == 60 and trust["data"][0] == 84  # 0.75 + 90 days' drift
    assert all(v is not None for v in trust["data"])
    marks = next(d for d in chart["datasets"] if d["label"] == "Marked change")
    # The two events' days, and the day drift took trust from 70 strong to 69 fair.
    assert [chart["labels"][i] for i, v in enumerate(marks["data"]) if v is not None] == [
        "20 Oct 2026",
        "27 Oct 2026",
        "3 Nov 2026",
    ]
    pulse = next(d for d in chart["datasets"] if d["label"] == "Pulse")
    assert pulse["data"][chart["labels"].index("1 Nov 2026")] == 67  # (11/3 − 1) / 4

    assert _changes(html) == [
        "3 Nov 2026: Trust fell from 69 fair to 61 fair; reliability fell from 81 strong"
        " to 56 fair after a commitment was broken: “Send the proposal”.",
        "1 Nov 2026: Maria Manager recorded a pulse, 67 fair.",
        "27 Oct 2026: Trust fell from 70 strong to 69 fair, with no event you may see on"
        " that day (older items weigh less over time, or a record you may not see).",
        "20 Oct 2026: Trust fell from 77 strong to 70 strong; reciprocity fell from 82"
        " strong to 72 strong after a meeting with a negative tone: “Budget talks”.",
    ]
    # The threshold in one line; the chart's text alternative; no numeric date.
    assert "moved by 5 points or more, or into another band" in html
    assert 'role="img" aria-label="Trust from 84\xa0strong on 13 Aug 2026 to 60\xa0fair' in html
    assert "3 marked changes, listed below the chart." in html
    assert not re.search(r"\b\d{1,2}[/-]\d{1,2}[/-]\d{4}\b", html)


def test_the_span_can_be_180_or_365_days_and_defaults_to_90(world, manager_client):
    url = f"/relationships/{world['mine'].pk}/"
    html = manager_client.get(url, {"history": 180}).content.decode()
    assert len(_chart(html)["labels"]) == 180
    assert 'aria-current="page">180 days' in html
    # 120 snapshots: the older days are there, without figures.
    data = next(d for d in _chart(html)["datasets"] if d["label"] == "Trust")["data"]
    assert data[:60] == [None] * 60 and None not in data[60:]
    for wrong in ("7", "abc", "-90", "100000"):
        assert (
            len(_chart(manager_client.get(url, {"history": wrong}).content.decode())["labels"])
            == 90
        )


def test_the_stakeholder_page_shows_the_organisation_level_line(world, manager_client):
    html = manager_client.get(f"/stakeholders/{world['sam'].pk}/").content.decode()
    assert "Trust over time" in html and "across everyone in the organisation" in html
    assert len(_chart(html)["labels"]) == 90
    assert any("“Send the proposal”" in change for change in _changes(html))


def test_the_page_in_dutch_reads_in_dutch(world, manager_client):
    from django.conf import settings

    manager_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "nl"
    html = manager_client.get(f"/relationships/{world['mine'].pk}/").content.decode()
    assert "Vertrouwen door de tijd" in html
    changes = _changes(html)
    assert changes[0].startswith("3 nov 2026: Vertrouwen daalde van 69 redelijk naar 61")
    assert "na een toezegging die werd gebroken: “Send the proposal”" in changes[0]
    assert _chart(html)["labels"][-1] == "10 nov 2026"


# --- Who sees what --------------------------------------------------------------------------


def test_a_colleague_who_knows_the_stakeholder_sees_its_line_not_the_relationship(
    world, other_client
):
    page = other_client.get(f"/relationships/{world['mine'].pk}/")
    assert page.status_code == 200  # the relationship itself is his to see
    assert "Trust over time" not in page.content.decode()
    api = other_client.get(f"/api/v1/relationships/{world['mine'].pk}/history/")
    assert api.status_code == 404

    html = other_client.get(f"/stakeholders/{world['sam'].pk}/").content.decode()
    changes = _changes(html)
    # Maria's pulse is hers (and directors'); the moves and their records are his to see.
    assert not any("pulse" in change for change in changes)
    assert any("“Send the proposal”" in change for change in changes)
    # A private meeting's notes never show, on the page or in the API.
    body = other_client.get(f"/api/v1/stakeholders/{world['sam'].pk}/history/").content.decode()
    for text in (html, body):
        assert "misled" not in text and "fragile" not in text
    assert "pulse" not in [e["kind"] for a in json.loads(body)["annotations"] for e in a["events"]]


def test_a_manager_who_does_not_know_the_stakeholder_sees_no_line(world, client_for):
    from tests.factories import UserFactory

    stranger = client_for(UserFactory(username="sven", role="manager"))
    html = stranger.get(f"/stakeholders/{world['sam'].pk}/").content.decode()
    assert "Trust over time" not in html
    assert stranger.get(f"/api/v1/stakeholders/{world['sam'].pk}/history/").status_code == 404
    assert stranger.get(f"/api/v1/relationships/{world['mine'].pk}/history/").status_code == 404


def test_a_director_sees_the_relationship_line_with_the_pulse(world, director_client):
    html = director_client.get(f"/relationships/{world['mine'].pk}/").content.decode()
    assert "1 Nov 2026: Maria Manager recorded a pulse, 67 fair." in _changes(html)
    assert "misled" not in html.split('id="trust-history"')[1].split("</section>")[0]


# --- The API --------------------------------------------------------------------------------


def test_the_api_gives_the_series_and_its_annotations(world, manager_api):
    body = manager_api.get(f"/api/v1/relationships/{world['mine'].pk}/history/?days=90").json()
    assert body["relationship"] == world["mine"].pk
    assert len(body["results"]) == 90
    assert body["results"][-1]["date"] == "2026-11-10"
    assert body["results"][-1]["trust"] == pytest.approx(0.60)
    assert {"return", "reliability", "reciprocity", "strength"} <= set(body["results"][0])
    broken, pulse, drift, negative = body["annotations"]
    assert drift["date"] == "2026-10-27" and drift["events"] == []
    assert broken["date"] == "2026-11-03" and broken["previous_date"] == "2026-11-02"
    assert [m["score"] for m in broken["moves"]] == ["trust", "reliability"]
    assert broken["moves"][1] == {
        "score": "reliability",
        "before": pytest.approx(0.808),
        "after": pytest.approx(0.557),
    }
    assert broken["events"] == [
        {
            "date": "2026-11-03",
            "kind": "commitment_broken",
            "label": "a commitment was broken",
            "title": "Send the proposal",
            "record_type": "commitment",
            "record_id": Commitment.objects.get().pk,
            "score": None,
            "series": "",
        }
    ]
    assert pulse["moves"] == [] and pulse["events"][0]["kind"] == "pulse"
    assert pulse["events"][0]["score"] == pytest.approx(2 / 3)
    assert negative["events"][0]["kind"] == "interaction_negative"
    assert negative["events"][0]["record_id"] == world["negative"].pk
    # The stakeholder's history keeps its shape and gains the annotations.
    stakeholder = manager_api.get(f"/api/v1/stakeholders/{world['sam'].pk}/history/").json()
    assert stakeholder["stakeholder"] == world["sam"].pk and len(stakeholder["results"]) == 120
    assert [a["date"] for a in stakeholder["annotations"]][:2] == ["2026-11-03", "2026-11-01"]
    for bad in ("0", "x", "4000"):
        answer = manager_api.get(f"/api/v1/relationships/{world['mine'].pk}/history/?days={bad}")
        assert answer.status_code == 400 and "days" in answer.json()
    assert manager_api.get("/api/v1/relationships/99999/history/").status_code == 404


# --- Other apps' events (the reviews app registers its own) ---------------------------------


def test_a_registered_source_adds_its_events_and_their_series(world, manager_client, monkeypatch):
    seen: list[TimelineScope] = []

    def reviews(viewer, scope: TimelineScope):
        seen.append(scope)
        return [
            TimelineEvent(
                day=date(2026, 10, 1),
                kind="review_completed",
                label="Review completed with Sam Stakeholder",
                record_type="review",
                record_id=7,
                score=0.9,
                series="Review: their answers",
            )
        ]

    monkeypatch.setattr(registry, "_timeline_sources", [*registry.timeline_sources(), reviews])
    html = manager_client.get(f"/relationships/{world['mine'].pk}/").content.decode()
    assert "1 Oct 2026: Review completed with Sam Stakeholder, 90 strong." in _changes(html)
    series = next(d for d in _chart(html)["datasets"] if d["label"] == "Review: their answers")
    assert series["data"][_chart(html)["labels"].index("1 Oct 2026")] == 90
    assert seen[0].level == "relationship" and seen[0].user_id == world["mine"].user_id
    assert (seen[0].first, seen[0].last) == (TODAY - timedelta(days=89), TODAY)


# --- Bounded queries ------------------------------------------------------------------------


def _more_events(world, manager, n: int) -> None:
    for i in range(n):
        day = TODAY - timedelta(days=1 + i % 300)
        InteractionFactory(
            participants=[manager],
            with_stakeholders=[world["sam"]],
            occurred_at=at_noon(day),
            sentiment=-2 if i % 3 == 0 else 1,
        )
        CommitmentFactory(
            stakeholder=world["sam"],
            responsible=manager,
            due_date=day,
            status=Commitment.Status.KEPT if i % 2 else Commitment.Status.BROKEN,
            completed_on=day,
        )
        AuthenticityPulse.objects.create(
            relationship=world["mine"],
            assessed_by=manager,
            assessed_on=day,
            integrity=1 + i % 5,
            transparency=3,
            reliability=3,
        )
    for offset in range(120, 365):  # a year of snapshots, jumping every day
        day = TODAY - timedelta(days=offset)
        RelationshipScoreSnapshot.objects.create(
            relationship=world["mine"], date=day, trust=0.3 + 0.4 * (offset % 2)
        )


def test_page_and_api_queries_do_not_grow_with_days_or_events(
    world, manager, manager_client, manager_api, django_assert_max_num_queries
):
    page = f"/relationships/{world['mine'].pk}/?history=365"
    api = f"/api/v1/relationships/{world['mine'].pk}/history/?days=365"
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count(client, path) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(path).status_code == 200
        return len(captured)

    few_page, few_api = count(manager_client, page), count(manager_api, api)
    _more_events(world, manager, 60)
    html = manager_client.get(page).content.decode()
    assert len(_changes(html)) == timeline.LISTED_ANNOTATIONS  # the rest on the chart
    assert "earlier changes are marked on the chart but not listed" in html
    # The history adds a fixed number of queries to its page: the visibility check, the
    # snapshots, and one per source (commitments, interactions, pulses with authors).
    with django_assert_max_num_queries(few_page):
        manager_client.get(page)
    # The API: the token, the relationship with its visibility, the snapshots, the
    # three sources.
    with django_assert_max_num_queries(few_api):
        manager_api.get(api)
    assert few_api <= 7


def test_days_before_the_first_snapshot_show_no_figures_not_zeros(manager_client, manager):
    sam = StakeholderFactory(owner=manager)
    mine = Relationship.objects.create(user=manager, stakeholder=sam)
    html = manager_client.get(f"/relationships/{mine.pk}/").content.decode()
    assert "No figures yet: they appear after the first daily snapshots." in html
    RelationshipScoreSnapshot.objects.create(
        relationship=mine, date=timezone.now().astimezone(UTC).date(), trust=0.5
    )
    html = manager_client.get(f"/relationships/{mine.pk}/").content.decode()
    data = next(d for d in _chart(html)["datasets"] if d["label"] == "Trust")["data"]
    assert data[-1] == 50 and data[:-1] == [None] * 89
    assert "No significant change in this span." in html


# --- The acceptance: 90 days derived from the records, as a fresh installation has -------


def test_acceptance_a_relationship_page_shows_90_days_of_trust_with_what_moved_it(
    manager, manager_client
):
    """Issue 23's acceptance line, end to end: records over three months, the history
    derived from them as `backfill_history` (and `seed_demo --recompute`) derives it,
    and the relationship page marks the negative meeting and the commitment that
    became overdue on the days they moved trust."""
    from networks.services import history_backfill

    sam = StakeholderFactory(name="Sam Stakeholder", owner=manager, importance=4)
    mine = Relationship.objects.create(user=manager, stakeholder=sam, role="owner")
    for days, subject, sentiment in (
        (80, "Kick-off", 1),
        (60, "Site visit", 1),
        (40, "Budget talks", -2),
    ):
        InteractionFactory(
            participants=[manager],
            with_stakeholders=[sam],
            occurred_at=NOW - timedelta(days=days),
            subject=subject,
            sentiment=sentiment,
        )
    CommitmentFactory(
        stakeholder=sam,
        responsible=manager,
        description="Send the proposal",
        due_date=TODAY - timedelta(days=20),
    )
    history_backfill(days=90, now=NOW)

    html = manager_client.get(f"/relationships/{mine.pk}/").content.decode()
    chart = _chart(html)
    trust = next(d for d in chart["datasets"] if d["label"] == "Trust")["data"]
    assert len(chart["labels"]) == 90 and chart["labels"][-1] == "10 Nov 2026"
    # Trust from the first meeting on (80 days ago), every day.
    assert trust[:9] == [None] * 9 and None not in trust[10:]
    changes = _changes(html)
    negative = next(c for c in changes if "“Budget talks”" in c)
    assert negative.startswith("1 Oct 2026: Trust fell from ")
    assert "after a meeting with a negative tone: “Budget talks”." in negative
    overdue = next(c for c in changes if "“Send the proposal”" in c)
    # Due on 21 October, counted as broken from the next day (DESIGN §3).
    assert overdue.startswith("22 Oct 2026: Trust fell from ")
    assert "; reliability first measured at 33 weak after" in overdue
    assert "after a commitment became overdue: “Send the proposal”." in overdue
