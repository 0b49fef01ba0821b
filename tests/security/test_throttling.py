"""API throttling per token holds across processes: with Redis configured, every web
process counts in the same place (Django's RedisCache), so running several gunicorn
workers does not multiply a token's budget."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.cache import caches
from knox.models import AuthToken
from rest_framework.test import APIClient

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = django_settings.REDIS_URL


def test_the_cache_follows_the_environment():
    """Redis when REDIS_URL or a Redis broker is configured, memory otherwise."""
    configured = __import__("config.settings", fromlist=["CACHES"]).CACHES["default"]
    if os.environ.get("REDIS_URL") or os.environ.get("CELERY_BROKER_URL", "").startswith("redis"):
        assert configured["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
        assert configured["LOCATION"] == REDIS_URL
    else:
        assert configured["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"


@pytest.mark.skipif(not REDIS_URL, reason="needs REDIS_URL or CELERY_BROKER_URL (a real Redis)")
def test_a_tokens_budget_is_shared_by_every_process(settings, manager):
    prefix = f"rapport-test-{uuid.uuid4().hex}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": prefix,
        }
    }
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"token": "4/hour"},
    }
    row, secret = AuthToken.objects.create(user=manager)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    key = f"throttle_token_token:{row.digest[:32]}"
    try:
        assert [client.get("/api/v1/teams/").status_code for _ in range(2)] == [200, 200]
        # Another process (a second web worker) answers two requests with the same token:
        # it reads the two this process counted and adds its own to the same history.
        script = (
            "import django, time; django.setup();"
            "from django.core.cache import cache;"
            f"history = cache.get({key!r}, []);"
            "print(len(history));"
            f"cache.set({key!r}, [time.time(), time.time(), *history], 3600)"
        )
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "REDIS_URL": REDIS_URL,
            "RAPPORT_CACHE_PREFIX": prefix,
        }
        seen = subprocess.run(
            [sys.executable, "-c", script],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout.split()[-1]
        assert seen == "2"
        # Four requests in all across the two processes: the budget is spent here too.
        assert client.get("/api/v1/teams/").status_code == 429
    finally:
        caches["default"].delete(key)
