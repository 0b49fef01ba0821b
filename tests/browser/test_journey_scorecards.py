"""A director opens the team view, sees who needs help with follow-through and follows
a coaching signal to the promises and the stakeholders behind it (issue 10), in
headless Chromium."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.menus import open_menu
from tests.mfa import sign_in_through_form
from tests.scorecards.known import build_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def team_world(transactional_db, settings, manager, other_manager, director):
    # Two stakeholders outside their cadence are enough for a signal in this small team.
    settings.SCORECARD_COACHING = {"overdue_contacts": 2}
    return build_world(manager, other_manager, director)


def sign_in(page: Page, base: str, username: str) -> None:
    # Password, then the second factor directors must pass (tests.mfa).
    sign_in_through_form(page, type("Server", (), {"url": base}), username)


def test_director_follows_a_coaching_signal_to_the_stakeholders_behind_it(
    page: Page, live_server, team_world, manager
):
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    sign_in(page, live_server.url, "dana")

    open_menu(page, "Insights")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Team").click()
    expect(page.get_by_role("heading", name="Team: everyone")).to_be_visible()
    page.get_by_label("Team", exact=True).select_option(label="Energy")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("heading", name="Team Energy")).to_be_visible()
    expect(page.locator("#team-table .team-row")).to_have_count(2)

    # Sorted by overdue promises, Maria comes first.
    page.locator("#team-table thead").get_by_role("link", name="Overdue promises").click()
    expect(page.locator("#team-table .team-row").first).to_contain_text("Maria Manager")

    # Follow-through: whose kept share fell, and on which relationships.
    fell = page.locator(
        f'.coaching-signal[data-signal="kept_share_fell"][data-person="{manager.pk}"]'
    )
    expect(fell).to_contain_text("Maria Manager kept 3 of 6 promises")
    # On which relationships: named on the same page, most slips first.
    expect(fell.locator(".slipped")).to_have_text("Slipped with: Bram (2), Cleo (1)")
    fell.get_by_role("link", name="See the items behind it").click()
    expect(page.get_by_role("heading", name="Commitments of Maria Manager")).to_be_visible()
    items = page.locator("#commitments .commitment")
    expect(items).to_have_count(3)
    expect(page.locator("#commitments")).to_contain_text("Overdue 5")
    expect(page.locator("#commitments")).to_contain_text("Broken 40")
    page.go_back()

    # Contacts: the stakeholders outside their cadence.
    contacts = page.locator(
        f'.coaching-signal[data-signal="overdue_contacts"][data-person="{manager.pk}"]'
    )
    expect(contacts).to_contain_text("2 of the 4 stakeholders Maria Manager owns")
    contacts.get_by_role("link", name="See the items behind it").click()
    expect(page).to_have_url(re.compile(r"/stakeholders/\?.*contact=outside"))
    results = page.locator("#stakeholder-results tbody tr")
    expect(results).to_have_count(2)
    expect(page.locator("#stakeholder-results")).to_contain_text("Bram")
    expect(page.locator("#stakeholder-results")).to_contain_text("Cleo")
    page.get_by_role("link", name="Cleo").click()
    expect(page.get_by_role("heading", name="Cleo")).to_be_visible()

    # Maria's own scorecard, with its trend chart drawn locally.
    page.goto(f"{live_server.url}/people/{manager.pk}/scorecard/")
    expect(page.locator("#figure-kept-share")).to_have_text("50%")
    expect(
        page.locator("canvas[data-chart='chart-scorecard-trend'][data-ready='1']")
    ).to_have_count(1)
    assert problems == []


def test_a_manager_sees_their_scorecard_but_not_the_team(page: Page, live_server, team_world):
    sign_in(page, live_server.url, "maria")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Team", exact=True)).to_have_count(0)
    open_menu(page)
    nav.get_by_role("link", name="My scorecard").click()
    expect(page.get_by_role("heading", name="My scorecard")).to_be_visible()
    page.get_by_label("Period").select_option(label="Last 365 days")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#period-shown")).to_be_visible()
    expect(page).to_have_url(re.compile(r"period=365"))
    page.locator("#figure-overdue").click()
    expect(page.locator("#commitments .commitment")).to_have_count(2)
