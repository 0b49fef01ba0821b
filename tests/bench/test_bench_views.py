"""The benchmark's bare views, its timing middleware and its load generator.

The bare views are the floor the API is compared against, so they must return
the same rows; the middleware's query count is what the benchmark reports for
each page; the load generator's figures are the benchmark's figures.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from demo.bench import loadgen
from demo.bench.middleware import QUERIES_HEADER, TIME_HEADER
from metrics.recompute import scores_recompute_all
from relations.models import Interaction
from tests.clients import token_client
from tests.factories import InteractionFactory, StakeholderFactory

bench_urls = pytest.mark.urls("tests.bench.urls_with_bench")


def test_bare_views_are_not_served_without_the_setting(db):
    assert Client().get("/bench/stakeholders/").status_code == 404


@bench_urls
def test_the_bare_list_returns_the_rows_of_the_api_page(manager, stakeholder):
    StakeholderFactory.create_batch(60, owner=manager)
    api = token_client(manager).get("/api/v1/stakeholders/").json()
    bare = Client().get("/bench/stakeholders/").json()
    assert bare["count"] == api["count"] == 61
    assert [row["id"] for row in bare["results"]] == [row["id"] for row in api["results"]]
    assert len(bare["results"]) == 50


@bench_urls
def test_the_bare_detail_and_scores_match_the_api(manager, stakeholder, interaction):
    scores_recompute_all()
    api = token_client(manager)
    detail = Client().get(f"/bench/stakeholders/{stakeholder.pk}/").json()
    assert detail["name"] == api.get(f"/api/v1/stakeholders/{stakeholder.pk}/").json()["name"]
    scores = Client().get(f"/bench/stakeholders/{stakeholder.pk}/scores/").json()
    api_scores = api.get(f"/api/v1/stakeholders/{stakeholder.pk}/scores/").json()
    assert scores["strength"] == pytest.approx(api_scores["strength"])
    assert Client().get("/bench/stakeholders/999999/").status_code == 404


@bench_urls
def test_the_bare_create_saves_what_the_api_body_says(manager, stakeholder):
    body = {
        "occurred_at": "2026-01-05T10:00:00+00:00",
        "kind": "call",
        "subject": "Bare call",
        "stakeholders": [stakeholder.pk],
        "value_given": 2,
    }
    response = Client().post(
        "/bench/interactions/",
        json.dumps(body),
        content_type="application/json",
        headers={"X-Bench-User": str(manager.pk)},
    )
    assert response.status_code == 201
    interaction = Interaction.objects.get(pk=response.json()["id"])
    assert interaction.subject == "Bare call"
    assert interaction.value_given == 2
    assert list(interaction.stakeholders.all()) == [stakeholder]
    assert list(interaction.internal_participants.all()) == [manager]


def test_the_middleware_reports_the_queries_of_the_request(settings, manager, stakeholder):
    settings.MIDDLEWARE = ["demo.bench.middleware.BenchTimingMiddleware", *settings.MIDDLEWARE]
    InteractionFactory.create_batch(3, participants=[manager], with_stakeholders=[stakeholder])
    client = Client()
    client.force_login(manager)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("stakeholder-detail", args=[stakeholder.pk]))
    assert response.status_code == 200
    assert int(response[QUERIES_HEADER]) == len(captured) > 3
    assert float(response[TIME_HEADER]) > 0


def test_percentiles_interpolate_between_ranks():
    assert loadgen.percentile([1, 2, 3, 4, 5], 50) == 3
    assert loadgen.percentile([10, 20], 95) == pytest.approx(19.5)
    assert loadgen.percentile([], 50) is None


def test_the_load_generator_counts_every_measured_request(live_server):
    result = loadgen.run(f"{live_server.url}/accounts/login/", concurrency=3, requests=25, warmup=4)
    assert result["statuses"] == {"200": 25}
    assert result["ok"] == 25
    assert result["rps"] > 0
    assert 0 < result["latency_ms"]["p50"] <= result["latency_ms"]["p95"]


def test_the_load_generator_counts_failures_apart(live_server):
    result = loadgen.run(
        f"{live_server.url}/api/v1/stakeholders/", concurrency=2, requests=6, warmup=0
    )
    assert result["statuses"] == {"401": 6}
    assert result["ok"] == 0


def test_the_load_generator_runs_for_a_duration(live_server):
    result = loadgen.run(
        f"{live_server.url}/accounts/login/", concurrency=2, requests=None, duration=1, warmup=1
    )
    assert result["requests"] == result["ok"] > 0
    assert 1 <= result["seconds"] < 10
    assert result["rps"] == pytest.approx(result["requests"] / result["seconds"])


def test_production_settings_refuse_the_bench_views():
    env = {**os.environ, "DJANGO_SECRET_KEY": "x" * 64, "RAPPORT_BENCH_VIEWS": "1"}
    out = subprocess.run(
        [sys.executable, "-c", "import config.settings_production"],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
    )
    assert out.returncode != 0
    assert "RAPPORT_BENCH_VIEWS" in out.stderr
