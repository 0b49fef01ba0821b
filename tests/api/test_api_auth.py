"""Authentication (DESIGN §7): hashed, expiring tokens; sessions with CSRF; 401 vs 403."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_no_credentials_is_401_with_a_challenge(api_client):
    response = api_client.get("/api/v1/stakeholders/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_unknown_token_is_401(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Token " + "f" * 64)
    assert api_client.get("/api/v1/stakeholders/").status_code == 401


def test_expired_token_is_401(manager, stakeholder):
    _row, token = AuthToken.objects.create(user=manager, expiry=timedelta(seconds=-1))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/stakeholders/").status_code == 401


def test_token_of_a_deactivated_user_is_401(manager):
    _row, token = AuthToken.objects.create(user=manager)
    manager.is_active = False
    manager.save()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/organizations/").status_code == 401


def test_signed_in_user_without_a_staff_role_is_403(db):
    outsider = UserFactory(username="olga")
    outsider.groups.clear()
    _row, token = AuthToken.objects.create(user=outsider)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/stakeholders/").status_code == 403


def test_valid_token_authenticates_as_its_user(manager_api, manager):
    response = manager_api.get("/api/v1/users/")
    assert response.status_code == 200
    assert manager.username in [u["username"] for u in response.json()["results"]]


def test_only_a_hash_of_the_token_is_stored(manager):
    row, token = AuthToken.objects.create(user=manager)
    stored = AuthToken.objects.get(pk=row.pk)
    assert token not in (stored.digest, stored.token_key)
    assert len(token) > len(stored.token_key)
    assert stored.expiry is not None  # every token expires (REST_KNOX TOKEN_TTL)


def test_session_authentication_requires_csrf_for_writes(manager):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(manager)
    assert client.get("/api/v1/organizations/").status_code == 200
    response = client.post("/api/v1/organizations/", {"name": "No CSRF"}, format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


def test_create_api_token_command_prints_a_working_token(manager):
    out = StringIO()
    call_command("create_api_token", manager.username, stdout=out)
    token = out.getvalue().strip()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/organizations/").status_code == 200
    assert AuthToken.objects.filter(user=manager).count() == 1


def test_create_api_token_command_rejects_an_unknown_user(db):
    with pytest.raises(CommandError):
        call_command("create_api_token", "nobody", stdout=StringIO())


def test_create_api_token_command_honours_days(manager):
    call_command("create_api_token", manager.username, "--days", "2", stdout=StringIO())
    expiry = AuthToken.objects.get(user=manager).expiry
    assert timezone.now() + timedelta(days=1) < expiry < timezone.now() + timedelta(days=3)


def test_throttle_counts_per_token(settings, manager):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"token": "3/minute"},
    }
    from django.core.cache import cache

    cache.clear()
    first, second = APIClient(), APIClient()
    for client in (first, second):
        _row, token = AuthToken.objects.create(user=manager)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert [first.get("/api/v1/teams/").status_code for _ in range(4)] == [200, 200, 200, 429]
    # A second integration of the same user keeps its own budget.
    assert second.get("/api/v1/teams/").status_code == 200
    cache.clear()


def test_token_query_sweeps_expired_tokens_of_the_user(manager, stakeholder):
    # knox deletes the user's expired tokens when another one is used; the one-query
    # authentication (accounts.authentication) keeps doing so.
    expired, _old = AuthToken.objects.create(user=manager, expiry=timedelta(seconds=-1))
    _row, token = AuthToken.objects.create(user=manager)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/stakeholders/").status_code == 200
    assert not AuthToken.objects.filter(pk=expired.pk).exists()
    assert AuthToken.objects.filter(user=manager).count() == 1


def test_token_brings_the_role_of_its_user(manager, director, stakeholder):
    # The roles come with the token query: a director sees every score, a manager
    # without a tie to the stakeholder none, as before.
    from metrics.models import StakeholderScore

    StakeholderScore.objects.create(stakeholder=stakeholder, computed_at=timezone.now())
    url = f"/api/v1/stakeholders/{stakeholder.pk}/scores/"
    for user, expected in ((director, 200), (UserFactory(), 404)):
        _row, token = AuthToken.objects.create(user=user)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        assert client.get(url).status_code == expected
