"""Dutch in headless Chromium with the network cut off: a director signs in, sees the
health index, switches to Dutch with the switcher in the navigation and reads the
dashboard in Dutch, charts still drawn, no console errors; the choice is remembered
in a long-lived cookie and holds on the next pages."""

import re
import time

import pytest
from playwright.sync_api import Page, expect

from tests.browser.menus import open_menu
from tests.browser.test_journey_dashboards import CHARTS_DRAWN, sign_in
from tests.dashboards.conftest import _fresh_graph_cache, _tasks_in_process, known  # noqa: F401
from tests.mfa import pass_second_factor

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

YEAR_IN_SECONDS = 365 * 24 * 60 * 60


def test_director_switches_the_dashboard_to_dutch(
    page: Page,
    live_server,
    known,  # noqa: F811
    director,
    offline,  # noqa: F811
    problems,  # noqa: F811
):
    sign_in(page, live_server, "dana")
    open_menu(page, "Insights")
    page.get_by_role("link", name="Dashboard", exact=True).click()
    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    expect(page.locator("#health-index")).to_have_text("50")
    expect(page.get_by_role("heading", name="Health index")).to_be_visible()
    page.wait_for_function(CHARTS_DRAWN)

    # The switcher: choosing a language submits it (app.js); its button is for no-JS.
    switcher = page.locator("nav form[data-language-switcher]")
    expect(switcher.locator("[data-language-submit]")).to_be_hidden()
    open_menu(page)  # the user menu holds the switcher
    with page.expect_navigation():
        switcher.get_by_label("Language").select_option("nl")

    # Back on the same page, in Dutch.
    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    expect(page.locator("html")).to_have_attribute("lang", "nl")
    expect(page.get_by_role("heading", name="Gezondheidsindex")).to_be_visible()
    nav = page.get_by_role("navigation", name="Hoofdmenu")
    expect(nav.get_by_role("link", name="Mijn toezeggingen")).to_be_visible()
    expect(nav.get_by_role("link", name="Interactie vastleggen")).to_be_visible()
    expect(page.locator("#health-index")).to_have_text("50")
    expect(page.locator("[data-figure='return']")).to_have_text("€\u00a05.000")
    expect(page.locator("[data-figure='trust']")).to_have_text("50 redelijk")
    expect(page.locator("#power-interest-grid")).to_contain_text("Nauw betrekken")
    expect(switcher.get_by_label("Taal")).to_have_value("nl")

    # The charts are drawn again, with Dutch series names.
    page.wait_for_function(CHARTS_DRAWN)
    for chart in ("chart-health-index", "chart-health-shares", "chart-distribution"):
        expect(page.locator(f"canvas[data-chart='{chart}']")).to_have_attribute("data-ready", "1")
    series = page.evaluate(
        "() => window.rapportCharts.flatMap(c => c.data.datasets.map(d => d.label))"
    )
    assert "Gezondheidsindex" in series and "Dekking" in series and "Vertrouwen" in series

    # Remembered for a year in this browser: the next page is Dutch too.
    cookie = next(c for c in page.context.cookies() if c["name"] == "django_language")
    assert cookie["value"] == "nl" and cookie["sameSite"] == "Lax"
    assert cookie["expires"] - time.time() > YEAR_IN_SECONDS - 3600
    open_menu(page, "Inzichten")
    page.get_by_role("link", name="Portefeuille", exact=True).click()
    expect(page.get_by_role("heading", name="Mijn portefeuille")).to_be_visible()

    assert problems == []
    assert offline == []


def test_the_sign_in_page_offers_dutch_too(
    page: Page,
    live_server,
    director,
    offline,  # noqa: F811
    problems,  # noqa: F811
):
    page.goto(f"{live_server.url}/accounts/login/")
    with page.expect_navigation():
        page.get_by_label("Language").select_option("nl")
    expect(page.get_by_role("heading", name="Inloggen bij Rapport")).to_be_visible()
    page.get_by_label("Gebruikersnaam").fill("dana")
    page.get_by_label("Wachtwoord").fill("pw")
    page.get_by_role("button", name="Inloggen").click()
    expect(page.get_by_role("heading", name="Verificatie in twee stappen")).to_be_visible()
    pass_second_factor(page, director)
    nav = page.get_by_role("navigation", name="Hoofdmenu")
    expect(nav.get_by_role("link", name="Interactie vastleggen")).to_be_visible()

    assert problems == []
    assert offline == []
