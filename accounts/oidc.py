"""Single sign-on with the organisation's OpenID Connect provider.

mozilla-django-oidc drives the authorization code flow: the state, nonce and PKCE
verifier it keeps in the session, the token request. What it leaves to the site is
done here:

- the provider's endpoints come from discovery (`RAPPORT_OIDC_ISSUER` +
  `/.well-known/openid-configuration`), whose `issuer` must be the configured one;
- the ID token is checked in full: an asymmetric signature by a key of the provider's
  JWKS (never `none` or HS*), the issuer, our client id as audience (and `azp` when
  there are several), expiry, and the nonce of this sign-in (the library checks
  neither issuer nor audience);
- the user is found by issuer and subject (accounts.services), roles follow the
  provider's groups, and every sign-in and refusal is written to the audit trail;
- a provider's multi-factor claim (`amr`, or an `acr` value) counts as the second
  factor directors and superusers must pass (`OTPMiddleware` below);
- signing out ends the provider's session too where it advertises
  `end_session_endpoint` (RP-initiated logout).

Without an issuer configured none of this is reachable: the views answer 404 and the
sign-in page is the password form alone.
"""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import jwt
import requests
from django.conf import settings
from django.contrib import auth, messages
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import User
from django.contrib.auth.views import LoginView, LogoutView
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, resolve_url
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View
from django_otp.middleware import OTPMiddleware as BaseOTPMiddleware
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import import_from_settings
from mozilla_django_oidc.views import OIDCAuthenticationRequestView

from accounts.security import security_event
from accounts.services import OIDCRefused, oidc_user_sign_in
from relations.models import AuditEvent

BACKEND = "accounts.oidc.OIDCBackend"
# Session keys: the ID token (the provider's sign-out wants it as a hint) and the
# user whose sign-in the provider's second factor covered.
ID_TOKEN_SESSION_KEY = "oidc_id_token"
PROVIDER_MFA_SESSION_KEY = "oidc_mfa_user"

# The provider's metadata changes rarely; its keys rotate, so an unknown key id
# fetches the JWKS again, at most once a minute (a flood of forged tokens must not
# become a flood of requests to the provider).
DISCOVERY_SECONDS = 3600
JWKS_REFETCH_SECONDS = 60
# Asymmetric algorithms only: HS* would verify with the client secret, `none` with nothing.
SIGNING_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"}
)
# Tolerated clock difference with the provider when checking exp and iat.
CLOCK_LEEWAY_SECONDS = 60

_metadata_cache: dict[str, tuple[float, dict]] = {}
_jwks_cache: dict[str, tuple[float, list[dict]]] = {}


def oidc_enabled() -> bool:
    return bool(settings.RAPPORT_OIDC_ISSUER)


def local_login_enabled() -> bool:
    """The password form stays unless single sign-on is on and RAPPORT_LOCAL_LOGIN=0."""
    return settings.RAPPORT_LOCAL_LOGIN or not oidc_enabled()


def _get_json(url: str) -> Any:
    response = requests.get(url, timeout=settings.RAPPORT_OIDC_TIMEOUT)
    response.raise_for_status()
    return response.json()


def provider_metadata() -> dict:
    """The provider's discovery document (OpenID Connect Discovery §4), cached."""
    issuer = settings.RAPPORT_OIDC_ISSUER
    cached = _metadata_cache.get(issuer)
    if cached and cached[0] > time.monotonic():
        return cached[1]
    try:
        document = _get_json(issuer.rstrip("/") + "/.well-known/openid-configuration")
    except (requests.RequestException, ValueError) as error:
        raise OIDCRefused("discovery_failed", error=str(error)[:200]) from error
    if not isinstance(document, dict) or document.get("issuer") != issuer:
        # §4.3: a document for another issuer must not be used.
        raise OIDCRefused("unknown_issuer", issuer=str(document.get("issuer"))[:200])
    if not all(document.get(k) for k in ("authorization_endpoint", "token_endpoint", "jwks_uri")):
        raise OIDCRefused("discovery_failed", error="incomplete discovery document")
    _metadata_cache[issuer] = (time.monotonic() + DISCOVERY_SECONDS, document)
    return document


def _jwks(uri: str, *, refetch: bool) -> list[dict]:
    cached = _jwks_cache.get(uri)
    # Fetched again after an hour in any case, so that a key the provider withdrew
    # stops verifying here too.
    fresh_for = JWKS_REFETCH_SECONDS if refetch else DISCOVERY_SECONDS
    if cached and time.monotonic() - cached[0] < fresh_for:
        return cached[1]
    try:
        keys = _get_json(uri).get("keys", [])
    except (requests.RequestException, ValueError, AttributeError) as error:
        raise OIDCRefused("discovery_failed", error=str(error)[:200]) from error
    _jwks_cache[uri] = (time.monotonic(), keys)
    return keys


def _signing_key(token: str) -> jwt.PyJWK:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as error:
        raise OIDCRefused("invalid_token") from error
    algorithm = header.get("alg")
    if algorithm not in SIGNING_ALGORITHMS:
        raise OIDCRefused("bad_signature", alg=str(algorithm)[:20])
    uri = provider_metadata()["jwks_uri"]
    for refetch in (False, True):
        for key in _jwks(uri, refetch=refetch):
            if header.get("kid") is not None and key.get("kid") != header["kid"]:
                continue
            if key.get("use", "sig") != "sig" or key.get("alg", algorithm) != algorithm:
                continue
            try:
                return jwt.PyJWK(key, algorithm=algorithm)
            except jwt.PyJWTError:
                continue
    raise OIDCRefused("bad_signature", kid=str(header.get("kid"))[:100])


def id_token_claims(token: str, *, nonce: str) -> dict:
    """The claims of a verified ID token (OpenID Connect Core §3.1.3.7)."""
    key = _signing_key(token)
    client_id = settings.RAPPORT_OIDC_CLIENT_ID
    try:
        claims = jwt.decode(
            token,
            key.key,
            algorithms=[key.algorithm_name],
            audience=client_id,
            issuer=settings.RAPPORT_OIDC_ISSUER,
            leeway=CLOCK_LEEWAY_SECONDS,
            options={"require": ["iss", "sub", "aud", "exp", "iat"]},
        )
    except jwt.ExpiredSignatureError as error:
        raise OIDCRefused("expired") from error
    except jwt.InvalidAudienceError as error:
        raise OIDCRefused("wrong_audience") from error
    except jwt.InvalidIssuerError as error:
        raise OIDCRefused("unknown_issuer") from error
    except jwt.InvalidSignatureError as error:
        raise OIDCRefused("bad_signature") from error
    except jwt.PyJWTError as error:
        raise OIDCRefused("invalid_token", error=str(error)[:200]) from error
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1 and claims.get("azp") != client_id:
        raise OIDCRefused("wrong_audience")
    if not hmac.compare_digest(str(claims.get("nonce", "")), nonce):
        raise OIDCRefused("nonce")
    return claims


def provider_mfa_satisfied(claims: dict) -> bool:
    """The provider says the person passed a second factor: an `amr` value of
    RAPPORT_OIDC_MFA_AMR, or an `acr` of RAPPORT_OIDC_MFA_ACR (RFC 8176)."""
    amr = claims.get("amr") or []
    methods = {amr} if isinstance(amr, str) else set(amr) if isinstance(amr, list) else set()
    if methods & set(settings.RAPPORT_OIDC_MFA_AMR):
        return True
    acr = claims.get("acr")
    return bool(acr) and acr in settings.RAPPORT_OIDC_MFA_ACR


def _library_setting(name: str, *default: Any) -> Any:
    """mozilla-django-oidc's settings, answered from ours and from discovery."""
    discovered = {
        "OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint",
        "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint",
        "OIDC_OP_USER_ENDPOINT": "userinfo_endpoint",
        "OIDC_OP_JWKS_ENDPOINT": "jwks_uri",
    }
    if name in discovered:
        return provider_metadata().get(discovered[name])
    fixed = {
        "OIDC_RP_CLIENT_ID": settings.RAPPORT_OIDC_CLIENT_ID,
        "OIDC_RP_CLIENT_SECRET": settings.RAPPORT_OIDC_CLIENT_SECRET,
        "OIDC_RP_SCOPES": settings.RAPPORT_OIDC_SCOPES,
        "OIDC_TIMEOUT": settings.RAPPORT_OIDC_TIMEOUT,
        "OIDC_USE_NONCE": True,
        "OIDC_USE_PKCE": True,
        "OIDC_PKCE_CODE_CHALLENGE_METHOD": "S256",
        "OIDC_AUTHENTICATION_CALLBACK_URL": "oidc-callback",
        "OIDC_TOKEN_USE_BASIC_AUTH": False,
        "OIDC_VERIFY_SSL": True,
    }
    if name in fixed:
        return fixed[name]
    return import_from_settings(name, *default)


class OIDCBackend(OIDCAuthenticationBackend):
    """Signs in the user of a verified ID token; only the callback view calls it (with
    the nonce of the sign-in it started), so a password sign-in never reaches it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Django builds a backend for every request's session user: no discovery here.
        self.UserModel = User

    get_settings = staticmethod(_library_setting)

    @property
    def OIDC_OP_TOKEN_ENDPOINT(self) -> str:  # noqa: N802 (the library's name)
        return provider_metadata()["token_endpoint"]

    @property
    def OIDC_RP_CLIENT_ID(self) -> str:  # noqa: N802
        return settings.RAPPORT_OIDC_CLIENT_ID

    @property
    def OIDC_RP_CLIENT_SECRET(self) -> str:  # noqa: N802
        return settings.RAPPORT_OIDC_CLIENT_SECRET

    def authenticate(
        self,
        request: HttpRequest | None,
        nonce: str | None = None,
        code_verifier: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        if request is None or not nonce or not oidc_enabled() or not request.GET.get("code"):
            return None
        self.request = request
        payload = {
            "client_id": settings.RAPPORT_OIDC_CLIENT_ID,
            "client_secret": settings.RAPPORT_OIDC_CLIENT_SECRET,
            "grant_type": "authorization_code",
            "code": request.GET["code"],
            "redirect_uri": request.build_absolute_uri(reverse("oidc-callback")),
            "code_verifier": code_verifier,
        }
        try:
            tokens = self.get_token(payload)
        except (requests.RequestException, ValueError) as error:
            # A used, expired or foreign code, or a PKCE verifier that does not match.
            raise OIDCRefused("token_refused", error=str(error)[:300]) from error
        id_token = tokens.get("id_token")
        if not id_token:
            raise OIDCRefused("invalid_token", error="no id_token")
        claims = id_token_claims(id_token, nonce=nonce)
        claims = {**self._userinfo(tokens.get("access_token"), claims), **claims}
        request.oidc_claims = claims
        request.oidc_id_token = id_token
        return oidc_user_sign_in(issuer=settings.RAPPORT_OIDC_ISSUER, claims=claims)

    def _userinfo(self, access_token: str | None, claims: dict) -> dict:
        """The userinfo endpoint's claims (groups, names) for what the ID token lacks;
        only when they are about the same subject (Core §5.3.2)."""
        if not access_token or not provider_metadata().get("userinfo_endpoint"):
            return {}
        try:
            response = requests.get(
                provider_metadata()["userinfo_endpoint"],
                headers={"Authorization": f"Bearer {access_token}"},
                timeout=settings.RAPPORT_OIDC_TIMEOUT,
            )
            response.raise_for_status()
            userinfo = response.json()
        except (requests.RequestException, ValueError):
            return {}
        if not isinstance(userinfo, dict) or userinfo.get("sub") != claims["sub"]:
            return {}
        return userinfo

    def get_user(self, user_id: int) -> User | None:
        # Django's rule, not the library's: a disabled account's sessions end.
        return ModelBackend.get_user(self, user_id)


# --- Views ---------------------------------------------------------------------------------


def _refusal_message(reason: str) -> str:
    messages_by_reason = {
        "inactive": _("This account is disabled. Ask a director to enable it again."),
        "unknown_user": _(
            "Your organisation's account is not linked to a Rapport account. Ask a "
            "director to invite you."
        ),
        "no_role": _("Your organisation's account has no Rapport role. Ask a director for access."),
    }
    return messages_by_reason.get(
        reason, _("Single sign-on did not succeed. Try again, or ask a director for help.")
    )


def _refuse(request: HttpRequest, refusal: OIDCRefused) -> HttpResponse:
    security_event(
        AuditEvent.Action.SIGN_IN_FAILED,
        request=request,
        user=refusal.user,
        username=str(refusal.details.get("subject", "")),
        method="oidc",
        reason=refusal.reason,
        **{k: v for k, v in refusal.details.items() if k != "subject"},
    )
    if request.user.is_authenticated and refusal.reason not in {"state"}:
        auth.logout(request)
    messages.error(request, _refusal_message(refusal.reason))
    return redirect("login")


class SignInView(LoginView):
    """Django's sign-in page, with "Sign in with …" when single sign-on is configured;
    with RAPPORT_LOCAL_LOGIN=0 the password form is neither shown nor accepted."""

    def get_context_data(self, **kwargs: Any) -> dict:
        context = super().get_context_data(**kwargs)
        context.update(
            oidc_enabled=oidc_enabled(),
            oidc_label=settings.RAPPORT_OIDC_LABEL,
            local_login=local_login_enabled(),
        )
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not local_login_enabled():
            return self.get(request, *args, **kwargs)
        return super().post(request, *args, **kwargs)


class OIDCStartView(OIDCAuthenticationRequestView):
    """Sends the browser to the provider with a fresh state, nonce and PKCE challenge."""

    get_settings = staticmethod(_library_setting)

    def __init__(self, **kwargs: Any) -> None:
        View.__init__(self, **kwargs)

    def get(self, request: HttpRequest) -> HttpResponse:
        if not oidc_enabled():
            raise Http404
        try:
            self.OIDC_OP_AUTH_ENDPOINT = provider_metadata()["authorization_endpoint"]
        except OIDCRefused as refusal:
            return _refuse(request, refusal)
        self.OIDC_RP_CLIENT_ID = settings.RAPPORT_OIDC_CLIENT_ID
        return super().get(request)


class OIDCCallbackView(View):
    """Where the provider sends the browser back: one use of a state of this session,
    then the code is exchanged and the ID token verified (OIDCBackend)."""

    http_method_names = ["get"]

    def get(self, request: HttpRequest) -> HttpResponse:
        if not oidc_enabled():
            raise Http404
        states = request.session.get("oidc_states")
        state = request.GET.get("state", "")
        started = states.pop(state, None) if isinstance(states, dict) and state else None
        if started is not None:
            # Used once: the same answer replayed meets no state.
            request.session["oidc_states"] = states
        if request.GET.get("error"):
            error = request.GET["error"][:100]
            return _refuse(request, OIDCRefused("provider_error", error=error))
        if started is None:
            return _refuse(request, OIDCRefused("state"))
        try:
            user = OIDCBackend().authenticate(
                request, nonce=started.get("nonce"), code_verifier=started.get("code_verifier")
            )
        except OIDCRefused as refusal:
            return _refuse(request, refusal)
        if user is None:
            return _refuse(request, OIDCRefused("invalid_token", error="no code"))
        claims = request.oidc_claims
        mfa = provider_mfa_satisfied(claims)
        next_url = request.session.get("oidc_login_next")
        request.rapport_sign_in_details = {
            "method": "oidc",
            "issuer": claims["iss"],
            "subject": str(claims["sub"])[:200],
            "provider_mfa": mfa,
        }
        auth.login(request, user, backend=BACKEND)
        request.session[ID_TOKEN_SESSION_KEY] = request.oidc_id_token
        if mfa:
            request.session[PROVIDER_MFA_SESSION_KEY] = user.pk
        else:
            request.session.pop(PROVIDER_MFA_SESSION_KEY, None)
        return HttpResponseRedirect(next_url or resolve_url(settings.LOGIN_REDIRECT_URL))


def provider_logout_url(request: HttpRequest) -> str | None:
    """The provider's end-session address for this session (RP-initiated logout 1.0),
    when the session came from the provider and the provider advertises one."""
    id_token = request.session.get(ID_TOKEN_SESSION_KEY)
    if not oidc_enabled() or not id_token:
        return None
    try:
        endpoint = provider_metadata().get("end_session_endpoint")
    except OIDCRefused:
        return None
    if not endpoint:
        return None
    query = urlencode(
        {
            "id_token_hint": id_token,
            "client_id": settings.RAPPORT_OIDC_CLIENT_ID,
            "post_logout_redirect_uri": request.build_absolute_uri(reverse("login")),
        }
    )
    return f"{endpoint}{'&' if urlsplit(endpoint).query else '?'}{query}"


class SignOutView(LogoutView):
    """Ends the Rapport session, then the provider's where it can."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        provider_url = provider_logout_url(request)
        response = super().post(request, *args, **kwargs)
        return HttpResponseRedirect(provider_url) if provider_url else response


# --- The provider's second factor ---------------------------------------------------------


@dataclass(frozen=True)
class ProviderSecondFactor:
    """Stands where django-otp puts the device that verified the session: the
    provider's own multi-factor sign-in, which no code of ours can replay."""

    user_id: int
    name: str = "identity provider"
    persistent_id: str = ""


class OTPMiddleware(BaseOTPMiddleware):
    """django-otp's middleware; a session whose sign-in the provider reported as
    multi-factor is verified as if a device had been used."""

    def _verify_user_sync(self, request: HttpRequest, user: Any) -> Any:
        user = super()._verify_user_sync(request, user)
        if (
            user.is_authenticated
            and user.otp_device is None
            and request.session.get(PROVIDER_MFA_SESSION_KEY) == user.pk
        ):
            user.otp_device = ProviderSecondFactor(user_id=user.pk)
        return user

    async def _verify_user_async_via_auser(self, request: HttpRequest, auser: Any) -> Any:
        user = await super()._verify_user_async_via_auser(request, auser)
        if (
            user.is_authenticated
            and user.otp_device is None
            and await request.session.aget(PROVIDER_MFA_SESSION_KEY) == user.pk
        ):
            user.otp_device = ProviderSecondFactor(user_id=user.pk)
        return user
