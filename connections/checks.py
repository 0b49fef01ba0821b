"""System checks of the encryption key of connected accounts' secrets."""

from __future__ import annotations

from typing import Any

from django.core.checks import Error, Tags, Warning, register

from connections import crypto


@register(Tags.security)
def encryption_key_valid(app_configs: Any = None, **kwargs: Any) -> list:
    try:
        crypto.fernet()
    except ValueError:
        return [
            Error(
                "RAPPORT_ENCRYPTION_KEY is not a Fernet key (32 url-safe base64-encoded bytes).",
                hint="python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'",
                id="connections.E001",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def encryption_key_set(app_configs: Any = None, **kwargs: Any) -> list:
    if crypto.key_configured():
        return []
    return [
        Warning(
            "RAPPORT_ENCRYPTION_KEY is not set: connected accounts' passwords are encrypted "
            "with a key derived from SECRET_KEY.",
            hint="Set RAPPORT_ENCRYPTION_KEY to a Fernet key kept apart from the database "
            "backups (python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())').",
            id="connections.W001",
        )
    ]
