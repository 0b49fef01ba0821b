"""System checks of the single sign-on configuration."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register


@register(Tags.security)
def oidc_configuration(app_configs: Any = None, **kwargs: Any) -> list:
    if not settings.RAPPORT_OIDC_ISSUER:
        return []
    found = []
    if not settings.RAPPORT_OIDC_CLIENT_ID or not settings.RAPPORT_OIDC_CLIENT_SECRET:
        found.append(
            Error(
                "RAPPORT_OIDC_ISSUER is set without RAPPORT_OIDC_CLIENT_ID and "
                "RAPPORT_OIDC_CLIENT_SECRET.",
                hint="Register Rapport with the provider (docs/sso.md) and set both.",
                id="accounts.E001",
            )
        )
    return found


@register(Tags.security, deploy=True)
def oidc_over_tls(app_configs: Any = None, **kwargs: Any) -> list:
    """Discovery, keys and the token exchange travel to the issuer: over plain HTTP
    anyone on the way could hand Rapport their own keys and sign anyone in."""
    issuer = settings.RAPPORT_OIDC_ISSUER
    if issuer and not issuer.lower().startswith("https://"):
        return [
            Warning(
                f"RAPPORT_OIDC_ISSUER ({issuer}) does not use https.",
                hint="Use the provider's https issuer URL in production.",
                id="accounts.W001",
            )
        ]
    return []
