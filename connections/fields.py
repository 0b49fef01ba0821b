"""A text column stored encrypted (connections.crypto); Python code sees the text."""

from __future__ import annotations

import logging
from typing import Any

from django.db import models

from connections import crypto

logger = logging.getLogger(__name__)


class EncryptedTextField(models.TextField):
    """Stores a Fernet token; reads back the text. An empty value stays empty.

    A token no configured key opens (the key was lost or changed) reads as "": the
    account then asks its owner for the password again instead of breaking pages.
    Serialization (dumpdata, exports) writes nothing: a secret is never exported.
    """

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> str:
        if not value:
            return ""
        try:
            return crypto.decrypt(value)
        except (crypto.InvalidToken, ValueError):
            logger.warning("A stored secret could not be decrypted with the configured key.")
            return ""

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value in (None, ""):
            return value
        return crypto.encrypt(value)

    def value_to_string(self, obj: Any) -> str:
        return ""
