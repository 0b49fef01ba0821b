"""Writing scores back: the current score rows of a batch, and the daily snapshots.

A batch's stored fields arrive as columns (`Scored`); they are upserted in bulk,
INSERT … ON CONFLICT batches elsewhere and binary COPY into a temporary table on
PostgreSQL once there are many. A full recomputation empties and refills a score
table when it can, rather than updating every row in place.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cached_property
from typing import Any

import numpy as np
from django.db import OperationalError, connection, models, transaction

from . import pgcopy, scoring
from .fields import PackedExplanation
from .models import (
    RelationshipScore,
    RelationshipScoreSnapshot,
    StakeholderScore,
    StakeholderScoreSnapshot,
)
from .scored_objects import Groups
from .sql import Statement, fetch_each

logger = logging.getLogger(__name__)

Progress = Callable[[float, str], None]

# Score rows per INSERT … ON CONFLICT statement: large enough to amortise the
# round trip, small enough for SQLite's host-parameter limit (Django lowers it there).
UPSERT_BATCH = 1000
# From this many rows COPY beats INSERT on PostgreSQL despite its temporary table.
COPY_THRESHOLD = 200

SCORE_FIELDS = [
    "given",
    "received",
    "reciprocity_balance",
    "reciprocity",
    "strength",
    "sentiment",
    "reliability",
    "trust",
    "investment",
    "return_value",
    "ror",
]
SNAPSHOT_FIELDS = [*SCORE_FIELDS, "at_risk"]
CURRENT_FIELDS = [
    *SNAPSHOT_FIELDS,
    "last_contact",
    "days_since_contact",
    "overdue",
    "cadence_days",
    "risk_reasons",
    "explanation",
    "computed_at",
]

# Nulls in the binary COPY: binary -infinity and an out-of-range integer, which the
# INSERT from the staging table turns back into NULL (NULLIF).
_NULL_TIMESTAMP = np.iinfo(np.int64).min
_NULL_INT = np.iinfo(np.int32).min


def _nullable(values: np.ndarray) -> list[float | None]:
    return [None if math.isnan(v) else v for v in values.tolist()]


def stored_by_copy(n_rows: int) -> bool:
    """Whether `store` streams these rows with COPY (PostgreSQL, many rows)."""
    return connection.vendor == "postgresql" and n_rows > COPY_THRESHOLD


@dataclass
class Scored:
    """The stored fields of every group of a batch, as columns (group order).

    Floats are NaN where the stored value is null. `rows()` gives them as
    dicts of model field values.
    """

    groups: Groups
    at: datetime
    figures: dict[str, np.ndarray]  # SCORE_FIELDS
    last_contact: np.ndarray  # POSIX seconds
    days_since_contact: np.ndarray  # int64; meaningful where last_contact is not NaN
    overdue: np.ndarray  # bool; meaningful where last contact and cadence are known
    at_risk: np.ndarray
    risk_reasons: list[list[dict[str, str]]]
    explanations: np.ndarray  # scoring.PACKED_DTYPE records

    def __len__(self) -> int:
        return len(self.groups)

    @cached_property
    def _rows(self) -> list[dict]:
        return self._build_rows()

    def rows(self) -> list[dict]:
        """Model field values per group (computed once)."""
        return self._rows

    def _build_rows(self) -> list[dict]:
        columns = {name: _nullable(values) for name, values in self.figures.items()}
        contacted = (~np.isnan(self.last_contact)).tolist()
        last_contact = self.last_contact.tolist()
        days = self.days_since_contact.tolist()
        overdue = self.overdue.tolist()
        cadence = self.groups.cadence_days.tolist()
        at_risk = self.at_risk.tolist()
        results = []
        for g in range(len(self.groups)):
            row = {name: columns[name][g] for name in SCORE_FIELDS}
            known = contacted[g]
            row.update(
                last_contact=datetime.fromtimestamp(last_contact[g], UTC) if known else None,
                days_since_contact=days[g] if known else None,
                overdue=overdue[g] if known and cadence[g] else None,
                cadence_days=cadence[g] or None,
                at_risk=at_risk[g],
                risk_reasons=self.risk_reasons[g],
                explanation=PackedExplanation(self.explanations[g].tobytes()),
                computed_at=self.at,
            )
            results.append(row)
        return results


def _copy_upsert(
    model: type[models.Model], key: str, scored: Scored, *, every_row: bool = False
) -> None:
    """PostgreSQL: binary COPY into a temporary table, then one INSERT … ON CONFLICT.

    Every column but the risk reasons has a fixed width, so the rows are laid
    out by numpy in COPY's binary format; nulls travel as sentinels (NaN,
    -infinity, out-of-range integers) that the INSERT turns back into NULL.

    `every_row`: the rows are the table's whole new content (a full
    recomputation); then the table is emptied and refilled when its lock can be
    had quickly, which writes about half as much as updating every row in place
    and leaves no dead rows behind (see `_emptied`).
    """
    quote = connection.ops.quote_name
    floats = list(scored.figures)
    record_size = scored.explanations.dtype.itemsize
    # (staging type, numpy type, value, SQL giving the model column)
    staged: list[tuple[str, str, Any, str]] = [("bigint", ">i8", scored.groups.object_ids, "{}")]
    staged += [
        ("double precision", ">f8", scored.figures[name], "NULLIF({}, 'NaN')") for name in floats
    ]
    contacted = ~np.isnan(scored.last_contact)
    cadence = scored.groups.cadence_days
    last_contact = np.where(
        contacted,
        pgcopy.posix_to_micros(np.nan_to_num(scored.last_contact)) - pgcopy.PG_EPOCH_MICROS,
        _NULL_TIMESTAMP,
    )
    staged += [
        ("boolean", "u1", scored.at_risk, "{}"),
        ("timestamptz", ">i8", last_contact, "NULLIF({}, '-infinity')"),
        (
            "integer",
            ">i4",
            np.where(contacted, scored.days_since_contact, _NULL_INT),
            f"NULLIF({{}}, {_NULL_INT})",
        ),
        (
            "smallint",
            ">i2",
            np.where(contacted & (cadence > 0), scored.overdue, -1),
            "NULLIF({}, -1)::integer::boolean",
        ),
        ("integer", ">i4", cadence, "NULLIF({}, 0)"),
        ("bytea", f"V{record_size}", scored.explanations.view(f"V{record_size}"), "{}"),
    ]
    columns = [
        model._meta.get_field(f"{key}").column,
        *(model._meta.get_field(name).column for name in floats),
        *(
            model._meta.get_field(name).column
            for name in ("at_risk", "last_contact", "days_since_contact", "overdue")
        ),
        model._meta.get_field("cadence_days").column,
        model._meta.get_field("explanation").column,
        model._meta.get_field("risk_reasons").column,
        model._meta.get_field("computed_at").column,
    ]
    reasons = [json.dumps(r).encode() if r else b"[]" for r in scored.risk_reasons]

    definitions = ", ".join(f"c{j} {sql_type}" for j, (sql_type, *_) in enumerate(staged))
    reasons_column = f"c{len(staged)}"
    selected = [template.format(f"c{j}") for j, (*_, template) in enumerate(staged)]
    selected += [f"{reasons_column}::jsonb", "%s"]
    updates = ", ".join(f"{quote(c)} = EXCLUDED.{quote(c)}" for c in columns[1:])
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE metrics_upsert ({definitions}, {reasons_column} text)"
            " ON COMMIT DROP"
        )
        pgcopy.copy_binary_in(
            cursor,
            "COPY metrics_upsert FROM STDIN (FORMAT binary)",
            [(kind, values) for _, kind, values, _ in staged],
            reasons,
        )
        insert = (
            f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(map(quote, columns))}) "
            f"SELECT {', '.join(selected)} FROM metrics_upsert"
        )
        if every_row and _emptied(model, cursor):
            cursor.execute(insert, [scored.at])
        else:
            cursor.execute(
                f"{insert} ON CONFLICT ({quote(columns[0])}) DO UPDATE SET {updates}", [scored.at]
            )
        # Inside an outer transaction ON COMMIT comes later: the next call needs the name.
        cursor.execute("DROP TABLE metrics_upsert")


# How long a full recomputation waits for readers to let go of a score table
# before it updates the rows in place instead of emptying and refilling it.
REPLACE_LOCK_TIMEOUT = "2s"


def _emptied(model: type[models.Model], cursor: Any) -> bool:
    """TRUNCATE the score table, if its lock comes within REPLACE_LOCK_TIMEOUT.

    Readers wait for the rest of the transaction (the refill) rather than
    seeing an empty table. Only for tables
    whose every column a recomputation writes, so that nothing else is lost.
    """
    written = {model._meta.pk.name, *CURRENT_FIELDS}
    if {f.name for f in model._meta.concrete_fields} != written:
        return False
    cursor.execute("SELECT current_setting('lock_timeout')")
    previous = cursor.fetchone()[0]
    try:
        with transaction.atomic():
            cursor.execute("SELECT set_config('lock_timeout', %s, true)", [REPLACE_LOCK_TIMEOUT])
            cursor.execute(f"TRUNCATE {connection.ops.quote_name(model._meta.db_table)}")
    except OperationalError as exc:
        # Held by another session, or by this transaction's own pending deferred checks.
        logger.info("%s not emptied (%s): updating in place", model._meta.db_table, exc)
        return False
    cursor.execute("SELECT set_config('lock_timeout', %s, true)", [previous])
    return True


def store(
    groups: Groups, scored: Scored, progress: Progress | None = None, *, every_row: bool = False
) -> int:
    """Upsert the scores of these groups; `every_row`: they are all the level's objects."""
    model, key = _score_table(groups.level)
    ids = groups.object_ids.tolist()
    if stored_by_copy(len(ids)):
        _copy_upsert(model, key, scored, every_row=every_row)
        if progress:
            progress(1.0, "")
        return len(ids)
    statements = upsert_statements(groups, scored)
    for done, statement in enumerate(statements, start=1):
        fetch_each([statement])
        if progress:
            progress(done / len(statements), "")
    return len(ids)


def _score_table(level: scoring.Level) -> tuple[type[models.Model], str]:
    if level is scoring.Level.STAKEHOLDER:
        return StakeholderScore, "stakeholder"
    return RelationshipScore, "relationship"


def upsert_statements(groups: Groups, scored: Scored) -> list[Statement]:
    """INSERT … ON CONFLICT DO UPDATE of the groups' scores, UPSERT_BATCH rows a statement.

    What `bulk_create(update_conflicts=True)` sends, each value prepared by its
    model field as there, as statements `fetch_each` can send together.
    """
    model, key = _score_table(groups.level)
    quote = connection.ops.quote_name
    fields = [model._meta.get_field(name) for name in CURRENT_FIELDS]
    columns = [quote(model._meta.get_field(key).column), *(quote(f.column) for f in fields)]
    row_sql = f"({', '.join(['%s'] * len(columns))})"
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns[1:])
    ids, rows = groups.object_ids.tolist(), scored.rows()
    statements = []
    for start in range(0, len(ids), UPSERT_BATCH):
        batch = range(start, min(start + UPSERT_BATCH, len(ids)))
        params: list[Any] = []
        for i in batch:
            params.append(ids[i])
            params += [f.get_db_prep_save(rows[i][f.name], connection) for f in fields]
        statements.append(
            (
                f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(columns)})"
                f" VALUES {', '.join([row_sql] * len(batch))}"
                f" ON CONFLICT ({columns[0]}) DO UPDATE SET {updates}",
                params,
            )
        )
    return statements


def snapshots_write(day: date) -> dict:
    """Upsert the day's snapshot of every stored score (one INSERT … SELECT per level)."""
    counts = {}
    value = connection.ops.adapt_datefield_value(day)
    for snapshot_model, score_model, key in (
        (StakeholderScoreSnapshot, StakeholderScore, "stakeholder_id"),
        (RelationshipScoreSnapshot, RelationshipScore, "relationship_id"),
    ):
        columns = [snapshot_model._meta.get_field(f).column for f in SNAPSHOT_FIELDS]
        quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
        updates = ", ".join(
            f"{connection.ops.quote_name(c)} = excluded.{connection.ops.quote_name(c)}"
            for c in columns
        )
        # `WHERE true` lets SQLite tell the ON CONFLICT clause from a join.
        sql = (
            f"INSERT INTO {snapshot_model._meta.db_table} ({key}, date, {quoted}) "
            f"SELECT {key}, %s, {quoted} FROM {score_model._meta.db_table} WHERE true "
            f"ON CONFLICT ({key}, date) DO UPDATE SET {updates}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [value])
            counts[score_model._meta.model_name] = cursor.rowcount
    return counts
