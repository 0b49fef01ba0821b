"""The thirty-second journey in headless Chromium: sign in, log an interaction with a
commitment, see it on the stakeholder's timeline and on "my commitments", keep it."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from tests.browser.menus import open_menu
from tests.factories import StakeholderFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def people(transactional_db):
    maria = UserFactory(username="maria", first_name="Maria", last_name="Manager", role="manager")
    sam = StakeholderFactory(name="Sam Stakeholder", owner=maria, importance=4)
    StakeholderFactory(name="Someone Else")
    return maria, sam


def test_sign_in_log_interaction_with_commitment(page: Page, live_server, people):
    maria, sam = people
    problems: list[str] = []
    # A CSP violation or a script error shows in the console: the page must have none.
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("maria")
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Hello, Maria")).to_be_visible()

    page.get_by_role("link", name="Log interaction").first.click()
    expect(page).to_have_url(re.compile(r"/interactions/new/$"))
    # The stakeholder type-ahead (Tom Select) fetches matches as one types.
    page.locator("#id_stakeholders-ts-control").fill("Sam")
    page.locator(".ts-dropdown .option", has_text="Sam Stakeholder").click()
    page.get_by_label("Subject").fill("Pilot kick-off")
    page.get_by_label("Commitment").fill("Send the pilot plan")
    due = (timezone.localdate() + timedelta(days=3)).isoformat()
    page.get_by_label("Due").fill(due)
    # The commitment's stakeholder select now offers the stakeholder picked above.
    offered = page.locator("#id_commitments-0-stakeholder option", has_text="Sam Stakeholder")
    expect(offered).to_have_count(1)
    page.get_by_role("button", name="Log interaction", exact=True).last.click()

    expect(page).to_have_url(re.compile(rf"/stakeholders/{sam.pk}/$"))
    expect(page.get_by_role("alert")).to_contain_text("Pilot kick-off")
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("Pilot kick-off")
    expect(timeline).to_contain_text("Maria Manager")

    page.get_by_role("link", name="My commitments").click()
    row = page.locator("li.commitment", has_text="Send the pilot plan")
    expect(row).to_contain_text("Sam Stakeholder")
    # Marking it kept swaps the row in place (htmx), without a page load.
    row.get_by_role("button", name="Kept").click()
    expect(page.locator("li.commitment", has_text="Send the pilot plan")).to_contain_text("Kept")

    # The stakeholder search filters the table as one types (htmx swaps the results).
    open_menu(page, "Stakeholders")
    page.get_by_role("link", name="All stakeholders").click()
    page.get_by_label("Search").fill("someone")
    results = page.locator("#stakeholder-results")
    expect(results).not_to_contain_text("Sam Stakeholder")
    expect(results).to_contain_text("Someone Else")
    expect(page).to_have_url(re.compile(r"q=someone"))

    assert problems == []
