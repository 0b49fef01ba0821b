"""Two-factor authentication pages (django-otp): enrol an authenticator app, verify a
sign-in with its code or a backup code, renew backup codes, turn it off.

Everyone may use it from `/settings/security/`; directors and superusers must (see
accounts.security.SecondFactorRequiredMiddleware). The QR code is drawn on the server
as SVG, so no third-party service or script ever sees the secret.
"""

from __future__ import annotations

from base64 import b32encode

import qrcode
import qrcode.image.svg
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_otp import devices_for_user, match_token, user_has_device
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.security import mfa_required, security_event
from relations.models import AuditEvent

# Ten one-time codes: enough to get through a lost phone until a new one is enrolled.
BACKUP_CODE_COUNT = 10


class CodeForm(forms.Form):
    otp_token = forms.CharField(
        label=gettext_lazy("Code"),
        max_length=16,
        help_text=gettext_lazy("The 6-digit code from your authenticator app, or a backup code."),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )

    def clean_otp_token(self) -> str:
        return self.cleaned_data["otp_token"].replace(" ", "").strip()


def _next_url(request: HttpRequest, fallback: str = "home") -> str:
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse(fallback)


def _confirmed_totp(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def _throttled(device: TOTPDevice | None) -> bool:
    return device is not None and not device.verify_is_allowed()[0]


def _refusal(throttled: bool) -> str:
    # django-otp doubles the wait after each wrong code (1 s, 2 s, 4 s...): say so,
    # or a right code typed too soon looks wrong.
    if throttled:
        return _("Too many wrong codes: wait a few seconds, then enter the current code.")
    return _("That code is not valid. Check the time on your phone and enter the current code.")


def backup_codes_replace(user: User) -> list[str]:
    """New backup codes for `user` (the old ones stop working); returns them, shown once."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="Backup codes", confirmed=True)
    codes = [StaticToken.random_token() for _i in range(BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def qr_svg(text: str) -> str:
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    return image.to_string(encoding="unicode")


@never_cache
@login_required
def mfa_verify(request: HttpRequest) -> HttpResponse:
    """The second step of signing in."""
    user = request.user
    if not user_has_device(user):
        return redirect(f"{reverse('mfa-enrol')}?{urlencode({'next': _next_url(request)})}")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        throttled = _throttled(_confirmed_totp(user))
        device = match_token(user, form.cleaned_data["otp_token"])
        if device is not None:
            otp_login(request, device)
            if isinstance(device, StaticDevice):
                remaining = StaticToken.objects.filter(device=device).count()
                messages.warning(
                    request,
                    _("You used a backup code; %(count)d left. Renew them in Security settings.")
                    % {"count": remaining},
                )
            return redirect(_next_url(request))
        security_event(AuditEvent.Action.MFA_FAILED, request=request, user=user)
        form.add_error("otp_token", _refusal(throttled))
    return render(
        request,
        "registration/mfa_verify.html",
        {"form": form, "next": _next_url(request)},
        status=400 if form.errors else 200,
    )


@never_cache
@login_required
def mfa_enrol(request: HttpRequest) -> HttpResponse:
    """Set up (or replace) the authenticator app: scan, then confirm with a code."""
    user = request.user
    # Replacing a device needs the current second factor: a stolen password alone
    # must not be enough to bind the attacker's phone.
    if user_has_device(user) and not user.is_verified():
        return redirect(f"{reverse('mfa-verify')}?{urlencode({'next': request.get_full_path()})}")
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        throttled = _throttled(device)
        if device.verify_token(form.cleaned_data["otp_token"]):
            with transaction.atomic():
                TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                codes = backup_codes_replace(user)
                security_event(AuditEvent.Action.MFA_ENROLLED, request=request, user=user)
            otp_login(request, device)
            return render(
                request,
                "registration/mfa_backup_codes.html",
                {"codes": codes, "next": _next_url(request, "mfa-settings"), "enrolled": True},
            )
        form.add_error("otp_token", _refusal(throttled))
    return render(
        request,
        "registration/mfa_enrol.html",
        {
            "form": form,
            "qr": mark_safe(qr_svg(device.config_url)),  # noqa: S308 -- our own SVG, no user input
            "secret": b32encode(device.bin_key).decode(),
            "next": _next_url(request, "mfa-settings"),
            "required": mfa_required(user),
        },
        status=400 if form.errors else 200,
    )


@never_cache
@login_required
def mfa_settings(request: HttpRequest) -> HttpResponse:
    user = request.user
    static = StaticDevice.objects.filter(user=user, confirmed=True).first()
    return render(
        request,
        "registration/mfa_settings.html",
        {
            "totp": _confirmed_totp(user),
            "backup_codes_left": static.token_set.count() if static else 0,
            "required": mfa_required(user),
            "form": CodeForm(),
        },
    )


@never_cache
@login_required
@require_POST
def mfa_backup_codes(request: HttpRequest) -> HttpResponse:
    user = request.user
    if _confirmed_totp(user) is None or not user.is_verified():
        raise PermissionDenied
    codes = backup_codes_replace(user)
    return render(
        request,
        "registration/mfa_backup_codes.html",
        {"codes": codes, "next": reverse("mfa-settings"), "enrolled": False},
    )


@login_required
@require_POST
def mfa_disable(request: HttpRequest) -> HttpResponse:
    """Turn two-factor off, confirmed with a current code; not for those who must use it."""
    user = request.user
    if mfa_required(user):
        raise PermissionDenied
    form = CodeForm(request.POST)
    if not form.is_valid() or match_token(user, form.cleaned_data["otp_token"]) is None:
        security_event(AuditEvent.Action.MFA_FAILED, request=request, user=user)
        messages.error(request, _("That code is not valid; two-factor authentication stays on."))
        return redirect("mfa-settings")
    with transaction.atomic():
        for device in devices_for_user(user, confirmed=None):
            device.delete()
        security_event(AuditEvent.Action.MFA_DISABLED, request=request, user=user)
    messages.success(request, _("Two-factor authentication is off."))
    return redirect("mfa-settings")
