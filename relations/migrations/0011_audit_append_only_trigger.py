"""On PostgreSQL, the database itself refuses UPDATE and DELETE of audit events
(see relations.audit.services for the two sanctioned exceptions)."""

from django.db import migrations

from relations.audit.services import APPEND_ONLY_TRIGGER_SQL, DROP_APPEND_ONLY_TRIGGER_SQL


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(APPEND_ONLY_TRIGGER_SQL, params=None)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_APPEND_ONLY_TRIGGER_SQL, params=None)


class Migration(migrations.Migration):
    dependencies = [("relations", "0010_audit_security_actions_and_indexes")]

    operations = [migrations.RunPython(create_trigger, drop_trigger)]
