"""A manager records an authenticity pulse in a few clicks and sees it beside the
computed trust, flagged when the two disagree (issue 10), in headless Chromium."""

import re
import time

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from metrics.models import RelationshipScore
from relations.models import AuthenticityPulse, Relationship
from tests.factories import StakeholderFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def people(transactional_db):
    maria = UserFactory(username="maria", first_name="Maria", last_name="Manager", role="manager")
    sam = StakeholderFactory(name="Sam Stakeholder", owner=maria, importance=5)
    relationship = Relationship.objects.create(
        user=maria, stakeholder=sam, role=Relationship.Role.OWNER
    )
    # The worker's stored trust for this relationship.
    RelationshipScore.objects.create(
        relationship=relationship, trust=0.42, computed_at=timezone.now()
    )
    return maria, relationship


def test_manager_records_a_pulse_and_sees_it_beside_trust(page: Page, live_server, people):
    maria, relationship = people
    problems: list[str] = []
    # A CSP violation or a script error shows in the console: the page must have none.
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("maria")
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Sign in").click()

    # The home reminds her: a key relationship never assessed.
    due = page.locator("#pulse-due")
    expect(due).to_contain_text("Sam Stakeholder")
    expect(due).to_contain_text("Never assessed")
    started = time.monotonic()
    due.get_by_role("link", name=re.compile("Record pulse")).click()
    expect(page).to_have_url(re.compile(rf"/relationships/{relationship.pk}/#pulse-form$"))

    form = page.locator("#pulse-form")
    form.get_by_role("group", name="Integrity").get_by_text("5", exact=True).click()
    form.get_by_role("group", name="Transparency").get_by_text("5", exact=True).click()
    # Keyboard: the radios of a group are reachable and chosen with the arrow keys.
    reliability = form.get_by_role("group", name="Reliability")
    reliability.get_by_text("3", exact=True).click()
    page.keyboard.press("ArrowRight")
    form.get_by_label("Note (optional)").fill("Very open about the budget")
    form.get_by_role("button", name="Save pulse").click()

    beside = page.locator(".pulse-beside-trust")
    expect(beside).to_contain_text("Your pulse")
    expect(beside).to_contain_text("92 strong")  # (5 + 5 + 4) / 3, shown 0–100
    assert time.monotonic() - started < 20
    expect(page.locator(".pulse-flag")).to_contain_text(
        "Your assessment is higher than the computed trust (92\u00a0strong vs 42\u00a0fair)"
    )
    history = page.locator("#pulse-history")
    expect(history).to_contain_text("Very open about the budget")
    expect(history.locator(".pulse-row")).to_have_count(1)

    pulse = AuthenticityPulse.objects.get()
    assert (pulse.integrity, pulse.transparency, pulse.reliability) == (5, 5, 4)
    assert pulse.assessed_by == maria

    # Assessed today: the reminder is gone.
    page.get_by_role("link", name="Rapport").first.click()
    expect(page.locator("#pulse-due")).to_contain_text("Every key relationship has a recent pulse")
    assert problems == []
