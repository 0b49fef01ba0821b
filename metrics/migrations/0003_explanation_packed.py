"""Explanations stored packed (metrics.fields.ExplanationField) rather than as jsonb.

A full recomputation rewrote ~200,000 JSON explanations of 3–4 KB, most of its
time; a packed record is ~600 bytes, rendered into the same dict when read.
Stored JSON explanations are kept (as JSON text, read back as before) until
the next recomputation replaces them.
"""

from django.db import migrations

import metrics.fields

TABLES = ("metrics_stakeholderscore", "metrics_relationshipscore")


def _field(to_packed: bool):
    from django.db import models

    if to_packed:
        return metrics.fields.ExplanationField(blank=True, default=dict, verbose_name="explanation")
    return models.JSONField(blank=True, default=dict, verbose_name="explanation")


def _convert(to_packed: bool):
    def apply(apps, schema_editor):
        connection = schema_editor.connection
        if connection.vendor == "postgresql":
            # jsonb has no cast to bytea: go through its text (and back: packed rows,
            # which cannot be JSON, are replaced by {} until they are recomputed).
            if to_packed:
                using = "convert_to(explanation::text, 'UTF8')"
                kind = "bytea"
            else:
                using = (
                    "CASE WHEN get_byte(explanation, 0) = 123"
                    " THEN convert_from(explanation, 'UTF8')::jsonb ELSE '{}'::jsonb END"
                )
                kind = "jsonb"
            for table in TABLES:
                schema_editor.execute(
                    f"ALTER TABLE {schema_editor.quote_name(table)} "
                    f"ALTER COLUMN explanation TYPE {kind} USING {using}"
                )
            return
        for name in ("StakeholderScore", "RelationshipScore"):
            model = apps.get_model("metrics", name)
            old, new = _field(not to_packed), _field(to_packed)
            for field in (old, new):
                field.set_attributes_from_name("explanation")
                field.model = model
            schema_editor.alter_field(model, old, new)

    return apply


class Migration(migrations.Migration):
    dependencies = [("metrics", "0002_explanation_lz4_compression")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(_convert(True), _convert(False))],
            state_operations=[
                migrations.AlterField(
                    model_name=model_name,
                    name="explanation",
                    field=metrics.fields.ExplanationField(
                        blank=True, default=dict, verbose_name="explanation"
                    ),
                )
                for model_name in ("stakeholderscore", "relationshipscore")
            ],
        ),
    ]
