"""Encryption at rest of the secrets connected accounts keep (app passwords).

Fernet (AES-128-CBC with HMAC-SHA256) from `cryptography`. The key comes from
settings.RAPPORT_ENCRYPTION_KEY (the environment variable of the same name): one
or more url-safe base64 Fernet keys separated by commas, the first encrypting and
every one decrypting, so that a key can be rotated (MultiFernet). Without it (the
embedded default, `make run`) a key derived from SECRET_KEY is used; production
settings warn about that under `check --deploy` (connections.W001), because a
database dump together with the settings would then give the secrets away.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

__all__ = ["InvalidToken", "decrypt", "encrypt", "fernet", "key_configured"]


def _derived_key() -> bytes:
    digest = hashlib.sha256(b"rapport.connections.secret:" + settings.SECRET_KEY.encode()).digest()
    return base64.urlsafe_b64encode(digest)


def _configured_keys() -> list[str]:
    raw = getattr(settings, "RAPPORT_ENCRYPTION_KEY", "") or ""
    return [key.strip() for key in raw.split(",") if key.strip()]


def key_configured() -> bool:
    return bool(_configured_keys())


def fernet() -> MultiFernet:
    """The keys in use (read on each call, so tests can override the setting).
    Raises ValueError for a key that is not a Fernet key."""
    keys = _configured_keys() or [_derived_key().decode()]
    return MultiFernet([Fernet(key.encode()) for key in keys])


def encrypt(text: str) -> str:
    return fernet().encrypt(text.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    """The text of `token`; raises InvalidToken when no key opens it."""
    return fernet().decrypt(token.encode("ascii")).decode("utf-8")
