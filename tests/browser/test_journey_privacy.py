"""A director answers a data-subject request: looks at everything held about the
person, erases them, and finds the erasure in the register (issue 8), in headless
Chromium."""

import re

import pytest
from playwright.sync_api import Page, expect

from relations.models import DataProtectionAction, Stakeholder
from relations.privacy.redaction import ERASED
from relations.services import interaction_log
from tests.browser.menus import open_menu
from tests.factories import StakeholderFactory, UserFactory
from tests.mfa import confirmed_totp, sign_in_through_form

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def people(transactional_db):
    dana = UserFactory(username="dana", first_name="Dana", last_name="Director", role="director")
    confirmed_totp(dana)  # directors sign in with a second factor
    maria = UserFactory(username="maria", first_name="Maria", last_name="Manager")
    sam = StakeholderFactory(
        name="Sam Stakeholder", email="sam@example.org", owner=maria, importance=5
    )
    interaction_log(
        by=maria,
        participants=[maria],
        stakeholders=[sam],
        subject="Coffee with Sam",
        notes="Sam Stakeholder wants the pilot report",
    )
    return dana, sam


def test_director_exports_then_erases_a_person(page: Page, live_server, people):
    dana, sam = people
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))

    sign_in_through_form(page, live_server, "dana")  # password, then the second factor

    page.goto(f"{live_server.url}/stakeholders/{sam.pk}/")
    page.get_by_role("link", name="Legitimate interest").click()
    expect(page).to_have_url(re.compile(rf"/stakeholders/{sam.pk}/privacy/$"))

    page.get_by_role("link", name="View export").click()
    expect(page.locator("#section-stakeholder")).to_contain_text("sam@example.org")
    expect(page.locator("#section-interactions")).to_contain_text("Coffee with Sam")
    page.go_back()

    erase = page.locator("#erase-form")
    erase.get_by_label("Reason").fill("Request by letter of 2 May")
    erase.get_by_label("I understand that the personal data cannot be restored.").check()
    erase.get_by_role("button", name="Erase").click()

    expect(page.locator("#erased-notice")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"{ERASED} #{sam.pk}")
    open_menu(page)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Data protection").click()
    register = page.locator("#register-table")
    expect(register).to_contain_text("Erasure")
    expect(register).to_contain_text("Request by letter of 2 May")
    expect(register).to_contain_text("Data-subject export")

    sam = Stakeholder.objects.get(pk=sam.pk)
    assert sam.erased_at is not None and sam.email == ""
    assert DataProtectionAction.objects.filter(kind="erasure", actor=dana).count() == 1
    assert problems == []
