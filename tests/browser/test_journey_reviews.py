"""Issue 23's journey in Chromium: the owner answers and invites; the invitation arrives
at a real SMTP server on loopback; the stakeholder opens the link from that message in a
fresh browser context with no session, answers in Dutch; the owner sees the gap view;
a second use of the link is refused. axe finds nothing serious on the new pages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from playwright.sync_api import Browser, Page, expect

from relations.models import Relationship
from reviews.models import Review
from tests.dashboards.conftest import _tasks_in_process  # noqa: F401 (autouse: the invitation is sent in process)
from tests.factories import StakeholderFactory, UserFactory
from tests.mfa import sign_in_through_form
from tests.reviews.conftest import OURS, THEIRS
from tests.smtp import smtp_server  # noqa: F401 (the fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(django_settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"


def axe_clean(page: Page) -> list[str]:
    problems = []
    for width in (390, 1440):
        page.set_viewport_size({"width": width, "height": 900})
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        if not page.evaluate("() => typeof window.axe !== 'undefined'"):
            page.evaluate(AXE.read_text())
        result = page.evaluate(
            "() => axe.run(document, {resultTypes: ['violations'],"
            " runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa',"
            " 'best-practice']}})"
        )
        for violation in result["violations"]:
            if violation["impact"] in ("serious", "critical"):
                problems.append(f"{page.url} @{width}: {violation['id']}")
    return problems


def pick(form, answers: dict) -> None:
    for key, value in answers.items():
        if isinstance(value, int):
            form.locator(f"input[name='{key}'][value='{value}']").check()
        else:
            form.locator(f"textarea[name='{key}']").fill(value)


def test_the_stakeholder_answers_in_dutch_and_the_owner_sees_the_gap(
    page: Page,
    browser: Browser,
    live_server,
    smtp_server,  # noqa: F811 (the fixture imported above)
    settings,
):
    settings.RAPPORT_BASE_URL = live_server.url
    maria = UserFactory(username="maria", first_name="Maria", last_name="Manager", role="manager")
    sam = StakeholderFactory(
        name="Sam Stakeholder", owner=maria, importance=5, email="sam@example.org"
    )
    relationship = Relationship.objects.create(
        user=maria, stakeholder=sam, role=Relationship.Role.OWNER
    )
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)

    sign_in_through_form(page, live_server, "maria", then=relationship.get_absolute_url())
    page.locator("#review-start").click()
    expect(page).to_have_url(re.compile(r"/reviews/\d+/$"))
    page.locator("#answer-ours").click()
    problems += axe_clean(page)
    pick(page.locator("#review-form"), OURS)
    page.get_by_role("button", name="Save our answers").click()
    invite = page.locator("#invite-form")
    invite.get_by_label("Their language").select_option("nl")
    invite.get_by_role("button", name="Send the invitation").click()
    expect(page.locator("#invitations")).to_contain_text("Sent")

    # The message as the SMTP server received it; its link, nothing else.
    assert len(smtp_server.messages) == 1
    link = smtp_server.link()
    assert link.startswith(live_server.url + "/r/")

    # A Dutch stakeholder's own browser: no session, no cookies.
    stranger = browser.new_context(locale="nl-NL")
    public = stranger.new_page()
    public.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    public.goto(link)
    expect(public.locator("html")).to_have_attribute("lang", "nl")
    expect(public.get_by_role("heading", level=1)).to_have_text("Uw kijk op onze samenwerking")
    expect(public.locator("body")).to_contain_text("Rechtsgrond")
    assert public.locator("nav.navbar").count() == 0
    problems += axe_clean(public)
    pick(public.locator("#review-form"), THEIRS)
    public.get_by_role("button", name="Verstuur mijn antwoorden").click()
    expect(public.locator("#answered")).to_contain_text("Uw antwoorden zijn ontvangen")

    # A second use of the link is refused, with the one page for every dead link (its
    # 404 is the one console error expected).
    seen = len(problems)
    second = public.goto(link)
    assert second.status == 404
    expect(public.get_by_role("heading", level=1)).to_have_text("Deze link werkt niet")
    assert [p for p in problems[seen:] if "404" not in p] == []
    del problems[seen:]
    problems += axe_clean(public)
    stranger.close()

    review = Review.objects.get()
    assert review.status == Review.Status.COMPLETED
    page.goto(live_server.url + review.get_absolute_url())
    gap = page.locator("#gap-view")
    expect(gap.locator(".gap-timeliness")).to_contain_text(
        "They see our timeliness lower than we do"
    )
    expect(gap).to_contain_text("Faster replies")
    problems += axe_clean(page)
    page.goto(live_server.url + relationship.get_absolute_url())
    expect(page.locator("#reviews-panel")).to_contain_text(
        "They see our timeliness lower than we do"
    )
    assert problems == []
