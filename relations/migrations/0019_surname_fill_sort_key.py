"""Fill the surname sort key of existing stakeholders, in batches.

The key function is frozen here (a copy of relations.matching.surname_sort_key when this
migration was written), so later changes to it do not change what this migration did.
"""

import unicodedata

from django.db import migrations

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


def match_key(value):
    text = unicodedata.normalize("NFKD", str(value or "").casefold())
    text = "".join(c for c in text if not unicodedata.combining(c)).translate(_LETTERS)
    text = unicodedata.normalize("NFC", text.casefold())
    return " ".join(text.split())[:255]


SURNAME_PARTICLES = frozenset(
    "van de den der het 't te ten ter in op uit von zu vom la du des le del della di da "
    "dos das do".split()
)
# Particles that stand only before another one ("in 't", "op de", "uit de"): in
# "Jan In Berg", "In" is a given name.
_NEEDS_ANOTHER = frozenset({"in", "op", "uit"})
# Generational and academic suffixes after the surname ("Jr.", "III", "PhD").
NAME_SUFFIXES = frozenset("jr sr ii iii iv phd md esq msc bsc mba llm".split())
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'", "\u00b4": "'"})
# Scripts that write the family name first: their names sort as written.
_FAMILY_FIRST = ("CJK", "HIRAGANA", "KATAKANA", "HANGUL")


def _is_particle_run(words):
    """Whether the words are a particle group ("van den", "in 't", "op de")."""
    return (
        bool(words)
        and words[0] not in _NEEDS_ANOTHER
        and all(w in SURNAME_PARTICLES for w in words)
    ) or (len(words) >= 2 and words[0] in _NEEDS_ANOTHER and _is_particle_run(words[1:]))


def _suffix(word):
    return word.strip(".,").replace(".", "") in NAME_SUFFIXES


def _family_first(text):
    return any(
        unicodedata.name(c, "").startswith(_FAMILY_FIRST) for c in text if not c.isascii()
    )


def surname_sort_key(name):
    text = match_key(str(name or "").translate(_APOSTROPHES))
    if not text or _family_first(text):
        return text
    words = text.replace(",", " , ").split()
    suffixes = []
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
            return " ".join(words + suffixes)[:255]
        start = next(
            (i for i in range(1, len(words) - 1) if _is_particle_run(words[i:-1])), len(words) - 1
        )
        family, given, particles = words[-1:], words[:start], words[start:-1]
    return " ".join(family + given + particles + suffixes)[:255]


BATCH = 2000


def fill(apps, schema_editor):
    Stakeholder = apps.get_model("relations", "Stakeholder")
    batch = []
    for person in Stakeholder.objects.only("pk", "name").order_by("pk").iterator(chunk_size=BATCH):
        person.surname_key = surname_sort_key(person.name)
        batch.append(person)
        if len(batch) >= BATCH:
            Stakeholder.objects.bulk_update(batch, ["surname_key"])
            batch = []
    Stakeholder.objects.bulk_update(batch, ["surname_key"])


class Migration(migrations.Migration):
    dependencies = [("relations", "0018_surname_sort_key")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop, elidable=True)]
