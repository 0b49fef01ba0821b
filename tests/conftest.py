"""Shared fixtures: a few named users whose visibility the tests spell out.

- `manager` (Maria) owns `stakeholder` and talks to it;
- `other_manager` (Otto) has nothing to do with it;
- `director` (Dana) sees everything.
"""

import os
import shutil
from datetime import UTC, datetime

import pytest
import time_machine
from hypothesis import settings as hypothesis_settings
from rest_framework.test import APIClient

from tests.clients import signed_in, token_client
from tests.factories import InteractionFactory, StakeholderFactory, UserFactory

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# Property tests' budgets. "dev" (the default) is quick; CI runs "ci"
# (HYPOTHESIS_PROFILE=ci in .ci/run): more examples, a fixed seed so that a run is
# reproducible, and no per-example deadline on a shared 2-core machine.
hypothesis_settings.register_profile("dev", max_examples=60, deadline=None)
hypothesis_settings.register_profile(
    "ci", max_examples=300, deadline=None, derandomize=True, print_blob=True
)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


def _test_clock() -> datetime | None:
    """RAPPORT_TEST_CLOCK: the instant every test starts at, so that CI runs the suite
    at several times of day (.ci/run). `HH:MM` is today at that time in UTC; an ISO
    datetime with its offset (`2026-07-15T00:30+02:00`) is that instant."""
    value = os.environ.get("RAPPORT_TEST_CLOCK", "").strip()
    if not value:
        return None
    if len(value) == 5:
        hour, minute = (int(part) for part in value.split(":"))
        return datetime.now(UTC).replace(hour=hour, minute=minute, second=0, microsecond=0)
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError("RAPPORT_TEST_CLOCK needs an offset, or HH:MM for UTC")
    return moment


TEST_CLOCK = _test_clock()


@pytest.fixture(autouse=True)
def _travel_to_the_test_clock(request):
    """With RAPPORT_TEST_CLOCK set, each test runs from that instant on (the clock
    ticks). A test's own frozen clock (`pytest.mark.time_machine`) still wins."""
    if TEST_CLOCK is None or request.node.get_closest_marker("time_machine"):
        yield
        return
    with time_machine.travel(TEST_CLOCK, tick=True):
        yield


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _background_tasks_in_the_request(settings):
    """Without a broker, imports run in a thread of the web process (relations.publishing);
    here they run inside the request, so a test reads the result when the request
    returns. tests/imports/test_import_background.py tests the thread."""
    settings.RAPPORT_EMBEDDED_BACKGROUND = False


@pytest.fixture(autouse=True)
def _memory_cache(settings):
    """Tests share a process-local cache, as on the embedded default: with a broker
    configured the app caches in Redis, where a test's cache.clear() would flush the
    broker's database. tests/security/test_throttling.py tests the Redis cache."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


@pytest.fixture(autouse=True)
def _no_prepared_reads_from_other_tests():
    """Each test starts with no prepared API reads (relations.api.prepared), as a new
    process would: a test that changes a queryset must see its change."""
    from relations.api.prepared import PreparedReads

    PreparedReads.clear_all()


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in English: a request in Dutch leaves Dutch active in the thread."""
    from django.utils import translation

    translation.activate("en")
    yield
    translation.deactivate()


@pytest.fixture
def manager(db):
    return UserFactory(username="maria", first_name="Maria", last_name="Manager", role="manager")


@pytest.fixture
def other_manager(db):
    return UserFactory(username="otto", first_name="Otto", last_name="Other", role="manager")


@pytest.fixture
def director(db):
    """Dana, with a confirmed authenticator app (tests.mfa.TEST_TOTP_KEY): directors must
    pass a second factor after their password."""
    from tests.mfa import confirmed_totp

    dana = UserFactory(username="dana", first_name="Dana", last_name="Director", role="director")
    confirmed_totp(dana)
    return dana


@pytest.fixture(autouse=True)
def _force_login_passes_second_factor(monkeypatch):
    """force_login skips the password step; it skips the second factor too (with the
    user's test authenticator, created if missing). Tests of the real sign-in flow
    sign in through the login form instead."""
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY

    from accounts.security import mfa_required
    from tests.mfa import confirmed_totp

    original = Client.force_login

    def force_login(self, user, backend=None):
        original(self, user, backend)
        if mfa_required(user):
            session = self.session
            session[DEVICE_ID_SESSION_KEY] = confirmed_totp(user).persistent_id
            session.save()

    monkeypatch.setattr(Client, "force_login", force_login)


@pytest.fixture
def stakeholder(manager):
    return StakeholderFactory(name="Sam Stakeholder", owner=manager, importance=4)


@pytest.fixture
def interaction(manager, stakeholder):
    return InteractionFactory(participants=[manager], with_stakeholders=[stakeholder])


@pytest.fixture
def receiver():
    """`receiver(statuses)`: a real webhook endpoint on loopback (tests/webhook_receiver.py)."""
    from tests.webhook_receiver import Receiver

    made = []

    def make(statuses=()):
        made.append(Receiver(list(statuses)))
        return made[-1]

    yield make
    for r in made:
        r.close()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": shutil.which("chromium"),
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-quic",
            "--no-first-run",
        ],
    }


# --- Signed-in clients of the named users (tests/clients.py says how) -----------------


@pytest.fixture
def client_for():
    """Sign any user in: `client_for(user)` gives a browser client of their own."""
    return signed_in


@pytest.fixture
def api_for():
    """`api_for(user)` gives an API client with a token of that user's."""
    return token_client


@pytest.fixture
def api_client():
    """An API client that is not signed in."""
    return APIClient()


@pytest.fixture
def manager_client(manager):
    return signed_in(manager)


@pytest.fixture
def other_client(other_manager):
    return signed_in(other_manager)


@pytest.fixture
def director_client(director):
    return signed_in(director)


@pytest.fixture
def manager_api(manager):
    return token_client(manager)


@pytest.fixture
def other_api(other_manager):
    return token_client(other_manager)


@pytest.fixture
def director_api(director):
    return token_client(director)
