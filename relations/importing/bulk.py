"""Bulk writes: fast inserts (COPY on PostgreSQL, `bulk_create` elsewhere) and the
planner statistics a bulk write leaves behind.

Django's `bulk_create` spends most of a large import building one huge INSERT
statement in Python. COPY streams the rows instead; the ids are taken from the
table's sequence first, so every object knows its primary key afterwards, as
with `bulk_create` (which the records of what an import created rely on).

PostgreSQL plans every query from table statistics that autovacuum refreshes some
time after a bulk load, and never where autovacuum is off. A page opened in that
window can get a plan that walks a million rows for a 50-row answer (issue #22),
so a writer that has just filled tables in bulk refreshes their statistics itself.
`ANALYZE` reads a sample of each table (30,000 rows at the default statistics
target), so it costs well under a second even at the `large` demo size.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from django.apps import apps
from django.conf import settings
from django.db import DatabaseError, connection, models, transaction
from django.db.models.fields import DateTimeField

from relations.matching import fill_keys

logger = logging.getLogger(__name__)

# Below this many rows a plain INSERT is as fast and needs no sequence round trip.
COPY_THRESHOLD = 100


def bulk_insert(model: type[models.Model], objs: Sequence[models.Model]) -> None:
    """Insert new objects (no primary key yet) and set their primary keys."""
    if not objs:
        return
    if connection.vendor != "postgresql" or len(objs) < COPY_THRESHOLD:
        model.objects.bulk_create(objs)
        return
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    stamped = [f for f in fields if isinstance(f, DateTimeField) and (f.auto_now or f.auto_now_add)]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in [meta.pk, *fields])
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, len(objs)],
        )
        ids = [row[0] for row in cursor.fetchall()]
        statement = f"COPY {connection.ops.quote_name(meta.db_table)} ({columns}) FROM STDIN"
        with cursor.cursor.copy(statement) as copy:
            for obj, pk in zip(objs, ids, strict=True):
                obj.pk = pk
                fill_keys(obj)  # what the model's bulk_create would do
                for field in stamped:
                    field.pre_save(obj, add=True)
                copy.write_row([pk, *(getattr(obj, f.attname) for f in fields)])
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias


def bulk_link(through: type[models.Model], first: str, second: str, pairs: set[tuple]) -> None:
    """Insert rows of a many-to-many table that are not there yet."""
    if not pairs:
        return
    if connection.vendor != "postgresql" or len(pairs) < COPY_THRESHOLD:
        through.objects.bulk_create(
            [through(**{first: a, second: b}) for a, b in pairs], ignore_conflicts=True
        )
        return
    table = connection.ops.quote_name(through._meta.db_table)
    a = connection.ops.quote_name(through._meta.get_field(first).column)
    b = connection.ops.quote_name(through._meta.get_field(second).column)
    left, right = zip(*pairs, strict=True)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({a}, {b}) SELECT * FROM unnest(%s::bigint[], %s::bigint[]) "
            "ON CONFLICT DO NOTHING",
            [list(left), list(right)],
        )


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
