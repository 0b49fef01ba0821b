"""`/settings/tokens/`: create (shown once), list and revoke one's own API tokens."""

import re

import pytest
from django.test import Client
from knox.models import AuthToken
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def web(manager):
    client = Client()
    client.force_login(manager)
    return client


def test_page_requires_sign_in(client):
    response = client.get("/settings/tokens/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_create_shows_the_token_once_and_it_works(web, manager):
    response = web.post("/settings/tokens/", {"days": "30"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    token = re.search(r'id="new-token"[^>]*value="([0-9a-f]+)"', response.content.decode()).group(1)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/v1/teams/").status_code == 200
    # Listed afterwards by its first characters only, never in full.
    listing = web.get("/settings/tokens/").content.decode()
    assert token[:8] in listing
    assert token not in listing


def test_bad_lifetime_is_refused_and_creates_nothing(web, manager):
    response = web.post("/settings/tokens/", {"days": "100000"})
    assert response.status_code == 400
    assert not AuthToken.objects.filter(user=manager).exists()


def test_revoke_own_token(web, manager):
    row, token = AuthToken.objects.create(user=manager)
    response = web.post(f"/settings/tokens/{row.token_key}/revoke/")
    assert response.status_code == 302
    assert not AuthToken.objects.filter(user=manager).exists()
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/v1/teams/").status_code == 401


def test_cannot_see_or_revoke_another_users_token(web, other_manager):
    row, _token = AuthToken.objects.create(user=other_manager)
    assert row.token_key[:8] not in web.get("/settings/tokens/").content.decode()
    assert web.post(f"/settings/tokens/{row.token_key}/revoke/").status_code == 404
    assert AuthToken.objects.filter(user=other_manager).count() == 1
