"""Knox token authentication in one query (API read throughput).

knox's own `TokenAuthentication` runs, per request, the token lookup (with its
user), a sweep of the user's other tokens for expired ones, and then the role
check reads the user's groups: three round trips before the view starts. This
one asks the token row, its user, the user's roles and whether the user holds
any expired token in a single query; the sweep runs only when there is
something to delete. Behaviour is knox's otherwise: expired tokens are deleted
(and `token_expired` sent), AUTO_REFRESH is honoured, inactive users refused.

The query less its key is built once per process: resolving its subqueries cost
more Python time than running it. It therefore holds nothing that changes
between requests; whether an expired token exists is decided here, against the
clock, from the user's earliest expiry.
"""

from __future__ import annotations

import binascii
from functools import cache
from hmac import compare_digest
from typing import TYPE_CHECKING

from django.contrib.auth.models import User
from django.db.models import Min, OuterRef, QuerySet, StringAgg, Subquery, Value
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from knox import auth
from knox.crypto import hash_token
from knox.models import get_token_model
from knox.settings import CONSTANTS, knox_settings
from rest_framework import authentication, exceptions

from relations.roles import DIRECTOR, MANAGER, roles_preload

if TYPE_CHECKING:
    from knox.models import AuthToken


ROLE_SEPARATOR = ","  # not in the role names below


@cache
def _token_rows() -> QuerySet:
    """Tokens with their user, the user's role groups (their names joined) and the
    earliest expiry among the user's tokens.

    Two aggregate subqueries, not one EXISTS per role and an ordered LIMIT 1: the
    same answers, cheaper to compile and to plan. Querysets are immutable: each
    request filters its own clone of this one.
    """
    model = get_token_model()
    roles = (
        User.groups.through.objects.filter(
            user_id=OuterRef("user_id"), group__name__in=[DIRECTOR, MANAGER]
        )
        .order_by()
        .values("user_id")
        .annotate(names=StringAgg("group__name", delimiter=Value(ROLE_SEPARATOR)))
        .values("names")
    )
    earliest_expiry = (  # MIN skips the tokens that never expire (NULL)
        model.objects.filter(user_id=OuterRef("user_id"))
        .order_by()
        .values("user_id")
        .annotate(earliest=Min("expiry"))
        .values("earliest")
    )
    return model.objects.select_related("user").annotate(
        user_roles=Subquery(roles), user_earliest_expiry=Subquery(earliest_expiry)
    )


class TokenAuthentication(auth.TokenAuthentication):
    def authenticate_credentials(self, token: bytes) -> tuple[User, AuthToken]:
        msg = _("Invalid token.")
        token_str = token.decode("utf-8")
        rows = _token_rows().filter(token_key=token_str[: CONSTANTS.TOKEN_KEY_LENGTH])
        for auth_token in rows:
            if self._cleanup_token(auth_token):
                continue
            try:
                digest = hash_token(token_str)
            except (TypeError, binascii.Error) as error:
                raise exceptions.AuthenticationFailed(msg) from error
            if compare_digest(digest, auth_token.digest):
                if knox_settings.AUTO_REFRESH and auth_token.expiry:
                    self.renew_token(auth_token)
                user, auth_token = self.validate_user(auth_token)
                roles = auth_token.user_roles
                roles_preload(user, set(roles.split(ROLE_SEPARATOR)) if roles else set())
                return user, auth_token
        raise exceptions.AuthenticationFailed(msg)

    def _cleanup_token(self, auth_token: AuthToken) -> bool:
        # knox reads all the user's tokens on every request to find expired ones;
        # the user's earliest expiry, read with the token, says whether there are any
        # (rarely).
        earliest = auth_token.user_earliest_expiry
        if earliest is not None and earliest < timezone.now():
            return super()._cleanup_token(auth_token)
        return False


class SessionAuthentication(authentication.SessionAuthentication):
    """DRF's session authentication, refusing a director's or superuser's session that
    has not passed the second factor (security review, item 1): whatever other
    header comes with it, a password alone authenticates nothing. Only a valid
    `Token` (TokenAuthentication, tried first) signs in without a session."""

    def authenticate(self, request):  # noqa: ANN001, ANN201 (DRF's signature)
        from accounts.security import session_passed_second_factor

        result = super().authenticate(request)
        if result is not None and not session_passed_second_factor(result[0]):
            raise exceptions.AuthenticationFailed(
                _("Two-factor verification is required: sign in again in the browser.")
            )
        return result
