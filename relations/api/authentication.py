"""Knox token authentication in one query (issue 9: API read throughput).

knox's own `TokenAuthentication` runs, per request, the token lookup (with its
user), a sweep of the user's other tokens for expired ones, and then the role
check reads the user's groups: three round trips before the view starts. This
one asks the token row, its user, the user's roles and whether the user holds
any expired token in a single query; the sweep runs only when there is
something to delete. Behaviour is knox's otherwise: expired tokens are deleted
(and `token_expired` sent), AUTO_REFRESH is honoured, inactive users refused.

The query less its key is built once per process: resolving its three subqueries
cost more Python time than running it. It therefore holds nothing that changes
between requests; whether an expired token exists is decided here, against the
clock, from the user's earliest expiry.
"""

from __future__ import annotations

import binascii
from functools import cache
from hmac import compare_digest
from typing import TYPE_CHECKING

from django.contrib.auth.models import User
from django.db.models import Exists, OuterRef, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from knox import auth
from knox.crypto import hash_token
from knox.models import get_token_model
from knox.settings import CONSTANTS, knox_settings
from rest_framework import exceptions

from relations.roles import DIRECTOR, MANAGER, roles_preload

if TYPE_CHECKING:
    from knox.models import AuthToken


def _in_group(name: str) -> Exists:
    return Exists(User.groups.through.objects.filter(user_id=OuterRef("user_id"), group__name=name))


@cache
def _token_rows() -> QuerySet:
    """Tokens with their user, the user's roles and the user's earliest token expiry.

    Querysets are immutable: each request filters its own clone of this one.
    """
    model = get_token_model()
    earliest_expiry = (
        model.objects.filter(user_id=OuterRef("user_id"), expiry__isnull=False)
        .order_by("expiry")
        .values("expiry")[:1]
    )
    return model.objects.select_related("user").annotate(
        user_is_director=_in_group(DIRECTOR),
        user_is_manager=_in_group(MANAGER),
        user_earliest_expiry=Subquery(earliest_expiry),
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
                roles_preload(
                    user,
                    {
                        name
                        for name, member in (
                            (DIRECTOR, auth_token.user_is_director),
                            (MANAGER, auth_token.user_is_manager),
                        )
                        if member
                    },
                )
                return user, auth_token
        raise exceptions.AuthenticationFailed(msg)

    def _cleanup_token(self, auth_token: AuthToken) -> bool:
        # knox reads all the user's tokens on every request to find expired ones;
        # the annotation above says whether there are any (rarely).
        earliest = auth_token.user_earliest_expiry
        if earliest is not None and earliest < timezone.now():
            return super()._cleanup_token(auth_token)
        return False
