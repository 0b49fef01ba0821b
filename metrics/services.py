"""Recomputing and storing scores (DESIGN §3, §5).

Incremental recomputation reads a few groups' rows with `values_list`; a full
recomputation reads every row once for both levels (`everything_read`: binary
COPY into numpy on PostgreSQL), with the same SQL expressions (dates converted
to POSIX seconds in SQL). Rows are scored in one `scoring.score_groups` call
per level and batch, and upserted in bulk (COPY on PostgreSQL). Both paths feed
every group its rows in the same order (by item id), so for the same time T
they store bit-identical numbers.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from typing import Any

import numpy as np
from django.conf import settings
from django.db import OperationalError, connection, models, transaction
from django.db.models import FloatField, Func
from django.db.models.functions import Cast
from django.utils import timezone

from relations.integrations.webhooks import webhook_emit_many
from relations.models import (
    Commitment,
    GoalStakeholder,
    Interaction,
    Outcome,
    Relationship,
    Stakeholder,
    StrategicGoal,
    Webhook,
)
from relations.querysets import KEY_IMPORTANCE

from . import scoring
from .fields import PackedExplanation
from .models import (
    PendingRecompute,
    RecomputeJob,
    RelationshipScore,
    RelationshipScoreSnapshot,
    StakeholderScore,
    StakeholderScoreSnapshot,
)

logger = logging.getLogger(__name__)

ParticipantLink = Interaction.internal_participants.through
StakeholderLink = Interaction.stakeholders.through
Progress = Callable[[float, str], None]

# Score rows per INSERT … ON CONFLICT statement: large enough to amortise the
# round trip, small enough for SQLite's host-parameter limit (Django lowers it there).
UPSERT_BATCH = 1000
# From this many rows COPY beats INSERT on PostgreSQL despite its temporary table.
COPY_THRESHOLD = 200
# Markers processed per transaction: bounds the lock time and the memory of one pass.
PENDING_BATCH = 5000
# "The snapshot 90 days earlier" (DESIGN §3): the latest one within a week before
# that day, so a missed nightly run does not switch the rule off.
TRUST_FALL_DAYS = 90
SNAPSHOT_SLACK_DAYS = 7
# pg_advisory_xact_lock key serialising recomputations: two workers scoring the
# same stakeholder at once could otherwise commit an older reading last.
RECOMPUTE_LOCK_KEY = 0x5241_5050  # "RAPP"

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


def score_settings() -> scoring.ScoreSettings:
    """The installation's DESIGN §3 constants (`settings.RAPPORT_SCORES`)."""
    cfg = settings.RAPPORT_SCORES
    return scoring.ScoreSettings(
        half_life_days=float(cfg["HALF_LIFE_DAYS"]),
        ror_window_days=float(cfg["ROR_WINDOW_DAYS"]),
        hourly_rate=float(cfg["HOURLY_RATE"]),
        trust_weights=dict(cfg["TRUST_WEIGHTS"]),
        kind_weights=dict(cfg["KIND_WEIGHTS"]),
    )


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


def _as_datetime(at: datetime | None) -> datetime:
    at = at or timezone.now()
    if timezone.is_naive(at):
        raise ValueError("`at` must be an aware date-time")
    return at


def _column(rows: list[tuple], j: int, dtype: Any) -> np.ndarray:
    if not rows:
        return np.empty(0, dtype=dtype)
    return np.fromiter((r[j] for r in rows), dtype=dtype, count=len(rows))


def _float_column(rows: list[tuple], j: int) -> np.ndarray:
    """Floats with None (SQL NULL) as NaN."""
    return np.array([r[j] for r in rows], dtype=np.float64) if rows else np.empty(0)


def _lookup(sorted_keys: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of `keys` in `sorted_keys`, and which of them were found."""
    if len(sorted_keys) == 0:
        return np.zeros(len(keys), dtype=np.int64), np.zeros(len(keys), dtype=bool)
    idx = np.searchsorted(sorted_keys, keys)
    idx_clipped = np.minimum(idx, len(sorted_keys) - 1)
    found = sorted_keys[idx_clipped] == keys
    return idx_clipped, found


def _any(column: str, values: list[int]) -> tuple[str, list[Any]]:
    """`column` is among `values`: one array parameter on PostgreSQL (the same
    statement text whatever their number), a list of parameters elsewhere."""
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s)", [values]
    if not values:
        return "FALSE", []
    return f"{column} IN ({', '.join(['%s'] * len(values))})", list(values)


def _fetch(sql: str, params: list[Any]) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


Statement = tuple[str, list[Any]]


def _fetch_each(statements: list[Statement]) -> list[list[tuple]]:
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


# --------------------------------------------------------------------------
# Groups: the objects being scored


@dataclass
class Groups:
    """The objects scored in one batch, in group order.

    `keys` is sorted and identifies a group in the row queries: the stakeholder
    id, or `user_id * key_base + stakeholder_id` for a relationship.
    """

    level: scoring.Level
    object_ids: np.ndarray
    keys: np.ndarray
    key_base: int
    cadence_days: np.ndarray  # 0 when unknown
    is_key: np.ndarray
    user_ids: frozenset[int]
    stakeholder_ids: frozenset[int]
    was_at_risk: np.ndarray | None = None  # stored flag before this run (a few stakeholders)
    # Trust of each one's snapshot 90 days before T, read with the groups (`trust_as_of`).
    trust_before: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.object_ids)


def _on_active_goal(stakeholder_column: str) -> str:
    """SQL: the stakeholder is linked to an active strategic goal (one key-ness test)."""
    return (
        f"EXISTS (SELECT 1 FROM {GoalStakeholder._meta.db_table} gs"
        f" JOIN {StrategicGoal._meta.db_table} g ON g.id = gs.goal_id"
        f" WHERE gs.stakeholder_id = {stakeholder_column} AND g.status = %s)"
    )


def _is_key(importance: np.ndarray, on_goal: np.ndarray) -> np.ndarray:
    # `StakeholderQuerySet.key()` over arrays: importance ≥ KEY_IMPORTANCE or on an
    # active strategic goal.
    return (importance >= KEY_IMPORTANCE) | on_goal.astype(bool)


def stakeholder_groups(
    stakeholder_ids: Iterable[int] | None, *, trust_as_of: datetime | None = None
) -> Groups:
    """These stakeholders (all when None), by id.

    A few of them (incremental) come with their stored at-risk flag, and with
    `trust_as_of`, with the trust of their snapshot 90 days before it.
    """
    statement = _stakeholder_groups_statement(stakeholder_ids, trust_as_of)
    return _stakeholder_groups_from(_fetch(*statement), stakeholder_ids is not None, trust_as_of)


def _stakeholder_groups_statement(
    stakeholder_ids: Iterable[int] | None, trust_as_of: datetime | None
) -> Statement:
    columns = f"s.id, COALESCE(s.cadence_days, 0), s.importance, {_on_active_goal('s.id')}"
    tables = f"{Stakeholder._meta.db_table} s"
    params: list[Any] = [StrategicGoal.Status.ACTIVE]
    where = ""
    if stakeholder_ids is not None:
        # For the webhook of those newly at risk.
        columns += ", COALESCE(sc.at_risk, FALSE)"
        tables += f" LEFT JOIN {StakeholderScore._meta.db_table} sc ON sc.stakeholder_id = s.id"
        among, more = _any("s.id", sorted({int(i) for i in stakeholder_ids}))
        where = f" WHERE {among}"
        if trust_as_of is not None:
            columns += f", {_trust_before_sql(StakeholderScoreSnapshot, 'stakeholder_id', 's.id')}"
            params += _snapshot_window(trust_as_of)
        params += more
    return f"SELECT {columns} FROM {tables}{where} ORDER BY s.id", params


def _stakeholder_groups_from(rows: list[tuple], few: bool, trust_as_of: datetime | None) -> Groups:
    ids = _column(rows, 0, np.int64)
    return Groups(
        level=scoring.Level.STAKEHOLDER,
        object_ids=ids,
        keys=ids,
        key_base=0,
        cadence_days=_column(rows, 1, np.int64),
        is_key=_is_key(_column(rows, 2, np.int64), _column(rows, 3, bool)),
        user_ids=frozenset(),
        stakeholder_ids=frozenset(ids.tolist()),
        was_at_risk=_column(rows, 4, bool) if few else None,
        trust_before=_float_column(rows, 5) if few and trust_as_of is not None else None,
    )


def relationship_groups(
    relationship_ids: Iterable[int] | None = None,
    pairs: Iterable[tuple[int, int]] | None = None,
    *,
    trust_as_of: datetime | None = None,
) -> Groups:
    """Relationships by id, or by (user_id, stakeholder_id) pairs; all when both are None.

    With `trust_as_of` (a few of them), with the trust of their snapshot 90 days before it.
    """
    wanted = None if pairs is None else {(int(u), int(s)) for u, s in pairs}
    statement = _relationship_groups_statement(relationship_ids, wanted, trust_as_of)
    return _relationship_groups_from(_fetch(*statement), wanted, trust_as_of)


def _relationship_groups_statement(
    relationship_ids: Iterable[int] | None,
    wanted: set[tuple[int, int]] | None,
    trust_as_of: datetime | None,
) -> Statement:
    columns = (
        "r.id, r.user_id, r.stakeholder_id, COALESCE(s.cadence_days, 0), s.importance,"
        f" {_on_active_goal('s.id')}"
    )
    params: list[Any] = [StrategicGoal.Status.ACTIVE]
    if trust_as_of is not None:
        columns += f", {_trust_before_sql(RelationshipScoreSnapshot, 'relationship_id', 'r.id')}"
        params += _snapshot_window(trust_as_of)
    conditions = []
    if relationship_ids is not None:
        among, more = _any("r.id", sorted({int(i) for i in relationship_ids}))
        conditions.append(among)
        params += more
    if wanted is not None:
        for column, values in (
            ("r.user_id", {u for u, _ in wanted}),
            ("r.stakeholder_id", {s for _, s in wanted}),
        ):
            among, more = _any(column, sorted(values))
            conditions.append(among)
            params += more
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    return (
        f"SELECT {columns} FROM {Relationship._meta.db_table} r"
        f" JOIN {Stakeholder._meta.db_table} s ON s.id = r.stakeholder_id{where}",
        params,
    )


def _relationship_groups_from(
    rows: list[tuple], wanted: set[tuple[int, int]] | None, trust_as_of: datetime | None
) -> Groups:
    if wanted is not None:
        rows = [r for r in rows if (r[1], r[2]) in wanted]
    user_ids = _column(rows, 1, np.int64)
    stakeholder_ids = _column(rows, 2, np.int64)
    key_base = int(stakeholder_ids.max()) + 1 if len(rows) else 1
    keys = user_ids * key_base + stakeholder_ids
    order = np.argsort(keys, kind="stable")
    return Groups(
        level=scoring.Level.RELATIONSHIP,
        object_ids=_column(rows, 0, np.int64)[order],
        keys=keys[order],
        key_base=key_base,
        cadence_days=_column(rows, 3, np.int64)[order],
        is_key=_is_key(_column(rows, 4, np.int64), _column(rows, 5, bool))[order],
        user_ids=frozenset(user_ids.tolist()),
        stakeholder_ids=frozenset(stakeholder_ids.tolist()),
        trust_before=_float_column(rows, 6)[order] if trust_as_of is not None else None,
    )


# --------------------------------------------------------------------------
# Rows: what each group is scored over (DESIGN §3 row sets)


# Binary COPY: an 11-byte signature, 4 bytes of flags and 4 of header extension,
# then per row a 2-byte field count and, per field, a 4-byte length and the value
# (an array: dimensions, null flag, element type, size and lower bound per
# dimension, then a 4-byte length before each element).
_COPY_HEADER = 19


def _copy_columns(
    sql: str, params: list[Any], fields: list[tuple[str, str]]
) -> dict[str, np.ndarray]:
    """The columns of a query as numpy arrays, through one binary COPY row.

    The query's rows are folded into one row of arrays (`array_agg`), so the
    stream is a few large messages rather than one per row (psycopg handles
    each message in Python), and numpy reads each array in place: every value
    must be fixed-width and never NULL (COALESCE in the query). `fields` are
    (name, big-endian numpy type) in column order.
    """
    folded = ", ".join(f"array_agg(c{j})" for j in range(len(fields)))
    aliased = ", ".join(f"c{j}" for j in range(len(fields)))
    statement = f"COPY (SELECT {folded} FROM ({sql}) AS rows ({aliased})) TO STDOUT (FORMAT binary)"
    with connection.cursor() as cursor, cursor.cursor.copy(statement, params) as copy:
        data = b"".join(copy)
    view = memoryview(data)
    if view[_COPY_HEADER - 4 : _COPY_HEADER] != bytes(4):
        raise RuntimeError("unexpected COPY header extension")
    position = _COPY_HEADER + 2  # the row's field count
    columns = {}
    for name, kind in fields:
        size = int.from_bytes(view[position : position + 4], "big", signed=True)
        position += 4
        if size < 0:  # array_agg of no rows is NULL
            columns[name] = np.empty(0, dtype=np.dtype(kind).newbyteorder("="))
            continue
        array = view[position : position + size]
        position += size
        ndim = int.from_bytes(array[0:4], "big")
        if int.from_bytes(array[4:8], "big"):
            raise RuntimeError(f"COPY column {name} holds NULLs")
        offset = 12 + 8 * ndim
        count = int.from_bytes(array[12:16], "big") if ndim else 0
        element = np.dtype([("size", ">i4"), ("value", kind)])
        values = np.frombuffer(array, dtype=element, count=count, offset=offset)
        if count and (values["size"] != np.dtype(kind).itemsize).any():
            raise RuntimeError(f"COPY column {name} is not {kind}")
        columns[name] = values["value"].astype(np.dtype(kind).newbyteorder("="))
    return columns


def _codes(sql_column: str, names: list[str]) -> str:
    """SQL of a text column as its 1-based position in `names` (0: not among them)."""
    listed = ", ".join("'" + name.replace("'", "''") + "'" for name in names)
    return f"COALESCE(array_position(ARRAY[{listed}]::text[], {sql_column}::text), 0)::int2"


@dataclass
class Everything:
    """Every row a full recomputation reads, as arrays, read once for both levels.

    Interactions are those dated on or before T, by id; `*_user` is -1 where
    the commitment or outcome names no user; commitments and outcomes by id.
    """

    interaction_id: np.ndarray
    occurred_at: np.ndarray
    kind_weight: np.ndarray
    value_given: np.ndarray
    value_received: np.ndarray
    sentiment: np.ndarray
    duration_minutes: np.ndarray
    cost: np.ndarray
    n_internal: np.ndarray
    n_stakeholders: np.ndarray
    link_stakeholder: np.ndarray
    link_stakeholder_interaction: np.ndarray
    link_user: np.ndarray
    link_user_interaction: np.ndarray
    commitment_stakeholder: np.ndarray
    commitment_user: np.ndarray
    commitment_id: np.ndarray
    commitment_due_at: np.ndarray
    commitment_status: np.ndarray
    outcome_stakeholder: np.ndarray
    outcome_user: np.ndarray
    outcome_id: np.ndarray
    outcome_at: np.ndarray
    outcome_value: np.ndarray


def everything_read(at: datetime, cfg: scoring.ScoreSettings) -> Everything:
    """Read every interaction, link, commitment and outcome a full recomputation needs.

    PostgreSQL streams them with binary COPY straight into numpy; elsewhere
    (SQLite: tests, small installations) the ORM reads the same columns. The
    values are the same either way as the incremental path's: the same SQL
    expressions (`Epoch`, casts to double precision) compute them.
    """
    if connection.vendor != "postgresql":
        return _everything_read_orm(at, cfg)
    kinds = list(cfg.kind_weights)
    statuses = sorted(scoring.STATUS_CODES, key=scoring.STATUS_CODES.__getitem__)
    interaction = Interaction._meta.db_table
    f8, i8, i2 = ">f8", ">i8", ">i2"
    rows = _copy_columns(
        f"SELECT id, EXTRACT(EPOCH FROM occurred_at)::double precision, {_codes('kind', kinds)},"
        " value_given::double precision, value_received::double precision,"
        " COALESCE(sentiment::double precision, 'NaN'), duration_minutes::double precision,"
        f" cost::double precision FROM {interaction} WHERE occurred_at <= %s",
        [at],
        [
            ("id", i8),
            ("at", f8),
            ("kind", i2),
            ("given", f8),
            ("received", f8),
            ("sentiment", f8),
            ("duration", f8),
            ("cost", f8),
        ],
    )
    order = np.argsort(rows["id"], kind="stable")
    rows = {name: column[order] for name, column in rows.items()}
    kind = rows["kind"].astype(np.int64)
    if (kind == 0).any():
        unknown = Interaction.objects.exclude(kind__in=kinds).values_list("kind", flat=True)[:1]
        raise ValueError(f"no KIND_WEIGHTS entry for interaction kind {list(unknown)}")
    weights = np.array([0.0, *(float(cfg.kind_weights[k]) for k in kinds)])
    stakeholder_links = _copy_columns(
        f"SELECT stakeholder_id::bigint, interaction_id FROM {StakeholderLink._meta.db_table}",
        [],
        [("stakeholder", i8), ("interaction", i8)],
    )
    user_links = _copy_columns(
        f"SELECT user_id::bigint, interaction_id FROM {ParticipantLink._meta.db_table}",
        [],
        [("user", i8), ("interaction", i8)],
    )
    commitments = _copy_columns(
        "SELECT stakeholder_id::bigint, COALESCE(responsible_id, -1)::bigint, id,"
        " EXTRACT(EPOCH FROM due_date)::double precision,"
        f" {_codes('status', statuses)} FROM {Commitment._meta.db_table}",
        [],
        [("stakeholder", i8), ("user", i8), ("id", i8), ("due", f8), ("status", i2)],
    )
    order = np.argsort(commitments["id"], kind="stable")
    commitments = {name: column[order] for name, column in commitments.items()}
    if (commitments["status"] == 0).any():
        raise ValueError("unknown commitment status")
    outcomes = _copy_columns(
        "SELECT stakeholder_id::bigint, COALESCE(credited_to_id, -1)::bigint, id,"
        " EXTRACT(EPOCH FROM occurred_on)::double precision, value::double precision"
        f" FROM {Outcome._meta.db_table} WHERE occurred_on <= %s",
        [at.astimezone(UTC).date()],
        [("stakeholder", i8), ("user", i8), ("id", i8), ("at", f8), ("value", f8)],
    )
    order = np.argsort(outcomes["id"], kind="stable")
    outcomes = {name: column[order] for name, column in outcomes.items()}
    ids = rows["id"].astype(np.int64)
    return Everything(
        interaction_id=ids,
        occurred_at=rows["at"].astype(np.float64),
        kind_weight=weights[kind],
        value_given=rows["given"].astype(np.float64),
        value_received=rows["received"].astype(np.float64),
        sentiment=rows["sentiment"].astype(np.float64),
        duration_minutes=rows["duration"].astype(np.float64),
        cost=rows["cost"].astype(np.float64),
        n_internal=_link_counts(user_links["interaction"], ids),
        n_stakeholders=_link_counts(stakeholder_links["interaction"], ids),
        link_stakeholder=stakeholder_links["stakeholder"].astype(np.int64),
        link_stakeholder_interaction=stakeholder_links["interaction"].astype(np.int64),
        link_user=user_links["user"].astype(np.int64),
        link_user_interaction=user_links["interaction"].astype(np.int64),
        commitment_stakeholder=commitments["stakeholder"].astype(np.int64),
        commitment_user=commitments["user"].astype(np.int64),
        commitment_id=commitments["id"].astype(np.int64),
        commitment_due_at=commitments["due"].astype(np.float64),
        commitment_status=(commitments["status"] - 1).astype(np.int8),
        outcome_stakeholder=outcomes["stakeholder"].astype(np.int64),
        outcome_user=outcomes["user"].astype(np.int64),
        outcome_id=outcomes["id"].astype(np.int64),
        outcome_at=outcomes["at"].astype(np.float64),
        outcome_value=outcomes["value"].astype(np.float64),
    )


def _link_counts(link_interactions: np.ndarray, interaction_ids: np.ndarray) -> np.ndarray:
    """How many links each interaction has (its participants of one side)."""
    if not len(interaction_ids):
        return np.zeros(0, dtype=np.int64)
    size = int(max(interaction_ids.max(), link_interactions.max(initial=0))) + 1
    return np.bincount(link_interactions.astype(np.int64), minlength=size)[interaction_ids]


def _everything_read_orm(at: datetime, cfg: scoring.ScoreSettings) -> Everything:
    columns = [
        "pk",
        Epoch("occurred_at"),
        "kind",
        "value_given",
        "value_received",
        "sentiment",
        "duration_minutes",
        Cast("cost", FloatField()),
    ]
    rows = list(
        Interaction.objects.filter(occurred_at__lte=at).order_by("pk").values_list(*columns)
    )
    stakeholder_links = list(
        StakeholderLink.objects.values_list("stakeholder_id", "interaction_id")
    )
    user_links = list(ParticipantLink.objects.values_list("user_id", "interaction_id"))
    commitments = list(
        Commitment.objects.order_by("pk").values_list(
            "stakeholder_id", "responsible_id", "pk", Epoch("due_date"), "status"
        )
    )
    outcomes = list(
        Outcome.objects.filter(occurred_on__lte=at.astimezone(UTC).date())
        .order_by("pk")
        .values_list(
            "stakeholder_id",
            "credited_to_id",
            "pk",
            Epoch("occurred_on"),
            Cast("value", FloatField()),
        )
    )

    ids = _column(rows, 0, np.int64)
    link_interactions = _column(stakeholder_links, 1, np.int64)
    user_interactions = _column(user_links, 1, np.int64)
    return Everything(
        interaction_id=ids,
        **_interaction_columns(rows, 1, cfg),
        n_internal=_link_counts(user_interactions, ids),
        n_stakeholders=_link_counts(link_interactions, ids),
        link_stakeholder=_column(stakeholder_links, 0, np.int64),
        link_stakeholder_interaction=link_interactions,
        link_user=_column(user_links, 0, np.int64),
        link_user_interaction=user_interactions,
        **_owned_columns("commitment", commitments),
        commitment_due_at=_column(commitments, 3, np.float64),
        commitment_status=scoring.status_array([r[4] for r in commitments]),
        **_owned_columns("outcome", outcomes),
        outcome_at=_column(outcomes, 3, np.float64),
        outcome_value=_column(outcomes, 4, np.float64),
    )


def _rows_of(
    groups: Groups, everything: Everything
) -> tuple[scoring.InteractionRows, scoring.CommitmentRows, scoring.OutcomeRows]:
    """Every group's rows (DESIGN §3 row sets) cut from `everything`.

    Full and incremental recomputation both cut their rows here, from
    `everything_read` or `few_read`: interaction rows by (group, interaction),
    commitments and outcomes by id, so each group sums the same numbers in the
    same order either way (full == incremental, bit for bit).
    """
    e = everything
    if groups.level is scoring.Level.STAKEHOLDER:
        row_keys, row_interactions = e.link_stakeholder, e.link_stakeholder_interaction
        commitment_keys, outcome_keys = e.commitment_stakeholder, e.outcome_stakeholder
    else:
        # Interactions in which both u and s took part: one row per (u, s, interaction).
        row_keys, row_interactions = _pair_rows(
            e.link_user,
            e.link_user_interaction,
            e.link_stakeholder,
            e.link_stakeholder_interaction,
            groups.key_base,
        )
        commitment_keys = _pair_keys(e.commitment_user, e.commitment_stakeholder, groups.key_base)
        outcome_keys = _pair_keys(e.outcome_user, e.outcome_stakeholder, groups.key_base)

    group_index, found = _lookup(groups.keys, row_keys)
    at_row, dated = _lookup(e.interaction_id, row_interactions)
    keep = found & dated
    group_index, at_row = group_index[keep], at_row[keep]
    order = _group_major(group_index, row_interactions[keep])
    group_index, at_row = group_index[order], at_row[order]
    if len(at_row):
        interactions = scoring.InteractionRows(
            group=group_index,
            interaction_id=e.interaction_id[at_row],
            occurred_at=e.occurred_at[at_row],
            kind_weight=e.kind_weight[at_row],
            value_given=e.value_given[at_row],
            value_received=e.value_received[at_row],
            sentiment=e.sentiment[at_row],
            duration_minutes=e.duration_minutes[at_row],
            cost=e.cost[at_row],
            n_internal=np.maximum(e.n_internal[at_row], 1),
            n_stakeholders=np.maximum(e.n_stakeholders[at_row], 1),
        )
    else:
        interactions = scoring.InteractionRows.empty()

    group_index, found = _lookup(groups.keys, commitment_keys)
    keep = np.flatnonzero(found)
    commitments = scoring.CommitmentRows(
        group=group_index[keep],
        commitment_id=e.commitment_id[keep],
        due_at=e.commitment_due_at[keep],
        status=e.commitment_status[keep],
    )
    group_index, found = _lookup(groups.keys, outcome_keys)
    keep = np.flatnonzero(found)
    outcomes = scoring.OutcomeRows(
        group=group_index[keep],
        outcome_id=e.outcome_id[keep],
        occurred_at=e.outcome_at[keep],
        value=e.outcome_value[keep],
    )
    return interactions, commitments, outcomes


def _group_major(group_index: np.ndarray, interaction_ids: np.ndarray) -> np.ndarray:
    """The order of rows by group, then interaction id.

    Each group sees its rows in the same order whichever other groups share the
    batch (full == incremental, bit for bit), and every group's rows are
    contiguous (`scoring.top_items` needs no sort of its own).
    """
    if not len(group_index):
        return np.zeros(0, dtype=np.int64)
    span = int(interaction_ids.max()) + 1
    if int(group_index.max()) + 1 > np.iinfo(np.int64).max // span:
        return np.lexsort((interaction_ids, group_index))
    # One int64 key sorts faster than a two-key lexsort.
    return np.argsort(group_index * span + interaction_ids, kind="stable")


def _pair_keys(users: np.ndarray, stakeholders: np.ndarray, key_base: int) -> np.ndarray:
    """Relationship keys of (user, stakeholder) rows.

    -1 (no group) where no user is named (-1), or where the stakeholder is
    beyond every scored relationship's: its key would alias another pair's.
    """
    keys = users * key_base + stakeholders
    return np.where((users >= 0) & (stakeholders < key_base), keys, -1)


def _pair_rows(
    users: np.ndarray,
    user_interactions: np.ndarray,
    stakeholders: np.ndarray,
    stakeholder_interactions: np.ndarray,
    key_base: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Join (user, interaction) with (stakeholder, interaction): (pair key, interaction) rows."""
    order = np.argsort(stakeholder_interactions, kind="stable")
    stakeholders, stakeholder_interactions = stakeholders[order], stakeholder_interactions[order]
    lo = np.searchsorted(stakeholder_interactions, user_interactions, side="left")
    hi = np.searchsorted(stakeholder_interactions, user_interactions, side="right")
    repeat = hi - lo
    user_rows = np.repeat(np.arange(len(users)), repeat)
    # Position within each user row's run of matching stakeholder rows.
    offsets = np.arange(len(user_rows)) - np.repeat(np.cumsum(repeat) - repeat, repeat)
    matched = np.repeat(lo, repeat) + offsets
    keys = _pair_keys(users[user_rows], stakeholders[matched], key_base)
    return keys, user_interactions[user_rows]


def few_read(
    stakeholder_ids: Iterable[int],
    user_ids: Iterable[int],
    at: datetime,
    cfg: scoring.ScoreSettings,
) -> Everything:
    """What the scores of a few stakeholders, and of these users with them, are made of.

    Shaped as `everything_read`'s result, restricted to these stakeholders:
    their interactions dated on or before T (with their full participant
    counts), their links, the users' participations in their interactions,
    and their commitments and outcomes. Four plain-SQL statements, whatever
    the number of groups (the worker's hot path after a logged interaction:
    the ORM would spend more time building them than the database running
    them); the values come from the same SQL expressions as `everything_read`'s.
    """
    return _few_from(_fetch_each(_few_statements(stakeholder_ids, user_ids, at)), cfg)


def _few_statements(
    stakeholder_ids: Iterable[int], user_ids: Iterable[int], at: datetime
) -> list[Statement]:
    vendor = connection.vendor
    stakeholders = sorted({int(s) for s in stakeholder_ids})
    links_table = StakeholderLink._meta.db_table
    participants_table = ParticipantLink._meta.db_table
    among_stakeholders, params = _any("l.stakeholder_id", stakeholders)
    among_users, user_params = _any("p.user_id", sorted({int(u) for u in user_ids}))
    owned_by, owned_params = _any("stakeholder_id", stakeholders)
    return [
        (
            f"SELECT l.stakeholder_id, l.interaction_id, {epoch_sql('i.occurred_at', vendor)},"
            " i.kind, i.value_given, i.value_received, i.sentiment, i.duration_minutes,"
            " CAST(i.cost AS double precision),"
            f" (SELECT COUNT(*) FROM {participants_table} p WHERE p.interaction_id = i.id),"
            f" (SELECT COUNT(*) FROM {links_table} o WHERE o.interaction_id = i.id)"
            f" FROM {links_table} l JOIN {Interaction._meta.db_table} i"
            f" ON i.id = l.interaction_id WHERE {among_stakeholders} AND i.occurred_at <= %s",
            [*params, connection.ops.adapt_datetimefield_value(at)],
        ),
        # Those of later interactions are left out where rows are cut (`_rows_of`).
        (
            f"SELECT DISTINCT p.user_id, p.interaction_id FROM {participants_table} p"
            f" JOIN {links_table} l ON l.interaction_id = p.interaction_id"
            f" WHERE {among_users} AND {among_stakeholders}",
            [*user_params, *params],
        ),
        (
            "SELECT stakeholder_id, responsible_id, id,"
            f" {epoch_sql('due_date', vendor)}, status FROM {Commitment._meta.db_table}"
            f" WHERE {owned_by} ORDER BY id",
            owned_params,
        ),
        (
            "SELECT stakeholder_id, credited_to_id, id,"
            f" {epoch_sql('occurred_on', vendor)}, CAST(value AS double precision)"
            f" FROM {Outcome._meta.db_table} WHERE {owned_by} AND occurred_on <= %s"
            " ORDER BY id",
            [*owned_params, connection.ops.adapt_datefield_value(at.astimezone(UTC).date())],
        ),
    ]


def _few_from(results: list[list[tuple]], cfg: scoring.ScoreSettings) -> Everything:
    """`_few_statements`' rows as an `Everything`."""
    links, participations, commitments, outcomes = results
    link_interactions = _column(links, 1, np.int64)
    ids, first = np.unique(link_interactions, return_index=True)
    attributes = [links[i] for i in first.tolist()]
    return Everything(
        interaction_id=ids,
        **_interaction_columns(attributes, 2, cfg),
        n_internal=_column(attributes, 9, np.int64),
        n_stakeholders=_column(attributes, 10, np.int64),
        link_stakeholder=_column(links, 0, np.int64),
        link_stakeholder_interaction=link_interactions,
        link_user=_column(participations, 0, np.int64),
        link_user_interaction=_column(participations, 1, np.int64),
        **_owned_columns("commitment", commitments),
        commitment_due_at=_column(commitments, 3, np.float64),
        commitment_status=scoring.status_array([r[4] for r in commitments]),
        **_owned_columns("outcome", outcomes),
        outcome_at=_column(outcomes, 3, np.float64),
        outcome_value=_column(outcomes, 4, np.float64),
    )


def _interaction_columns(
    rows: list[tuple], first: int, cfg: scoring.ScoreSettings
) -> dict[str, np.ndarray]:
    """The interaction attributes of rows holding, from column `first` on: epoch of
    occurred_at, kind, value_given, value_received, sentiment, duration, cost."""
    j = first
    return {
        "occurred_at": _column(rows, j, np.float64),
        "kind_weight": scoring.kind_weight_array([r[j + 1] for r in rows], cfg),
        "value_given": _column(rows, j + 2, np.float64),
        "value_received": _column(rows, j + 3, np.float64),
        "sentiment": _float_column(rows, j + 4),
        "duration_minutes": _column(rows, j + 5, np.float64),
        "cost": _column(rows, j + 6, np.float64),
    }


def _owned_columns(prefix: str, rows: list[tuple]) -> dict[str, np.ndarray]:
    """The stakeholder, user (-1: none) and id columns of commitment or outcome rows."""
    return {
        f"{prefix}_stakeholder": _column(rows, 0, np.int64),
        f"{prefix}_user": np.array([-1 if r[1] is None else r[1] for r in rows], dtype=np.int64),
        f"{prefix}_id": _column(rows, 2, np.int64),
    }


def _snapshot_window(at: datetime) -> list[Any]:
    """Parameters (last day, day before the first) of the snapshots that count as
    "90 days earlier" than `at`: the week up to T − 90 days, the latest first."""
    target = at.astimezone(UTC).date() - timedelta(days=TRUST_FALL_DAYS)
    adapt = connection.ops.adapt_datefield_value
    return [adapt(target), adapt(target - timedelta(days=SNAPSHOT_SLACK_DAYS))]


def _trust_before_sql(model: type[models.Model], fk: str, object_column: str) -> str:
    """SQL: the trust of `object_column`'s latest snapshot in `_snapshot_window`."""
    day = connection.ops.quote_name("date")
    return (
        f"(SELECT sn.trust FROM {model._meta.db_table} sn WHERE sn.{fk} = {object_column}"
        f" AND sn.{day} <= %s AND sn.{day} > %s AND sn.trust IS NOT NULL"
        f" ORDER BY sn.{day} DESC LIMIT 1)"
    )


def _trust_some_days_ago(groups: Groups, at: datetime, everyone: bool) -> np.ndarray:
    """Per group, the trust of the latest snapshot within a week before T − 90 days (NaN: none)."""
    if groups.trust_before is not None:
        return groups.trust_before
    if groups.level is scoring.Level.STAKEHOLDER:
        model, fk = StakeholderScoreSnapshot, "stakeholder_id"
    else:
        model, fk = RelationshipScoreSnapshot, "relationship_id"
    among, params = "", []
    if not everyone:
        among, params = _any(fk, groups.object_ids.tolist())
        among = f" AND {among}"
    day = connection.ops.quote_name("date")
    rows = _fetch(
        f"SELECT {fk}, trust FROM {model._meta.db_table}"
        f" WHERE {day} <= %s AND {day} > %s AND trust IS NOT NULL{among} ORDER BY {fk}, {day}",
        [*_snapshot_window(at), *params],
    )
    out = np.full(len(groups), np.nan)
    if not rows:
        return out
    ids = _column(rows, 0, np.int64)
    trust = _column(rows, 1, np.float64)
    # The last row of each object (rows are by date) is its latest snapshot.
    last = np.r_[ids[1:] != ids[:-1], True]
    ids, trust = ids[last], trust[last]
    # object_ids of relationship groups are not sorted: look up through a sorted copy.
    order = np.argsort(groups.object_ids)
    position, found = _lookup(groups.object_ids[order], ids)
    out[order[position[found]]] = trust[found]
    return out


# --------------------------------------------------------------------------
# Scoring and storing


def _nullable(values: np.ndarray) -> list[float | None]:
    return [None if math.isnan(v) else v for v in values.tolist()]


def _stored_by_copy(n_rows: int) -> bool:
    """Whether `_store` streams these rows with COPY (PostgreSQL, many rows)."""
    return connection.vendor == "postgresql" and n_rows > COPY_THRESHOLD


# Risk thresholds are tested exactly by `scoring.risk_reasons`; the array pass
# below only picks the candidates, with this much slack so it never misses one.
_CANDIDATE_SLACK = 1e-6


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


def days_since_array(last_contact: np.ndarray, at: float) -> np.ndarray:
    """`scoring.days_since` of every element (0 where last_contact is NaN).

    The same float operations: microseconds rounded half to even (Python's
    `round`), then whole days by floor division.
    """
    micros = np.round((at - np.nan_to_num(last_contact, nan=at)) * 1_000_000)
    return micros.astype(np.int64) // 86_400_000_000


def _risk(
    scores: scoring.GroupScores,
    groups: Groups,
    trust_before: np.ndarray,
    days: np.ndarray,
) -> list[list[dict[str, str]]]:
    """`scoring.risk_reasons` of every group, called only where a reason may apply."""
    slack = _CANDIDATE_SLACK
    trust, reciprocity = scores.trust, scores.reciprocity
    given_plus_received = scores.given + scores.received
    contacted = ~np.isnan(scores.last_contact)
    cadence = groups.cadence_days
    with np.errstate(invalid="ignore"):
        candidate = (
            (trust < 0.4 + slack)
            | (trust_before - trust >= 0.15 - slack)
            | (groups.is_key & contacted & (cadence > 0) & (days > 1.5 * cadence - 1))
            | ((reciprocity < 0.3 + slack) & (given_plus_received >= 2 - slack))
        )
    reasons: list[list[dict[str, str]]] = [[] for _ in range(len(groups))]
    for g in np.flatnonzero(candidate).tolist():

        def value(a: np.ndarray, g: int = g) -> float | None:
            x = float(a[g])
            return None if math.isnan(x) else x

        reasons[g] = scoring.risk_reasons(
            trust=value(trust),
            trust_90_days_ago=value(trust_before),
            reciprocity=value(reciprocity),
            given_plus_received=value(given_plus_received),
            is_key=bool(groups.is_key[g]),
            days_since_contact=int(days[g]) if contacted[g] else None,
            cadence_days=int(cadence[g]) or None,
        )
    return reasons


def groups_score(
    groups: Groups, at: datetime, *, everyone: bool = False, everything: Everything | None = None
) -> Scored:
    """The stored fields of every group as of `at`, in group order, as columns.

    `everything`: the rows read for these groups (or more), by `everything_read`
    when `everyone`, else by `few_read`; read here when not given.
    """
    cfg = score_settings()
    if everything is None:
        everything = (
            everything_read(at, cfg)
            if everyone
            else few_read(groups.stakeholder_ids, groups.user_ids, at, cfg)
        )
    interactions, commitments, outcomes = _rows_of(groups, everything)
    scores = scoring.score_groups(
        len(groups),
        interactions,
        commitments,
        outcomes,
        at=at.timestamp(),
        level=groups.level,
        settings=cfg,
    )
    figures = {
        ("return_value" if name == "return" else name): scores.score(name)
        for name in scoring.SCORE_FIELDS
        if name != "last_contact"
    }
    days = days_since_array(scores.last_contact, scores.at)
    reasons = _risk(scores, groups, _trust_some_days_ago(groups, at, everyone), days)
    return Scored(
        groups=groups,
        at=at,
        figures=figures,
        last_contact=scores.last_contact,
        days_since_contact=days,
        overdue=days > groups.cadence_days,
        at_risk=np.array([bool(r) for r in reasons], dtype=bool),
        risk_reasons=reasons,
        explanations=scoring.explanations_pack(scores),
    )


# PostgreSQL's binary COPY framing, and its timestamps (microseconds since 2000).
_PGCOPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
_PGCOPY_TRAILER = b"\xff\xff"
_PG_EPOCH_MICROS = 946_684_800 * 1_000_000
_NULL_TIMESTAMP = np.iinfo(np.int64).min  # binary -infinity, NULLIF'd below
_NULL_INT = np.iinfo(np.int32).min
COPY_CHUNK = 10_000


def posix_to_micros(seconds: np.ndarray) -> np.ndarray:
    """Whole microseconds of POSIX times, rounded as `datetime.fromtimestamp` rounds them
    (fraction half to even, carried into the seconds)."""
    fraction, whole = np.modf(seconds)
    micros = np.round(fraction * 1e6)
    carry = (micros >= 1e6).astype(np.int64) - (micros < 0).astype(np.int64)
    micros = micros - carry * 1e6
    return (whole.astype(np.int64) + carry) * 1_000_000 + micros.astype(np.int64)


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
    n = len(scored)
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
        posix_to_micros(np.nan_to_num(scored.last_contact)) - _PG_EPOCH_MICROS,
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
    dtype = [("fields", ">i2")]
    for j, (_, kind, _, _) in enumerate(staged):
        dtype += [(f"size{j}", ">i4"), (f"value{j}", kind)]
    dtype.append(("reasons_size", ">i4"))
    fixed = np.zeros(n, dtype=np.dtype(dtype))
    fixed["fields"] = len(staged) + 1
    for j, (_, kind, values, _) in enumerate(staged):
        fixed[f"size{j}"] = np.dtype(kind).itemsize
        fixed[f"value{j}"] = values
    reasons = [json.dumps(r).encode() if r else b"[]" for r in scored.risk_reasons]
    fixed["reasons_size"] = [len(r) for r in reasons]
    width = fixed.dtype.itemsize
    data = fixed.tobytes()

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
        with cursor.cursor.copy("COPY metrics_upsert FROM STDIN (FORMAT binary)") as copy:
            copy.write(_PGCOPY_SIGNATURE)
            for start in range(0, n, COPY_CHUNK):
                stop = min(start + COPY_CHUNK, n)
                copy.write(
                    b"".join(
                        part
                        for g in range(start, stop)
                        for part in (data[g * width : (g + 1) * width], reasons[g])
                    )
                )
            copy.write(_PGCOPY_TRAILER)
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

    Readers wait for the rest of the transaction (the refill: a second or two
    for the large demo) rather than seeing an empty table. Only for tables
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


def _store(
    groups: Groups, scored: Scored, progress: Progress | None = None, *, every_row: bool = False
) -> int:
    """Upsert the scores of these groups; `every_row`: they are all the level's objects."""
    model, key = _score_table(groups.level)
    ids = groups.object_ids.tolist()
    if _stored_by_copy(len(ids)):
        _copy_upsert(model, key, scored, every_row=every_row)
        if progress:
            progress(1.0, "")
        return len(ids)
    statements = _upsert_statements(groups, scored)
    for done, statement in enumerate(statements, start=1):
        _fetch_each([statement])
        if progress:
            progress(done / len(statements), "")
    return len(ids)


def _score_table(level: scoring.Level) -> tuple[type[models.Model], str]:
    if level is scoring.Level.STAKEHOLDER:
        return StakeholderScore, "stakeholder"
    return RelationshipScore, "relationship"


def _upsert_statements(groups: Groups, scored: Scored) -> list[Statement]:
    """INSERT … ON CONFLICT DO UPDATE of the groups' scores, UPSERT_BATCH rows a statement.

    What `bulk_create(update_conflicts=True)` sends, each value prepared by its
    model field as there, as statements `_fetch_each` can send together.
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


def stakeholder_scores_recompute(stakeholder_ids: Iterable[int], at: datetime | None = None) -> int:
    """Recompute and store the stakeholder-level scores of these stakeholders as of `at`."""
    return scores_recompute(stakeholder_ids=stakeholder_ids, at=at)[0]


def relationship_scores_recompute(
    relationship_ids: Iterable[int] | None = None,
    *,
    pairs: Iterable[tuple[int, int]] | None = None,
    at: datetime | None = None,
) -> int:
    """Recompute and store relationship-level scores, by relationship id or (user, stakeholder)."""
    if relationship_ids is None and pairs is None:
        raise ValueError("name the relationships (ids or pairs); use scores_recompute_all for all")
    if relationship_ids is None:
        return scores_recompute(pairs=pairs, at=at)[1]
    at = _as_datetime(at)
    groups = relationship_groups(set(relationship_ids))
    if not len(groups):
        return 0
    return _store(groups, groups_score(groups, at))


def scores_recompute(
    stakeholder_ids: Iterable[int] = (),
    pairs: Iterable[tuple[int, int]] = (),
    at: datetime | None = None,
) -> tuple[int, int]:
    """Recompute and store the stakeholder-level scores of these stakeholders and the
    relationship-level scores of these (user, stakeholder) pairs as of `at`.

    The worker's incremental path: one message reads both levels' groups, the
    stakeholders' rows (`few_read`'s) and the active webhooks; one message
    writes both levels. Returns how many of each were stored.
    """
    at = _as_datetime(at)
    stakeholder_ids = {int(i) for i in stakeholder_ids}
    wanted = {(int(u), int(s)) for u, s in pairs}
    if not stakeholder_ids and not wanted:
        return 0, 0
    reads = [
        _stakeholder_groups_statement(stakeholder_ids, at),
        _relationship_groups_statement(None, wanted, at),
        *_few_statements(stakeholder_ids | {s for _, s in wanted}, {u for u, _ in wanted}, at),
        (f"SELECT id, events FROM {Webhook._meta.db_table} WHERE active", []),
    ]
    group_rows, pair_rows, *rows, hook_rows = _fetch_each(reads)
    stakeholders = _stakeholder_groups_from(group_rows, True, at)
    relationships = _relationship_groups_from(pair_rows, wanted, at)
    everything = _few_from(rows, score_settings())
    writes: list[Statement] = []
    scored_stakeholders = None
    for groups in (stakeholders, relationships):
        if not len(groups):
            continue
        scored = groups_score(groups, at, everything=everything)
        if groups is stakeholders:
            scored_stakeholders = scored
        if _stored_by_copy(len(groups)):
            _store(groups, scored)
        else:
            writes += _upsert_statements(groups, scored)
    if writes:
        _fetch_each(writes)
    if scored_stakeholders is not None:
        events = Webhook._meta.get_field("events")
        subscribed = {
            hook_id: events.from_db_value(value, None, connection) for hook_id, value in hook_rows
        }
        _announce(stakeholders, scored_stakeholders, subscribed)
    return len(stakeholders), len(relationships)


# The figures a `scores.updated` webhook carries (the full set is one API call away).
ANNOUNCED_FIELDS = ("trust", "reciprocity", "reciprocity_balance", "strength", "at_risk")


def _announce(groups: Groups, scored: Scored, subscribed: dict[int, list[str]]) -> None:
    """Webhook events for changed stakeholder scores, and for newly at-risk stakeholders.

    `subscribed`: the events of each active webhook. Only incremental
    recomputation announces: a nightly refresh of everyone would flood
    receivers with decay-only changes.
    """
    updated, at_risk = [], []
    ids, was_at_risk = groups.object_ids.tolist(), groups.was_at_risk
    for g, (stakeholder_id, row) in enumerate(zip(ids, scored.rows(), strict=True)):
        figures = {name: row.get(name) for name in ANNOUNCED_FIELDS}
        payload = {"stakeholder": stakeholder_id, **figures, "computed_at": row["computed_at"]}
        updated.append(payload)
        if row.get("at_risk") and not (was_at_risk is not None and was_at_risk[g]):
            at_risk.append({**payload, "risk_reasons": row.get("risk_reasons", [])})
    for event, items in (
        (Webhook.Event.SCORES_UPDATED, updated),
        (Webhook.Event.STAKEHOLDER_AT_RISK, at_risk),
    ):
        hook_ids = [hook_id for hook_id, events in subscribed.items() if event in events]
        if items and hook_ids:
            webhook_emit_many(event, items, hooks=list(Webhook.objects.filter(pk__in=hook_ids)))


def _serialize_recomputation() -> None:
    """Hold the recomputation lock until the transaction ends (PostgreSQL; SQLite
    serialises writers already)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [RECOMPUTE_LOCK_KEY])


@contextmanager
def _recomputation_lock_held() -> Iterator[None]:
    """The same lock for a run spanning several transactions (a full recomputation:
    its progress must be visible while it runs, so it is not one transaction)."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [RECOMPUTE_LOCK_KEY])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [RECOMPUTE_LOCK_KEY])


@contextmanager
def _without_jit() -> Iterator[None]:
    """PostgreSQL's JIT off for a full run: its scans and joins over every row are
    simple, and compiling each costs a quarter of a second (measured at `large`)."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET jit = off")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET jit")


def _markers_claim(older_than: timedelta | None) -> list[tuple[int, int | None]]:
    """Take the recomputation lock, delete the oldest markers (at most PENDING_BATCH)
    in the current transaction and return their (stakeholder_id, user_id).

    The deletion commits with the scores recomputed for them, or rolls back with
    them; a concurrent run skips the rows this one holds (PostgreSQL).
    """
    table = connection.ops.quote_name(PendingRecompute._meta.db_table)
    where, params = "", []
    if older_than is not None:
        where = " WHERE created_at <= %s"
        params.append(connection.ops.adapt_datetimefield_value(timezone.now() - older_than))
    claim = (
        f"DELETE FROM {table} WHERE id IN (SELECT id FROM {table}{where}"
        f" ORDER BY id LIMIT {PENDING_BATCH}{{locking}}) RETURNING stakeholder_id, user_id"
    )
    if connection.vendor != "postgresql":  # SQLite serialises writers already
        return _fetch(claim.format(locking=""), params)
    # The lock first, in the same message: the claim's snapshot is taken once it is held.
    _, claimed = _fetch_each(
        [
            ("SELECT pg_advisory_xact_lock(%s)", [RECOMPUTE_LOCK_KEY]),
            (claim.format(locking=" FOR UPDATE SKIP LOCKED"), params),
        ]
    )
    return claimed


def pending_recompute(*, older_than: timedelta | None = None, at: datetime | None = None) -> int:
    """Recompute what the dirty markers name, deleting exactly those markers.

    A marker committed while this runs is not among those claimed, so it stays
    for the next run: no change is lost. Returns how many markers were processed.
    """
    processed = 0
    while True:
        with transaction.atomic():
            claimed = _markers_claim(older_than)
            if not claimed:
                return processed
            stakeholder_ids = {s for s, u in claimed if u is None}
            pairs = {(u, s) for s, u in claimed if u is not None}
            scores_recompute(stakeholder_ids, pairs, at=_as_datetime(at))
            processed += len(claimed)
        if len(claimed) < PENDING_BATCH:
            return processed


def scores_recompute_all(at: datetime | None = None, progress: Progress | None = None) -> dict:
    """Recompute every stakeholder- and relationship-level score as of `at`.

    One read of each table per level, one `score_groups` call per level, and
    batched upserts; `progress(fraction, message)` is called along the way.
    The markers present at the start are covered (their changes are read
    after them) and deleted at the end; later ones stay for the next run.
    """
    at = _as_datetime(at)
    report = progress or (lambda fraction, message: None)
    with _recomputation_lock_held(), _without_jit():
        covered = list(PendingRecompute.objects.values_list("pk", flat=True))
        report(0.0, "reading interactions, commitments and outcomes")
        everything = everything_read(at, score_settings())
        report(0.1, "scoring stakeholders")
        stakeholders = stakeholder_groups(None)
        results = groups_score(stakeholders, at, everyone=True, everything=everything)
        report(0.25, f"storing {len(stakeholders)} stakeholder scores")
        _store(
            stakeholders,
            results,
            lambda f, _m: report(0.25 + 0.25 * f, "storing stakeholder scores"),
            every_row=True,
        )
        report(0.5, "reading relationships")
        relationships = relationship_groups()
        results = groups_score(relationships, at, everyone=True, everything=everything)
        report(0.75, f"storing {len(relationships)} relationship scores")
        _store(
            relationships,
            results,
            lambda f, _m: report(0.75 + 0.25 * f, "storing relationship scores"),
            every_row=True,
        )
        for start in range(0, len(covered), UPSERT_BATCH):
            PendingRecompute.objects.filter(pk__in=covered[start : start + UPSERT_BATCH]).delete()
    report(1.0, "done")
    return {"stakeholders": len(stakeholders), "relationships": len(relationships)}


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


def job_run(job: RecomputeJob, *, on_progress: Progress | None = None) -> RecomputeJob:
    """Run a RecomputeJob to the end, recording its progress and outcome on the row.

    Progress is written in its own statements (the recomputation is not one
    transaction), so the API can show it while the job runs.
    """
    RecomputeJob.objects.filter(pk=job.pk).update(
        status=RecomputeJob.Status.RUNNING, started_at=timezone.now(), progress=0.0, error=""
    )

    def progress(fraction: float, message: str) -> None:
        RecomputeJob.objects.filter(pk=job.pk).update(
            progress=round(min(max(fraction, 0.0), 1.0), 4), message=message[:200]
        )
        if on_progress:
            on_progress(fraction, message)

    try:
        at = job.at or timezone.now()
        counts = scores_recompute_all(at=at, progress=progress)
        if job.kind == RecomputeJob.Kind.NIGHTLY:
            snapshots_write(at.astimezone(UTC).date())
    except Exception as exc:
        RecomputeJob.objects.filter(pk=job.pk).update(
            status=RecomputeJob.Status.FAILED, finished_at=timezone.now(), error=str(exc)[:2000]
        )
        raise
    RecomputeJob.objects.filter(pk=job.pk).update(
        status=RecomputeJob.Status.DONE,
        progress=1.0,
        finished_at=timezone.now(),
        message=(
            f"{counts['stakeholders']} stakeholder and "
            f"{counts['relationships']} relationship scores"
        ),
    )
    job.refresh_from_db()
    return job
