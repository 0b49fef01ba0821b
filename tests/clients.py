"""How tests sign in: a browser session, or an API token as integrations use."""

from django.test import Client
from knox.models import AuthToken
from rest_framework.test import APIClient


def signed_in(user) -> Client:
    """A browser client with `user` signed in (the second factor passed: tests/conftest.py)."""
    client = Client()
    client.force_login(user)
    return client


def token_client(user) -> APIClient:
    """An API client that authenticates as integrations do: `Authorization: Token <key>`."""
    _row, token = AuthToken.objects.create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    client.user = user
    return client
