"""Trust over time in Chromium (issue 23): the relationship page draws its chart under
the strict CSP with nothing from outside, lists what moved trust in words, switches
to 180 days, and fits and passes axe at 390 and 1440 px in English and Dutch."""

from __future__ import annotations

import json
import re
from datetime import UTC, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import Page, expect

from relations.models import Commitment, Relationship
from tests.factories import CommitmentFactory, StakeholderFactory, UserFactory
from tests.metrics.history import FALL_DAYS_AGO, snapshots_with_a_fall
from tests.mfa import sign_in_through_form

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
AXE_RUN = (
    "() => axe.run(document, {resultTypes: ['violations'], runOnly: {type: 'tag', values:"
    " ['wcag2a', 'wcag2aa', 'wcag21aa', 'best-practice']}})"
)


@pytest.fixture
def relationship(transactional_db) -> Relationship:
    maria = UserFactory(username="maria", first_name="Maria", last_name="Manager", role="manager")
    sam = StakeholderFactory(name="Sam Stakeholder", owner=maria, importance=5)
    mine = Relationship.objects.create(user=maria, stakeholder=sam, role="owner")
    snapshots_with_a_fall(mine)
    fell_on = timezone.now().astimezone(UTC).date() - timedelta(days=FALL_DAYS_AGO)
    CommitmentFactory(
        stakeholder=sam,
        responsible=maria,
        description="Send the proposal",
        due_date=fell_on + timedelta(days=3),
        status=Commitment.Status.BROKEN,
        completed_on=fell_on,
    )
    return mine


def _chart_labels(page: Page) -> list[str]:
    return json.loads(page.locator("#trust-history-relationship").text_content() or "{}")["labels"]


def test_the_relationship_page_draws_trust_over_time_and_says_what_moved_it(
    page: Page, live_server, relationship, offline, problems
):
    sign_in_through_form(page, live_server, "maria")
    url = f"{live_server.url}/relationships/{relationship.pk}/"
    axe = AXE.read_text()
    failures: list[str] = []
    for language, heading, cause in (
        ("en", "Trust over time", "after a commitment was broken: “Send the proposal”"),
        (
            "nl",
            "Vertrouwen door de tijd",
            "na een toezegging die werd gebroken: “Send the proposal”",
        ),
    ):
        page.context.add_cookies(
            [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}]
        )
        page.set_viewport_size({"width": 390, "height": 900})
        page.goto(url)
        section = page.locator("#trust-history")
        expect(section.get_by_role("heading", name=heading)).to_be_visible()
        # Drawn by Chart.js from the page's own files: the strict CSP let it run.
        expect(section.locator("canvas[data-chart]")).to_have_attribute("data-ready", "1")
        expect(section.locator("canvas[data-chart]")).to_have_attribute(
            "aria-label", re.compile(r"\d+ \w+")
        )
        expect(section.locator(".history-change").first).to_contain_text(cause)
        assert len(_chart_labels(page)) == 90
        for width in (390, 1440):
            page.set_viewport_size({"width": width, "height": 900})
            wide = page.evaluate("() => [document.documentElement.scrollWidth, innerWidth]")
            if wide[0] > wide[1]:
                from tests.browser.test_every_page import WIDEST

                failures.append(
                    f"{language} @{width}: {wide[0]} px wide in {wide[1]} px"
                    f" ({', '.join(page.evaluate(WIDEST))})"
                )
            box = section.locator("canvas").bounding_box()
            assert box is not None and 0 < box["width"] <= width
            if not page.evaluate("() => typeof window.axe !== 'undefined'"):
                page.evaluate(axe)
            for violation in page.evaluate(AXE_RUN)["violations"]:
                if violation["impact"] in ("serious", "critical"):
                    failures.append(f"{language} @{width}: axe {violation['id']}")
    # A longer span, from the span links.
    page.get_by_role("link", name="180 dagen").click()
    expect(page).to_have_url(re.compile(r"\?history=180#trust-history$"))
    expect(page.locator("#trust-history canvas")).to_have_attribute("data-ready", "1")
    assert len(_chart_labels(page)) == 180
    # The figures behind the chart, as a table in words.
    page.locator("#trust-history summary").click()
    expect(page.locator("#trust-history table tbody tr").first).to_contain_text("58 redelijk")
    assert failures == []
    assert offline == []
    assert problems == []
