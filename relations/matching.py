"""Matching keys: names and e-mail addresses compared without case or accents, in every
script, on SQLite as on PostgreSQL.

SQLite's `LOWER()` folds only A–Z, so "ØRSTED" and "Ørsted" differ there and
"Lars Østergaard" is not found by "lars østergaard". Each matched text therefore has
a stored key column (`name_key`, `email_key`) holding `match_key(text)` (e-mail:
`email_key`, without removing accents): Unicode
case folding (ß → ss, Σ → σ), accents removed (é → e, and the letters that carry
them without decomposing: ø → o, æ → ae, ł → l, đ → d...), spaces collapsed. The
models fill it on save; their querysets fill it in `bulk_create`, `bulk_update` and
`update`, so bulk writers (imports, erasure) keep it right. Duplicate detection,
merges and attendee matching compare keys.
"""

from __future__ import annotations

import unicodedata

from django.db import models

KEY_MAX_LENGTH = 255

# Letters whose accent is part of the letter (no Unicode decomposition), after casefold.
_LETTERS = str.maketrans(
    {
        "ø": "o",
        "æ": "ae",
        "œ": "oe",
        "ł": "l",
        "đ": "d",
        "ð": "d",
        "þ": "th",
        "ħ": "h",
        "ı": "i",
        "ŀ": "l",
        "ŧ": "t",
    }
)


def match_key(value: object) -> str:
    """The text as compared: casefolded, accents removed, spaces collapsed."""
    text = unicodedata.normalize("NFKD", str(value or "").casefold())
    text = "".join(c for c in text if not unicodedata.combining(c)).translate(_LETTERS)
    text = unicodedata.normalize("NFC", text.casefold())
    return " ".join(text.split())[:KEY_MAX_LENGTH]


def email_key(value: object) -> str:
    """An e-mail address as compared: casefolded in every script, accents kept (two
    addresses differing by an accent are two mailboxes)."""
    text = unicodedata.normalize("NFC", str(value or "").strip().casefold())
    return text[:KEY_MAX_LENGTH]


def key_for(key: str, value: object) -> str:
    """The value of key column `key` for a source value."""
    return email_key(value) if key == "email_key" else match_key(value)


def fill_keys(obj: models.Model) -> None:
    """Set the object's key columns from their source fields."""
    for key, source in getattr(obj, "MATCH_KEYS", {}).items():
        setattr(obj, key, key_for(key, getattr(obj, source)))


class KeyFillingQuerySet(models.QuerySet):
    """Keeps the model's MATCH_KEYS right in bulk writes too."""

    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        for obj in objs:
            fill_keys(obj)
        return super().bulk_create(objs, *args, **kwargs)

    def bulk_update(self, objs, fields, *args, **kwargs):
        objs = list(objs)
        fields = list(fields)
        for key, source in getattr(self.model, "MATCH_KEYS", {}).items():
            if source in fields:
                for obj in objs:
                    setattr(obj, key, key_for(key, getattr(obj, source)))
                if key not in fields:
                    fields.append(key)
        return super().bulk_update(objs, fields, *args, **kwargs)

    def update(self, **kwargs):
        for key, source in getattr(self.model, "MATCH_KEYS", {}).items():
            if source in kwargs and key not in kwargs and isinstance(kwargs[source], str):
                kwargs[key] = key_for(key, kwargs[source])
        return super().update(**kwargs)
