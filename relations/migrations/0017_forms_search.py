"""Search (DESIGN §5a) on PostgreSQL: `rapport_fold(text)` = lower(unaccent(text)), an
immutable function so that indexes can use it, and trigram indexes on the folded names
the header search and the list filters look in. SQLite registers the same function on
each connection (relations.search.matching) and needs no index for its sizes."""

from django.db import migrations

INDEXES = [
    ("stakeholder_name_fold_trgm", "relations_stakeholder", "name"),
    ("organization_name_fold_trgm", "relations_organization", "name"),
    ("goal_title_fold_trgm", "relations_strategicgoal", "title"),
    ("interaction_subject_fold_trgm", "relations_interaction", "subject"),
    # Without these, a search folds every row's notes (or e-mail, title) per query:
    # 0.4 s at `medium` for the notes alone, against 20 ms with the index.
    ("interaction_notes_fold_trgm", "relations_interaction", "notes"),
    ("stakeholder_email_fold_trgm", "relations_stakeholder", "email"),
    ("stakeholder_title_fold_trgm", "relations_stakeholder", "title"),
]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    # unaccent() itself is only STABLE (its dictionary could change); naming the
    # dictionary makes the wrapper safe to declare IMMUTABLE, as indexes require.
    schema_editor.execute(
        """
        CREATE OR REPLACE FUNCTION rapport_fold(text) RETURNS text
        LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS
        $$ SELECT lower(unaccent('unaccent'::regdictionary, $1)) $$
        """
    )
    for name, table, column in INDEXES:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} "
            f"USING gin (rapport_fold({column}) gin_trgm_ops)"
        )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _table, _column in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
    schema_editor.execute("DROP FUNCTION IF EXISTS rapport_fold(text)")


class Migration(migrations.Migration):
    dependencies = [("relations", "0016_forms_edit_version_archive")]

    operations = [migrations.RunPython(forwards, backwards)]
