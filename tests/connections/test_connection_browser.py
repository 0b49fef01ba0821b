"""The connections pages in Chromium: no horizontal scroll at 390 and 1440 px, and no
serious or critical axe-core violation, in English and Dutch (the checks of
tests/browser/test_every_page.py, on these pages alone)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import Page

from tests.browser.test_every_page import connected_accounts
from tests.factories import StakeholderFactory
from tests.mfa import sign_in_through_form

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"


def test_connections_pages_fit_and_pass_axe(page: Page, live_server, manager):
    StakeholderFactory(name="Alba", owner=manager)
    mailbox = connected_accounts(manager)
    paths = [
        "/settings/connections/",
        "/settings/connections/add/imap/",
        "/settings/connections/add/caldav/",
        f"/settings/connections/{mailbox.pk}/edit/",
        f"/settings/connections/{mailbox.pk}/remove/",
        "/settings/connections/review/",
    ]
    sign_in_through_form(page, live_server, "maria")
    axe = AXE.read_text()
    failures = []
    for language in ("en", "nl"):
        page.context.add_cookies(
            [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}]
        )
        for path in paths:
            for width in (390, 1440):
                page.set_viewport_size({"width": width, "height": 900})
                response = page.goto(live_server.url + path)
                assert response is not None and response.status == 200, path
                wide = page.evaluate("() => [document.documentElement.scrollWidth, innerWidth]")
                if wide[0] > wide[1]:
                    failures.append(f"{language} {path} @{width}: {wide[0]} px wide")
                page.evaluate(axe)
                result = page.evaluate(
                    "() => axe.run(document, {resultTypes: ['violations'], runOnly: {type: 'tag',"
                    " values: ['wcag2a', 'wcag2aa', 'wcag21aa', 'best-practice']}})"
                )
                for violation in result["violations"]:
                    if violation["impact"] in ("serious", "critical"):
                        failures.append(f"{language} {path} @{width}: {violation['id']}")
    page.goto(live_server.url + "/settings/connections/")
    text = page.locator("main").inner_text()
    assert "Reading: 1,500 of 10,000 messages" in text or "1.500 van 10.000" in text
    assert not failures, "\n".join(failures)
