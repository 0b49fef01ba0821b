"""Knox token authentication in one query (API read throughput).

knox's own `TokenAuthentication` runs, per request, the token lookup (with its
user), a sweep of the user's other tokens for expired ones, and then the role
check reads the user's groups: three round trips before the view starts. This
one asks the token row, its user, the user's roles and whether the user holds
any expired token in a single query; the sweep runs only when there is
something to delete. Behaviour is knox's otherwise: expired tokens are deleted
(and `token_expired` sent), AUTO_REFRESH is honoured, inactive users refused.

The query is compiled once per process (`_token_statement`, a prepared
`Statement`): compiling it cost more Python time than running it. It therefore
holds nothing that changes between requests; whether an expired token exists is
decided here, against the clock, from the user's earliest expiry.
"""

from __future__ import annotations

import binascii
from functools import cache
from hmac import compare_digest
from typing import TYPE_CHECKING

from django.contrib.auth.models import User
from django.db.models import Min, OuterRef, StringAgg, Subquery, Value
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from knox import auth
from knox.crypto import hash_token
from knox.models import get_token_model
from knox.settings import CONSTANTS, knox_settings
from rest_framework import authentication, exceptions

from relations.api.prepared import Statement
from relations.roles import DIRECTOR, MANAGER, roles_preload

if TYPE_CHECKING:
    from knox.models import AuthToken


ROLE_SEPARATOR = ","  # not in the role names below


@cache
def _token_statement(alias: str) -> Statement:
    """The token lookup, compiled once per process and database (a `Statement`).

    Tokens with their user, the user's role groups (their names joined) and the
    earliest expiry among the user's tokens: two aggregate subqueries, not one EXISTS
    per role and an ordered LIMIT 1, the same answers cheaper to plan. Compiling this
    queryset cost twice the time of running it (3 ms against 1.7 ms per request at
    `large`), so each request runs the compiled statement with its own key.
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
    token_columns = [f.attname for f in model._meta.concrete_fields]
    user_columns = [f"user__{f.attname}" for f in User._meta.concrete_fields]
    rows = (
        model.objects.using(alias)
        .annotate(user_roles=Subquery(roles), user_earliest_expiry=Subquery(earliest_expiry))
        .filter(token_key=KEY_PLACEHOLDER)
        .values_list(*token_columns, *user_columns, "user_roles", "user_earliest_expiry")
    )
    return Statement(rows, placeholders=(KEY_PLACEHOLDER,))


# Stands for the token's key while the statement is compiled; never a real key (keys
# are hexadecimal).
KEY_PLACEHOLDER = "<token key>"


def _tokens_with_user(key: str) -> list[AuthToken]:
    """The tokens of `key` (knox keys are not unique), each with its user, the user's
    role names (`user_roles`) and the user's earliest token expiry
    (`user_earliest_expiry`) set, as `select_related("user")` and annotations would."""
    model = get_token_model()
    alias = model.objects.db
    token_names = [f.attname for f in model._meta.concrete_fields]
    user_names = [f.attname for f in User._meta.concrete_fields]
    user_end = len(token_names) + len(user_names)
    tokens = []
    for row in _token_statement(alias).rows(key):
        token = model.from_db(alias, token_names, row[: len(token_names)])
        token.user = User.from_db(alias, user_names, row[len(token_names) : user_end])
        token.user_roles, token.user_earliest_expiry = row[user_end], row[user_end + 1]
        tokens.append(token)
    return tokens


class TokenAuthentication(auth.TokenAuthentication):
    def authenticate_credentials(self, token: bytes) -> tuple[User, AuthToken]:
        msg = _("Invalid token.")
        token_str = token.decode("utf-8")
        for auth_token in _tokens_with_user(token_str[: CONSTANTS.TOKEN_KEY_LENGTH]):
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
