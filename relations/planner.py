"""Planner statistics after bulk writes.

PostgreSQL plans every query from table statistics that autovacuum refreshes some
time after a bulk load, and never where autovacuum is off. A page opened in that
window can get a plan that walks a million rows for a 50-row answer (issue #22),
so a writer that has just filled tables in bulk refreshes their statistics itself.
`ANALYZE` reads a sample of each table (30,000 rows at the default statistics
target), so it costs well under a second even at the `large` demo size.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.apps import apps
from django.conf import settings
from django.db import connection, models

type Table = type[models.Model] | str


def bulk_rows_threshold() -> int:
    """How many written rows make a write "bulk": below it autovacuum's lag is harmless."""
    return int(getattr(settings, "RAPPORT_ANALYZE_AFTER_ROWS", 1000))


def _table_name(table: Table) -> str:
    if isinstance(table, str):
        # An app label ("relations.interaction") or a table name.
        return apps.get_model(table)._meta.db_table if "." in table else table
    return table._meta.db_table


def statistics_refresh(tables: Iterable[Table]) -> list[str]:
    """Run ANALYZE on `tables` (models, "app.model" labels or table names) on
    PostgreSQL; elsewhere nothing. Returns the tables analysed, sorted."""
    if connection.vendor != "postgresql":
        return []
    names = sorted({_table_name(table) for table in tables})
    with connection.cursor() as cursor:
        for name in names:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(name)}")
    return names


def statistics_refresh_after_bulk(rows: int, tables: Iterable[Table]) -> list[str]:
    """`statistics_refresh(tables)` when `rows` reaches the bulk threshold."""
    if rows < bulk_rows_threshold():
        return []
    return statistics_refresh(tables)
