from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

logger = logging.getLogger(__name__)

if TYPE_CHECKING:  # importing them at run time is circular (DRF settings)
    from rest_framework.request import Request
    from rest_framework.views import APIView


class TokenRateThrottle(SimpleRateThrottle):
    """One budget per API token (per user for browser sessions, per address otherwise).

    Each integration holds its own token, so a runaway script exhausts its own
    budget and not that of its owner's other integrations.
    """

    scope = "token"

    def get_rate(self) -> str | None:
        # Read at request time (not import time) so that settings overrides apply.
        return settings.REST_FRAMEWORK.get("DEFAULT_THROTTLE_RATES", {}).get(self.scope)

    def allow_request(self, request: Request, view: APIView) -> bool:
        self.rate = self.get_rate()
        if self.rate is None:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        try:
            return super().allow_request(request, view)
        except Exception:  # noqa: BLE001 -- the cache (Redis) is down
            # Fail open: an unavailable cache must not turn every API call into a 500;
            # the write itself is safe without Redis (dirty markers, outbox).
            logger.warning("API throttle skipped: the cache is unavailable", exc_info=True)
            return True

    def get_cache_key(self, request: Request, view: APIView) -> str:
        digest = getattr(request.auth, "digest", None)
        if digest:
            ident = f"token:{digest[:32]}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"addr:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
