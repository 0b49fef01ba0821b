"""`/settings/tokens/`: a user creates (and sees once), lists and revokes their API tokens.

Tokens are knox tokens: only a hash is stored, so a token shown here can never
be shown again; the list identifies each by its first characters.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from knox.models import AuthToken

# Choices offered for a new token's lifetime, in days.
LIFETIME_CHOICES = [7, 30, 90, 365]


def token_limit() -> int:
    return settings.REST_KNOX.get("TOKEN_LIMIT_PER_USER") or 20


def api_token_audit(token: AuthToken, *, by: User | None, action: str) -> None:
    """Audit a token's creation or revocation: identified by its first characters
    (what the tokens page shows), never by its digest."""
    from relations.services import audit_record

    audit_record(
        actor=by,
        action=action,
        obj=token,
        object_id=token.token_key,
        object_repr=f"{token.user} · {token.token_key}…",
        changes={
            "user": token.user_id,
            "expiry": token.expiry.isoformat() if token.expiry else None,
        },
    )


@transaction.atomic
def api_token_create(
    user: User, *, days: int | None = None, by: User | None = None
) -> tuple[AuthToken, str]:
    """Create a token for `user` (audited as made by `by`, by default the user);
    returns the stored row and the only copy of the secret."""
    from relations.models import AuditEvent

    ttl = timedelta(days=days) if days else settings.REST_KNOX["TOKEN_TTL"]
    row, secret = AuthToken.objects.create(user=user, expiry=ttl)
    api_token_audit(row, by=by or user, action=AuditEvent.Action.CREATE)
    return row, secret


@never_cache
@login_required
def token_list(request: HttpRequest) -> HttpResponse:
    new_token = None
    error = None
    if request.method == "POST":
        try:
            days = int(request.POST.get("days", "90"))
        except ValueError:
            days = 0
        if days not in LIFETIME_CHOICES:
            error = _("Choose one of the offered lifetimes.")
        elif AuthToken.objects.filter(user=request.user).count() >= token_limit():
            error = _("You have too many tokens; revoke one first.")
        else:
            _row, new_token = api_token_create(request.user, days=days)
    tokens = AuthToken.objects.filter(user=request.user).order_by("-created")
    # never_cache keeps the page (which may hold a secret shown once) out of every cache.
    return render(
        request,
        "api/tokens.html",
        {
            "tokens": tokens,
            "new_token": new_token,
            "error": error,
            "lifetimes": LIFETIME_CHOICES,
        },
        status=400 if error else 200,
    )


@login_required
@require_POST
def token_revoke(request: HttpRequest, token_key: str) -> HttpResponse:
    from relations.models import AuditEvent

    # Another user's token is a 404, the same as one that does not exist.
    with transaction.atomic():
        tokens = list(AuthToken.objects.filter(user=request.user, token_key=token_key))
        if not tokens:
            raise Http404
        for token in tokens:
            api_token_audit(token, by=request.user, action=AuditEvent.Action.DELETE)
            token.delete()
    messages.success(request, _("The token was revoked; clients using it are now refused."))
    return redirect("api-tokens")
