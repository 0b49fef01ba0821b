"""What each group is scored over (DESIGN §3 row sets), read into numpy arrays.

A full recomputation reads every interaction, link, commitment and outcome once
for both levels (`everything_read`: binary COPY on PostgreSQL); the worker reads
only its few stakeholders' (`few_read`). Both compute the values with the same SQL
expressions, and `rows_of` cuts every group's rows from either in the same order
(by item id), so for the same time T both store bit-identical numbers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from django.db import connection
from django.db.models import FloatField
from django.db.models.functions import Cast

from relations.models import Commitment, Interaction, Outcome

from . import scoring
from .pgcopy import codes_sql, copy_columns
from .scored_objects import Groups, lookup
from .sql import Epoch, Statement, any_of, column_of, epoch_sql, fetch_each, float_column_of

ParticipantLink = Interaction.internal_participants.through
StakeholderLink = Interaction.stakeholders.through


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
    rows = copy_columns(
        f"SELECT id, EXTRACT(EPOCH FROM occurred_at)::double precision, {codes_sql('kind', kinds)},"
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
    stakeholder_links = copy_columns(
        f"SELECT stakeholder_id::bigint, interaction_id FROM {StakeholderLink._meta.db_table}",
        [],
        [("stakeholder", i8), ("interaction", i8)],
    )
    user_links = copy_columns(
        f"SELECT user_id::bigint, interaction_id FROM {ParticipantLink._meta.db_table}",
        [],
        [("user", i8), ("interaction", i8)],
    )
    commitments = copy_columns(
        "SELECT stakeholder_id::bigint, COALESCE(responsible_id, -1)::bigint, id,"
        " EXTRACT(EPOCH FROM due_date)::double precision,"
        f" {codes_sql('status', statuses)} FROM {Commitment._meta.db_table}",
        [],
        [("stakeholder", i8), ("user", i8), ("id", i8), ("due", f8), ("status", i2)],
    )
    order = np.argsort(commitments["id"], kind="stable")
    commitments = {name: column[order] for name, column in commitments.items()}
    if (commitments["status"] == 0).any():
        raise ValueError("unknown commitment status")
    outcomes = copy_columns(
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

    ids = column_of(rows, 0, np.int64)
    link_interactions = column_of(stakeholder_links, 1, np.int64)
    user_interactions = column_of(user_links, 1, np.int64)
    return Everything(
        interaction_id=ids,
        **_interaction_columns(rows, 1, cfg),
        n_internal=_link_counts(user_interactions, ids),
        n_stakeholders=_link_counts(link_interactions, ids),
        link_stakeholder=column_of(stakeholder_links, 0, np.int64),
        link_stakeholder_interaction=link_interactions,
        link_user=column_of(user_links, 0, np.int64),
        link_user_interaction=user_interactions,
        **_owned_columns("commitment", commitments),
        commitment_due_at=column_of(commitments, 3, np.float64),
        commitment_status=scoring.status_array([r[4] for r in commitments]),
        **_owned_columns("outcome", outcomes),
        outcome_at=column_of(outcomes, 3, np.float64),
        outcome_value=column_of(outcomes, 4, np.float64),
    )


def rows_of(
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

    group_index, found = lookup(groups.keys, row_keys)
    at_row, dated = lookup(e.interaction_id, row_interactions)
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

    group_index, found = lookup(groups.keys, commitment_keys)
    keep = np.flatnonzero(found)
    commitments = scoring.CommitmentRows(
        group=group_index[keep],
        commitment_id=e.commitment_id[keep],
        due_at=e.commitment_due_at[keep],
        status=e.commitment_status[keep],
    )
    group_index, found = lookup(groups.keys, outcome_keys)
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
    return few_from(fetch_each(few_statements(stakeholder_ids, user_ids, at)), cfg)


def few_statements(
    stakeholder_ids: Iterable[int], user_ids: Iterable[int], at: datetime
) -> list[Statement]:
    vendor = connection.vendor
    stakeholders = sorted({int(s) for s in stakeholder_ids})
    links_table = StakeholderLink._meta.db_table
    participants_table = ParticipantLink._meta.db_table
    among_stakeholders, params = any_of("l.stakeholder_id", stakeholders)
    among_users, user_params = any_of("p.user_id", sorted({int(u) for u in user_ids}))
    owned_by, owned_params = any_of("stakeholder_id", stakeholders)
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
        # Those of later interactions are left out where rows are cut (`rows_of`).
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


def few_from(results: list[list[tuple]], cfg: scoring.ScoreSettings) -> Everything:
    """`few_statements`' rows as an `Everything`."""
    links, participations, commitments, outcomes = results
    link_interactions = column_of(links, 1, np.int64)
    ids, first = np.unique(link_interactions, return_index=True)
    attributes = [links[i] for i in first.tolist()]
    return Everything(
        interaction_id=ids,
        **_interaction_columns(attributes, 2, cfg),
        n_internal=column_of(attributes, 9, np.int64),
        n_stakeholders=column_of(attributes, 10, np.int64),
        link_stakeholder=column_of(links, 0, np.int64),
        link_stakeholder_interaction=link_interactions,
        link_user=column_of(participations, 0, np.int64),
        link_user_interaction=column_of(participations, 1, np.int64),
        **_owned_columns("commitment", commitments),
        commitment_due_at=column_of(commitments, 3, np.float64),
        commitment_status=scoring.status_array([r[4] for r in commitments]),
        **_owned_columns("outcome", outcomes),
        outcome_at=column_of(outcomes, 3, np.float64),
        outcome_value=column_of(outcomes, 4, np.float64),
    )


def _interaction_columns(
    rows: list[tuple], first: int, cfg: scoring.ScoreSettings
) -> dict[str, np.ndarray]:
    """The interaction attributes of rows holding, from column `first` on: epoch of
    occurred_at, kind, value_given, value_received, sentiment, duration, cost."""
    j = first
    return {
        "occurred_at": column_of(rows, j, np.float64),
        "kind_weight": scoring.kind_weight_array([r[j + 1] for r in rows], cfg),
        "value_given": column_of(rows, j + 2, np.float64),
        "value_received": column_of(rows, j + 3, np.float64),
        "sentiment": float_column_of(rows, j + 4),
        "duration_minutes": column_of(rows, j + 5, np.float64),
        "cost": column_of(rows, j + 6, np.float64),
    }


def _owned_columns(prefix: str, rows: list[tuple]) -> dict[str, np.ndarray]:
    """The stakeholder, user (-1: none) and id columns of commitment or outcome rows."""
    return {
        f"{prefix}_stakeholder": column_of(rows, 0, np.int64),
        f"{prefix}_user": np.array([-1 if r[1] is None else r[1] for r in rows], dtype=np.int64),
        f"{prefix}_id": column_of(rows, 2, np.int64),
    }
