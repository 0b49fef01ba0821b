"""A manager brings in a calendar file and an e-mail in the browser, sees what was
matched and what was not, and creates a stakeholder from an unmatched attendee (issue 7),
in headless Chromium."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from relations.models import Interaction, Stakeholder
from tests.capture.files import calendar, eml, vevent
from tests.factories import StakeholderFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def people(transactional_db):
    maria = UserFactory(username="maria", first_name="Maria", last_name="Manager", role="manager")
    sam = StakeholderFactory(name="Sam Stakeholder", owner=maria, email="sam@example.org")
    return maria, sam


def test_manager_captures_a_calendar_and_an_email(page: Page, live_server, people):
    maria, sam = people
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("maria")
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Sign in").click()

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Capture").click()
    expect(page).to_have_url(re.compile(r"/capture/$"))
    start = (timezone.now() - timedelta(days=3)).replace(hour=10, minute=0, second=0)
    ics = calendar(
        vevent(
            uid="journey@example.org",
            start=start,
            summary="Grid connection review",
            attendees=[("Sam", "sam@example.org"), ("Nina Newcomer", "nina@newco.example")],
            organizer="maria@rapport.test",
        ),
        vevent(
            uid="only-new@example.org",
            start=start - timedelta(days=1),
            summary="Intro with NewCo",
            attendees=[("Nina Newcomer", "nina@newco.example")],
        ),
    )
    upload = page.locator("#capture-upload")
    upload.get_by_label("Calendar or e-mail file").set_input_files(
        files=[{"name": "meetings.ics", "mimeType": "text/calendar", "buffer": ics}]
    )
    upload.get_by_role("button", name="Capture").click()

    expect(page.locator("#capture-summary")).to_contain_text("1 created")
    expect(page.locator("#capture-summary")).to_contain_text("1 waiting for a stakeholder")
    created = page.locator("#items-created")
    expect(created).to_contain_text("Grid connection review")
    expect(created).to_contain_text("Sam Stakeholder")
    expect(page.locator("#items-pending")).to_contain_text("Intro with NewCo")
    unmatched = page.locator("#unmatched tr[data-email='nina@newco.example']")
    expect(unmatched.get_by_label("Name")).to_have_value("Nina Newcomer")

    unmatched.get_by_role("button", name="Create stakeholder").click()
    expect(page.locator("#unmatched")).to_contain_text("Stakeholder created")
    expect(page.locator("#capture-summary")).to_contain_text("2 created")
    nina = Stakeholder.objects.get(email="nina@newco.example")
    assert nina.owner == maria
    assert Interaction.objects.filter(stakeholders=nina).count() == 2
    assert set(Interaction.objects.get(subject="Grid connection review").stakeholders.all()) == {
        sam,
        nina,
    }

    # The interaction opens from the result page.
    page.locator("#items-created").get_by_role("link", name="Grid connection review").click()
    expect(page.get_by_role("heading", name="Grid connection review")).to_be_visible()

    # An e-mail next; then a malformed file is refused with a clear message.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Capture").click()
    message = eml(
        sender="Sam <sam@example.org>",
        to=["maria@rapport.test", "unknown@else.example"],
        subject="Proposal attached",
        sent=timezone.now() - timedelta(hours=2),
    )
    upload = page.locator("#capture-upload")
    upload.get_by_label("Calendar or e-mail file").set_input_files(
        files=[{"name": "proposal.eml", "mimeType": "message/rfc822", "buffer": message}]
    )
    upload.get_by_role("button", name="Capture").click()
    expect(page.locator("#items-created")).to_contain_text("Proposal attached")
    expect(page.locator("#unmatched")).to_contain_text("unknown@else.example")
    page.locator("#unmatched tr[data-email='unknown@else.example']").get_by_role(
        "button", name="Ignore"
    ).click()
    expect(page.locator("#unmatched")).to_contain_text("Ignored")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Capture").click()
    upload = page.locator("#capture-upload")
    upload.get_by_label("Calendar or e-mail file").set_input_files(
        files=[{"name": "broken.ics", "mimeType": "text/calendar", "buffer": b"\xff\xfe junk"}]
    )
    upload.get_by_role("button", name="Capture").click()
    expect(page.locator("#capture-upload")).to_contain_text("not UTF-8")
    assert Interaction.objects.count() == 3
    assert problems == []
