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

`surname_key` (`surname_sort_key(name)`) is the stakeholder's name in the order people
are sorted by last name: the family name first, then the given names, then the
particles of the family name (tussenvoegsel: "Jan van den Berg" → "berg jan van den"),
folded like `match_key`. The name itself is shown and searched as typed.
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


# Particles of a family name (Dutch, German, French, Spanish, Portuguese, Italian),
# folded; a run of them between the given names and the final surname is one particle
# group ("van den", "von der", "de la", "in 't").
# fmt: off
SURNAME_PARTICLES = frozenset({
    "van", "de", "den", "der", "het", "'t", "te", "ten", "ter", "in", "op", "uit",
    "von", "zu", "vom", "la", "du", "des", "le", "del", "della", "di", "da", "dos",
    "das", "do",
})
# fmt: on
# Particles that stand only before another one ("in 't", "op de", "uit de"): in
# "Jan In Berg", "In" is a given name.
_NEEDS_ANOTHER = frozenset({"in", "op", "uit"})
# Generational and academic suffixes after the surname ("Jr.", "III", "PhD").
NAME_SUFFIXES = frozenset(
    ["jr", "sr", "ii", "iii", "iv", "phd", "md", "esq", "msc", "bsc", "mba", "llm"]
)
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'", "\u00b4": "'"})
# Scripts that write the family name first: their names sort as written.
_FAMILY_FIRST = ("CJK", "HIRAGANA", "KATAKANA", "HANGUL")


def _is_particle_run(words: list[str]) -> bool:
    """Whether the words are a particle group ("van den", "in 't", "op de")."""
    return (
        bool(words)
        and words[0] not in _NEEDS_ANOTHER
        and all(w in SURNAME_PARTICLES for w in words)
    ) or (len(words) >= 2 and words[0] in _NEEDS_ANOTHER and _is_particle_run(words[1:]))


def _suffix(word: str) -> bool:
    return word.strip(".,").replace(".", "") in NAME_SUFFIXES


def _family_first(text: str) -> bool:
    return any(unicodedata.name(c, "").startswith(_FAMILY_FIRST) for c in text if not c.isascii())


def surname_sort_key(name: object) -> str:
    """The name as sorted by last name: family name, given names, particles, suffixes.

    "Jan van den Berg" → "berg jan van den", "Ludwig van Beethoven Jr." →
    "beethoven ludwig van jr.", "Berg, Jan van den" → "berg jan van den". Particles count
    only between the first given name and the last word: "De Smet" (no given name)
    stays "de smet". Names in Chinese, Japanese or Korean script, whose family name
    comes first, and one-word names sort as written.
    """
    text = match_key(str(name or "").translate(_APOSTROPHES))
    if not text or _family_first(text):
        return text
    words = text.replace(",", " , ").split()
    suffixes: list[str] = []
    while len([w for w in words if w != ","]) > 1 and (words[-1] == "," or _suffix(words[-1])):
        word = words.pop()
        if word != ",":
            suffixes.insert(0, word)
    if "," in words:  # "Berg, Jan van den", "van den Berg, Jan"
        at = words.index(",")
        family, given = words[:at], [w for w in words[at + 1 :] if w != ","]
        lead = next((i for i in range(len(family) - 1) if _is_particle_run(family[i:-1])), None)
        trail = next((i for i in range(1, len(given)) if _is_particle_run(given[i:])), None)
        particles = (family[lead:-1] if lead is not None else []) + (
            given[trail:] if trail is not None else []
        )
        family = family[:lead] + family[-1:] if lead is not None else family
        given = given[:trail] if trail is not None else given
    else:
        if len(words) < 2 or _is_particle_run(words[:-1]):
            return " ".join(words + suffixes)[:KEY_MAX_LENGTH]
        start = next(
            (i for i in range(1, len(words) - 1) if _is_particle_run(words[i:-1])), len(words) - 1
        )
        family, given, particles = words[-1:], words[:start], words[start:-1]
    return " ".join(family + given + particles + suffixes)[:KEY_MAX_LENGTH]


def key_for(key: str, value: object) -> str:
    """The value of key column `key` for a source value."""
    if key == "email_key":
        return email_key(value)
    if key == "surname_key":
        return surname_sort_key(value)
    return match_key(value)


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
