"""Search the whole database for a person, the way an auditor would."""

from django.db import connection

from relations.privacy.redaction import search_needles


def text_columns() -> list[tuple[str, str]]:
    """Every text, character and JSON column of every table, from the database itself."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT table_name, column_name FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND data_type IN "
                "('text', 'character varying', 'character', 'json', 'jsonb')"
            )
            return sorted(cursor.fetchall())
        columns = []
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f'PRAGMA table_info("{table}")')
            for _cid, name, declared, *_rest in cursor.fetchall():
                declared = declared.lower()
                if any(t in declared for t in ("char", "text", "json", "clob")):
                    columns.append((table, name))
        return sorted(columns)


def find_everywhere(terms: list[str]) -> list[tuple[str, str, str]]:
    """(table, column, term) for every column holding any of `terms`, in any case,
    as typed or as JSON spells it."""
    found = []
    quote = connection.ops.quote_name
    like = "ILIKE" if connection.vendor == "postgresql" else "LIKE"
    cast = "::text" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        for table, column in text_columns():
            for term in terms:
                for needle in {*search_needles(term), term.lower(), term.upper()}:
                    cursor.execute(
                        f"SELECT 1 FROM {quote(table)} "
                        f"WHERE {quote(column)}{cast} {like} %s LIMIT 1",
                        [f"%{needle}%"],
                    )
                    if cursor.fetchone():
                        found.append((table, column, term))
                        break
    return found
