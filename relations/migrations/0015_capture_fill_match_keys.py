"""Fill the matching keys of existing organisations and stakeholders.

The key function is frozen here (a copy of relations.matching.match_key when this
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


def email_key(value):
    return unicodedata.normalize("NFC", str(value or "").strip().casefold())[:255]


def fill(apps, schema_editor):
    Organization = apps.get_model("relations", "Organization")
    Stakeholder = apps.get_model("relations", "Stakeholder")
    batch = []
    for org in Organization.objects.only("pk", "name").iterator(chunk_size=2000):
        org.name_key = match_key(org.name)
        batch.append(org)
        if len(batch) >= 2000:
            Organization.objects.bulk_update(batch, ["name_key"])
            batch = []
    Organization.objects.bulk_update(batch, ["name_key"])
    batch = []
    for person in Stakeholder.objects.only("pk", "name", "email").iterator(chunk_size=2000):
        person.name_key = match_key(person.name)
        person.email_key = email_key(person.email)
        batch.append(person)
        if len(batch) >= 2000:
            Stakeholder.objects.bulk_update(batch, ["name_key", "email_key"])
            batch = []
    Stakeholder.objects.bulk_update(batch, ["name_key", "email_key"])


class Migration(migrations.Migration):
    dependencies = [("relations", "0014_capture_match_keys")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop, elidable=True)]
