"""Signing in through the real form: second factor for directors and superusers,
lock-out after repeated failures, and the security log.

These tests never use force_login: it would skip the steps they are about.
"""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from accounts import tokens
from relations.models import AuditEvent
from tests.factories import UserFactory
from tests.mfa import totp_code

# Pages a signed-in director might open straight after the password.
DIRECTOR_PAGES = [
    "/",
    "/dashboard/",
    "/stakeholders/",
    "/organizations/",
    "/interactions/new/",
    "/goals/",
    "/plans/",
    "/network/",
    "/audit/",
    "/settings/tokens/",
    "/settings/security/",
    "/admin/",
]


def password_sign_in(client, username: str, password: str = "pw", next_url: str = ""):
    data = {"username": username, "password": password}
    if next_url:
        data["next"] = next_url
    return client.post(reverse("login"), data)


@pytest.fixture
def director_without_device(db):
    return UserFactory(username="dora", role="director")


# --- Second factor ---------------------------------------------------------------------


def test_a_director_with_a_device_must_verify_before_any_page(client, director):
    response = password_sign_in(client, "dana")
    assert response.status_code == 302
    for url in DIRECTOR_PAGES:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/verify/?next="), url
    # Nothing was shown: the dashboard's data never reached the browser.
    assert client.get("/dashboard/", follow=True).templates[0].name == (
        "registration/mfa_verify.html"
    )


def test_a_wrong_code_is_refused_and_logged(client, director):
    password_sign_in(client, "dana")
    response = client.post(reverse("mfa-verify"), {"otp_token": "000000"})
    assert response.status_code == 400
    assert "That code is not valid" in response.content.decode()
    # Right away, even the right code waits for the throttle.
    response = client.post(reverse("mfa-verify"), {"otp_token": totp_code(director)})
    assert "Too many wrong codes" in response.content.decode()
    assert client.get("/dashboard/").status_code == 302
    assert AuditEvent.objects.filter(action="mfa_failed", actor=director).count() == 2


def test_the_current_code_lets_the_director_in_and_back_to_the_page_asked(client, director):
    password_sign_in(client, "dana", next_url="/dashboard/")
    verify = client.get("/dashboard/")
    assert verify["Location"] == "/accounts/verify/?next=%2Fdashboard%2F"
    response = client.post(
        reverse("mfa-verify"), {"otp_token": totp_code(director), "next": "/dashboard/"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"
    assert client.get("/dashboard/").status_code == 200
    # The same code cannot be replayed in another session.
    other = type(client)()
    password_sign_in(other, "dana")
    device = TOTPDevice.objects.get(user=director)
    used = device.last_t
    replayed = f"{_totp_at(device, used):06d}"
    assert other.post(reverse("mfa-verify"), {"otp_token": replayed}).status_code == 400


def _totp_at(device: TOTPDevice, t: int) -> int:
    from django_otp.oath import hotp

    return hotp(device.bin_key, t, device.digits)


def test_a_director_without_a_device_must_enrol_first(client, director_without_device):
    password_sign_in(client, "dora")
    for url in DIRECTOR_PAGES:
        response = client.get(url)
        assert response["Location"].startswith("/settings/security/enrol/?next="), url
    page = client.get(reverse("mfa-enrol"))
    assert page.status_code == 200
    body = page.content.decode()
    # The QR code is drawn on the server as inline SVG: no image service sees the secret.
    assert "<svg" in body and "<path" in body
    secret = re.search(r'id="totp-secret"[^>]*>([A-Z2-7]+)<', body).group(1)
    device = TOTPDevice.objects.get(user=director_without_device, confirmed=False)
    from base64 import b32encode

    assert secret == b32encode(device.bin_key).decode()

    assert client.post(reverse("mfa-enrol"), {"otp_token": "123"}).status_code == 400
    device.refresh_from_db()
    assert device.confirmed is False
    # A wrong code slows the next attempts down (django-otp's throttle), and says so.
    refused = client.post(reverse("mfa-enrol"), {"otp_token": _totp_now(device)})
    assert "Too many wrong codes" in refused.content.decode()
    device.throttle_reset()

    response = client.post(
        reverse("mfa-enrol"), {"otp_token": _totp_now(device), "next": "/dashboard/"}
    )
    assert response.status_code == 200
    codes = re.findall(r'<li class="col">(\w+)</li>', response.content.decode())
    assert len(codes) == 10
    device.refresh_from_db()
    assert device.confirmed is True
    assert client.get("/dashboard/").status_code == 200
    assert AuditEvent.objects.filter(
        action="mfa_enrolled", object_id=str(director_without_device.pk)
    ).exists()


def _totp_now(device: TOTPDevice) -> str:
    import time

    from django_otp.oath import TOTP

    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    return f"{totp.token():06d}"


def test_a_backup_code_works_once(client, director):
    from accounts.mfa import backup_codes_replace

    codes = backup_codes_replace(director)
    password_sign_in(client, "dana")
    response = client.post(reverse("mfa-verify"), {"otp_token": codes[0]}, follow=True)
    assert response.status_code == 200
    assert "9 left" in response.content.decode()
    assert not StaticToken.objects.filter(token=codes[0]).exists()

    again = type(client)()
    password_sign_in(again, "dana")
    assert again.post(reverse("mfa-verify"), {"otp_token": codes[0]}).status_code == 400


def test_an_unverified_director_cannot_replace_the_device(client, director):
    """A stolen password alone must not be enough to bind another phone."""
    password_sign_in(client, "dana")
    response = client.get(reverse("mfa-enrol"))
    assert response["Location"].startswith("/accounts/verify/")
    assert client.post(reverse("mfa-enrol"), {"otp_token": "123456"}).status_code == 302
    assert TOTPDevice.objects.filter(user=director).count() == 1


def test_a_superuser_must_verify_too(client, db):
    UserFactory(username="root", is_superuser=True, is_staff=True)
    password_sign_in(client, "root")
    assert client.get("/admin/")["Location"].startswith("/settings/security/enrol/")


def test_a_manager_is_not_forced(client, manager):
    password_sign_in(client, "maria")
    assert client.get("/").status_code == 200
    assert client.get("/stakeholders/").status_code == 200


def test_a_manager_may_turn_two_factor_on_and_off(client, manager):
    password_sign_in(client, "maria")
    assert "Set up two-factor authentication" in client.get("/settings/security/").content.decode()
    client.get(reverse("mfa-enrol"))
    device = TOTPDevice.objects.get(user=manager)
    client.post(reverse("mfa-enrol"), {"otp_token": _totp_now(device)})
    page = client.get("/settings/security/").content.decode()
    assert "10 backup codes left" in page

    # The next sign-in asks for the code: opting in means being asked.
    fresh = type(client)()
    password_sign_in(fresh, "maria")
    assert fresh.get("/").status_code == 200  # managers are not forced...
    # ...but turning it off needs a valid code.
    response = client.post(reverse("mfa-disable"), {"otp_token": "000000"}, follow=True)
    assert "stays on" in response.content.decode()
    assert TOTPDevice.objects.filter(user=manager).exists()
    from accounts.mfa import backup_codes_replace

    code = backup_codes_replace(manager)[0]
    response = client.post(reverse("mfa-disable"), {"otp_token": code}, follow=True)
    assert "Two-factor authentication is off." in response.content.decode()
    assert not TOTPDevice.objects.filter(user=manager).exists()
    assert AuditEvent.objects.filter(action="mfa_disabled", actor=manager).exists()


def test_a_director_may_not_turn_it_off(client, director):
    client.force_login(director)
    assert "cannot be turned off" in client.get("/settings/security/").content.decode()
    response = client.post(reverse("mfa-disable"), {"otp_token": totp_code(director)})
    assert response.status_code == 403
    assert TOTPDevice.objects.filter(user=director).exists()


def test_new_backup_codes_replace_the_old_ones(client, director):
    from accounts.mfa import backup_codes_replace

    old = backup_codes_replace(director)
    client.force_login(director)
    response = client.post(reverse("mfa-backup-codes"))
    new = re.findall(r'<li class="col">(\w+)</li>', response.content.decode())
    assert len(new) == 10
    assert not StaticToken.objects.filter(token__in=old).exists()


def test_api_tokens_are_not_concerned(client, director):
    """Token authentication is separate: an integration holding a director's token
    is not asked for a second factor."""
    _row, secret = tokens.api_token_create(director, days=7)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    assert api.get("/api/v1/stakeholders/").status_code == 200


def test_an_unverified_session_gets_no_api_data(client, director):
    password_sign_in(client, "dana")
    response = client.get("/api/v1/stakeholders/")
    assert response.status_code == 403
    assert "Two-factor" in response.json()["detail"]


def test_signing_out_needs_no_second_factor(client, director):
    password_sign_in(client, "dana")
    assert client.post(reverse("logout"))["Location"] == reverse("login")
    assert client.get("/")["Location"].startswith("/accounts/login/")


# --- Lock-out ---------------------------------------------------------------------------


def test_five_failures_lock_the_sign_in_with_a_message(client, manager, settings):
    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        response = password_sign_in(client, "maria", "wrong")
        assert response.status_code == 200  # the form again, with its error
    response = password_sign_in(client, "maria", "wrong")
    assert response.status_code == 429
    # Locked: even the right password is refused, with a message saying why.
    response = password_sign_in(client, "maria", "pw")
    assert response.status_code == 429
    body = response.content.decode()
    assert "Sign-in locked" in body and "5 failed attempts" in body
    assert "_auth_user_id" not in client.session
    events = AuditEvent.objects.filter(object_id=str(manager.pk))
    assert events.filter(action="sign_in_failed").count() >= 5
    assert events.filter(action="locked_out").exists()


def test_a_lock_out_is_per_address(client, manager, settings):
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        password_sign_in(client, "maria", "wrong")
    other_address = type(client)(REMOTE_ADDR="10.9.8.7")
    assert password_sign_in(other_address, "maria", "pw").status_code == 302


def test_a_success_resets_the_count(client, manager, settings):
    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        password_sign_in(client, "maria", "wrong")
    assert password_sign_in(client, "maria", "pw").status_code == 302
    client.post(reverse("logout"))
    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        password_sign_in(client, "maria", "wrong")
    assert password_sign_in(client, "maria", "pw").status_code == 302


def test_a_locked_out_user_keeps_api_access_by_token(client, manager, settings):
    _row, secret = tokens.api_token_create(manager, days=7)
    for _attempt in range(settings.AXES_FAILURE_LIMIT + 1):
        password_sign_in(client, "maria", "wrong")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    assert api.get("/api/v1/stakeholders/").status_code == 200


# --- Security log ------------------------------------------------------------------------


def test_sign_ins_failures_and_sign_outs_are_logged(client, manager):
    password_sign_in(client, "nobody", "x")
    password_sign_in(client, "maria", "wrong")
    password_sign_in(client, "maria", "pw")
    client.post(reverse("logout"))
    events = list(
        AuditEvent.objects.filter(object_type="auth.user")
        .order_by("pk")
        .values_list("action", "object_repr", "actor")
    )
    assert events == [
        ("sign_in_failed", "nobody", None),
        ("sign_in_failed", "maria", None),
        ("sign_in", "maria", manager.pk),
        ("sign_out", "maria", manager.pk),
    ]
    first = AuditEvent.objects.filter(object_type="auth.user").order_by("pk").first()
    assert first.changes["ip"] == "127.0.0.1"
    # No password ever reaches the log.
    assert "wrong" not in str(list(AuditEvent.objects.values_list("changes", flat=True)))


def test_the_web_benchmark_signs_directors_in_past_the_second_factor(director_without_device):
    """bench_web measures the dashboard itself, not a redirect to the verification page."""
    from django.test import Client
    from django_otp.plugins.otp_static.models import StaticDevice

    from demo.management.commands.bench_web import Command

    cookie = Command().session_cookie(director_without_device)
    # Not the test authenticator force_login gets under pytest: the benchmark's own device.
    TOTPDevice.objects.filter(user=director_without_device).delete()
    name, value = cookie.split("=", 1)
    client = Client()
    client.cookies[name] = value
    assert client.get("/dashboard/").status_code == 200
    assert StaticDevice.objects.filter(user=director_without_device, name="bench_web").exists()
