"""Two-factor enrolment in headless Chromium with the network cut off: a director
without an authenticator signs in, is sent to set one up, scans (reads) the key,
confirms with a code, keeps the backup codes and reaches the dashboard. The QR code
is drawn by the server: no request leaves, no CSP violation."""

import re
from base64 import b32decode

import pytest
from django_otp.oath import TOTP
from playwright.sync_api import Page, expect

from relations.models import AuditEvent
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def code_for(secret: str) -> str:
    import time

    totp = TOTP(b32decode(secret), 30, 0, 6, 0)
    totp.time = time.time()
    return f"{totp.token():06d}"


def test_a_director_enrols_then_reaches_the_dashboard(
    page: Page,
    live_server,
    offline,  # noqa: F811
    problems,  # noqa: F811
):
    dora = UserFactory(username="dora", first_name="Dora", role="director")
    page.goto(f"{live_server.url}/accounts/login/?next=/dashboard/")
    page.get_by_label("Username").fill("dora")
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Sign in").click()

    expect(page).to_have_url(re.compile(r"/settings/security/enrol/\?next="))
    expect(page.get_by_role("heading", name="Set up two-factor authentication")).to_be_visible()
    expect(page.locator("figure.qr-code svg")).to_be_visible()
    # Every other page sends her back here until she has enrolled.
    page.goto(f"{live_server.url}/stakeholders/")
    expect(page).to_have_url(re.compile(r"/settings/security/enrol/"))

    secret = page.locator("#totp-secret").inner_text()
    page.get_by_role("textbox", name="Code").fill(code_for(secret))
    page.get_by_role("button", name="Confirm and turn on").click()
    expect(page.get_by_text("Two-factor authentication is on.")).to_be_visible()
    expect(page.locator("#backup-codes li")).to_have_count(10)
    page.get_by_role("link", name="I have saved them").click()
    expect(page).to_have_url(re.compile(r"/stakeholders/$"))
    page.goto(f"{live_server.url}/dashboard/")
    expect(page).to_have_url(re.compile(r"/dashboard/$"))

    assert AuditEvent.objects.filter(action="mfa_enrolled", object_id=str(dora.pk)).exists()
    assert problems == []
    assert offline == []


def test_the_lock_out_message_shows_in_the_browser(
    page: Page,
    live_server,
    manager,
    offline,  # noqa: F811
    problems,  # noqa: F811
):
    for _attempt in range(5):
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("Username").fill("maria")
        page.get_by_label("Password").fill("wrong")
        page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#locked-out")).to_contain_text("5 failed attempts")
    # The lock-out answer is 429: the console reports the status, nothing else.
    assert [p for p in problems if "429" not in p] == []
    assert offline == []
