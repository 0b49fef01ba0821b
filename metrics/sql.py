"""SQL for both database vendors, and reading its rows into numpy columns.

The recomputation sends plain SQL where the ORM would cost more to build the
statements than the database spends running them (the worker's hot path); these
helpers keep that SQL the same on PostgreSQL and SQLite.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from django.db import connection
from django.db.models import FloatField, Func

Statement = tuple[str, list[Any]]


def epoch_sql(expression: str, vendor: str) -> str:
    """SQL of the POSIX seconds of a date-time or date expression, for a cursor.

    A date counts as 00:00 UTC (DESIGN §6). SQLite keeps UTC text
    'YYYY-MM-DD[ HH:MM:SS[.ffffff]]': whole seconds from strftime plus the
    fraction from character 20, exact to the microsecond.
    """
    if vendor == "postgresql":
        return f"EXTRACT(EPOCH FROM {expression})::double precision"
    if vendor == "sqlite":
        seconds = f"CAST(strftime('%%s', {expression}) AS REAL)"
        return f"({seconds} + CAST(substr({expression}, 20) AS REAL))"
    raise NotImplementedError(f"no epoch SQL for {vendor}")


class Epoch(Func):
    """POSIX seconds of a date-time or date column (`epoch_sql`)."""

    output_field = FloatField()

    def as_sql(self, compiler, connection, **extra):
        # The template is %-formatted before the cursor formats it again.
        template = epoch_sql("{e}", connection.vendor).replace("%", "%%")
        template = template.format(e="%(expressions)s")
        return super().as_sql(compiler, connection, template=template, **extra)


def column_of(rows: list[tuple], j: int, dtype: Any) -> np.ndarray:
    if not rows:
        return np.empty(0, dtype=dtype)
    return np.fromiter((r[j] for r in rows), dtype=dtype, count=len(rows))


def float_column_of(rows: list[tuple], j: int) -> np.ndarray:
    """Floats with None (SQL NULL) as NaN."""
    return np.array([r[j] for r in rows], dtype=np.float64) if rows else np.empty(0)


def any_of(column: str, values: list[int]) -> tuple[str, list[Any]]:
    """`column` is among `values`: one array parameter on PostgreSQL (the same
    statement text whatever their number), a list of parameters elsewhere."""
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s)", [values]
    if not values:
        return "FALSE", []
    return f"{column} IN ({', '.join(['%s'] * len(values))})", list(values)


def fetch_all(sql: str, params: list[Any]) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def fetch_each(statements: list[Statement]) -> list[list[tuple]]:
    """The rows of each statement, in order ([] for one that returns none).

    PostgreSQL receives them as one message and answers them together: one
    round trip instead of one each. On the worker's hot path the round trips,
    each waking the database and then the worker, cost more than the
    statements; on a busy machine each wake-up may wait for a time slice.
    Elsewhere (SQLite) they run one by one.
    """
    results: list[list[tuple]] = []
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            for sql, params in statements:
                cursor.execute(sql, params)
                results.append(cursor.fetchall() if cursor.description else [])
            return results
        cursor.execute(
            "; ".join(sql for sql, _ in statements), [p for _, ps in statements for p in ps]
        )
        results.append(cursor.fetchall() if cursor.description else [])
        while cursor.nextset():
            results.append(cursor.fetchall() if cursor.description else [])
    return results
