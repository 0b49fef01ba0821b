"""Fast inserts for large imports: COPY on PostgreSQL, `bulk_create` elsewhere.

Django's `bulk_create` spends most of a large import building one huge INSERT
statement in Python. COPY streams the rows instead; the ids are taken from the
table's sequence first, so every object knows its primary key afterwards, as
with `bulk_create` (which the records of what an import created rely on).
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection, models
from django.db.models.fields import DateTimeField

from relations.matching import fill_keys

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
