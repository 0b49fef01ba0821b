"""Sign-in security: the security log, and the second factor directors must pass.

- Sign-ins, failed sign-ins, sign-outs and lock-outs (django-axes) are written to the
  audit trail as events about the user concerned (object type `auth.user`).
- A signed-in user refused an object (403, or 404 on an address naming an object) is
  logged too, so that a director sees someone probing other people's records.
- Directors and superusers must pass a second factor (TOTP or a backup code) after
  their password before any other page; without a device they enrol first. API
  token authentication is separate and unaffected; a session that has not passed
  the second factor authenticates nothing in the API, whatever headers come with it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth import user_logged_in, user_logged_out, user_login_failed
from django.contrib.auth.models import AnonymousUser, User
from django.dispatch import receiver
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from relations.models import AuditEvent
from relations.roles import is_director
from relations.services import audit_record

# How many reverse proxies in front of the app append to X-Forwarded-For; 0 (the
# default) trusts only the socket address, so a client cannot spoof its address.
TRUSTED_PROXY_COUNT = int(os.environ.get("RAPPORT_TRUSTED_PROXY_COUNT", "0"))


def client_ip(request: HttpRequest) -> str | None:
    """The client's address for lock-outs and the security log (AXES_CLIENT_IP_CALLABLE)."""
    if TRUSTED_PROXY_COUNT:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [a for a in forwarded if a]
        if len(forwarded) >= TRUSTED_PROXY_COUNT:
            return forwarded[-TRUSTED_PROXY_COUNT]
    return request.META.get("REMOTE_ADDR")


def _storable(value: Any) -> Any:
    """A value as the database can store it: text without NUL characters (PostgreSQL
    refuses them, in text and in JSON alike) or lone surrogates (not UTF-8). The
    security log records what attackers send: a path or an id may hold either."""
    if isinstance(value, str):
        return value.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, dict):
        return {_storable(k): _storable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_storable(v) for v in value]
    return value


def security_event(
    action: str,
    *,
    request: HttpRequest | None,
    user: User | None = None,
    username: str = "",
    **details: Any,
) -> AuditEvent:
    """Record a security event about `user` (or an unknown `username`)."""
    known = user is not None and user.pk is not None
    if request is not None:
        details.setdefault("ip", client_ip(request))
        details.setdefault("path", request.path[:200])
    return audit_record(
        actor=user if known and action != AuditEvent.Action.SIGN_IN_FAILED else None,
        action=action,
        obj=User,
        object_id=str(user.pk) if known else "",
        object_repr=_storable((user.get_username() if known else username)[:200]),
        changes=_storable(details),
    )


@receiver(user_logged_in)
def _log_sign_in(sender: Any, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    # A single sign-on says how (accounts.oidc): issuer, subject, the provider's MFA.
    details = getattr(request, "rapport_sign_in_details", {}) if request is not None else {}
    security_event(AuditEvent.Action.SIGN_IN, request=request, user=user, **details)


@receiver(user_logged_out)
def _log_sign_out(sender: Any, request: HttpRequest | None, user: User | None, **kwargs) -> None:
    if user is not None:
        security_event(AuditEvent.Action.SIGN_OUT, request=request, user=user)


@receiver(user_login_failed)
def _log_failed_sign_in(
    sender: Any, credentials: dict, request: HttpRequest | None = None, **kwargs: Any
) -> None:
    username = str(credentials.get("username", ""))
    user = User.objects.filter(username=username).first() if username else None
    security_event(AuditEvent.Action.SIGN_IN_FAILED, request=request, user=user, username=username)


def _log_locked_out(sender: Any, request: HttpRequest, username: str, **kwargs: Any) -> None:
    user = User.objects.filter(username=username).first() if username else None
    security_event(AuditEvent.Action.LOCKED_OUT, request=request, user=user, username=username)


def connect_axes_signal() -> None:
    from axes.signals import user_locked_out

    user_locked_out.connect(_log_locked_out, dispatch_uid="rapport-locked-out")


# --- Second factor -----------------------------------------------------------------------


def mfa_required(user: User | AnonymousUser) -> bool:
    """Directors and superusers see everyone's data: their sign-in needs a second factor."""
    return user.is_authenticated and (user.is_superuser or is_director(user))


# Pages an unverified director may still open: the second-factor pages themselves,
# signing out, the language switch, and signing in again (with the password or through
# the identity provider, whose multi-factor claim may verify the new session).
MFA_EXEMPT_URL_NAMES = frozenset(
    {"mfa-verify", "mfa-enrol", "logout", "set_language", "login", "oidc-start", "oidc-callback"}
)


def session_passed_second_factor(user: User | AnonymousUser) -> bool:
    """Whether a session's user may act: anyone who needs no second factor, or who has
    passed it in this session (OTPMiddleware sets `is_verified`)."""
    if not mfa_required(user):
        return True
    is_verified = getattr(user, "is_verified", None)
    return bool(is_verified()) if callable(is_verified) else False


def carries_api_token(request: HttpRequest) -> bool:
    """The request names the `Token` scheme (knox's prefix): token authentication, not
    the session, decides who it is (an invalid token is a 401, never the session)."""
    scheme = request.META.get("HTTP_AUTHORIZATION", "").split(maxsplit=1)
    return bool(scheme) and scheme[0].lower() == "token"


class SecondFactorRequiredMiddleware:
    """After OTPMiddleware: a director or superuser whose session has not passed a
    second factor is sent to verify (or to enrol, without a device) before any page.

    In the API, only a request naming the `Token` scheme goes on without a verified
    session: token authentication then signs it in without the session. Any other
    Authorization header (Bearer, Basic, empty...) is no credential of ours and
    changes nothing; DRF's session authentication refuses such a session as well
    (accounts.authentication.SessionAuthentication)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Callable, args: tuple, kwargs: dict
    ) -> HttpResponse | None:
        user = request.user
        if session_passed_second_factor(user):
            return None
        match = request.resolver_match
        if match is not None and match.url_name in MFA_EXEMPT_URL_NAMES:
            return None
        if request.path.startswith("/api/"):
            if carries_api_token(request):
                return None
            return JsonResponse(
                {"detail": _("Two-factor verification is required: sign in again in the browser.")},
                status=403,
            )
        from django_otp import user_has_device

        target = "mfa-verify" if user_has_device(user) else "mfa-enrol"
        return redirect(f"{reverse(target)}?{urlencode({'next': request.get_full_path()})}")


class RefusedAccessLogMiddleware:
    """Logs a signed-in user's 403s, and 404s on addresses that name an object.

    An address naming an object by text holding a NUL character names nothing (no
    record can hold one: PostgreSQL refuses it): 404 before any view looks it up."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def process_view(
        self, request: HttpRequest, view: Callable, args: tuple, kwargs: dict
    ) -> HttpResponse | None:
        if any("\x00" in str(value) for value in (*args, *kwargs.values())):
            raise Http404
        return None

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code in (403, 404):
            self._log(request, response)
        return response

    def _log(self, request: HttpRequest, response: HttpResponse) -> None:
        match = request.resolver_match
        # DRF's token authentication inside the view also sets the Django request's user.
        user = getattr(request, "user", None)
        if match is None or user is None or not user.is_authenticated:
            return
        if response.status_code == 404 and not match.kwargs:
            return
        security_event(
            AuditEvent.Action.ACCESS_DENIED,
            request=request,
            user=user,
            status=response.status_code,
            method=request.method,
            view=match.view_name[:100],
            object_id=_storable(str(next(iter(match.kwargs.values()), ""))[:40]),
        )
