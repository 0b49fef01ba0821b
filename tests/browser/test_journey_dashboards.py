"""Dashboards in headless Chromium with the network cut off: a director sees the
health index and the charts draw; a manager logs an interaction from an overdue
row of their home page and the row leaves the queue. No console errors, so no
CSP violations and no failed requests."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.menus import open_menu
from tests.dashboards.conftest import _fresh_graph_cache, _tasks_in_process, known  # noqa: F401
from tests.mfa import sign_in_through_form

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHARTS_DRAWN = "() => window.rapportCharts && window.rapportCharts.length === 3"


def sign_in(page: Page, live_server, username: str) -> None:
    sign_in_through_form(page, live_server, username)


def test_director_sees_health_and_charts(
    page: Page,
    live_server,
    known,  # noqa: F811
    director,
    offline,
    problems,
):
    sign_in(page, live_server, "dana")
    # The director's home shows the index and leads to the dashboard.
    expect(page.locator("#health-heading")).to_be_visible()
    open_menu(page, "Insights")
    page.get_by_role("link", name="Dashboard", exact=True).click()
    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    expect(page.locator("#health-index")).to_have_text("50")

    page.wait_for_function(CHARTS_DRAWN)
    for chart in ("chart-health-index", "chart-health-shares", "chart-distribution"):
        canvas = page.locator(f"canvas[data-chart='{chart}']")
        expect(canvas).to_have_attribute("data-ready", "1")
        box = canvas.bounding_box()
        assert box and box["width"] > 100 and box["height"] > 100
    # Something was drawn: the distribution chart has bars for the key stakeholders.
    bars = page.evaluate(
        "() => window.rapportCharts[2].getDatasetMeta(0).data.filter(b => b.height > 0).length"
    )
    assert bars >= 1

    # The figures behind a chart, on demand.
    page.get_by_text("Show the figures").first.click()
    expect(page.locator("figure.chart table").first.locator("tbody tr")).to_have_count(1)

    # The power/interest grid names the quadrants; a tile leads to the people behind it.
    grid = page.locator("#power-interest-grid")
    expect(grid).to_contain_text("Manage closely")
    expect(grid.get_by_role("link", name=re.compile("^Alba"))).to_have_class("score-strong")
    page.locator("a[href='/dashboard/stakeholders/?figure=unthreaded']").click()
    expect(page.locator("#figure-stakeholders tbody tr")).to_have_count(1)
    expect(page.locator("#figure-stakeholders")).to_contain_text("Cleo")

    # The organisation's roll-up and its give/take ledger.
    page.goto(f"{live_server.url}{known['acme'].get_absolute_url()}")
    expect(page.locator("#organization-rollup")).to_contain_text("50 fair")
    ledger = page.locator(f"canvas[data-chart='ledger-organization-{known['acme'].pk}']")
    expect(ledger).to_have_attribute("data-ready", "1")
    expect(page.locator(".ledger-balance")).to_contain_text("Acme owes us")

    assert problems == []
    assert offline == []


def test_manager_logs_an_interaction_from_an_overdue_row(
    page: Page,
    live_server,
    known,  # noqa: F811
    manager,
    offline,
    problems,
):
    eve = known["eve"]
    sign_in(page, live_server, "maria")
    expect(page.get_by_role("heading", name="Hello, Maria")).to_be_visible()
    queue = page.locator("#losing-touch")
    row = queue.locator(".losing-touch-row", has_text="Eve")
    expect(row).to_contain_text("40 days overdue")

    row.get_by_role("link", name="Log an interaction with Eve").click()
    expect(page).to_have_url(re.compile(rf"/interactions/new/\?stakeholder={eve.pk}$"))
    page.get_by_label("Subject").fill("Coffee to reconnect")
    page.get_by_role("button", name="Log interaction", exact=True).last.click()
    expect(page).to_have_url(re.compile(rf"/stakeholders/{eve.pk}/$"))
    expect(page.locator("#timeline")).to_contain_text("Coffee to reconnect")
    # Her give/take ledger is drawn on her page.
    ledger = page.locator(f"canvas[data-chart='ledger-stakeholder-{eve.pk}']")
    expect(ledger).to_have_attribute("data-ready", "1")

    # The worker (in process here) recomputed Eve's scores after the commit: the
    # contact resets her cadence and she leaves the queue.
    page.get_by_role("link", name="Home", exact=True).click()
    expect(page.locator("#losing-touch .losing-touch-row", has_text="Eve")).to_have_count(0)
    expect(page.locator("#losing-touch")).to_contain_text("Finn")

    # The portfolio lists her too, sortable.
    open_menu(page, "Insights")
    page.get_by_role("link", name="Portfolio", exact=True).click()
    page.get_by_label("Sort by").select_option("trust")
    page.get_by_role("button", name="Sort").click()
    expect(page.locator("#portfolio tbody tr").first).to_contain_text("Bram")

    assert problems == []
    assert offline == []
