"""Before consent must be dated: a consent recorded without a date is dated on the
day the record was made, the earliest the consent can have been given."""

from django.db import migrations
from django.db.models import F
from django.db.models.functions import TruncDate


def date_undated_consents(apps, schema_editor):
    Stakeholder = apps.get_model("relations", "Stakeholder")
    Stakeholder.objects.filter(legal_basis="consent", consent_date__isnull=True).update(
        consent_date=TruncDate(F("created_at"))
    )


class Migration(migrations.Migration):
    dependencies = [("relations", "0005_stakeholder_data_protection")]

    operations = [migrations.RunPython(date_undated_consents, migrations.RunPython.noop)]
