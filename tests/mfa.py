"""Second-factor helpers for tests: a known TOTP key and the code it shows now.

Directors and superusers must pass a second factor after their password
(accounts.security). The `director` fixture has a confirmed authenticator with
TEST_TOTP_KEY; `totp_code(user)` is what their phone would show, and
`pass_second_factor(page, user)` completes the browser's verification step.
"""

from __future__ import annotations

import time

from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

# RFC 6238's test secret ("12345678901234567890"), hex-encoded as django-otp stores it.
TEST_TOTP_KEY = "3132333435363738393031323334353637383930"


def confirmed_totp(user, key: str = TEST_TOTP_KEY) -> TOTPDevice:
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(
            user=user, name="Test authenticator", key=key, confirmed=True
        )
    return device


def totp_code(user) -> str:
    """A code the user's device accepts now: the current step's, or the next step's
    (within the allowed drift) when the current one was already used."""
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    if totp.t() <= device.last_t:
        totp.time += device.step * (device.last_t + 1 - totp.t())
    return f"{totp.token():0{device.digits}d}"


def pass_second_factor(page, user) -> None:
    """On the browser's verification page, enter the current code (any language)."""
    page.wait_for_url("**/accounts/verify/**")
    page.locator("input[name=otp_token]").fill(totp_code(user))
    page.locator("main form button[type=submit]").click()


def sign_in_through_form(page, live_server, username: str, *, then: str = "") -> None:
    """Sign in with the password "pw", then the second factor when the user needs one."""
    from django.contrib.auth.models import User

    from accounts.security import mfa_required

    suffix = f"?next={then}" if then else ""
    page.goto(f"{live_server.url}/accounts/login/{suffix}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Sign in").click()
    user = User.objects.get(username=username)
    if mfa_required(user):
        pass_second_factor(page, user)
