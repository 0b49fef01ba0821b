"""Security review, item 1: a director's (or superuser's) password alone opens
nothing but the second-factor page, in the browser and in the API, whatever
headers come with the session cookie. Only a valid `Token` authenticates
without a session.

These tests sign in through the real form (never force_login, which skips the
second factor under pytest).
"""

from __future__ import annotations

import base64

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from knox.models import AuthToken

from tests.factories import StakeholderFactory, UserFactory
from tests.mfa import confirmed_totp, totp_code

pytestmark = pytest.mark.django_db

# What an attacker holding only the password sends beside the session cookie.
FOREIGN_AUTHORIZATION = [
    "Bearer x",
    "Basic " + base64.b64encode(b"dana:pw").decode(),
    "",
    " ",
    "Token",
    "Digest username=dana",
    "token",
]


def password_only(client, username: str):
    response = client.post(reverse("login"), {"username": username, "password": "pw"})
    assert response.status_code == 302, "the password step itself succeeds"
    return client


@pytest.fixture
def superuser(db):
    user = UserFactory(username="root-user", role="director")
    user.is_superuser = user.is_staff = True
    user.save()
    confirmed_totp(user)
    return user


@pytest.fixture(params=["director", "superuser"])
def unverified(request, client, director, superuser):
    user = director if request.param == "director" else superuser
    password_only(client, user.username)
    client.user = user
    return client


@pytest.mark.parametrize("header", FOREIGN_AUTHORIZATION)
def test_an_unverified_session_reads_nothing_whatever_the_authorization_header(
    unverified, stakeholder, interaction, header
):
    for url in (
        "/api/v1/interactions/",
        "/api/v1/stakeholders/",
        f"/api/v1/stakeholders/{stakeholder.pk}/",
        f"/api/v1/stakeholders/{stakeholder.pk}/export/",
        "/api/v1/users/",
    ):
        response = unverified.get(url, HTTP_AUTHORIZATION=header)
        assert response.status_code in (401, 403), (url, header, response.status_code)
        assert interaction.subject.encode() not in response.content
        assert stakeholder.name.encode() not in response.content


@pytest.mark.parametrize("header", FOREIGN_AUTHORIZATION)
def test_an_unverified_session_writes_nothing_even_with_the_csrf_token(
    client, director, stakeholder, header
):
    password_only(client, "dana")
    client.handler.enforce_csrf_checks = True
    client.get(reverse("mfa-verify"))  # sets the CSRF cookie
    csrf = client.cookies["csrftoken"].value
    before = stakeholder.name
    response = client.patch(
        f"/api/v1/stakeholders/{stakeholder.pk}/",
        {"name": "Taken over"},
        content_type="application/json",
        HTTP_AUTHORIZATION=header,
        HTTP_X_CSRFTOKEN=csrf,
    )
    assert response.status_code in (401, 403)
    created = client.post(
        "/api/v1/stakeholders/",
        {"name": "Planted"},
        content_type="application/json",
        HTTP_AUTHORIZATION=header,
        HTTP_X_CSRFTOKEN=csrf,
    )
    assert created.status_code in (401, 403)
    stakeholder.refresh_from_db()
    assert stakeholder.name == before


def test_a_valid_token_still_authenticates_beside_an_unverified_session(client, director):
    password_only(client, "dana")
    _row, key = AuthToken.objects.create(user=director)
    response = client.get("/api/v1/stakeholders/", HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 200
    # A wrong token is refused, and does not fall back to the session.
    wrong = client.get("/api/v1/stakeholders/", HTTP_AUTHORIZATION="Token " + "0" * 64)
    assert wrong.status_code == 401


def test_a_verified_session_works_in_the_api(client, director):
    password_only(client, "dana")
    client.post(reverse("mfa-verify"), {"otp_token": totp_code(director)})
    assert client.get("/api/v1/stakeholders/").status_code == 200
    assert client.get("/api/v1/stakeholders/", HTTP_AUTHORIZATION="Bearer x").status_code == 200


def _static_routes() -> list[str]:
    """Every route of the project without a path parameter."""
    found: list[str] = []

    def walk(patterns, prefix: str) -> None:
        for entry in patterns:
            route = str(entry.pattern)
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, prefix + route)
            elif isinstance(entry, URLPattern):
                full = prefix + route
                if "<" in full or "(" in full or "\\" in full or "^" in full or "$" in full:
                    continue
                found.append("/" + full)

    walk(get_resolver().url_patterns, "")
    return sorted(set(found))


@pytest.mark.parametrize("header", [None, "Bearer x", ""])
def test_a_password_alone_opens_nothing_but_the_second_factor_page(client, director, header):
    """Every page and API route without a parameter, redirects followed: what the
    unverified director reaches is the second-factor page, a refusal or an error, or
    what an anonymous visitor gets too (public pages: the sign-in page, the schema)."""
    StakeholderFactory(name="Secret Person")
    anonymous = client.__class__()
    password_only(client, "dana")
    second_factor_pages = {reverse("mfa-verify"), reverse("mfa-enrol")}
    routes = _static_routes()
    assert len(routes) > 40
    opened = []
    extra = {} if header is None else {"HTTP_AUTHORIZATION": header}
    for url in routes:
        response = client.get(url, follow=True, **extra)
        final = response.request["PATH_INFO"]
        assert b"Secret Person" not in response.content, url
        if response.status_code != 200 or final in second_factor_pages:
            continue
        public = anonymous.get(url, follow=True, **extra)
        if (public.status_code, public.request["PATH_INFO"]) != (200, final):
            opened.append((url, final))
    assert opened == []
