"""A first run that is alive, in headless Chromium: after `seed_demo --size small
--recompute` (what `make run` does), the director's dashboard shows a health index and
trend charts with at least 30 daily points, the network map draws, key-person risk
and warm introductions are filled. Offline, with no console errors."""

import re
from io import StringIO

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from networks import services
from relations.models import Stakeholder
from tests.mfa import confirmed_totp, sign_in_through_form

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHARTS_DRAWN = "() => window.rapportCharts && window.rapportCharts.length === 3"
NODES_DRAWN = "() => window.rapportNetwork && window.rapportNetwork.nodes().length > 0"
# Points of the health-index trend that have a value.
INDEX_POINTS = """() => window.rapportCharts
  .find(c => c.canvas.dataset.chart === 'chart-health-index')
  .data.datasets[0].data.filter(v => v !== null).length"""


@pytest.fixture(autouse=True)
def _fresh_graph_cache():
    # The restored graph is cached per run id; a flushed database reuses ids.
    services._graph_cache.clear()
    yield
    services._graph_cache.clear()


@pytest.fixture
def first_run(db):
    call_command(
        "seed_demo", "--size", "small", "--password", "pw", "--recompute", stdout=StringIO()
    )


def test_a_director_sees_a_live_network_on_the_first_run(
    page: Page, live_server, first_run, offline, problems
):
    from django.contrib.auth.models import User

    dana = User.objects.get(username="dana")
    confirmed_totp(dana)
    sign_in_through_form(page, live_server, "dana", then="/dashboard/")
    expect(page).to_have_url(re.compile(r"/dashboard/$"))

    expect(page.locator("#health-index")).to_have_text(re.compile(r"^\d+$"))
    page.wait_for_function(CHARTS_DRAWN)
    assert page.evaluate(INDEX_POINTS) >= 30
    grid = page.locator("#power-interest-grid")
    expect(grid.locator("a").first).to_be_visible()

    page.goto(f"{live_server.url}/network/")
    page.wait_for_function(NODES_DRAWN)
    assert page.evaluate("() => window.rapportNetwork.edges().length") > 0

    page.goto(f"{live_server.url}/network/key-person-risk/")
    expect(page.locator("section.key-person").first).to_be_visible()

    key = next(
        pk
        for pk in Stakeholder.objects.key().order_by("pk").values_list("pk", flat=True)
        if services.stakeholder_intro_paths(pk, dana)[1]
    )
    page.goto(f"{live_server.url}/stakeholders/{key}/")
    expect(page.locator(".warm-introduction").first).to_be_visible()
    assert offline == []
    assert problems == []
