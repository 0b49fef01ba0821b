"""Planner statistics after bulk writes.

PostgreSQL plans every query from table statistics that autovacuum refreshes some
time after a bulk load, and never where autovacuum is off. A page opened in that
window can get a plan that walks a million rows for a 50-row answer (issue #22),
so a writer that has just filled tables in bulk refreshes their statistics itself.
`ANALYZE` reads a sample of each table (30,000 rows at the default statistics
target), so it costs well under a second even at the `large` demo size.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.apps import apps
from django.conf import settings
from django.db import DatabaseError, connection, models, transaction

logger = logging.getLogger(__name__)

type Table = type[models.Model] | str


def bulk_rows_threshold() -> int:
    """How many written rows make a write "bulk": below it autovacuum's lag is harmless."""
    return int(getattr(settings, "RAPPORT_ANALYZE_AFTER_ROWS", 1000))


def _table_name(table: Table) -> str | None:
    """A model's table; a label ("relations.interaction") names a model, any other
    string a table. None for a label that names no model (a job's summary key)."""
    if not isinstance(table, str):
        return table._meta.db_table
    if "." not in table:
        return table
    try:
        return apps.get_model(table)._meta.db_table
    except (LookupError, ValueError):
        return None


def statistics_refresh(tables: Iterable[Table]) -> list[str]:
    """Run ANALYZE on `tables` (models, "app.model" labels or table names) on
    PostgreSQL; elsewhere nothing. Returns the tables analysed, sorted.

    Never fails its caller: statistics are an optimisation, the write they follow
    has happened (a refusal is logged, and autovacuum catches up later).
    """
    if connection.vendor != "postgresql":
        return []
    names = sorted({name for table in tables if (name := _table_name(table)) is not None})
    existing = set(connection.introspection.table_names())
    analysed = []
    for name in names:
        if name not in existing:
            continue
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(name)}")
        except DatabaseError:
            logger.warning("Could not refresh the planner statistics of %s", name, exc_info=True)
            continue
        analysed.append(name)
    return analysed


def statistics_refresh_after_bulk(rows: int, tables: Iterable[Table]) -> list[str]:
    """`statistics_refresh(tables)` when `rows` reaches the bulk threshold."""
    if rows < bulk_rows_threshold():
        return []
    return statistics_refresh(tables)
