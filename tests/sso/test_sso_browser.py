"""Single sign-on in headless Chromium through the real test provider: a manager, a
director whose provider reports a second factor, and one whose provider does not.
The browser reaches only Rapport and the provider; no page logs a console error (a
CSP violation, such as a sign-out form redirected to a provider the policy does not
allow, shows there)."""

import re

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from relations.models import AuditEvent
from tests.browser.menus import open_menu
from tests.mfa import confirmed_totp, totp_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def journey(page: Page, live_server, sso):
    """The browser, cut off from everything but Rapport and the provider; what went
    wrong on its pages."""
    outside: list[str] = []
    found: list[str] = []

    def only_local(route):
        if route.request.url.startswith((live_server.url, sso.url)):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_local)
    page.on("console", lambda m: found.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: found.append(str(e)))
    yield found
    assert outside == []


def sign_in_at_provider(page: Page, live_server, username: str, then: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/?next={then}")
    page.get_by_role("link", name="Sign in with Test IdP").click()
    expect(page.get_by_role("heading", name="Test identity provider")).to_be_visible()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Continue to the application").click()


def test_a_manager_signs_in_through_the_provider_and_out_of_both(page, live_server, journey):
    sign_in_at_provider(page, live_server, "maria", then="/stakeholders/")
    expect(page).to_have_url(re.compile(r"/stakeholders/$"))
    expect(page.get_by_role("navigation", name="Main").get_by_text("Maria Manager")).to_be_visible()

    open_menu(page)  # the user menu
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    # The provider's session ended too: signing in asks for the password again.
    page.get_by_role("link", name="Sign in with Test IdP").click()
    expect(page.get_by_role("heading", name="Test identity provider")).to_be_visible()
    assert journey == []


def test_a_director_with_the_providers_mfa_reaches_the_dashboard(page, live_server, journey):
    sign_in_at_provider(page, live_server, "dana", then="/dashboard/")
    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    open_menu(page, "Insights")
    expect(page.get_by_role("link", name="Audit trail")).to_be_visible()
    assert journey == []


def test_a_director_without_it_is_asked_the_local_second_factor(page, live_server, journey):
    sign_in_at_provider(page, live_server, "dirk", then="/dashboard/")
    expect(page).to_have_url(re.compile(r"/settings/security/enrol/\?next="))
    expect(page.get_by_role("heading", name="Set up two-factor authentication")).to_be_visible()

    # With an authenticator, the next sign-in asks for its code.
    dirk = User.objects.get(username="dirk")
    confirmed_totp(dirk)
    page.goto(f"{live_server.url}/accounts/oidc/start/?next=/dashboard/")
    expect(page).to_have_url(re.compile(r"/accounts/verify/\?next="))
    page.locator("input[name=otp_token]").fill(totp_code(dirk))
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    events = AuditEvent.objects.filter(action=AuditEvent.Action.SIGN_IN, object_id=str(dirk.pk))
    assert [e.changes["provider_mfa"] for e in events] == [False, False]
    assert journey == []
