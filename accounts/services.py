"""Accounts' writes: the user behind a single sign-on, kept in step with the provider.

Every sign-in through the organisation's OpenID provider comes here with the claims
of a verified ID token (accounts.oidc checks signature, issuer, audience, expiry and
nonce first). The user is found by the provider's subject, never by e-mail alone;
their name, e-mail and roles are copied from the claims at every sign-in, so that a
leaver removed from a group at the provider loses the role the next time.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.db import transaction
from django.utils import timezone

from accounts.models import OIDCIdentity
from relations.models import AuditEvent
from relations.roles import DIRECTOR, MANAGER, is_staff_member
from relations.services import audit_record


class OIDCRefused(Exception):
    """A single sign-on refused; `reason` is what the audit trail and the page say."""

    def __init__(self, reason: str, *, user: User | None = None, **details: Any) -> None:
        super().__init__(reason)
        self.reason = reason
        self.user = user
        self.details = details


def claim_values(value: Any) -> set[str]:
    """A groups or roles claim as a set of names: providers send a list, a single
    string, or (Keycloak's full group path) names with a leading slash."""
    if value is None:
        return set()
    items = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    return {str(item).strip().lstrip("/") for item in items if str(item).strip()}


def roles_from_claims(claims: dict) -> set[str]:
    """The Rapport roles the provider's groups claim grants."""
    names = claim_values(claims.get(settings.RAPPORT_OIDC_GROUPS_CLAIM))
    roles = set()
    if settings.RAPPORT_OIDC_MANAGER_GROUP.lstrip("/") in names:
        roles.add(MANAGER)
    if settings.RAPPORT_OIDC_DIRECTOR_GROUP.lstrip("/") in names:
        roles.add(DIRECTOR)
    return roles


def _free_username(claims: dict, issuer: str) -> str:
    wanted = re.sub(r"[^\w.@+-]", "", str(claims.get("preferred_username") or ""))[:150]
    if wanted and not User.objects.filter(username__iexact=wanted).exists():
        return wanted
    # Stable and unique per identity: the same person never gets two fallback names.
    digest = hashlib.sha256(f"{issuer} {claims['sub']}".encode()).hexdigest()[:16]
    return f"sso-{digest}"


def _existing_user_by_email(claims: dict, issuer: str) -> User | None:
    """An account made before single sign-on, adopted once by a *verified* e-mail
    (RAPPORT_OIDC_LINK_BY_EMAIL): from then on the subject alone matches."""
    email = str(claims.get("email") or "").strip()
    verified = claims.get("email_verified") is True
    if not settings.RAPPORT_OIDC_LINK_BY_EMAIL or not email or not verified:
        return None
    candidates = list(
        User.objects.filter(email__iexact=email).exclude(oidc_identities__issuer=issuer)[:2]
    )
    return candidates[0] if len(candidates) == 1 else None


def _profile_sync(user: User, claims: dict) -> None:
    wanted = {
        "first_name": str(claims.get("given_name") or user.first_name)[:150],
        "last_name": str(claims.get("family_name") or user.last_name)[:150],
        "email": str(claims.get("email") or user.email)[:254],
    }
    changed = [name for name, value in wanted.items() if getattr(user, name) != value]
    for name in changed:
        setattr(user, name, wanted[name])
    if changed:
        user.save(update_fields=changed)


def user_roles_sync(user: User, roles: set[str], *, source: str) -> bool:
    """Give `user` exactly `roles` of the role groups; audited when anything changes."""
    current = set(user.groups.filter(name__in=[MANAGER, DIRECTOR]).values_list("name", flat=True))
    if current == roles:
        return False
    user.groups.remove(*Group.objects.filter(name__in=current - roles))
    # get_or_create: the role groups come from a data migration that a flushed test
    # database (or a hand-made one) may lack.
    user.groups.add(*(Group.objects.get_or_create(name=name)[0] for name in roles - current))
    user.__dict__.pop("_rapport_groups", None)  # relations.roles caches them on the user
    audit_record(
        actor=None,
        action=AuditEvent.Action.UPDATE,
        obj=user,
        object_repr=user.get_username(),
        changes={"roles": [sorted(current), sorted(roles)], "source": source},
    )
    return True


def oidc_user_sign_in(*, issuer: str, claims: dict) -> User:
    """The user who signs in with these verified claims: found by (issuer, subject),
    linked or created when allowed, profile and roles brought in step. Raises
    OIDCRefused for an unknown subject, a disabled account or one left without a role
    (after its roles were updated: the removal stands)."""
    subject = str(claims["sub"])
    with transaction.atomic():
        identity = (
            OIDCIdentity.objects.select_for_update()
            .select_related("user")
            .filter(issuer=issuer, subject=subject)
            .first()
        )
        if identity is None:
            user = _existing_user_by_email(claims, issuer)
            if user is None:
                if not settings.RAPPORT_OIDC_CREATE_USERS:
                    raise OIDCRefused("unknown_user", subject=subject)
                user = User.objects.create_user(
                    username=_free_username(claims, issuer), email=claims.get("email") or ""
                )
                audit_record(
                    actor=None,
                    action=AuditEvent.Action.CREATE,
                    obj=user,
                    object_repr=user.get_username(),
                    changes={"source": "oidc", "issuer": issuer, "subject": subject},
                )
            identity = OIDCIdentity.objects.create(user=user, issuer=issuer, subject=subject)
        user = identity.user
        if not user.is_active:
            raise OIDCRefused("inactive", user=user, subject=subject)
        _profile_sync(user, claims)
        if settings.RAPPORT_OIDC_GROUPS_CLAIM:
            user_roles_sync(user, roles_from_claims(claims), source="oidc")
        # else the provider sends no groups (Google): roles stay as directors set them.
        identity.last_sign_in_at = timezone.now()
        identity.save(update_fields=["last_sign_in_at"])
    if not is_staff_member(user):
        raise OIDCRefused("no_role", user=user, subject=subject)
    return user
